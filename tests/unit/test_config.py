"""opsgh/config.py: defaults, the bad-config corpus, the schema/dataclass agreement, YAML hardening."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
import types
from collections.abc import Iterator, Mapping
from datetime import date
from datetime import time as clock_time
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pytest
import yaml

from opsgh import config as config_module
from opsgh.config import (
    SCHEMA_PATH,
    Config,
    FrozenMap,
    ProtectionRule,
    RequiredCheck,
    config_as_dict,
    default_config,
    load_config,
    load_config_file,
    load_schema,
)
from opsgh.errors import ConfigError, ExitCode

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
BAD = sorted((HERE / "bad_configs").glob("*.yml"))
GOOD = sorted((HERE / "good_configs").glob("*.yml"))
EXAMPLE = REPO_ROOT / "docs" / "opsgh.example.yml"
EXPECT_RE = re.compile(rb"^# expect: (?P<line>\d+|-) \| (?P<path>\S+) \| (?P<text>.+)$")


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(text)
    return info.value


# ----------------------------------------------------------------------------- defaults


def test_empty_file_gives_the_branch_model_defaults() -> None:
    config = load_config("")
    assert config == default_config() == load_config("# only a comment\n") == load_config("---\n")
    assert (config.branches.staging, config.branches.production) == ("main", "prod")
    assert config.release.title == "Release {date}"
    assert config.release.merge_method == "merge"
    assert config.release.labels == ("release",)
    assert config.release.tag == "v{date}"
    assert config.release.timezone == "UTC"
    assert config.hotfix.prefix == "hotfix/"
    assert config.hotfix.backport_to == ("main",)
    assert config.hotfix.on_conflict == "draft-pr"
    assert config.rollback.merge_method == "squash"
    assert config.rollback.postmortem_issue is True
    assert config.commands.prefix == "/"
    permission = config.commands.permission
    assert (permission.gate, permission.release, permission.ship, permission.verify, permission.rollback,
            permission.backport) == ("write", "write", "maintain", "write", "maintain", "write")
    assert config.gate.checks == "required"
    assert config.gate.checklist == "required"
    assert dict(config.protection) == {}
    assert config.notify.slack_webhook_env is None
    assert config.ops_log.issue == "Ops Log"


def test_unset_keys_keep_their_defaults_next_to_set_ones() -> None:
    config = load_config("release:\n  timezone: Europe/Berlin\ngate:\n  approvals: {min: 2}\n")
    assert config.release.timezone == "Europe/Berlin"
    assert config.release.title == "Release {date}"
    assert config.gate.approvals.min == 2
    assert config.gate.approvals.teams == ()
    assert config.branches == default_config().branches


def test_config_is_frozen_and_hashable() -> None:
    config = load_config_file(EXAMPLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.release.title = "x"  # type: ignore[misc]
    assert isinstance(config.release.labels, tuple)
    assert isinstance(config.protection, FrozenMap)
    with pytest.raises(TypeError):
        config.protection["main"] = ProtectionRule()  # type: ignore[index]
    assert hash(config) == hash(load_config_file(EXAMPLE))


# ----------------------------------------------------------------------------- the bad corpus


def test_bad_corpus_is_big_enough() -> None:
    assert len(BAD) >= 20


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_config_is_rejected_with_key_path_and_line(path: Path) -> None:
    first_line = path.read_bytes().split(b"\n", 1)[0]
    match = EXPECT_RE.match(first_line)
    assert match, f"{path.name}: first line must be `# expect: <line|-> | <key path|-> | <message part>`"
    with pytest.raises(ConfigError) as info:
        load_config_file(path)
    err = info.value
    text = str(err)
    assert err.exit_code == ExitCode.USAGE == 2
    assert "\n" not in text, "the message is one line"
    assert "\n" not in err.hint, "the hint is one line"
    assert text.startswith(str(path))
    assert match["text"].decode() in text
    if match["path"] != b"-":
        assert err.key_path == match["path"].decode()
        assert f": {err.key_path}: " in text
    if match["line"] != b"-":
        assert err.line == int(match["line"])
        assert f"{path}:{err.line}: " in text
    assert err.hint


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_configs_load(path: Path) -> None:
    assert isinstance(load_config_file(path), Config)


# ----------------------------------------------------------------------------- messages


def test_unknown_key_suggests_the_nearest_valid_key() -> None:
    err = _error("release:\n  titel: x\n")
    assert err.key_path == "release.titel"
    assert err.line == 2
    assert str(err) == '.github/opsgh.yml:2: release.titel: unknown key; did you mean "title"?'
    assert "title, merge_method" in err.hint


def test_unknown_key_without_a_near_one_lists_the_valid_keys() -> None:
    err = _error("hotfix:\n  zzzzzz: 1\n")
    assert err.reason == "unknown key (expected one of: prefix, backport_to, on_conflict, labels)"


def test_wrong_type_names_the_expected_type() -> None:
    err = _error("gate:\n  probes:\n    - name: h\n      url: https://x.example.com\n      samples: many\n")
    assert err.key_path == "gate.probes[0].samples"
    assert err.reason == 'expected an integer, got a string ("many")'
    assert err.line == 5


def test_source_is_named_in_the_message() -> None:
    with pytest.raises(ConfigError) as info:
        load_config("release: 3\n", source="octo/app@main:.github/opsgh.yml")
    assert str(info.value).startswith("octo/app@main:.github/opsgh.yml:1: release: expected a mapping")


def test_the_first_problem_in_the_file_is_reported() -> None:
    err = _error("release:\n  title: 5\n  labels: x\ngate:\n  checks: 7\n")
    assert (err.key_path, err.line) == ("release.title", 2)


def test_semantic_problems_come_after_schema_problems() -> None:
    # The time zone on line 2 is wrong, but the unknown key on line 3 is a schema error: it goes first.
    err = _error("release:\n  timezone: Nowhere/City\n  titel: x\n")
    assert err.key_path == "release.titel"


def test_release_squash_is_explained() -> None:
    err = _error("release:\n  merge_method: squash\n")
    assert "diverge" in err.reason
    assert "conflicts" in err.reason
    assert "merge_method: merge" in err.hint


def test_missing_explicit_file_is_an_error_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_file(tmp_path / "nope.yml")
    assert info.value.reason == "file not found"
    assert "opsgh init" in info.value.hint
    assert info.value.exit_code == ExitCode.USAGE


def test_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config_file(tmp_path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "opsgh.yml"
    path.write_bytes("\ufeffops_log:\n  issue: Journal\n".encode())
    assert load_config_file(path).ops_log.issue == "Journal"


# ----------------------------------------------------------------------------- YAML specifics


def test_alias_bomb_is_rejected_fast() -> None:
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="YAML aliases"):
        load_config_file(HERE / "bad_configs" / "alias_bomb.yml")
    assert time.perf_counter() - start < 1.0


def test_many_aliases_are_rejected() -> None:
    text = "x: &x 1\nl: [" + ", ".join(["*x"] * 101) + "]\n"
    err = _error(text)
    assert err.reason == "more than 100 YAML aliases (*name)"
    assert err.line == 2


def test_anchors_and_merge_keys_work_and_explicit_keys_win() -> None:
    config = load_config(
        "protection:\n"
        "  main: &base\n"
        "    enforce_admins: false\n"
        "    allow_deletions: false\n"
        "  prod:\n"
        "    <<: *base\n"
        "    enforce_admins: true\n"
    )
    assert config.protection["main"].enforce_admins is False
    assert config.protection["prod"].enforce_admins is True


def test_merged_key_does_not_count_as_a_duplicate_but_errors_point_into_the_anchor() -> None:
    err = _error("protection:\n  main: &base\n    enforce_admin: true\n  prod:\n    <<: *base\n")
    assert err.line == 3
    assert err.key_path in ("protection.main.enforce_admin", "protection.prod.enforce_admin")


@pytest.mark.parametrize(("text", "expected"), [
    ("checklist: off", "off"),  # YAML 1.1 would say False
    ("checklist: advisory", "advisory"),
])
def test_yaml_1_1_words_stay_strings(text: str, expected: str) -> None:
    assert load_config(f"gate:\n  {text}\n").gate.checklist == expected


def test_unquoted_times_and_dates_are_read_as_written() -> None:
    # YAML 1.1 reads 10:00 as the integer 600 and 2026-12-20 as a date; editors (YAML 1.2) see strings.
    config = load_config("gate:\n  windows: [{start: 09:30, end: 17:00}]\n"
                         "  freezes: [{from: 2026-12-20, to: 2027-01-04}]\n")
    window = config.gate.windows[0]
    assert (window.start, window.end) == (clock_time(9, 30), clock_time(17, 0))
    assert window.days == ("mon", "tue", "wed", "thu", "fri")
    assert window.tz == "UTC"
    freeze = config.gate.freezes[0]
    assert (freeze.from_, freeze.to, freeze.reason) == (date(2026, 12, 20), date(2027, 1, 4), "")


def test_numbers() -> None:
    config = load_config("gate:\n  parity: {staging: 'https://s.example.com', production: 'https://p.example.com',"
                         " min_match: 1}\n  probes: [{name: h, url: 'https://s.example.com', p95_ms: 2.5e2}]\n")
    assert config.gate.parity is not None
    assert config.gate.parity.min_match == 1.0
    assert isinstance(config.gate.parity.min_match, float)
    assert config.gate.probes[0].p95_ms == 250.0


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    err = _error("release:\n  labels: " + "[" * 3000 + "]" * 3000 + "\n")
    assert "nested" in err.reason


def test_huge_file_is_refused() -> None:
    err = _error("# " + "x" * 1_000_001)
    assert "too large" in err.reason


# ----------------------------------------------------------------------------- round trip and example


def test_example_config_validates_and_sets_every_section() -> None:
    config = load_config_file(EXAMPLE)
    assert config.protection["prod"].required_reviews is not None
    assert config.protection["prod"].required_reviews.count == 2
    assert config.protection["prod"].required_checks == config.protection["main"].required_checks
    assert config.protection["main"].required_checks is not None
    assert config.protection["main"].required_checks.contexts == (
        RequiredCheck("build"), RequiredCheck("test", 15368))
    assert config.gate.is_advisory("security")
    assert not config.gate.is_advisory("windows")


def _walk_keys(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{prefix}{key}"
            if key != "json":
                yield from _walk_keys(item, f"{prefix}{key}.")
    elif isinstance(value, list):
        for item in value:
            yield from _walk_keys(item, prefix.rstrip(".") + "[].")


def test_example_config_shows_every_key() -> None:
    shown = set(_walk_keys(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))))
    shown = {re.sub(r"^protection\.[^.]+", "protection.*", key) for key in shown}
    schema = load_schema()

    def schema_keys(node: Mapping[str, Any], prefix: str) -> Iterator[str]:
        node = config_module._resolve(node)
        for key, sub in node.get("properties", {}).items():
            yield f"{prefix}{key}"
            sub = config_module._resolve(sub)
            for branch in [sub, *sub.get("anyOf", [])]:
                branch = config_module._resolve(branch)
                if branch.get("type") == "array" and "$ref" in branch.get("items", {}):
                    yield from schema_keys(branch["items"], f"{prefix}{key}[].")
                elif branch.get("properties"):
                    yield from schema_keys(branch, f"{prefix}{key}.")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and "$ref" in extra and prefix == "protection.":
            yield from schema_keys(extra, "protection.*.")

    expected = set(schema_keys(schema, ""))
    expected |= set(schema_keys(schema["properties"]["protection"]["additionalProperties"], "protection.*."))
    missing = {key for key in expected if key not in shown and "restrictions." not in key
               and "bypass_actors[]" not in key}
    assert not missing, f"docs/opsgh.example.yml does not show: {sorted(missing)}"


def test_example_config_passes_an_editor_style_validation() -> None:
    # check-jsonschema reads YAML like editors do; the example must satisfy the bare schema too.
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMA_PATH),
                             str(EXAMPLE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_round_trip_through_config_as_dict() -> None:
    config = load_config_file(EXAMPLE)
    as_dict = config_as_dict(config)
    assert json.loads(json.dumps(as_dict)) == as_dict  # JSON-able
    assert as_dict["gate"]["freezes"][0]["from"] == "2026-12-20"
    assert as_dict["gate"]["windows"][0]["start"] == "10:00"
    assert load_config(yaml.safe_dump(as_dict)) == config
    assert load_config(json.dumps(as_dict)) == config  # JSON is YAML too
    assert load_config(yaml.safe_dump(config_as_dict(default_config()))) == default_config()


def test_config_as_dict_of_defaults_is_the_schema_default() -> None:
    schema = load_schema()
    defaults = config_as_dict(default_config())
    assert defaults == {key: prop["default"] for key, prop in schema["properties"].items()}


# ----------------------------------------------------------------------------- schema <-> dataclasses


def test_schema_is_valid_draft_2020_12() -> None:
    from jsonschema import Draft202012Validator

    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert SCHEMA_PATH.is_file()
    assert SCHEMA_PATH.parent.name == "schema"


def _object_schemas(schema: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    def walk(node: Any, where: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        if isinstance(node, dict):
            if node.get("type") == "object" or "properties" in node:
                yield where, node
            for key, value in node.items():
                yield from walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, f"{where}/{index}")
    yield from walk(schema, "#")


def test_schema_objects_are_closed_and_described() -> None:
    for where, node in _object_schemas(load_schema()):
        if "properties" in node:
            assert node.get("additionalProperties") is False, f"{where}: additionalProperties must be false"
        else:  # a mapping of names (protection, expect.json): values are typed
            assert isinstance(node.get("additionalProperties"), dict), where
        for key, prop in node.get("properties", {}).items():
            assert prop.get("description"), f"{where}/properties/{key} has no description"


def _python_name(key: str) -> str:
    import keyword

    return key + "_" if keyword.iskeyword(key) else key


def _dataclasses_in(tp: Any) -> list[type]:
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return [tp]
    return [found for arg in get_args(tp) for found in _dataclasses_in(arg)]


def _literals_in(tp: Any) -> set[Any]:
    if dataclasses.is_dataclass(tp):
        return set()
    if get_origin(tp) is Literal:
        return set(get_args(tp))
    return {value for arg in get_args(tp) for value in _literals_in(arg)}


def _object_branches(prop: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The object schemas a property may hold (through $ref, anyOf, items, additionalProperties)."""
    prop = config_module._resolve(prop)
    if "properties" in prop:
        return [prop]
    found: list[dict[str, Any]] = []
    for key in ("anyOf", "items", "additionalProperties"):
        sub = prop.get(key)
        for branch in sub if isinstance(sub, list) else [sub] if isinstance(sub, dict) else []:
            found.extend(_object_branches(branch))
    return found


