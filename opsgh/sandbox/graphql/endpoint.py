"""POST /graphql (and /api/graphql, GitHub Enterprise Server's path): real GraphQL execution.

Answers like GitHub: HTTP 401 without a token; otherwise HTTP 200 with `data` and/or `errors`. A
document that does not parse or validate gets `{"errors": [...]}` (no data); a field that cannot be
resolved gets null in `data` and an error with GitHub's `type` (NOT_FOUND, FORBIDDEN, UNPROCESSABLE,
...), its `path` and `locations`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError, execute_sync, parse, validate

from opsgh.sandbox.graphql.resolvers import Context, GitHubGraphQLError, Root
from opsgh.sandbox.graphql.schema import schema
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable

routes = RouteTable()

AUTH_DOCS = "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql"


def _error(error: GraphQLError) -> dict[str, Any]:
    """GitHub's error object: type (when GitHub gives one), path, locations, message."""
    data: dict[str, Any] = {}
    original = error.original_error
    if isinstance(original, GitHubGraphQLError):
        data["type"] = original.type
    if error.path is not None:
        data["path"] = list(error.path)
    if error.locations:
        data["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    data["message"] = original.message if isinstance(original, GitHubGraphQLError) else error.message
    return data


_UNDEFINED_FIELD = re.compile(r"^Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'\.")


def _validation_error(error: GraphQLError) -> dict[str, Any]:
    """A validation error, worded like GitHub's (graphql-ruby) where it is a common one."""
    data = _error(error)
    found = _UNDEFINED_FIELD.match(error.message)
    if found:
        data["extensions"] = {"code": "undefinedField", "typeName": found["type"], "fieldName": found["field"]}
        data["message"] = f"Field '{found['field']}' doesn't exist on type '{found['type']}'"
    return data


def execute(request: Request, query: str, variables: dict[str, Any] | None = None,
            operation_name: str | None = None) -> dict[str, Any]:
    """Run one GraphQL request for the caller of `request`; the JSON body GitHub would answer."""
    try:
        document = parse(query)
    except GraphQLSyntaxError as error:
        return {"errors": [_error(error)]}
    executable = schema()
    problems = validate(executable, document)
    if problems:
        return {"errors": [_validation_error(problem) for problem in problems]}
    context = Context(request)
    result = execute_sync(executable, document, root_value=Root(context), context_value=context,
                          variable_values=variables or {}, operation_name=operation_name)
    body: dict[str, Any] = {}
    if result.data is not None or not result.errors:
        body["data"] = result.data
    if result.errors:
        body["errors"] = [_error(error) for error in result.errors]
    return body


def graphql_endpoint(request: Request) -> Response:
    if request.auth.token is None:
        raise ApiError(401, "This endpoint requires you to be authenticated.", documentation_url=AUTH_DOCS)
    payload = request.json()
    query = payload.get("query") if isinstance(payload, dict) else None
    if not isinstance(query, str):
        return Response(200, {"errors": [{"message": "A query attribute must be specified and must be a string."}]})
    assert isinstance(payload, dict)
    variables = payload.get("variables")
    if isinstance(variables, str):  # GitHub also takes the variables as a JSON string
        try:
            variables = json.loads(variables) if variables.strip() else {}
        except ValueError:
            variables = None
    if variables is not None and not isinstance(variables, dict):
        return Response(200, {"errors": [{"message": "Variables are invalid JSON."}]})
    name = payload.get("operationName")
    return Response(200, execute(request, query, variables, name if isinstance(name, str) and name else None))


# Not counted as content creation: queries are reads (the secondary limit's GraphQL rules are not modelled).
for _path in ("/graphql", "/api/graphql"):
    routes.post(_path, resource="graphql", creates_content=False)(graphql_endpoint)
