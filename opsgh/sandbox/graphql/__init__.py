"""The sandbox's GraphQL API: a subset of GitHub's schema (`schema.SDL`), executed with graphql-core.

- `schema.py`: the SDL (same names and types as GitHub's; checked against the official schema in tests)
- `resolvers.py`: one class per object type over the sandbox state; node ids from `render.node_id`
- `endpoint.py`: POST /graphql and /api/graphql (served through `routes/graphql_api.py`), GitHub's
  error shapes; `execute(request, query, variables, operation_name)` for direct use

Covered: `repository { pullRequest(number) {...}, pullRequests(...) }`, `node(id)`, `nodes(ids)`,
`viewer`, and the mutation `revertPullRequest` (a real revert branch and a new pull request: the new
one is the payload's `revertPullRequest`, the original is its `pullRequest`).
"""
