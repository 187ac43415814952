"""Check HTTP exchanges and GraphQL documents against GitHub's official API descriptions.

The descriptions are pinned, trimmed copies committed under tests/contract/data/ (regenerate with
scripts/update_github_descriptions.py): the OpenAPI description from npm @octokit/openapi and the
GraphQL introspection result from npm @octokit/graphql-schema. The schemas are the ground truth;
the spec's own examples are stale and were dropped.

Import from any test (the top-level tests/conftest.py puts tests/ on sys.path)::

    from contract.harness import ContractViolation, get_contract_validator

    contract = get_contract_validator()          # built once per process, cheap to call again
    contract.validate_exchange("POST", "http://127.0.0.1:8123/repos/o/r/pulls",
                               {"content-type": "application/json"}, b'{"title": ...}',
                               201, {"content-type": "application/json"}, b'{"number": 1, ...}')
    contract.validate_graphql(document, variables)
    contract.validate_graphql_response(document, variables, response_json)

Always import it as `contract.harness` (not `harness`): two import names would load the spec twice.

URL handling. Only the path and query of a URL matter: any scheme and host (the sandbox on
127.0.0.1:PORT, a GHES host) is accepted, and a GHES `/api/v3` prefix is removed. `POST /graphql` and
`POST /api/graphql` are GraphQL requests and are checked against the GraphQL schema. Pagination
`Link` URLs point at `/repositories/{id}/...`, which the description does not list: they are checked
as the same operation under `/repos/{owner}/{repo}/...` (GitHub serves the same resource there).
Path parameters may contain `/` (git refs, content paths, branch names a client did not escape); a
route where every parameter is one segment is preferred, as GitHub does.

Statuses any endpoint can answer. GitHub answers 401, 403 (rate limits), 429 and 5xx on any
operation, documented or not (fault injection in the sandbox does the same). When such a status is
not in the operation's description, a 401/403/429 body must still be GitHub's error shape (a JSON
object with a string `message`); a 5xx body is not checked. GitHub also answers 404 on every
repository operation whose repository the caller may not see (it hides private repositories), so
an undocumented 404 under `/repos/{owner}/` is accepted with the same error-shape check. Any other
undocumented status is a violation. The request is checked either way.

Where the harness reads the description more leniently than openapi-core would, and why
(see the functions named): `{nullable: true, enum: [...]}` accepts null
(`_allow_null_in_nullable_enums`); `oneOf`s are checked without their `discriminator`
(`_drop_discriminators`); the GraphQL schema is built with `assume_valid=True`.
Not checked: the URLs inside `Link` headers, custom media types the description only names in prose
(`application/vnd.github.raw` and friends: the response is reported as a content-type violation).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
import reprlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

DATA_DIR = Path(__file__).resolve().parent / "data"
OPENAPI_FILE = DATA_DIR / "api.github.com.trimmed.json"
GRAPHQL_SCHEMA_FILE = DATA_DIR / "graphql-schema.json.gz"
OPERATIONS_FILE = Path(__file__).resolve().parent / "rest_operations.txt"

# openapi-core resolves servers against the description's own server.
_SPEC_HOST = "https://api.github.com"
_GHES_REST_PREFIX = "/api/v3"
_GRAPHQL_PATHS = ("/graphql", "/api/graphql")
_ANY_OPERATION_ERRORS = frozenset({401, 403, 429})
_ANY_OPERATION_SERVER_ERRORS = frozenset({500, 502, 503, 504})
_REPOSITORY_BY_ID = re.compile(r"^/repositories/(?P<id>[0-9]+)(?P<rest>/.*)?$")
_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60
_MAX_MESSAGE = 300


@dataclass(frozen=True)
class Violation:
    """One way an exchange departs from the description.

    `operation` is "METHOD /path/template" (or "GraphQL <operation name>"), `field` says where:
    "route", "request body $.head", "response body $.owner.login", "query parameter per_page",
    "response header link", "response status 418", "variables $.input", "data.repository.name".
    """

    operation: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.field}: {self.message}"


class ContractViolation(AssertionError):
    """An exchange or document that GitHub's official description does not allow.

    `.operation` and `.field` name the first violation; `.violations` holds all of them.
    """

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        self.operation = violations[0].operation
        self.field = violations[0].field
        lines = [str(v) for v in violations]
        super().__init__(lines[0] if len(lines) == 1 else "\n".join([f"{len(lines)} violations:", *lines]))


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


# ---------------------------------------------------------------------------------------------------
# Routing: concrete URL -> (operation template, path parameters)


@dataclass(frozen=True)
class Route:
    template: str
    path_params: dict[str, str]
    path: str  # the path actually matched, after prefix removal and /repositories/{id} mapping


@dataclass(frozen=True)
class _Template:
    template: str
    methods: frozenset[str]
    single_segment: re.Pattern[str]
    multi_segment: re.Pattern[str]
    names: tuple[str, ...]
    # Sort key: more literal text first, then fewer parameters (the most concrete route wins).
    rank: tuple[int, int]


def _compile(template: str, multi_segment: frozenset[str]) -> tuple[re.Pattern[str], tuple[str, ...]]:
    names: list[str] = []
    parts: list[str] = []
    position = 0
    for match in re.finditer(r"\{([^}]+)\}", template):
        parts.append(re.escape(template[position : match.start()]))
        pattern = r".+" if match.group(1) in multi_segment else r"[^/]+"
        parts.append(f"(?P<p{len(names)}>{pattern})")
        names.append(match.group(1))
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("^" + "".join(parts) + "$"), tuple(names)


_MULTI_SEGMENT_PARAMS = frozenset({"ref", "path", "branch", "tag", "name", "basehead"})


class Router:
    """Map a request path onto the description's path templates."""

    def __init__(self, paths: Mapping[str, Mapping[str, Any]]) -> None:
        templates = []
        for template, item in paths.items():
            single, names = _compile(template, frozenset())
            # Git refs, content paths, branch/tag/label names may carry unescaped slashes; ids, owners and
            # repository names never do.
            multi, _ = _compile(template, _MULTI_SEGMENT_PARAMS)
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            methods = frozenset(m for m in item if m in _HTTP_METHODS)
            templates.append(_Template(template, methods, single, multi, names, (-literal, len(names))))
        self._templates = sorted(templates, key=lambda t: (t.rank, t.template))

    @staticmethod
    def normalize_path(raw_path: str) -> str:
        path = raw_path or "/"
        if path == _GHES_REST_PREFIX or path.startswith(_GHES_REST_PREFIX + "/"):
            path = path[len(_GHES_REST_PREFIX) :] or "/"
        by_id = _REPOSITORY_BY_ID.match(path)
        if by_id:
            path = f"/repos/repository-{by_id.group('id')}/by-id{by_id.group('rest') or ''}"
        return path

    def match(self, raw_path: str) -> Route | None:
        path = self.normalize_path(raw_path)
        for attribute in ("single_segment", "multi_segment"):
            for candidate in self._templates:
                found = getattr(candidate, attribute).match(path)
                if found:
                    params = {name: unquote(found.group(f"p{i}")) for i, name in enumerate(candidate.names)}
                    return Route(candidate.template, params, path)
        return None

    def methods(self, template: str) -> frozenset[str]:
        for candidate in self._templates:
            if candidate.template == template:
                return candidate.methods
        return frozenset()


