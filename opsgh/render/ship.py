"""Rendering for `opsgh ship`: the release-start announcement, the Ops Log line, the GitHub Release
notes and the Slack message, from `templates/ship_*.md.j2`.

Rendered by `opsgh.render.engine.Renderer` (jinja2's sandbox, strict undefined variables, no
autoescaping: the output is Markdown). Text that comes from people (titles, logins, changelog lines)
is passed through `md` or `code` by the templates, so it cannot open an HTML comment and spoof
opsgh's hidden markers. The changelog itself is Markdown written by `opsgh release` and is inserted
as is, with HTML comments removed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from opsgh.render.engine import Renderer

_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


def without_html_comments(text: str) -> str:
    """Markdown with every HTML comment removed (markers of other tools must not travel along)."""
    return _HTML_COMMENT.sub("", text)


@cache
def _renderer() -> Renderer:
    # The packaged templates only: ship's messages are not overridable yet.
    return Renderer()


def render(name: str, context: Mapping[str, Any]) -> str:
    """Render `templates/<name>` with `context` (the same environment and filters as the release body)."""
    return _renderer().render(name, context)


__all__ = ["render", "without_html_comments"]
