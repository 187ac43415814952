"""Refuse request bodies GitHub refuses, with GitHub's answer (422 "Invalid request.\\n\\n...").

Every request body a sandbox route receives is checked against the request body schema of the same
operation in GitHub's official OpenAPI description (a trimmed copy ships as
`opsgh/sandbox/data/github-request-schemas.json`, written by scripts/update_github_descriptions.py), with
`jsonschema`. The route's pattern is the operation's template (`{branch:path}` reads `{branch}`).

GitHub validates request bodies with the `json_schema` Ruby gem and words problems its way; the
sandbox words them the same way (`_messages`):

    For 'properties/labels', "bug" is not an array.        a type (Ruby `inspect` of the value)
    "title" wasn't supplied.  /  "a", "b" weren't supplied. missing keys (sorted)
    great is not a member of ["open", "closed"].            an enum (the value as Ruby `to_s`)
    No subschema in "oneOf" matched.                        then each branch's problems
    "x" is not a permitted key.                             additionalProperties: false
    Only 20 characters are allowed; 21 were supplied.       maxLength (and minItems, maximum... alike)

all under "Invalid request.\\n\\n", one problem a line, `documentation_url` the operation's page, `status`
"422". A body that is not JSON is 400 "Problems parsing JSON". A required body that is missing is `nil`
to GitHub ("For 'links/0/schema', nil is not an object.": GitHub's schemas are hyper-schema links).

When: GitHub checks who may do what (404/403) before it reads the body, so the check runs before the
handler but its refusal is raised when the handler first reads the body (`Request.json()`), after the
handler's permission checks. A route that accepts a refused body without reading it is a sandbox bug
(`unread_refusal`). Query parameters are not checked here: GitHub's answer to a bad query value
differs per route (the issue list answers 422 "Validation Failed", the pull list ignores it), so the
routes keep doing that themselves.

Where GitHub accepts what its description refuses, or words a refusal its own way, LENIENT below amends
the operation's schema, with the reason. Keep it short.

Cost: the data loads once per process (~2 ms); an operation's validator is built on its first request
(~1 ms); a check costs microseconds (tests/sandbox/test_sandbox_request_shapes.py measures it).
"""

from __future__ import annotations

import importlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from opsgh.sandbox.routing import DOCS_URL, ApiError

if TYPE_CHECKING:
    from opsgh.sandbox.routing import Request, Route

# jsonschema ships no type information (and is imported on first use, like opsgh/config.py does).
ValidationError = Any
Validator = Any

DATA_PACKAGE = "opsgh.sandbox"
DATA_FILE = "data/github-request-schemas.json"
_COMPONENT_SCHEMA = "#/components/schemas/"
_PATH_PARAMETER = re.compile(r"\{(?P<name>[a-zA-Z_][a-zA-Z0-9_]*):path\}")
# The fragment GitHub names for the body as a whole (its schemas are JSON hyper-schema `links`).
ROOT_FRAGMENT = "links/0/schema"
# RFC 3339 date-time, as GitHub's validator accepts it (time zone required, fraction optional).
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)
# The order in which GitHub's validator checks a schema's keywords (problems are listed in this order).
_KEYWORD_ORDER = {name: rank for rank, name in enumerate((
    "allOf", "anyOf", "enum", "oneOf", "not", "type",
    "items", "additionalItems", "maxItems", "minItems", "uniqueItems",
    "maximum", "minimum", "multipleOf",
    "additionalProperties", "dependencies", "maxProperties", "minProperties", "patternProperties", "properties",
    "required",
    "format", "maxLength", "minLength", "pattern",
))}


# ---------------------------------------------------------------------------------------------------
# Where GitHub is more lenient than its description


@dataclass(frozen=True)
class Leniency:
    """GitHub accepts (or words) something its description refuses: amend the operation's body schema."""

    operation: str
    amend: Callable[[dict[str, Any]], dict[str, Any]]  # the resolved body schema -> the one to enforce
    reason: str


def _labels_as_bare_array(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [*schema["oneOf"], {"type": "array", "minItems": 1, "items": {"type": "string"}}]}