def _allow_null_in_nullable_enums(node: Any) -> None:
    """`{nullable: true, enum: [...]}` means "one of these, or null" in GitHub's description.

    OpenAPI 3.0.3 says null must then also be listed in the enum, and openapi-core enforces that, so
    `"state_reason": null` (every open issue) or `"conclusion": null` (every running check run) would be
    rejected. GitHub's intent, its own responses and every client read it as nullable: add the null.
    """
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            enum = current.get("enum")
            if current.get("nullable") is True and isinstance(enum, list) and None not in enum:
                current["enum"] = [*enum, None]
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def _drop_discriminators(node: Any) -> None:
    """Validate GitHub's `oneOf`s without their `discriminator`: the `oneOf` alone decides.

    GitHub's discriminators do not hold up: GET /contents maps `type: array` to the directory listing,
    which is a JSON array and has no `type` property, and GET /user discriminates on
    `user_view_type`, which neither branch requires. openapi-core enforces them literally and would
    reject real responses (any directory listing, any user object without that property).
    """
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if "discriminator" in current and "oneOf" in current:
                del current["discriminator"]
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


# ---------------------------------------------------------------------------------------------------
# openapi-core adapters (its Request/Response protocols)


class _Request:
    def __init__(
        self,
        method: str,
        route: Route,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.host_url = _SPEC_HOST
        self.path = route.path
        self.path_pattern = route.template
        self.method = method.lower()
        self.body = body if body else None
        self.content_type = _header(headers, "content-type").lower() if body else ""
        self.parameters = RequestParameters(
            path=dict(route.path_params),
            query=ImmutableMultiDict(query),
            header=Headers(list(headers.items())),
            cookie=ImmutableMultiDict(),
        )


class _Response:
    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        from werkzeug.datastructures import Headers

        self.status_code = status
        self.headers = Headers(list(headers.items()))
        self.content_type = _header(headers, "content-type").lower()
        self.data = body


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def _flatten_headers(headers: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> dict[str, str]:
    """Accept a dict, a dict of lists (vcrpy), httpx/requests headers or (name, value) pairs."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    flat: dict[str, str] = {}
    for name, value in items:
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        flat[str(name).lower()] = str(value)
    return flat


# ---------------------------------------------------------------------------------------------------
# openapi-core errors -> Violations


def _schema_error_field(prefix: str, error: Any) -> tuple[str, str]:
    """A jsonschema ValidationError -> ("response body $.owner.login", message)."""
    from jsonschema.exceptions import best_match

    if getattr(error, "context", None):
        error = best_match([error])  # descends into oneOf/anyOf branches to the most relevant error
    path = error.json_path
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            return f"{prefix} {path}.{missing[0]}", f"required property {missing[0]!r} is missing"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = [name for name in error.instance if name not in allowed]
        if extra:
            return f"{prefix} {path}.{extra[0]}", f"property {extra[0]!r} is not allowed here"
    message = error.message
    if error.validator in ("type", "enum", "format", "nullable"):
        expected = _SHORT.repr(error.validator_value)
        message = f"{_SHORT.repr(error.instance)} is not valid: {error.validator} {expected}"
    where = prefix if path == "$" and not prefix.endswith("body") else f"{prefix} {path}"
    return where, _clip(message)


def _violations_from(operation: str, where: str, error: BaseException) -> list[Violation]:
    from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
    from openapi_core.templating.responses.exceptions import ResponseNotFound
    from openapi_core.validation.request.exceptions import ParameterValidationError
    from openapi_core.validation.response.exceptions import HeaderValidationError

    cause = error.__cause__
    schema_errors = list(getattr(cause, "schema_errors", None) or [])
    if isinstance(error, ParameterValidationError):
        prefix = f"{error.location} parameter {error.name}"
    elif isinstance(error, HeaderValidationError):
        prefix = f"{where} header {error.name}"
    elif isinstance(error, ResponseNotFound):
        return [
            Violation(
                operation, f"response status {error.http_status}", "status not documented for operation"
            )
        ]
    elif isinstance(error, MediaTypeNotFound) or isinstance(cause, MediaTypeNotFound):
        media = error if isinstance(error, MediaTypeNotFound) else cause
        return [Violation(operation, f"{where} content-type", _clip(str(media)))]
    else:
        prefix = f"{where} body"
    if schema_errors:
        return [Violation(operation, *_schema_error_field(prefix, e)) for e in schema_errors]
    detail = str(cause) if cause is not None else str(error)
    return [Violation(operation, prefix, _clip(detail))]


def _generic_error_violations(operation: str, status: int, body: bytes) -> list[Violation]:
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        return []
    return [
        Violation(
            operation, f"response body (status {status})", "must be a JSON object with a string 'message'"
        )
    ]


# ---------------------------------------------------------------------------------------------------
# GraphQL response checking: execute the document over the response data


class _MissingField(Exception):
    pass


def _graphql_field_resolver(source: Any, info: Any, **_args: Any) -> Any:
    key = info.path.key  # the response key: the alias if there is one
    if isinstance(source, Mapping):
        if key not in source:
            raise _MissingField(f"response has no {key!r}")
        return source[key]
    return None


def _graphql_type_resolver(value: Any, info: Any, abstract_type: Any) -> str | None:
    """The concrete type of an interface or union value: `__typename`, else what its fragments select."""
    from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

    if isinstance(value, Mapping) and isinstance(value.get("__typename"), str):
        return value["__typename"]
    schema = info.schema
    possible = sorted(schema.get_possible_types(abstract_type), key=lambda t: t.name)
    keys = set(value) if isinstance(value, Mapping) else set()

    def fragments(selection_set: Any) -> Iterator[tuple[str, set[str]]]:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, InlineFragmentNode) and selection.type_condition:
                node = selection
            elif isinstance(selection, FragmentSpreadNode):
                node = info.fragments[selection.name.value]
            else:
                continue
            response_keys = {
                (s.alias or s.name).value for s in node.selection_set.selections if isinstance(s, FieldNode)
            }
            yield node.type_condition.name.value, response_keys

    # Fragments whose fields are present pick their types; fragments whose fields are absent rule theirs out.
    candidates = list(possible)
    for field_node in info.field_nodes:
        for type_condition, response_keys in fragments(field_node.selection_set):
            condition = schema.get_type(type_condition)
            applies = {t.name for t in possible if t is condition or schema.is_sub_type(condition, t)}
            if response_keys and response_keys <= keys:
                candidates = [t for t in candidates if t.name in applies]
            elif not response_keys & keys:
                candidates = [t for t in candidates if t.name not in applies] or candidates
    chosen = candidates or possible
    return str(chosen[0].name) if chosen else None


def _first_difference(expected: Any, actual: Any, path: str) -> str | None:
    """Where the executed result (what the schema allows) differs from the response."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in actual:
            if key not in expected:
                return f"{path}.{key}: not selected by the document"
        for key in expected:
            found = _first_difference(expected[key], actual.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found = _first_difference(e, a, f"{path}[{index}]")
            if found:
                return found
        return None
    if expected != actual or type(expected) is not type(actual):
        serialized = _SHORT.repr(expected)
        return f"{path}: {_SHORT.repr(actual)} does not fit its GraphQL type (it serializes as {serialized})"
    return None


# ---------------------------------------------------------------------------------------------------


@dataclass
class ContractValidator:
    """Validates REST exchanges and GraphQL documents; build it with `get_contract_validator()`."""

    spec: dict[str, Any] = field(repr=False)
    covered: Counter[str] = field(default_factory=Counter, repr=False)  # operation -> exchanges validated

    def __post_init__(self) -> None:
        from openapi_core import Config, OpenAPI

        _allow_null_in_nullable_enums(self.spec)
        _drop_discriminators(self.spec)
        # Skipping validation of the description itself saves ~30 s; it is GitHub's, already valid.
        self.openapi = OpenAPI.from_dict(self.spec, config=Config(spec_validator_cls=None))
        self.router = Router(self.spec["paths"])

    # -- REST ---------------------------------------------------------------------------------------

    def operation_for(self, method: str, url: str) -> str:
        """ "METHOD /template" for a concrete request, or raise ContractViolation (unknown route)."""
        route = self._route(method, urlsplit(url).path)
        return f"{method.upper()} {route.template}"

    def _route(self, method: str, raw_path: str) -> Route:
        route = self.router.match(raw_path)
        if route is None:
            raise ContractViolation(
                [
                    Violation(
                        f"{method.upper()} {raw_path}",
                        "route",
                        "no such path in GitHub's REST description "
                        "(or not listed in tests/contract/rest_operations.txt)",
                    )
                ]
            )
        if method.lower() not in self.router.methods(route.template):
            raise ContractViolation(
                [
                    Violation(
                        f"{method.upper()} {route.template}",
                        "route",
                        f"method not in GitHub's REST description for this path (or not listed in "
                        f"tests/contract/rest_operations.txt); listed: "
                        f"{sorted(m.upper() for m in self.router.methods(route.template))}",
                    )
                ]
            )
        return route

    def exchange_violations(
        self,
        method: str,
        url: str,
        request_headers: Mapping[str, Any] | Iterable[tuple[str, Any]],
        request_body: bytes | None,
        status: int,
        response_headers: Mapping[str, Any] | Iterable[tuple[str, Any]],
        response_body: bytes,
    ) -> list[Violation]:
        """Every violation of one exchange (empty list: it conforms). Unknown routes are violations."""
        parts = urlsplit(url)
        if method.upper() == "POST" and parts.path in _GRAPHQL_PATHS:
            return self._graphql_exchange_violations(request_body, status, response_body)
        try:
            route = self._route(method, parts.path)
        except ContractViolation as violation:
            return violation.violations
        operation = f"{method.upper()} {route.template}"
        self.covered[operation] += 1
        query = sorted(parse_qsl(parts.query, keep_blank_values=True))
        request = _Request(method, route, query, _flatten_headers(request_headers), request_body)
        response = _Response(status, _flatten_headers(response_headers), response_body)
        violations: list[Violation] = []
        for error in self.openapi.iter_request_errors(request):
            violations.extend(_violations_from(operation, "request", error))
        documented = self.spec["paths"][route.template][method.lower()]["responses"]
        if str(status) not in documented and "default" not in documented:
            if status in _ANY_OPERATION_SERVER_ERRORS:
                return violations
            if status in _ANY_OPERATION_ERRORS or (status == 404 and route.template.startswith("/repos/{owner}/")):
                return violations + _generic_error_violations(operation, status, response_body)
        try:
            for error in self.openapi.iter_response_errors(request, response):
                violations.extend(_violations_from(operation, "response", error))
        except Exception as error:  # media-type lookups raise instead of yielding
            violations.extend(_violations_from(operation, "response", error))
        return list(dict.fromkeys(violations))  # oneOf branches repeat the same finding

    def validate_exchange(
        self,
        method: str,
        url: str,
        request_headers: Mapping[str, Any] | Iterable[tuple[str, Any]],
        request_body: bytes | None,
        status: int,
        response_headers: Mapping[str, Any] | Iterable[tuple[str, Any]],
        response_body: bytes,
    ) -> str:
        """Raise ContractViolation unless the exchange conforms; return "METHOD /template" when it does."""
        violations = self.exchange_violations(
            method, url, request_headers, request_body, status, response_headers, response_body
        )
        if violations:
            raise ContractViolation(violations)
        parts = urlsplit(url)
        if method.upper() == "POST" and parts.path in _GRAPHQL_PATHS:
            return "POST /graphql"
        return self.operation_for(method, url)

    def minimal_response_body(self, method: str, template: str, status: int) -> Any:
        """The smallest JSON body the description allows for this operation and status (test data)."""
        response = _resolve(self.spec, self.spec["paths"][template][method.lower()]["responses"][str(status)])
        return minimal_instance(self.spec, response["content"]["application/json"]["schema"])

    # -- GraphQL ------------------------------------------------------------------------------------

    @functools.cached_property
    def graphql_schema(self) -> Any:
        from graphql import build_client_schema

        with gzip.open(GRAPHQL_SCHEMA_FILE, "rb") as handle:
            introspection = json.load(handle)
        # assume_valid: GitHub's schema breaks a rule graphql-core 3.3 checks (implementations deprecate
        # fields their interfaces do not, e.g. PullRequest.databaseId vs Reactable.databaseId); that says
        # nothing about the documents we check against it.
        return build_client_schema(introspection.get("data", introspection), assume_valid=True)

    def _parse(self, document: str) -> tuple[Any, str, list[Violation]]:
        from graphql import (
            GraphQLSyntaxError,
            NoUnusedFragmentsRule,
            OperationDefinitionNode,
            parse,
            validate,
        )
        from graphql.validation import specified_rules

        try:
            ast = parse(document)
        except GraphQLSyntaxError as error:
            return None, "GraphQL document", [Violation("GraphQL document", "syntax", error.message)]
        operations = [d for d in ast.definitions if isinstance(d, OperationDefinitionNode)]
        names = [d.name.value for d in operations if d.name]
        operation = f"GraphQL {names[0]}" if names else "GraphQL (anonymous)"
        # A file of shared fragments only has no operation to use them: check it without that rule.
        rules = (
            specified_rules if operations else [r for r in specified_rules if r is not NoUnusedFragmentsRule]
        )
        errors = validate(self.graphql_schema, ast, rules)
        return ast, operation, [Violation(operation, _graphql_location(e), e.message) for e in errors]

    def graphql_violations(
        self, document: str, variables: Mapping[str, Any] | None = None
    ) -> list[Violation]:
        """Violations of the document against the schema, and of `variables` (unless None) against it."""
        from graphql import OperationDefinitionNode, get_variable_values

        ast, operation, violations = self._parse(document)
        if violations or variables is None:
            return violations
        for definition in ast.definitions:
            if isinstance(definition, OperationDefinitionNode):
                coerced = get_variable_values(
                    self.graphql_schema, definition.variable_definitions or (), dict(variables or {})
                )
                if isinstance(coerced, list):  # a list of errors, or the coerced values
                    violations += [Violation(operation, "variables", e.message) for e in coerced]
        return violations

    def validate_graphql(self, document: str, variables: Mapping[str, Any] | None = None) -> None:
        """Raise ContractViolation unless the document is valid for GitHub's schema and the variables fit it.

        `variables=None` checks the document alone; a mapping (even empty) is also coerced against the
        operation's variable definitions (a missing required variable is then a violation).
        """
        violations = self.graphql_violations(document, variables)
        if violations:
            raise ContractViolation(violations)

    def graphql_response_violations(
        self, document: str, variables: Mapping[str, Any], response_json: Mapping[str, Any]
    ) -> list[Violation]:
        """Check a GraphQL response body against the document and schema (`variables`: those sent).

        The document is executed over the response's `data` (each field resolves to the value at its
        response key), so every selected field must be present, non-null where the schema says so,
        of its type, and nothing unselected may appear. A response carrying `errors` is checked for
        the error shape only (partial data cannot be told apart from missing data).
        """
        from graphql import execute_sync

        violations = self.graphql_violations(document, variables)
        if violations:
            return violations
        ast, operation, _ = self._parse(document)
        unknown = set(response_json) - {"data", "errors", "extensions"}
        if unknown:
            return [Violation(operation, "response", f"unexpected top-level keys {sorted(unknown)}")]
        errors = response_json.get("errors")
        if errors is not None:
            if (
                not isinstance(errors, list)
                or not errors
                or not all(isinstance(e, Mapping) and isinstance(e.get("message"), str) for e in errors)
            ):
                return [
                    Violation(
                        operation, "errors", "must be a non-empty list of objects with a string message"
                    )
                ]
            return []
        data = response_json.get("data")
        if not isinstance(data, Mapping):
            return [Violation(operation, "data", "missing: a response without errors must carry data")]
        result = execute_sync(
            self.graphql_schema,
            ast,
            root_value=data,
            variable_values=dict(variables),
            field_resolver=_graphql_field_resolver,
            type_resolver=_graphql_type_resolver,
        )
        if result.errors:
            return [
                Violation(operation, ".".join(["data", *(str(p) for p in e.path or [])]), e.message)
                for e in result.errors
            ]
        difference = _first_difference(result.data, data, "data")
        return [Violation(operation, *difference.split(": ", 1))] if difference else []

    def validate_graphql_response(
        self, document: str, variables: Mapping[str, Any], response_json: Mapping[str, Any]
    ) -> None:
        violations = self.graphql_response_violations(document, variables, response_json)
        if violations:
            raise ContractViolation(violations)

    def _graphql_exchange_violations(
        self, request_body: bytes | None, status: int, response_body: bytes
    ) -> list[Violation]:
        try:
            payload = json.loads(request_body or b"")
            document = payload["query"]
        except (ValueError, KeyError, TypeError):
            return [Violation("POST /graphql", "request body", "not a JSON object with a 'query' string")]
        variables = payload.get("variables") or {}
        if status != 200:
            return self.graphql_violations(document, variables)
        try:
            response_json = json.loads(response_body)
        except ValueError:
            return [Violation("POST /graphql", "response body", "not JSON")]
        self.covered["POST /graphql"] += 1
        return self.graphql_response_violations(document, variables, response_json)


def _resolve(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        section, name = schema["$ref"].removeprefix("#/components/").split("/", 1)
        schema = spec["components"][section][name]
    return schema


_FORMAT_SAMPLES = {
    "date-time": "2026-01-06T15:00:00Z",
    "date": "2026-01-06",
    "uri": "https://example.invalid/",
    "uri-template": "https://example.invalid/{id}",
    "email": "octocat@example.invalid",
}


def minimal_instance(
    spec: Mapping[str, Any], schema: Mapping[str, Any], depth: int = 0, outer: Mapping[str, Any] | None = None
) -> Any:
    """The smallest value `schema` accepts: required properties only, first enum value, first oneOf/anyOf.

    Test data for the harness's own tests, not a general generator (no patterns, no `not`).
    `outer` carries the properties of an enclosing schema into its oneOf/anyOf/allOf branches, which
    often only add `required`.
    """
    schema = _resolve(spec, schema)
    if depth > 40:
        raise RecursionError("schema nests deeper than 40 levels")
    properties = {**(outer or {}), **schema.get("properties", {})}
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = minimal_instance(spec, part, depth + 1, properties)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            first = _resolve(spec, schema[keyword][0])
            value = minimal_instance(spec, first, depth + 1, properties)
            if keyword == "oneOf" and value == {} and first.get("properties"):
                # `{}` would match several branches (oneOf fails): fill the first branch's properties.
                value = {name: minimal_instance(spec, sub, depth + 1) for name, sub in first["properties"].items()}
            if isinstance(value, dict) and schema.get("required"):
                rest = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}
                value.update(minimal_instance(spec, {**rest, "type": "object"}, depth + 1, properties))
            return value
    if "enum" in schema:
        return next(value for value in schema["enum"] if value is not None)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema or "required" in schema:
        return {
            name: minimal_instance(spec, properties.get(name, {}), depth + 1)
            for name in schema.get("required", [])
        }
    if kind == "array":
        return [minimal_instance(spec, schema["items"], depth + 1) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return _FORMAT_SAMPLES.get(schema.get("format", ""), "x" * max(1, schema.get("minLength", 1)))
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return False
    return None


def _graphql_location(error: Any) -> str:
    if error.locations:
        location = error.locations[0]
        return f"line {location.line} column {location.column}"
    return "document"


@functools.cache
def get_contract_validator() -> ContractValidator:
    """The process-wide validator (the description is read and compiled once)."""
    return ContractValidator(json.loads(OPENAPI_FILE.read_text(encoding="utf-8")))
