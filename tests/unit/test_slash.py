"""The strict parse of a comment's first line (opsgh.slash)."""

from __future__ import annotations

import pytest

from opsgh.slash import Refusal, SlashCommand, first_line, help_lines, parse


@pytest.mark.parametrize(("body", "name", "argument"), [
    ("/gate", "gate", None),
    ("/gate   ", "gate", None),
    ("/ship\r\nplease, now", "ship", None),
    ("/ship 1a2b3c4", "ship", "1a2b3c4"),
    ("/ship " + "a" * 40, "ship", "a" * 40),
    ("/verify staging", "verify", "staging"),
    ("/backport release/1.2", "backport", "release/1.2"),
    ("/rollback checkout is down for EU users", "rollback", "checkout is down for EU users"),
    ("/rollback $(id)", "rollback", "$(id)"),  # data, never run: the reason goes into a PR body
    ("/help", "help", None),
])
def test_commands(body: str, name: str, argument: str | None) -> None:
    assert parse(body) == SlashCommand(name, argument, first_line(body))


@pytest.mark.parametrize("body", [
    "", "LGTM", "please /ship it", " /ship", "\t/gate", "> /ship", "```\n/ship\n```", "`/ship`",
    "::add-mask::/ship", "::stop-commands::x\n/ship", "\n/ship", "/", "/ gate", "/shrug", "/cc @bob",
    "／ship",  # a full-width solidus is not the prefix
    "/12345",
])
def test_not_commands_get_no_answer(body: str) -> None:
    assert parse(body) is None


@pytest.mark.parametrize(("body", "meant", "words"), [
    ("/ѕhip", "ship", "plain ASCII"),  # Cyrillic dze
    ("/sh\u200bip", "ship", "plain ASCII"),  # zero-width space
    ("/\u200bgate", "gate", "plain ASCII"),
    ("/gate\u202e", "gate", "plain ASCII"),  # right-to-left override
    ("/rollback \x1b[31mred", "rollback", "plain ASCII"),
    ("/ship\rmalicious second line", None, None),  # a lone CR ends the line: this is /ship
    ("/SHIP", "ship", "did you mean `/ship`"),
    ("/shipp", "ship", "did you mean `/ship`"),
    ("/gate /ship", "gate", "takes no argument"),
    ("/gate $(id)", "gate", "takes no argument"),
    ('/ship";echo pwned', "ship", 'is followed by `";echo pwned`'),
    ("/ship HEAD", "ship", "not a valid SHA"),
    ("/ship 1a2b3c4 extra", "ship", "not a valid SHA"),
    ("/verify ../../etc/passwd", "verify", "not a valid ENVIRONMENT"),
    ("/backport --force", "backport", "not a valid BRANCH"),
    ("/backport main;rm -rf /", "backport", "not a valid BRANCH"),
    ("/backport a..b", "backport", "not a valid BRANCH"),
    ("/gate " + "x" * 400, "gate", "longer than 300"),
])
def test_refusals_say_why(body: str, meant: str | None, words: str | None) -> None:
    found = parse(body)
    if meant is None:
        assert found == SlashCommand("ship", None, "/ship")
        return
    assert isinstance(found, Refusal), found
    assert found.name == meant
    assert words is not None
    assert words in found.reason


def test_a_configured_prefix() -> None:
    assert parse("!ship", "!") == SlashCommand("ship", None, "!ship")
    assert parse("/ship", "!") is None


def test_help_lists_every_command() -> None:
    lines = help_lines()
    assert [line.split("`")[1].split()[0] for line in lines] == [
        "/release", "/gate", "/ship", "/verify", "/backport", "/rollback", "/help"]
