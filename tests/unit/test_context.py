"""Settings from the environment: tokens, App credentials, repository detection."""

from __future__ import annotations

import pytest

from opsgh.context import repo_from_remote_url, settings_from_env
from opsgh.errors import UsageError


@pytest.mark.parametrize(("url", "repo"), [
    ("https://github.com/acme/shop.git", "acme/shop"),
    ("https://github.com/acme/shop", "acme/shop"),
    ("https://x-access-token:abc@github.com/acme/shop.git", "acme/shop"),
    ("git@github.com:acme/shop.git", "acme/shop"),
    ("ssh://git@ghe.example.com:2222/acme/shop.git", "acme/shop"),
    ("http://127.0.0.1:8080/acme/my.site.git", "acme/my.site"),
    ("/work/main", None),
    ("../shop", None),
    ("file:///srv/git/acme/shop.git", None),
])
def test_repo_from_remote_url(url: str, repo: str | None) -> None:
    assert repo_from_remote_url(url) == repo


def test_repository_precedence() -> None:
    env = {"GITHUB_REPOSITORY": "acme/from-env"}
    assert settings_from_env(env, repo="acme/from-flag").repo == "acme/from-flag"
    settings = settings_from_env(env)
    assert (settings.repo, settings.repo_source) == ("acme/from-env", "GITHUB_REPOSITORY")


def test_token_sources_and_repr_hides_secrets() -> None:
    settings = settings_from_env({"GH_TOKEN": "ghp_" + "s" * 36, "GITHUB_REPOSITORY": "acme/shop"})
    assert settings.token_source == "GH_TOKEN"
    assert "ghp_" not in repr(settings)


def test_ghes_urls_come_from_the_environment() -> None:
    settings = settings_from_env({"GITHUB_API_URL": "https://ghe.example.com/api/v3/",
                                  "GITHUB_GRAPHQL_URL": "https://ghe.example.com/api/graphql",
                                  "GITHUB_REPOSITORY": "acme/shop"})
    assert settings.api_url == "https://ghe.example.com/api/v3/"
    assert settings.graphql_url == "https://ghe.example.com/api/graphql"


@pytest.mark.parametrize(("env", "message"), [
    ({"OPSGH_APP_ID": "123"}, "OPSGH_APP_ID is set but no private key"),
    ({"OPSGH_APP_ID": "my-app", "OPSGH_APP_PRIVATE_KEY": "k"}, "OPSGH_APP_ID must be the App's numeric id"),
    ({"OPSGH_APP_ID": "1", "OPSGH_APP_PRIVATE_KEY_FILE": "/nonexistent/key.pem"},
     "cannot read OPSGH_APP_PRIVATE_KEY_FILE /nonexistent/key.pem"),
    ({"GITHUB_REPOSITORY": "not-a-repo"}, "repository 'not-a-repo' (from GITHUB_REPOSITORY) is not OWNER/NAME"),
])
def test_bad_environment_is_a_usage_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        settings_from_env(env)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