def _enums_in(prop: Mapping[str, Any]) -> set[Any]:
    prop = config_module._resolve(prop)
    if "properties" in prop:
        return set()
    found = set(prop.get("enum", ()))
    for key in ("anyOf", "items"):
        sub = prop.get(key)
        for branch in sub if isinstance(sub, list) else [sub] if isinstance(sub, dict) else []:
            found |= _enums_in(branch)
    return found


def _jsonable_default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        value = field.default
    else:
        assert field.default_factory is not dataclasses.MISSING
        value = field.default_factory()
    return config_module._plain(value)


def _compare(cls: type, schema: Mapping[str, Any], where: str, seen: set[type]) -> None:
    seen.add(cls)
    schema = config_module._resolve(schema)
    props = schema["properties"]
    fields = {field.name: field for field in dataclasses.fields(cls)}
    assert {_python_name(key) for key in props} == set(fields), \
        f"{where}: schema keys {sorted(props)} != {cls.__name__} fields {sorted(fields)}"
    assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]
    assert "__slots__" in cls.__dict__, f"{cls.__name__} must use slots"
    required = set(schema.get("required", ()))
    hints = get_type_hints(cls)
    for key, prop in props.items():
        field = fields[_python_name(key)]
        prop_resolved = config_module._resolve(prop)
        has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        assert has_default == (key not in required), f"{where}.{key}: required in one, optional in the other"
        assert has_default == ("default" in prop_resolved), f"{where}.{key}: default in one only"
        if has_default:
            assert _jsonable_default(field) == prop_resolved["default"], f"{where}.{key}: defaults differ"
        assert _literals_in(hints[field.name]) == _enums_in(prop), f"{where}.{key}: enum values differ"
        classes = _dataclasses_in(hints[field.name])
        objects = _object_branches(prop)
        assert len(classes) == len(objects), f"{where}.{key}: {classes} vs {len(objects)} object schemas"
        for sub_cls, sub_schema in zip(classes, objects, strict=True):
            _compare(sub_cls, sub_schema, f"{where}.{key}", seen)


