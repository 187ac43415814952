"""Slash commands in pull request comments: a strict parse of the comment's first line.

A comment is a command only when its very first line is `<prefix><name>` in plain ASCII, optionally
followed by one argument of the kind the command takes, and nothing else. Everything else is not a
command and gets no answer (a quote `> /ship`, a fence, `/ship` further down, prose), except what
looks like a command a person meant and would otherwise wait for in vain: a look-alike or invisible
character in the name (`/ѕhip`, `/sh\u200bip`), a near miss (`/shipp`), bad or extra arguments
(`/gate /ship`). Those are refused, with the reason, once.

Arguments are data, never code: they are matched against a pattern per command and handed to the
operation as plain values; nothing here or downstream runs them through a shell.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

MAX_LINE = 300  # a command line longer than this is not a command anyone typed


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    argument: str | None  # a description of the optional argument, None when the command takes none
    pattern: str | None  # what the argument must match (fully)
    summary: str


COMMANDS: dict[str, CommandSpec] = {spec.name: spec for spec in (
    CommandSpec("release", None, None, "open or refresh the Release PR"),
    CommandSpec("gate", None, None, "evaluate the go/no-go at the PR's head and publish the verdict"),
    CommandSpec("ship", "SHA", r"[0-9a-f]{7,40}",
                "merge the Release PR at the head you saw gated GO (optionally name that head), tag, release, "
                "deploy"),
    CommandSpec("verify", "ENVIRONMENT", r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}",
                "verify the deploy of an environment (default: production) against the rollback tiers"),
    CommandSpec("backport", "BRANCH", r"(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]{1,100}(?<![./])",
                "back-port this merged PR (to the configured branches, or to BRANCH)"),
    CommandSpec("rollback", "REASON", r"[ -~]{1,200}",
                "revert the last release on production (with an optional reason)"),
    CommandSpec("help", None, None, "list the commands"),
)}

# Characters that change how a line looks without being visible: zero-width, bidi controls, BOM.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")


@dataclass(frozen=True, slots=True)
class SlashCommand:
    name: str
    argument: str | None
    line: str  # the first line as typed (for the reply; quote it as code)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A line that looks like a command but is not a valid one: answered with `reason`."""

    reason: str
    line: str
    name: str | None = None  # the command it was meant to be, when that is clear


def first_line(body: str) -> str:
    """The first line: up to the first CR or LF (a lone CR ends a line too: no smuggled second line)."""
    return re.split(r"\r\n|\r|\n", body, maxsplit=1)[0]


def _skeleton(word: str) -> str:
    """A word reduced to what it looks like: invisible characters dropped, compatibility forms folded,
    and letters outside ASCII mapped to their closest ASCII base where Unicode says there is one."""
    word = _INVISIBLE.sub("", unicodedata.normalize("NFKC", word)).casefold()
    out = []
    for char in word:
        if char.isascii():
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)[:1]
        out.append(base if base.isascii() else _CONFUSABLES.get(char, ""))
    return "".join(out)


# Look-alikes Unicode does not decompose: the Cyrillic and Greek letters that pass for Latin ones.
_CONFUSABLES = {"а": "a", "с": "c", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "о": "o", "р": "p",
                "ѕ": "s", "т": "t", "у": "y", "х": "x", "ԁ": "d", "ɡ": "g", "ο": "o", "ρ": "p", "ν": "v",
                "κ": "k", "τ": "t", "ι": "i", "α": "a", "β": "b", "ԛ": "q", "ԝ": "w", "ı": "i"}


def _meant(word: str) -> str | None:
    """The command `word` is close to, if any."""
    skeleton = re.sub(r"[^a-z]", "", _skeleton(word))
    if skeleton in COMMANDS:
        return skeleton
    close = difflib.get_close_matches(skeleton, list(COMMANDS), n=1, cutoff=0.8)
    return close[0] if close else None


def usage(spec: CommandSpec, prefix: str) -> str:
    return f"{prefix}{spec.name}" + (f" [{spec.argument}]" if spec.argument else "")


def parse(body: str, prefix: str = "/") -> SlashCommand | Refusal | None:
    """The command in a comment body, a refusal to answer, or None (not a command: no answer)."""
    line = first_line(body)
    if not prefix or not line.startswith(prefix):
        return None
    rest = line[len(prefix):].rstrip(" \t")
    if not rest or rest[0] in " \t":
        return None
    word = re.split(r"[ \t]", rest, maxsplit=1)[0]
    if len(line) > MAX_LINE:
        meant = _meant(word)
        return Refusal(f"the command line is longer than {MAX_LINE} characters", line, meant) if meant else None
    if not rest.isascii() or not rest.isprintable():
        meant = _meant(word)
        if meant is None:
            return None
        return Refusal(f"`{prefix}{meant}` must be typed in plain ASCII: the line holds a look-alike, invisible or "
                       "control character", line, meant)
    match = re.fullmatch(r"([a-z]+)(?:[ \t]+(.*))?", rest)
    name = match.group(1) if match else None
    glued = re.match(r"[a-z]+", rest)
    if match is None and glued is not None and glued.group(0) in COMMANDS:
        spec = COMMANDS[glued.group(0)]
        return Refusal(f"`{prefix}{spec.name}` is followed by `{rest[len(spec.name):][:40]}`: "
                       f"usage: `{usage(spec, prefix)}`", line, spec.name)
    if match is None or name not in COMMANDS:
        meant = _meant(word)
        if meant is None or (match is not None and name == meant):
            return None
        return Refusal(f"unknown command `{prefix}{word}`; did you mean `{prefix}{meant}`?", line, meant)
    spec = COMMANDS[name]
    argument = match.group(2)
    if argument is None:
        return SlashCommand(name, None, line)
    argument = argument.strip(" \t")
    if spec.pattern is None:
        return Refusal(f"`{prefix}{name}` takes no argument (usage: `{usage(spec, prefix)}`)", line, name)
    if not re.fullmatch(spec.pattern, argument) or (name != "rollback" and (" " in argument or "\t" in argument)):
        return Refusal(f"`{argument[:60]}` is not a valid {spec.argument} for `{prefix}{name}` "
                       f"(usage: `{usage(spec, prefix)}`)", line, name)
    return SlashCommand(name, argument, line)


def help_lines(prefix: str = "/") -> list[str]:
    return [f"`{usage(spec, prefix)}`: {spec.summary}" for spec in COMMANDS.values()]
