"""The only package that talks to GitHub (PyGithub for REST, httpx for GraphQL and transport)."""