def _status_checks_without_contexts(schema: dict[str, Any]) -> dict[str, Any]:
    checks = schema["properties"]["required_status_checks"]
    checks["required"] = [name for name in checks["required"] if name != "contexts"]
    return schema


def _worded_by_the_route(schema: dict[str, Any]) -> dict[str, Any]:
    return {}


LENIENT: tuple[Leniency, ...] = (
    Leniency("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", _labels_as_bare_array,
             "a bare JSON array of label names is accepted (documented in prose; the description lists only "
             "the object form)"),
    Leniency("PUT /repos/{owner}/{repo}/branches/{branch}/protection", _status_checks_without_contexts,
             "`required_status_checks` with `checks` and no `contexts` is accepted (contexts is deprecated in "
             "favour of checks; the route refuses both or neither, as GitHub)"),
    Leniency("POST /repos/{owner}/{repo}/rulesets", _worded_by_the_route,
             "GitHub validates rulesets with another validator and other words (\"Invalid property /rules/0: "
             "data matches no possible input...\"); the route reproduces them"),
    Leniency("PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}", _worded_by_the_route,
             "as POST /rulesets"),
)


# ---------------------------------------------------------------------------------------------------
# The description, prepared for jsonschema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0 `nullable: true` as JSON Schema: null joins the type (or the enum, or a combinator)."""
    schema = {key: value for key, value in schema.items() if key != "nullable"}
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if "null" not in types:
            schema["type"] = [*types, "null"]
        return schema
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            schema[combinator] = [*schema[combinator], {"type": "null"}]
            return schema
    if "allOf" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return schema  # no type: null is already accepted


