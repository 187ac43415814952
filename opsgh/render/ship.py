"""Rendering for `opsgh ship`: the release-start announcement, the Ops Log line, the GitHub Release
notes and the Slack message, from `templates/ship_*.md.j2`.

A minimal jinja2 environment of its own (packaged templates only, strict undefined variables, no
autoescaping: the output is Markdown). Text that comes from people (titles, logins, changelog lines)
is passed through `md` or `code` by the templates, so it cannot open an HTML comment and spoof
opsgh's hidden markers. The changelog itself is Markdown written by `opsgh release` and is inserted
as is, with HTML comments removed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


def markdown_inline(value: object) -> str:
    """One line of text from people, safe inside Markdown: no HTML, no block syntax at the start."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text[:1] in ("[", "#", ">", "-", "*", "+", "|"):
        text = "\\" + text
    return text


def code_span(value: object) -> str:
    """`value` as an inline code span (enough backticks for the ones inside)."""
    text = " ".join(str(value).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def without_html_comments(text: str) -> str:
    """Markdown with every HTML comment removed (markers of other tools must not travel along)."""
    return _HTML_COMMENT.sub("", text)


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - Markdown and Slack text, not HTML; people's text goes through `md`
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(md=markdown_inline, code=code_span)
    return env


def render(name: str, context: Mapping[str, Any]) -> str:
    """Render `templates/<name>` with `context`."""
    return _environment().get_template(name).render(**context)


__all__ = ["TEMPLATE_DIR", "code_span", "markdown_inline", "render", "without_html_comments"]
