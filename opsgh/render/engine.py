"""The jinja2 environment for PR bodies, comments and summaries.

Templates ship in `opsgh/render/templates/`; a repository overrides any of them by committing a file
of the same name to `.github/opsgh/templates/` on its default branch (the caller reads those files
and passes them in as `overrides`). Repository templates are data from GitHub, so everything renders
in jinja2's immutable sandbox: no attribute access to internals, no mutation of what it is given.

Bodies are Markdown, not HTML: no autoescaping. Text that comes from people (PR titles, commit
subjects, file names) goes through the `md` or `code` filters, so that it cannot open an HTML
comment (and spoof opsgh's hidden marker), start a task-list item or break out of a code span.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from opsgh.errors import ConfigError

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
OVERRIDE_DIR = ".github/opsgh/templates"

__all__ = ["OVERRIDE_DIR", "TEMPLATE_DIR", "Renderer", "code_span", "markdown_text", "packaged_digest"]


def markdown_text(value: object) -> str:
    """Inline Markdown text from people: no HTML, no task-list or heading at the start, one line."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text[:1] in ("[", "#", ">", "-", "*", "+", "|"):
        text = "\\" + text
    return text


def code_span(value: object) -> str:
    """`value` as an inline code span, with enough backticks to hold the backticks inside it."""
    text = " ".join(str(value).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _thousands(value: object) -> str:
    return f"{int(str(value)):,}"


def _plural(count: object, singular: str, plural: str | None = None) -> str:
    number = int(str(count))
    return f"{number:,} {singular if number == 1 else (plural or singular + 's')}"


@lru_cache(maxsize=1)
def packaged_digest() -> str:
    """A digest of the packaged templates: a new opsgh version with new templates re-renders bodies."""
    digest = hashlib.sha256()
    for path in sorted(TEMPLATE_DIR.glob("*.j2")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class Renderer:
    """Renders named templates, the repository's overrides first."""

    def __init__(self, overrides: Mapping[str, str] | None = None, *, source: str = OVERRIDE_DIR) -> None:
        self.overrides = {name: text for name, text in (overrides or {}).items() if name.endswith(".j2")}
        self.source = source
        self.env = ImmutableSandboxedEnvironment(
            loader=jinja2.ChoiceLoader([jinja2.DictLoader(self.overrides), jinja2.FileSystemLoader(TEMPLATE_DIR)]),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(md=markdown_text, code=code_span, thousands=_thousands, plural=_plural)

    def _where(self, name: str | None) -> str:
        if name and name in self.overrides:
            return f"{self.source}/{name}"
        return f"opsgh/render/templates/{name}" if name else "a template"

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Render template `name`; a broken override is a ConfigError naming the file and line."""
        try:
            return self.env.get_template(name).render(**context)
        except jinja2.TemplateSyntaxError as err:
            raise ConfigError(err.message or "template syntax error", "fix the template (jinja2 syntax)",
                              source=self._where(err.name), line=err.lineno) from None
        except jinja2.TemplateNotFound as err:
            raise ConfigError(f"template {err.name} not found", f"add it to {self.source}/ or remove the include",
                              source=self._where(name)) from None
        except (jinja2.UndefinedError, jinja2.exceptions.SecurityError, TypeError, ValueError) as err:
            line = _template_line(err)
            raise ConfigError(f"rendering failed: {err}", "use only the variables the packaged templates use "
                              "(see opsgh/render/templates/)", source=self._where(name), line=line) from None


def _template_line(err: BaseException) -> int | None:
    """The template line of a rendering error, from jinja2's rewritten traceback."""
    tb = err.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2") or "<template>" in tb.tb_frame.f_code.co_filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