class _Resolver:
    """Inline `$ref`s (the description's request schemas are not recursive) and translate `nullable`."""

    def __init__(self, components: Mapping[str, Any]) -> None:
        self.components = components

    def __call__(self, node: Any, seen: tuple[str, ...] = ()) -> Any:
        if isinstance(node, list):
            return [self(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith(_COMPONENT_SCHEMA) or ref in seen:
                raise ValueError(f"unsupported or recursive $ref {ref!r} in a request schema")
            return self(self.components[ref[len(_COMPONENT_SCHEMA):]], (*seen, ref))
        resolved: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("properties", "patternProperties"):
                resolved[key] = {name: self(sub, seen) for name, sub in value.items()}
            elif key in ("items", "additionalProperties", "not", "anyOf", "oneOf", "allOf"):
                resolved[key] = self(value, seen)
            else:
                resolved[key] = value
        return _nullable(resolved) if resolved.get("nullable") is True else resolved


@dataclass(frozen=True)
class BodyCheck:
    """One operation's request body: its validator, whether a body is required, its documentation."""

    validator: Validator
    required: bool
    documentation_url: str


def operation_of(route: Route) -> str:
    """ "METHOD /template" in the description's words for a sandbox route (`{name:path}` -> `{name}`)."""
    template = _PATH_PARAMETER.sub(r"{\g<name>}", route.pattern)
    return f"{route.method} {template}"


class RequestShapes:
    """Request body checks for every operation in the shipped description, built on first use."""

    def __init__(self, document: Mapping[str, Any], lenient: Iterable[Leniency] = LENIENT) -> None:
        self.operations: Mapping[str, Any] = document["operations"]
        self.source: str = document.get("source", "")
        self._resolve = _Resolver(document.get("components", {}).get("schemas", {}))
        self.lenient = {leniency.operation: leniency for leniency in lenient}
        unknown = sorted(set(self.lenient) - set(self.operations))
        if unknown:
            raise ValueError(f"LENIENT names operations the description does not have: {unknown}")
        self._checks: dict[str, BodyCheck | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls) -> RequestShapes:
        text = resources.files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
        return cls(json.loads(text))

    def body_check(self, operation: str) -> BodyCheck | None:
        """The check for `operation`'s body (None: the operation takes no JSON body, or is unknown)."""
        try:
            return self._checks[operation]
        except KeyError:
            pass
        with self._lock:
            if operation not in self._checks:
                self._checks[operation] = self._build(operation)
            return self._checks[operation]

    def _build(self, operation: str) -> BodyCheck | None:
        jsonschema = importlib.import_module("jsonschema")
        entry = self.operations.get(operation)
        if entry is None or "body" not in entry:
            return None
        schema = self._resolve(entry["body"]["schema"])
        leniency = self.lenient.get(operation)
        if leniency is not None:
            schema = leniency.amend(schema)
        formats = jsonschema.FormatChecker(formats=())
        formats.checks("date-time")(lambda value: not isinstance(value, str) or bool(_DATE_TIME.match(value)))
        return BodyCheck(jsonschema.Draft4Validator(schema, format_checker=formats), bool(entry["body"]["required"]),
                         entry.get("documentation_url") or DOCS_URL)

    def problem(self, operation: str, body: bytes) -> ApiError | None:
        """GitHub's refusal of `body` for `operation`, or None when GitHub would take it."""
        check = self.body_check(operation)
        if check is None:
            return None
        if not body.strip():
            if not check.required:
                return None
            data: Any = None
        else:
            try:
                data = json.loads(body)
            except ValueError:
                return ApiError(400, "Problems parsing JSON", documentation_url=check.documentation_url)
        errors = list(check.validator.iter_errors(data))
        if not errors:
            return None
        return ApiError(422, "Invalid request.\n\n" + "\n".join(_messages(errors)),
                        documentation_url=check.documentation_url)


_shared: RequestShapes | None = None
_shared_lock = threading.Lock()


def shared() -> RequestShapes:
    """The process-wide checks (the data is read once)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RequestShapes.load()
        return _shared


def check_request(request: Request) -> None:
    """Before the handler: note GitHub's refusal of the body (raised when the handler reads it)."""
    if request.route is None or request.method in ("GET", "HEAD"):
        return
    request.body_refusal = shared().problem(operation_of(request.route), request.body)


def unread_refusal(request: Request) -> str | None:
    """After a successful handler: a refused body it never read (a sandbox bug), described; else None."""
    if request.body_refusal is None or request.body_refusal_raised or request.route is None:
        return None
    return (f"{operation_of(request.route)} accepted a request body GitHub refuses without reading it "
            f"(the route must read the body with request.json()): {request.body_refusal.message!r}")


# ---------------------------------------------------------------------------------------------------
# GitHub's words


def ruby_inspect(value: Any) -> str:
    """A JSON value as Ruby's `inspect` shows it (GitHub quotes values that way)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{ruby_inspect(k)} => {ruby_inspect(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(ruby_inspect(v) for v in value) + "]"
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def ruby_to_s(value: Any) -> str:
    """A JSON value as Ruby's `to_s` (string interpolation) shows it."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return ruby_inspect(value)


def _type_list(types: Any) -> str:
    """["string", "null"] -> "a string or null" (Rails' to_sentence with "or", article from the first)."""
    names = [types] if isinstance(types, str) else list(types)
    if len(names) == 1:
        joined = names[0]
    elif len(names) == 2:
        joined = f"{names[0]} or {names[1]}"
    else:
        joined = f"{', '.join(names[:-1])}, or {names[-1]}"
    return f"{'an' if joined[:1] in 'aeiou' else 'a'} {joined}"


def _fragment(schema_path: Iterable[Any]) -> str:
    """GitHub's name for the schema that failed: its place under its parent ("properties/labels")."""
    path = list(schema_path)[:-1]  # without the failing keyword
    relation = ROOT_FRAGMENT
    index = 0
    while index < len(path):
        part = path[index]
        following = path[index + 1] if index + 1 < len(path) else None
        named = part in ("properties", "patternProperties", "dependencies", "anyOf", "oneOf", "allOf")
        if (named and following is not None) or (part == "items" and isinstance(following, int)):
            relation = f"{part}/{following}"
            index += 2
        else:
            relation = str(part)
            index += 1
    return relation


def _plural(count: int, singular: str, plural: str) -> str:
    return singular if count == 1 else plural


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in sorted(names))


def _message(error: ValidationError) -> list[str]:
    keyword, value, data = error.validator, error.validator_value, error.instance
    if keyword == "type":
        return [f"For '{_fragment(error.absolute_schema_path)}', {ruby_inspect(data)} is not {_type_list(value)}."]
    if keyword == "enum":
        return [f"{ruby_to_s(data)} is not a member of {ruby_inspect(list(value))}."]
    if keyword == "required":
        missing = [name for name in value if name not in data]
        return [f"{_quoted(missing)} {_plural(len(missing), 'wasn', 'weren')}'t supplied."]
    if keyword == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        extra = [key for key in data if key not in known and not any(re.search(p, key) for p in patterns)]
        return [f"{_quoted(extra)} {_plural(len(extra), 'is not a permitted key', 'are not permitted keys')}."]
    if keyword in ("anyOf", "oneOf"):
        if keyword == "oneOf" and not error.context:
            return ['More than one subschema in "oneOf" matched.']
        lines = [f'No subschema in "{keyword}" matched.']
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context or ():
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        for branch in sorted(branches, key=lambda b: b if isinstance(b, int) else 0):
            lines += _messages(branches[branch])
        return lines
    if keyword == "not":
        return ['Matched "not" subschema.']
    if keyword == "maxItems":
        return [f"No more than {value} {_plural(value, 'item is', 'items are')} allowed; "
                f"{len(data)} {_plural(len(data), 'was', 'were')} supplied."]
    if keyword == "minItems":
        return [f"{value} {_plural(value, 'item', 'items')} required; "
                f"only {len(data)} {_plural(len(data), 'was', 'were')} supplied."]
    if keyword == "uniqueItems":
        return ["Duplicate items are not allowed."]
    if keyword == "maxLength":
        return [f"Only {value} {_plural(value, 'character is', 'characters are')} allowed; "
                f"{len(data)} {_plural(len(data), 'was', 'were')} supplied."]
    if keyword == "minLength":
        return [f"At least {value} {_plural(value, 'character is', 'characters are')} required; "
                f"only {len(data)} {_plural(len(data), 'was', 'were')} supplied."]
    if keyword == "maxProperties":
        return [f"No more than {value} {_plural(value, 'property is', 'properties are')} allowed; "
                f"{len(data)} {_plural(len(data), 'was', 'were')} supplied."]
    if keyword == "minProperties":
        return [f"At least {value} {_plural(value, 'property is', 'properties are')} required; "
                f"{len(data)} {_plural(len(data), 'was', 'were')} supplied."]
    if keyword == "maximum":
        exclusive = bool(error.schema.get("exclusiveMaximum"))
        return [f"{data} must be less than{'' if exclusive else ' or equal to'} {value}."]
    if keyword == "minimum":
        exclusive = bool(error.schema.get("exclusiveMinimum"))
        return [f"{data} must be greater than{'' if exclusive else ' or equal to'} {value}."]
    if keyword == "multipleOf":
        return [f"{data} is not a multiple of {value}."]
    if keyword == "pattern":
        return [f"{data} does not match /{value}/."]
    if keyword == "format":
        return [f"{data} is not a valid {value}."]
    return [error.message]


def _order(error: ValidationError) -> tuple[Any, ...]:
    """GitHub's order: keywords in its validator's order, properties in the schema's, items by index."""
    schema_key = tuple((0, _KEYWORD_ORDER[part], "") if isinstance(part, str) and part in _KEYWORD_ORDER
                       else (1, 0, str(part)) for part in error.relative_schema_path)
    data_key = tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in error.absolute_path)
    return schema_key, data_key


def _messages(errors: Iterable[ValidationError]) -> list[str]:
    """One line per problem; the missing keys of one object in one line, like GitHub."""
    lines: list[str] = []
    seen_required: set[tuple[Any, ...]] = set()
    all_of: dict[tuple[Any, ...], int] = {}  # a failed allOf -> after which line GitHub says so
    for error in sorted(errors, key=_order):
        if error.validator == "required":
            key = (tuple(error.absolute_path), tuple(error.relative_schema_path))
            if key in seen_required:
                continue
            seen_required.add(key)
        lines += _message(error)
        path = list(error.relative_schema_path)
        for index, part in enumerate(path):
            if part == "allOf":
                all_of[tuple(path[:index + 1])] = len(lines)
    for position in sorted(all_of.values(), reverse=True):
        lines.insert(position, 'Not all subschemas of "allOf" matched.')
    return lines