def test_schema_and_dataclasses_agree() -> None:
    seen: set[type] = set()
    _compare(Config, load_schema(), "config", seen)
    declared = {obj for obj in vars(config_module).values()
                if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == config_module.__name__}
    assert declared == seen, f"dataclasses not in the schema: {declared - seen}"


def test_object_defaults_in_the_schema_match_the_dataclasses() -> None:
    # Objects carry a default too (for editors); it must be what the dataclass builds, or what its
    # parent's default holds there (verify.tiers.immediate is a VerifyTier with its own thresholds).
    def check(cls: type, schema: Mapping[str, Any], held: Any) -> None:
        schema = config_module._resolve(schema)
        if "default" in schema and isinstance(schema["default"], dict):
            assert config_module._plain(held if held is not None else cls()) == schema["default"], cls
        hints = get_type_hints(cls)
        for key, prop in schema["properties"].items():
            for sub_cls, sub_schema in zip(_dataclasses_in(hints[_python_name(key)]), _object_branches(prop),
                                           strict=True):
                sub = getattr(held, _python_name(key), None)
                check(sub_cls, sub_schema, sub if isinstance(sub, sub_cls) else None)
    check(Config, load_schema(), Config())


def test_the_agreement_check_can_fail() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Drifted:
        title: str = "Release {today}"

    schema = {"type": "object", "additionalProperties": False,
              "properties": {"title": {"type": "string", "default": "Release {date}", "description": "t"}}}
    with pytest.raises(AssertionError, match="defaults differ"):
        _compare(Drifted, schema, "release", set())
    schema["properties"]["tag"] = {"type": "string", "default": "v", "description": "t"}
    with pytest.raises(AssertionError, match="schema keys"):
        _compare(Drifted, schema, "release", set())


def test_union_helpers_cover_the_runtime_forms() -> None:
    # `X | None` and Optional[X] are different objects at runtime; both must be walked.
    assert _dataclasses_in(Union[RequiredCheck, None]) == [RequiredCheck]  # noqa: UP007
    assert _dataclasses_in(RequiredCheck | None) == [RequiredCheck]
    assert isinstance(RequiredCheck | None, types.UnionType)


# ----------------------------------------------------------------------------- start-up


def test_importing_config_loads_neither_yaml_nor_jsonschema() -> None:
    code = ("import sys, opsgh.config; "
            "print(sorted(m for m in ('yaml', 'jsonschema') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"
