#!/usr/bin/env python3
"""Regenerate the pinned, trimmed copies of GitHub's official API descriptions used by tests/contract.

Sources (npm, pinned below; `npm pack` fetches only the tarball, nothing is installed):
  - @octokit/openapi         generated/api.github.com.json  (GitHub's OpenAPI description, ~13 MB)
  - @octokit/graphql-schema  schema.json                    (GraphQL introspection result, ~5 MB)

Outputs (committed):
  - tests/contract/data/api.github.com.trimmed.json  the operations in tests/contract/rest_operations.txt,
    every component they reference (transitively) and the top-level fields; nothing else.
  - tests/contract/data/graphql-schema.json.gz       the introspection result, gzipped, unchanged.
  - tests/contract/data/VERSIONS                     package versions, tarball and original-file sha256.
  - opsgh/sandbox/data/github-request-schemas.json   shipped with the package: for every operation above,
    only what the sandbox needs at runtime to refuse request bodies GitHub refuses (the request body
    schema, whether a body is required, the documentation URL) and the component schemas they
    reference, without annotations (descriptions, titles, examples, defaults). Built from the trimmed
    description by `request_schemas()`, so tests can check the two agree without the network.

What the trim drops, and why: operations not listed, `x-webhooks` (webhook payloads are validated with
@octokit/webhooks-schemas, not here), and `examples`/`example` on media types plus
`components/examples` (they are large, often stale, and the contract tests validate against the
schemas, never against the examples).

Usage:  python scripts/update_github_descriptions.py [--openapi-version V] [--graphql-version V]
Bump a version: run `npm view @octokit/openapi version`, pass it (or edit the pin), re-run, review the
diff of the data files and run `pytest tests/contract`.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

OPENAPI_PACKAGE = "@octokit/openapi"
OPENAPI_VERSION = "23.0.2"
OPENAPI_MEMBER = "package/generated/api.github.com.json"
GRAPHQL_PACKAGE = "@octokit/graphql-schema"
GRAPHQL_VERSION = "15.26.1"
GRAPHQL_MEMBER = "package/schema.json"

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTRACT_DIR = REPO_ROOT / "tests" / "contract"
OPERATIONS_FILE = CONTRACT_DIR / "rest_operations.txt"
DATA_DIR = CONTRACT_DIR / "data"
TRIMMED_SPEC = DATA_DIR / "api.github.com.trimmed.json"
GRAPHQL_SCHEMA = DATA_DIR / "graphql-schema.json.gz"
VERSIONS_FILE = DATA_DIR / "VERSIONS"
REQUEST_SCHEMAS = REPO_ROOT / "opsgh" / "sandbox" / "data" / "github-request-schemas.json"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Top-level fields kept as they are (`paths` and `components` are rebuilt, `x-webhooks` dropped).
TOP_LEVEL_KEPT = ("openapi", "info", "servers", "externalDocs")


class TrimError(Exception):
    pass


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npm_pack_member(package: str, version: str, member: str, workdir: Path) -> tuple[bytes, str]:
    """Download one package tarball with `npm pack` and return (member bytes, tarball sha256)."""
    result = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--pack-destination", str(workdir), "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    filename = json.loads(result.stdout)[0]["filename"]
    # npm names scoped tarballs "octokit-openapi-23.0.2.tgz" but reports "@octokit/..." in older versions.
    tarball = workdir / filename.replace("@", "").replace("/", "-")
    with tarfile.open(tarball, "r:gz") as archive:
        extracted = archive.extractfile(member)
        if extracted is None:
            raise TrimError(f"{package}@{version} has no file {member}")
        data = extracted.read()
    return data, sha256_bytes(tarball.read_bytes())


def read_operations(path: Path) -> list[tuple[str, str]]:
    operations: list[tuple[str, str]] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or parts[0].lower() not in HTTP_METHODS or not parts[1].startswith("/"):
            raise TrimError(f"{path.name}:{number}: expected 'METHOD /path', got {raw!r}")
        operations.append((parts[0].lower(), parts[1]))
    if len(set(operations)) != len(operations):
        duplicates = sorted({op for op in operations if operations.count(op) > 1})
        raise TrimError(f"{path.name}: duplicated operations {duplicates}")
    return operations


def _without_examples(obj: Any) -> Any:
    if isinstance(obj, dict) and "$ref" not in obj:
        return {key: value for key, value in obj.items() if key not in ("example", "examples")}
    return obj


def _strip_content(holder: dict[str, Any]) -> dict[str, Any]:
    """A request body, response, parameter or header: drop the examples of it and of its media types."""
    holder = _without_examples(holder)
    if isinstance(holder.get("content"), dict):
        holder["content"] = {mime: _without_examples(media) for mime, media in holder["content"].items()}
    if isinstance(holder.get("headers"), dict):
        holder["headers"] = {name: _strip_content(header) for name, header in holder["headers"].items()}
    return holder


def _strip_operation_examples(operation: dict[str, Any]) -> dict[str, Any]:
    """Examples are only in parameters, request bodies and responses; schemas keep theirs (small)."""
    operation = dict(operation)
    if "parameters" in operation:
        operation["parameters"] = [_strip_content(p) for p in operation["parameters"]]
    if "requestBody" in operation:
        operation["requestBody"] = _strip_content(operation["requestBody"])
    if "responses" in operation:
        operation["responses"] = {code: _strip_content(r) for code, r in operation["responses"].items()}
    return operation


def _strip_component_examples(section: str, component: Any) -> Any:
    if section in ("parameters", "headers", "responses", "requestBodies"):
        return _strip_content(component)
    return component


def _refs_in(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str):
                found.add(ref)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found


def _resolve_pointer(spec: dict[str, Any], ref: str) -> tuple[str, str]:
    prefix = "#/components/"
    if not ref.startswith(prefix):
        raise TrimError(f"unsupported $ref {ref!r} (only local component references are expected)")
    section, _, name = ref[len(prefix) :].partition("/")
    if "/" in name or section not in spec.get("components", {}) or name not in spec["components"][section]:
        raise TrimError(f"dangling or nested $ref {ref!r}")
    return section, name


def trim_openapi(spec: dict[str, Any], operations: list[tuple[str, str]]) -> dict[str, Any]:
    """Return a new description with only `operations` and the components they reach."""
    missing = [
        f"{method.upper()} {path}"
        for method, path in operations
        if path not in spec["paths"] or method not in spec["paths"][path]
    ]
    if missing:
        raise TrimError(
            "these operations are not in the OpenAPI description (typo, or removed upstream):\n  "
            + "\n  ".join(missing)
        )
    paths: dict[str, Any] = {}
    for method, path in operations:
        source = spec["paths"][path]
        target = paths.setdefault(
            path, {k: copy.deepcopy(v) for k, v in source.items() if k not in HTTP_METHODS}
        )
        target[method] = _strip_operation_examples(copy.deepcopy(source[method]))

    components: dict[str, dict[str, Any]] = {}
    pending = _refs_in(paths)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        section, name = _resolve_pointer(spec, ref)
        if section == "examples":
            continue  # only reachable from the examples stripped above
        component = _strip_component_examples(section, spec["components"][section][name])
        components.setdefault(section, {})[name] = component
        pending |= _refs_in(component) - seen

    trimmed = {key: spec[key] for key in TOP_LEVEL_KEPT if key in spec}
    used_tags = {
        tag
        for path in paths.values()
        for op in path.values()
        if isinstance(op, dict)
        for tag in op.get("tags", [])
    }
    trimmed["tags"] = [tag for tag in spec.get("tags", []) if tag.get("name") in used_tags]
    trimmed["paths"] = paths
    trimmed["components"] = components
    dangling = {ref for ref in _refs_in(trimmed) if not ref.startswith("#/components/examples/")}
    for ref in dangling:
        section, name = ref[len("#/components/") :].split("/", 1)
        if name not in components.get(section, {}):
            raise TrimError(f"internal error: {ref} kept but not copied")
    return trimmed


# Schema keywords that only annotate (validation ignores them); dropped from the shipped request schemas.
ANNOTATIONS = frozenset({"description", "title", "example", "examples", "externalDocs", "deprecated", "default",
                         "readOnly", "writeOnly", "discriminator", "xml"})
_COMPONENT_SCHEMA = "#/components/schemas/"


def _schema_without_annotations(schema: Any) -> Any:
    """A schema without annotation keywords; property *names* (e.g. a property called "description") stay."""
    if isinstance(schema, list):
        return [_schema_without_annotations(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kept: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATIONS or key.startswith("x-"):
            continue
        if key in ("properties", "patternProperties"):
            kept[key] = {name: _schema_without_annotations(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not", "anyOf", "oneOf", "allOf"):
            kept[key] = _schema_without_annotations(value)
        else:
            kept[key] = copy.deepcopy(value)
    return kept


def request_schemas(trimmed: dict[str, Any], source: str) -> dict[str, Any]:
    """What the sandbox validates requests with: per operation its JSON request body and docs URL."""
    components = trimmed.get("components", {})

    def resolved(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            section, name = _resolve_pointer(trimmed, node["$ref"])
            node = components[section][name]
        return node

    operations: dict[str, Any] = {}
    for path, item in trimmed["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            entry: dict[str, Any] = {"documentation_url": operation.get("externalDocs", {}).get("url")}
            if "requestBody" in operation:
                body = resolved(operation["requestBody"])
                media = body.get("content", {}).get("application/json")
                if media is not None and "schema" in media:
                    entry["body"] = {"required": bool(body.get("required", False)),
                                     "schema": _schema_without_annotations(media["schema"])}
            operations[f"{method.upper()} {path}"] = entry
    schemas: dict[str, Any] = {}
    pending = {ref for ref in _refs_in(operations) if ref.startswith(_COMPONENT_SCHEMA)}
    while pending:
        ref = pending.pop()
        name = ref[len(_COMPONENT_SCHEMA):]
        if name in schemas:
            continue
        section, _ = _resolve_pointer(trimmed, ref)
        schemas[name] = _schema_without_annotations(components[section][name])
        pending |= {r for r in _refs_in(schemas[name]) if r.startswith(_COMPONENT_SCHEMA)} - {
            _COMPONENT_SCHEMA + known for known in schemas}
    other = {ref for ref in _refs_in(operations) | _refs_in(schemas) if not ref.startswith(_COMPONENT_SCHEMA)}
    if other:
        raise TrimError(f"request schemas reference non-schema components: {sorted(other)}")
    return {"source": source, "operations": operations, "components": {"schemas": schemas}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--openapi-version", default=OPENAPI_VERSION)
    parser.add_argument("--graphql-version", default=GRAPHQL_VERSION)
    args = parser.parse_args(argv)

    operations = read_operations(OPERATIONS_FILE)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="opsgh-descriptions-") as tmp:
        workdir = Path(tmp)
        openapi_bytes, openapi_tarball_sha = npm_pack_member(
            OPENAPI_PACKAGE, args.openapi_version, OPENAPI_MEMBER, workdir
        )
        graphql_bytes, graphql_tarball_sha = npm_pack_member(
            GRAPHQL_PACKAGE, args.graphql_version, GRAPHQL_MEMBER, workdir
        )

    spec = json.loads(openapi_bytes)
    try:
        trimmed = trim_openapi(spec, operations)
    except TrimError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    # One key per line keeps diffs reviewable when the pin moves; no indentation keeps it small.
    text = json.dumps(trimmed, sort_keys=True, indent=0, ensure_ascii=False) + "\n"
    TRIMMED_SPEC.write_text(text, encoding="utf-8")

    introspection = json.loads(graphql_bytes)
    if "__schema" not in introspection.get("data", introspection):
        print("error: schema.json is not an introspection result", file=sys.stderr)
        return 1
    # mtime=0: regenerating the same version gives byte-identical output (no spurious diffs).
    GRAPHQL_SCHEMA.write_bytes(gzip.compress(graphql_bytes, compresslevel=9, mtime=0))

    VERSIONS_FILE.write_text(
        "# Written by scripts/update_github_descriptions.py; do not edit by hand.\n"
        f"{OPENAPI_PACKAGE}@{args.openapi_version} tarball-sha256={openapi_tarball_sha}\n"
        f"  {OPENAPI_MEMBER} sha256={sha256_bytes(openapi_bytes)}\n"
        f"  trimmed to {len(operations)} operations from tests/contract/rest_operations.txt\n"
        f"{GRAPHQL_PACKAGE}@{args.graphql_version} tarball-sha256={graphql_tarball_sha}\n"
        f"  {GRAPHQL_MEMBER} sha256={sha256_bytes(graphql_bytes)}\n",
        encoding="utf-8",
    )
    source = (f"{OPENAPI_PACKAGE}@{args.openapi_version} {OPENAPI_MEMBER} sha256={sha256_bytes(openapi_bytes)}, "
              "trimmed by scripts/update_github_descriptions.py; do not edit by hand")
    REQUEST_SCHEMAS.parent.mkdir(parents=True, exist_ok=True)
    REQUEST_SCHEMAS.write_text(
        json.dumps(request_schemas(trimmed, source), sort_keys=True, indent=0, ensure_ascii=False) + "\n",
        encoding="utf-8")
    for path in (TRIMMED_SPEC, GRAPHQL_SCHEMA, VERSIONS_FILE, REQUEST_SCHEMAS):
        print(f"{path.relative_to(REPO_ROOT)}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
