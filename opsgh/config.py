"""`.github/opsgh.yml` -> frozen dataclasses, checked against one JSON Schema.

Two declarations of the same shape live side by side on purpose: the JSON Schema
(`opsgh/schema/opsgh.schema.json`, also used by editors through yaml-language-server) and the
dataclasses below (what the code reads). `tests/unit/test_config.py` asserts that they agree
key for key and default for default.

Loading goes: YAML text -> plain values with the line of every key (our own SafeLoader, see
`_loader_class`) -> JSON Schema -> dataclasses -> semantic checks that a schema cannot express
(time zones, contradictions with the branch model). Every failure is one `ConfigError` naming
the key path and the line.

`yaml` and `jsonschema` are imported inside functions: the CLI must start fast.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import itertools
import json
import keyword
import math
import os
import re
import string
import types
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, time
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Generic,
    Literal,
    NamedTuple,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from opsgh.errors import ConfigError

if TYPE_CHECKING:
    import yaml

# jsonschema ships no type stubs (and none are pinned): its errors are handled as Any.
ValidationError = Any

__all__ = [
    "DEFAULT_SOURCE",
    "SCHEMA_PATH",
    "Approvals",
    "Branches",
    "BypassActor",
    "CommandPermissions",
    "CommandsConfig",
    "Config",
    "Freeze",
    "FrozenMap",
    "GateCommand",
    "GateConfig",
    "HotfixConfig",
    "MigrationsConfig",
    "NotifyConfig",
    "OpsLogConfig",
    "Parity",
    "Probe",
    "ProbeExpect",
    "ProtectionRule",
    "ReleaseConfig",
    "RequiredCheck",
    "RequiredChecks",
    "RequiredReviews",
    "Restrictions",
    "RollbackConfig",
    "SecurityConfig",
    "VerifyConfig",
    "VerifyEnvironment",
    "VerifyTier",
    "VerifyTiers",
    "Window",
    "config_as_dict",
    "default_config",
    "load_config",
    "load_config_file",
    "load_schema",
    "parse_duration",
]

DEFAULT_SOURCE = ".github/opsgh.yml"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "opsgh.schema.json"

# Limits that keep a hostile or broken file from costing more than a moment.
MAX_CONFIG_CHARS = 1_000_000
MAX_ALIASES = 100  # a real config needs a handful; "billion laughs" needs many
MAX_VALUES = 50_000  # values after alias expansion; a real config has a few hundred
MAX_DEPTH = 50

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """A read-only, hashable mapping, so that the frozen dataclasses stay hashable."""

    __slots__ = ("_data",)

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._data: dict[K, V] = dict(items)

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


# ----------------------------------------------------------------------------- the dataclasses

MergeMethod = Literal["merge", "squash", "rebase"]
PermissionLevel = Literal["read", "triage", "write", "maintain", "admin"]
Severity = Literal["none", "low", "medium", "high", "critical"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Criterion = Literal["checks", "approvals", "blocking_issue_labels", "security", "windows", "freezes",
                    "migrations", "checklist", "probes", "parity", "commands", "hotfixes"]
JsonScalar = str | int | float | bool | None

WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERMISSION_LEVELS: tuple[PermissionLevel, ...] = ("read", "triage", "write", "maintain", "admin")
# Placeholders the release title and tag templates may use.
TEMPLATE_FIELDS = ("date", "sha")
# A semver tag template has {version} and nothing else that changes (it must sort and parse back).
SEMVER_TAG_FIELDS = ("version",)
SEMVER_DEFAULT_TAG = "v{version}"
Versioning = Literal["date", "semver"]


@dataclasses.dataclass(frozen=True, slots=True)
class Branches:
    """The two long-lived branches."""

    staging: str = "main"
    production: str = "prod"


@dataclasses.dataclass(frozen=True, slots=True)
class ReleaseConfig:
    """The release pull request staging -> production."""

    title: str = "Release {date}"
    merge_method: MergeMethod = "merge"
    labels: tuple[str, ...] = ("release",)
    tag: str | None = "v{date}"  # "v{version}" when versioning is semver and the file sets no tag
    timezone: str = "UTC"
    versioning: Versioning = "date"
    initial_version: str = "0.1.0"  # semver: the first version when no version tag exists yet


@dataclasses.dataclass(frozen=True, slots=True)
class HotfixConfig:
    """Hotfixes into production and their back-ports."""

    prefix: str = "hotfix/"
    backport_to: tuple[str, ...] = ("main",)
    on_conflict: Literal["draft-pr", "comment"] = "draft-pr"
    labels: tuple[str, ...] = ("backport",)


@dataclasses.dataclass(frozen=True, slots=True)
class RollbackConfig:
    """Rolling back the last release."""

    merge_method: MergeMethod = "squash"
    postmortem_issue: bool = True
    postmortem_labels: tuple[str, ...] = ("postmortem",)
    postmortem_assignees: tuple[str, ...] = ()  # empty: whoever ran the rollback


@dataclasses.dataclass(frozen=True, slots=True)
class Approvals:
    """Approving reviews the release PR needs; `min == 0` turns the criterion off."""

    min: int = 1
    teams: tuple[str, ...] = ()
    users: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class SecurityConfig:
    """Block on open alerts at or above these severities (`none`: off)."""

    dependabot: Severity = "none"
    code_scanning: Severity = "none"


@dataclasses.dataclass(frozen=True, slots=True)
class Window:
    """A deploy window; `end` is after `start` on the same day."""

    start: time
    end: time
    days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    tz: str = "UTC"


@dataclasses.dataclass(frozen=True, slots=True)
class Freeze:
    """A change freeze, both days included. `from` is a Python keyword, hence `from_`."""

    from_: date
    to: date
    reason: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class MigrationsConfig:
    """Database migrations in a release; no `paths` turns the criterion off."""

    paths: tuple[str, ...] = ()
    allow_label: str | None = None
    require_down: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class ProbeExpect:
    """What a good probe answer looks like."""

    status: int = 200
    json: Mapping[str, JsonScalar] = dataclasses.field(default_factory=FrozenMap)


@dataclasses.dataclass(frozen=True, slots=True)
class Probe:
    """An HTTP probe: health, smoke, latency, TLS expiry."""

    name: str
    url: str
    expect: ProbeExpect = ProbeExpect()
    p95_ms: float | None = None
    samples: int = 5
    timeout_s: float = 10.0
    tls_min_days: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Parity:
    """Compare a JSON endpoint on staging and production."""

    staging: str
    production: str
    min_match: float = 1.0


@dataclasses.dataclass(frozen=True, slots=True)
class GateCommand:
    """A command the gate runs."""

    name: str
    run: str
    expect_exit: int = 0
    expect_output: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class GateConfig:
    """The go/no-go criteria."""

    checks: Literal["required", "all"] | tuple[str, ...] = "required"
    approvals: Approvals = Approvals()
    blocking_issue_labels: tuple[str, ...] = ()
    security: SecurityConfig = SecurityConfig()
    windows: tuple[Window, ...] = ()
    freezes: tuple[Freeze, ...] = ()
    migrations: MigrationsConfig = MigrationsConfig()
    checklist: Literal["required", "advisory", "off"] = "required"
    probes: tuple[Probe, ...] = ()
    parity: Parity | None = None
    commands: tuple[GateCommand, ...] = ()
    advisory: tuple[Criterion, ...] = ()
    hotfixes: Literal["required", "advisory", "off"] = "advisory"

    def is_advisory(self, criterion: Criterion) -> bool:
        """True when a failure of this criterion is reported as a warning instead of a NO-GO."""
        return criterion in self.advisory or (criterion == "checklist" and self.checklist == "advisory") or (
            criterion == "hotfixes" and self.hotfixes == "advisory")


@dataclasses.dataclass(frozen=True, slots=True)
class CommandPermissions:
    """The minimum repository permission of the commenter, per slash command."""

    gate: PermissionLevel = "write"
    release: PermissionLevel = "write"
    ship: PermissionLevel = "maintain"
    verify: PermissionLevel = "write"
    rollback: PermissionLevel = "maintain"
    backport: PermissionLevel = "write"


@dataclasses.dataclass(frozen=True, slots=True)
class CommandsConfig:
    """Slash commands on pull request comments."""

    prefix: str = "/"
    permission: CommandPermissions = CommandPermissions()


@dataclasses.dataclass(frozen=True, slots=True)
class RequiredReviews:
    """Pull request review requirements of a protected branch."""

    count: int = 1
    code_owners: bool = False
    dismiss_stale: bool = False
    require_last_push_approval: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class RequiredCheck:
    """A required status check; `app_id` pins the App that must report it (-1: any source)."""

    context: str
    app_id: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RequiredChecks:
    """Required status checks of a protected branch."""

    strict: bool = False
    contexts: tuple[RequiredCheck, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Restrictions:
    """Who may push to a protected branch (classic protection only)."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class BypassActor:
    """Who may bypass a ruleset, as in GitHub's rulesets API."""

    actor_type: Literal["Integration", "OrganizationAdmin", "RepositoryRole", "Team", "DeployKey"]
    actor_id: int | None = None
    bypass_mode: Literal["always", "pull_request"] = "always"


@dataclasses.dataclass(frozen=True, slots=True)
class ProtectionRule:
    """The protection of one branch (`protection.<branch>`)."""

    backend: Literal["classic", "ruleset"] = "classic"
    required_reviews: RequiredReviews | None = None
    required_checks: RequiredChecks | None = None
    enforce_admins: bool = False
    allow_force_pushes: bool = False
    allow_deletions: bool = False
    required_conversation_resolution: bool = False
    required_signatures: bool = False
    required_linear_history: bool = False
    restrictions: Restrictions | None = None
    bypass_actors: tuple[BypassActor, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class VerifyTier:
    """One tier of the rollback decision criteria: reached when the error rate (percent of failed
    samples) or the p95 latency (times the environment's baseline) is over; null: not judged."""

    error_rate: float | None = None
    p95_factor: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class VerifyTiers:
    """The runbook's rollback tiers, worst first; below `evaluate` is `monitor`."""

    immediate: VerifyTier = VerifyTier(error_rate=5.0)
    urgent: VerifyTier = VerifyTier(error_rate=2.0, p95_factor=3.0)
    evaluate: VerifyTier = VerifyTier(error_rate=1.0, p95_factor=2.0)


@dataclasses.dataclass(frozen=True, slots=True)
class VerifyEnvironment:
    """What `opsgh verify --env NAME` probes after a deploy to environment NAME."""

    probes: tuple[Probe, ...] = ()
    baseline_p95_ms: float | None = None
    url: str | None = None  # the environment's URL, shown on the deployment


@dataclasses.dataclass(frozen=True, slots=True)
class VerifyConfig:
    """Post-deploy verification: how long to watch, and when to call for a rollback."""

    duration: str = "10m"
    interval: str = "30s"
    outage_after: str = "2m"
    immediate_after: str = "5m"
    fail_on: Literal["immediate", "urgent", "evaluate"] = "urgent"
    tiers: VerifyTiers = VerifyTiers()
    environments: Mapping[str, VerifyEnvironment] = dataclasses.field(default_factory=FrozenMap)


@dataclasses.dataclass(frozen=True, slots=True)
class NotifyConfig:
    """Notifications; the webhook URL is read from the named environment variable by the caller."""

    slack_webhook_env: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class OpsLogConfig:
    """The ops log issue; `issue=None` keeps no log."""

    issue: str | None = "Ops Log"


@dataclasses.dataclass(frozen=True, slots=True)
class Config:
    """The whole effective configuration."""

    branches: Branches = Branches()
    release: ReleaseConfig = ReleaseConfig()
    hotfix: HotfixConfig = HotfixConfig()
    rollback: RollbackConfig = RollbackConfig()
    gate: GateConfig = GateConfig()
    commands: CommandsConfig = CommandsConfig()
    protection: Mapping[str, ProtectionRule] = dataclasses.field(default_factory=FrozenMap)
    verify: VerifyConfig = VerifyConfig()
    notify: NotifyConfig = NotifyConfig()
    ops_log: OpsLogConfig = OpsLogConfig()


# ----------------------------------------------------------------------------- public API


def default_config() -> Config:
    """The configuration of a repository without `.github/opsgh.yml`."""
    return Config()


def load_schema() -> dict[str, Any]:
    """The JSON Schema of the configuration file (a fresh copy each call)."""
    return dict(json.loads(_schema_text()))


def load_config(text: str, source: str = DEFAULT_SOURCE) -> Config:
    """Parse and check a configuration; an empty text gives the defaults.

    Raises `ConfigError` naming the key path and line of the first problem.
    """
    if len(text) > MAX_CONFIG_CHARS:
        raise ConfigError(f"the file is too large ({len(text)} characters; at most {MAX_CONFIG_CHARS})",
                          "a configuration is a few kilobytes; is this the right file?", source=source)
    data, lines = _parse_yaml(text, source)
    _validate_schema(data, lines, source)
    try:
        config: Config = _build(Config, data, ())
    except _Problem as problem:
        raise problem.error(lines, source) from None
    config = _derived_defaults(config, data)
    problems = _semantic_problems(config)
    if problems:
        raise min(problems, key=lambda p: p.sort_key(lines)).error(lines, source)
    return config


def _derived_defaults(config: Config, data: Any) -> Config:
    """Defaults that depend on another key: semver versioning without a `release.tag` tags `v{version}`."""
    release = data.get("release") if isinstance(data, Mapping) else None
    if config.release.versioning == "semver" and not (isinstance(release, Mapping) and "tag" in release):
        return dataclasses.replace(config, release=dataclasses.replace(config.release, tag=SEMVER_DEFAULT_TAG))
    return config


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> float:
    """Seconds in a duration written like `90s`, `10m` or `2h` (the schema's pattern); ValueError else."""
    match = re.fullmatch(r"([1-9][0-9]*)([smh])", text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 30s, 10m or 2h")
    return float(int(match.group(1)) * _DURATION_UNITS[match.group(2)])


def load_config_file(path: str | os.PathLike[str]) -> Config:
    """Read and check a configuration file. A missing file is an error: the caller chose the path."""
    source = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError("file not found",
                          "check the path; `opsgh init` writes a commented configuration, and without "
                          "--config/--file opsgh uses .github/opsgh.yml or the defaults",
                          source=source) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", "check the path and its permissions",
                          source=source) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError("the file is not UTF-8 text", "save it as UTF-8", source=source,
                          line=raw[:exc.start].count(b"\n") + 1) from None
    return load_config(text, source=source)


def config_as_dict(config: Config) -> dict[str, Any]:
    """The configuration as plain JSON-able values, keyed as in the YAML file."""
    plain = _plain(config)
    assert isinstance(plain, dict)
    return plain


# ----------------------------------------------------------------------------- YAML


ConfigPath = tuple[str | int, ...]
Lines = dict[ConfigPath, int]

_TAG = "tag:yaml.org,2002:"
_PLAIN_SCALAR_TYPES = (str, int, float, bool, type(None))


@functools.cache
def _loader_class() -> type[yaml.SafeLoader]:
    """PyYAML's SafeLoader with YAML 1.2-like scalars and a cap on aliases.

    YAML 1.1 turns `off` into false, `10:00` into 600 and `2026-02-30` into a crash; the
    editors (yaml-language-server) read YAML 1.2, where all three are strings. We resolve only
    1.2's booleans, integers and floats, and parse dates and times ourselves.
    """
    import yaml

    class Loader(yaml.SafeLoader):
        alias_count = 0
        source = DEFAULT_SOURCE

        def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
            if self.check_event(yaml.AliasEvent):
                self.alias_count += 1
                if self.alias_count > MAX_ALIASES:
                    mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                    raise ConfigError(f"more than {MAX_ALIASES} YAML aliases (*name)",
                                      "a configuration needs few aliases; this looks like an alias bomb",
                                      source=self.source, line=mark.line + 1)
            return super().compose_node(parent, index)

    dropped = {_TAG + "bool", _TAG + "int", _TAG + "float", _TAG + "timestamp"}
    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in dropped]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(_TAG + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))
    Loader.add_implicit_resolver(_TAG + "int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))
    Loader.add_implicit_resolver(
        _TAG + "float",
        re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                   r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
        list("-+0123456789."))
    return Loader


def _parse_yaml(text: str, source: str) -> tuple[dict[str, Any], Lines]:
    import yaml

    loader = _loader_class()(text)
    loader.source = source  # type: ignore[attr-defined]
    try:
        try:
            node = loader.get_single_node()
            if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null"):
                return {}, {}
            if not isinstance(node, yaml.MappingNode):
                kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
                raise ConfigError(f"the file must be a mapping of keys (like `release:`), not {kind}",
                                  "see docs/opsgh.example.yml for the shape", source=source,
                                  line=node.start_mark.line + 1)
            walker = _Walker(loader, source)
            data = walker.mapping(node, (), 0)
            return data, walker.lines
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(exc, text, source) from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"invalid YAML: {_one_line(str(exc))}", source=source) from None
        except RecursionError:
            raise ConfigError("invalid YAML: nested too deeply", source=source) from None
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.MarkedYAMLError, text: str, source: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and "end of stream" in (exc.problem or ""):
        mark = exc.context_mark  # e.g. an unclosed quote: where it opened, not the end of the file
    line = mark.line + 1 if mark is not None else None
    problem = _one_line(": ".join(part for part in (exc.context, exc.problem) if part) or "cannot parse")
    hint = "check the indentation and quoting around that line"
    lines = text.splitlines()
    bad_line = lines[line - 1] if line is not None and 0 < line <= len(lines) else ""
    indent = bad_line[: len(bad_line) - len(bad_line.lstrip())]
    if "\\t" in problem or "\t" in problem or "\t" in indent:
        hint = "YAML does not allow tabs for indentation: indent with spaces"
    return ConfigError(f"invalid YAML: {problem}", hint, source=source, line=line)


class _Walker:
    """Turns the composed YAML nodes into plain values, recording the line of every key and item."""

    def __init__(self, loader: yaml.SafeLoader, source: str) -> None:
        self.loader = loader
        self.source = source
        self.lines: Lines = {}
        self.budget = MAX_VALUES

    def error(self, message: str, path: ConfigPath, node: yaml.Node, hint: str | None = None) -> ConfigError:
        return ConfigError(message, hint, source=self.source, key_path=format_path(path),
                           line=node.start_mark.line + 1)

    def value(self, node: yaml.Node, path: ConfigPath, depth: int) -> Any:
        import yaml

        self.budget -= 1
        if self.budget < 0:
            # Name the top-level key being expanded: the innermost path of a bomb means nothing.
            raise ConfigError(f"more than {MAX_VALUES} values after expanding YAML aliases",
                              "a configuration is small; this looks like an alias bomb", source=self.source,
                              key_path=format_path(path[:1]), line=self.lines.get(path[:1]))
        if depth > MAX_DEPTH:
            raise self.error(f"nested more than {MAX_DEPTH} levels deep", path, node)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _TAG + "map":
                raise self.error(f"unsupported YAML tag {node.tag}", path, node)
            return self.mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _TAG + "seq":
                raise self.error(f"unsupported YAML tag {node.tag}", path, node)
            items = []
            for index, child in enumerate(node.value):
                self.lines[(*path, index)] = child.start_mark.line + 1
                items.append(self.value(child, (*path, index), depth + 1))
            return items
        return self.scalar(node, path)

    def scalar(self, node: yaml.Node, path: ConfigPath) -> Any:
        import yaml

        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            raise self.error(f"unsupported YAML tag {node.tag}", path, node,
                             "use plain strings, numbers, booleans, lists and mappings") from None
        if not isinstance(value, _PLAIN_SCALAR_TYPES):
            raise self.error(f"unsupported YAML value of type {type(value).__name__}", path, node,
                             "use plain strings, numbers, booleans, lists and mappings")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(f"expected a finite number, got {value}", path, node)
        return value

    def mapping(self, node: yaml.MappingNode, path: ConfigPath, depth: int) -> dict[str, Any]:
        import yaml

        merged: dict[str, Any] = {}
        explicit: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                # `<<: *base` (or a list of them): earlier sources win, explicit keys win over all.
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source_node in sources:
                    if not isinstance(source_node, yaml.MappingNode):
                        raise self.error("`<<` must merge a mapping (`<<: *name`)", path, key_node)
                    for key, value in self.mapping(source_node, path, depth + 1).items():
                        merged.setdefault(key, value)
            else:
                explicit.append((key_node, value_node))
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in explicit:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error("keys must be plain strings", path, key_node)
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise ConfigError(f"duplicate key (first on line {first_line[key]})",
                                  "a later duplicate would silently replace the first: keep one",
                                  source=self.source, key_path=format_path((*path, key)), line=line)
            first_line[key] = line
            self.lines[(*path, key)] = line
            result[key] = self.value(value_node, (*path, key), depth + 1)
        return {**merged, **result}


# ----------------------------------------------------------------------------- schema


@functools.cache
def _schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


@functools.cache
def _validator() -> Any:
    import importlib

    # Imported by name: jsonschema has no type stubs, and none are pinned.
    jsonschema = importlib.import_module("jsonschema")
    return jsonschema.Draft202012Validator(load_schema())


def _validate_schema(data: dict[str, Any], lines: Lines, source: str) -> None:
    errors = list(_validator().iter_errors(data))
    if not errors:
        return
    problems = [_describe(_innermost(error), lines, _resolve(error.schema).get("description"))
                for error in errors]
    raise min(problems, key=lambda p: p.sort_key(lines)).error(lines, source)


class _Problem(Exception):
    """A problem found after parsing, located by its key path."""

    def __init__(self, path: ConfigPath, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.hint = hint

    def sort_key(self, lines: Lines) -> tuple[int, int]:
        line = _line_of(self.path, lines)
        return (line if line is not None else 1 << 30, -len(self.path))

    def error(self, lines: Lines, source: str) -> ConfigError:
        return ConfigError(_one_line(self.message), self.hint and _one_line(self.hint), source=source,
                           key_path=format_path(self.path), line=_line_of(self.path, lines))


def _resolve(fragment: Mapping[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s; keywords beside a `$ref` (description, default) win."""
    result = dict(fragment)
    while "$ref" in result:
        ref = result.pop("$ref")
        target = _schema_defs()[ref.rsplit("/", 1)[-1]]
        result = {**target, **result}
    return result


@functools.cache
def _schema_defs() -> dict[str, Any]:
    return dict(json.loads(_schema_text())["$defs"])


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _schema_types(schema: Mapping[str, Any]) -> set[str]:
    schema = _resolve(schema)
    declared = schema.get("type")
    if declared is None and "enum" in schema:
        return {_json_type(v) for v in schema["enum"]}
    if declared is None and "anyOf" in schema:
        return set().union(*(_schema_types(branch) for branch in schema["anyOf"]))
    return {declared} if isinstance(declared, str) else set(declared or ())


def _type_fits(schema: Mapping[str, Any], value: Any) -> bool:
    types_ = _schema_types(schema)
    kind = _json_type(value)
    return kind in types_ or (kind == "integer" and "number" in types_)


def _innermost(error: ValidationError) -> ValidationError:
    """For `anyOf`, the error inside the branch whose type fits the value, if any."""
    if error.validator != "anyOf" or not error.context:
        return error
    for index, branch in enumerate(error.validator_value):
        if _type_fits(branch, error.instance):
            inner = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == index]
            if inner:
                return _innermost(max(inner, key=lambda e: len(e.absolute_path)))
    return error


_TYPE_NAMES = {"string": "a string", "integer": "an integer", "number": "a number",
               "boolean": "a boolean (true or false)", "array": "a list", "object": "a mapping",
               "null": "null"}

# What a schema pattern means, in words, for the error message.
_PATTERN_MEANINGS = {
    "^([01][0-9]|2[0-3]):[0-5][0-9]$": 'a time as HH:MM, 24-hour, e.g. "09:30"',
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "a date as YYYY-MM-DD",
    "^https?://\\S+$": "an http:// or https:// URL",
    "^[^\\s~^:?*\\[\\\\]+$": "a branch name (no spaces or any of ~^:?*[\\)",
    "^[A-Za-z_][A-Za-z0-9_]*$": "an environment variable name (letters, digits and _)",
    "^\\S+$": "a value without spaces",
    "^[1-9][0-9]*[smh]$": "a duration like 30s, 10m or 2h",
    "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$": 'a version as MAJOR.MINOR.PATCH, e.g. "1.0.0"',
}


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe_value(value: Any) -> str:
    kind = _json_type(value)
    if kind == "null":
        return "an empty value (null)"
    if kind in ("array", "object"):
        return _TYPE_NAMES[kind]
    return f"{_TYPE_NAMES[kind].split(' (')[0]} ({_show(value)})"


def _describe_schema(schema: Mapping[str, Any]) -> str:
    schema = _resolve(schema)
    if "enum" in schema:
        return "one of " + ", ".join(_show(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_describe_schema(branch) for branch in schema["anyOf"])
    declared = schema.get("type", "")
    names = [declared] if isinstance(declared, str) else list(declared)
    return " or ".join(_TYPE_NAMES.get(name, name) for name in names)


def _suggest(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in choices}
        match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        match = [lowered[m] for m in match]
    return f'; did you mean "{match[0]}"?' if match else ""


def _describe(error: ValidationError, lines: Lines, outer_hint: str | None) -> _Problem:
    """One line for one schema error; the hint is the description of the key in the schema."""
    path: ConfigPath = tuple(error.absolute_path)
    schema = _resolve(error.schema) if isinstance(error.schema, Mapping) else {}
    hint = schema.get("description", outer_hint)
    value = error.instance
    kind = error.validator
    expected = error.validator_value
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        extras = [k for k in value if k not in allowed]
        key = min(extras, key=lambda k: lines.get((*path, k), 0))
        suggestion = _suggest(key, allowed)
        message = "unknown key" + (suggestion or f" (expected one of: {', '.join(allowed)})")
        return _Problem((*path, key), message, f"keys allowed here: {', '.join(allowed)}")
    if kind == "type":
        message = f"expected {_describe_schema({'type': expected})}, got {_describe_value(value)}"
        if value is None:
            hint = "a key with nothing after it is null in YAML: delete the key or give it a value"
        elif expected == "boolean" and isinstance(value, str):
            hint = "write true or false (yes/no/on/off are strings here, as in YAML 1.2)"
        return _Problem(path, message, hint)
    if kind == "enum":
        suggestion = _suggest(value, [str(v) for v in expected]) if isinstance(value, str) else ""
        return _Problem(path, f"must be one of {', '.join(str(v) for v in expected)}; got {_show(value)}"
                        + suggestion, hint)
    if kind == "required":
        missing = next(k for k in expected if k not in value)
        return _Problem(path, f'missing required key "{missing}"',
                        _resolve(schema.get("properties", {}).get(missing, {})).get("description", hint))
    if kind == "anyOf":
        return _Problem(path, f"expected {_describe_schema(schema)}, got {_describe_value(value)}", hint)
    if kind == "pattern":
        meaning = _PATTERN_MEANINGS.get(expected, f"a value matching {expected}")
        return _Problem(path, f"expected {meaning}, got {_show(value)}", hint)
    if kind == "uniqueItems":
        seen: list[Any] = []
        for index, item in enumerate(value):
            if item in seen:
                return _Problem((*path, index), f"lists {_show(item)} twice", "remove the duplicate")
            seen.append(item)
    bounds = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "greater than",
              "exclusiveMaximum": "less than"}
    if kind in bounds:
        return _Problem(path, f"must be {bounds[kind]} {expected}, got {_show(value)}", hint)
    if kind == "minLength":
        return _Problem(path, "must not be empty" if expected == 1 else f"must be at least {expected} "
                        "characters long", hint)
    if kind == "maxLength":
        return _Problem(path, f"must be at most {expected} characters long", hint)
    if kind == "minItems":
        return _Problem(path, f"must list at least {expected} item" + ("s" if expected != 1 else ""), hint)
    return _Problem(path, error.message, hint)


# ----------------------------------------------------------------------------- dataclasses


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _yaml_key(field_name: str) -> str:
    """`from_` -> `from`: YAML keys that are Python keywords get a trailing underscore as fields."""
    stripped = field_name[:-1] if field_name.endswith("_") else field_name
    return stripped if keyword.iskeyword(stripped) else field_name


def _fits(tp: Any, value: Any) -> bool:
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return isinstance(value, dict) or (tp is RequiredCheck and isinstance(value, str))
    if origin is tuple:
        return isinstance(value, list)
    if origin is Mapping:
        return isinstance(value, dict)
    if origin is Literal:
        return value in get_args(tp)
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp in (str, date, time):
        return isinstance(value, str)
    return tp is type(None) and value is None


def _build(tp: Any, value: Any, path: ConfigPath) -> Any:
    """Schema-valid plain values -> the declared type (dataclass, tuple, FrozenMap, date, ...)."""
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if tp is RequiredCheck and isinstance(value, str):
            value = {"context": value}
        hints = _hints(tp)
        kwargs = {f.name: _build(hints[f.name], value[_yaml_key(f.name)], (*path, _yaml_key(f.name)))
                  for f in dataclasses.fields(tp) if _yaml_key(f.name) in value}
        return tp(**kwargs)
    if origin in (Union, types.UnionType):
        for arg in get_args(tp):
            if _fits(arg, value):
                return _build(arg, value, path)
        raise _Problem(path, f"unexpected value {_show(value)}")  # the schema lets nothing else through
    if origin is tuple:
        return tuple(_build(get_args(tp)[0], item, (*path, index)) for index, item in enumerate(value))
    if origin is Mapping:
        return FrozenMap({key: _build(get_args(tp)[1], item, (*path, key)) for key, item in value.items()})
    if tp is float:
        return float(value)
    if tp is date:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _Problem(path, f"{_show(value)} is not a real date", "write an existing date as YYYY-MM-DD") \
                from None
    if tp is time:
        return time.fromisoformat(value)  # the schema pattern admits only valid HH:MM
    return value


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_yaml_key(f.name): _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


# ----------------------------------------------------------------------------- semantic checks


class _Context(NamedTuple):
    config: Config
    problems: list[_Problem]

    def add(self, path: ConfigPath, message: str, hint: str | None = None) -> None:
        self.problems.append(_Problem(path, message, hint))


def _semantic_problems(config: Config) -> list[_Problem]:
    """What the schema cannot say: real time zones, and contradictions with the branch model."""
    ctx = _Context(config, [])
    _check_branches(ctx)
    _check_release(ctx)
    _check_hotfix(ctx)
    _check_gate(ctx)
    _check_verify(ctx)
    _check_protection(ctx)
    return ctx.problems


def _branch_name_problem(name: str) -> str | None:
    """The parts of `git check-ref-format --branch` the schema pattern does not cover."""
    if name.startswith(("-", "/")) or name.endswith(("/", ".", ".lock")) or name == "@":
        return "cannot start with - or /, nor end with /, . or .lock"
    if ".." in name or "//" in name or "@{" in name or "/." in name or name.startswith("."):
        return "cannot contain .., //, @{ or a part starting with ."
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "cannot contain control characters"
    return None


def _check_branch(ctx: _Context, path: ConfigPath, name: str) -> None:
    problem = _branch_name_problem(name)
    if problem:
        ctx.add(path, f"{_show(name)} is not a valid branch name: {problem}")


def _check_branches(ctx: _Context) -> None:
    branches = ctx.config.branches
    _check_branch(ctx, ("branches", "staging"), branches.staging)
    _check_branch(ctx, ("branches", "production"), branches.production)
    if branches.staging == branches.production:
        ctx.add(("branches", "production"), f"is the same branch as branches.staging ({_show(branches.staging)})",
                "a release merges staging into production: they must be two different branches")


def _check_timezone(ctx: _Context, path: ConfigPath, name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        ctx.add(path, f"unknown time zone {_show(name)}" + _suggest(name, available_timezones()),
                "use an IANA time zone name such as UTC, Europe/Berlin or America/New_York")


def _check_template(ctx: _Context, path: ConfigPath, template: str,
                    names: tuple[str, ...] = TEMPLATE_FIELDS) -> list[str] | None:
    """The placeholders of a valid template (None after reporting a problem)."""
    allowed = ", ".join("{" + name + "}" for name in names)
    try:
        fields = [field for _, field, spec, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as exc:
        ctx.add(path, f"bad template {_show(template)}: {exc}", f"placeholders are {allowed}; write {{{{ for {{")
        return None
    unknown = [field for field in fields if field not in names]
    if unknown:
        ctx.add(path, f"unknown placeholder {{{unknown[0]}}}" + _suggest(unknown[0], names),
                f"placeholders are {allowed}")
        return None
    return fields


def _check_release(ctx: _Context) -> None:
    release = ctx.config.release
    if release.merge_method != "merge":
        ctx.add(("release", "merge_method"),
                f"must be merge, not {release.merge_method}: a {release.merge_method} puts commits on "
                "production that staging never gets, so the branches diverge and the next release PR "
                "conflicts",
                "use merge_method: merge (rollback.merge_method may be squash)")
    _check_timezone(ctx, ("release", "timezone"), release.timezone)
    _check_template(ctx, ("release", "title"), release.title)
    if release.tag is not None:
        _check_tag_template(ctx, release.tag, release.versioning)
        literal = release.tag.replace("{date}", "2000-01-01").replace("{sha}", "abc1234").replace("{version}", "1.2.3")
        problem = _branch_name_problem(literal) if re.fullmatch(r"[^\s~^:?*\[\\]+", literal) else \
            "cannot contain spaces or any of ~^:?*[\\"
        if problem:
            ctx.add(("release", "tag"), f"{_show(release.tag)} does not make a valid tag name: {problem}")


def _check_tag_template(ctx: _Context, tag: str, versioning: str) -> None:
    path = ("release", "tag")
    if versioning == "semver":
        fields = _check_template(ctx, path, tag, SEMVER_TAG_FIELDS + TEMPLATE_FIELDS)
        if fields is not None and fields != ["version"]:
            ctx.add(path, f"{_show(tag)} must contain {{version}} once and no {{date}} or {{sha}} when "
                    "release.versioning is semver", 'write it like "v{version}" (the default for semver)')
    elif "{version}" in tag:
        ctx.add(path, f"{_show(tag)} uses {{version}}, which needs release.versioning: semver",
                'set release.versioning: semver, or tag by date with "v{date}"')
    else:
        _check_template(ctx, path, tag)


def _check_hotfix(ctx: _Context) -> None:
    hotfix = ctx.config.hotfix
    branches = ctx.config.branches
    problem = _branch_name_problem(hotfix.prefix + "x")
    if problem:
        ctx.add(("hotfix", "prefix"), f"{_show(hotfix.prefix)} does not make valid branch names: {problem}")
    for index, branch in enumerate(hotfix.backport_to):
        _check_branch(ctx, ("hotfix", "backport_to", index), branch)
        if branch == branches.production:
            ctx.add(("hotfix", "backport_to", index),
                    f"{_show(branch)} is the production branch: hotfixes are merged into it, back-ports go "
                    "to the other branches", f"back-port to the staging branch ({branches.staging})")
    if branches.production.startswith(hotfix.prefix) or branches.staging.startswith(hotfix.prefix):
        ctx.add(("hotfix", "prefix"), f"{_show(hotfix.prefix)} also matches a long-lived branch",
                "pick a prefix the staging and production branch names do not start with")


def _check_url(ctx: _Context, path: ConfigPath, url: str) -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        ctx.add(path, f"{_show(url)} is not a valid URL: {exc}")
        return
    if not parts.hostname:
        ctx.add(path, f"{_show(url)} has no host name", "write a full URL such as https://staging.example.com/healthz")


def _check_gate(ctx: _Context) -> None:
    gate = ctx.config.gate
    for index, window in enumerate(gate.windows):
        path: ConfigPath = ("gate", "windows", index)
        _check_timezone(ctx, (*path, "tz"), window.tz)
        if window.end <= window.start:
            ctx.add((*path, "end"), f"must be after start ({window.start:%H:%M}), got {window.end:%H:%M}",
                    "a window ends on the day it starts; for one that spans midnight, write two windows")
    for index, freeze in enumerate(gate.freezes):
        if freeze.to < freeze.from_:
            ctx.add(("gate", "freezes", index, "to"),
                    f"{freeze.to.isoformat()} is before from ({freeze.from_.isoformat()})",
                    "a freeze runs from `from` to `to`, both days included")
    _check_unique_names(ctx, "probes", [probe.name for probe in gate.probes])
    for index, probe in enumerate(gate.probes):
        _check_probe(ctx, ("gate", "probes", index), probe)
    if gate.parity is not None:
        _check_url(ctx, ("gate", "parity", "staging"), gate.parity.staging)
        _check_url(ctx, ("gate", "parity", "production"), gate.parity.production)
        if gate.parity.staging == gate.parity.production:
            ctx.add(("gate", "parity", "production"), "is the same URL as parity.staging",
                    "parity compares staging with production: give each its own URL")
    _check_unique_names(ctx, "commands", [command.name for command in gate.commands])
    for index, command in enumerate(gate.commands):
        if command.expect_output is not None:
            try:
                re.compile(command.expect_output)
            except re.error as exc:
                ctx.add(("gate", "commands", index, "expect_output"), f"is not a valid regular expression: {exc}")
    for mode, key in ((gate.checklist, "checklist"), (gate.hotfixes, "hotfixes")):
        if mode == "off" and key in gate.advisory:
            ctx.add(("gate", "advisory", gate.advisory.index(key)),
                    f"lists {key}, but gate.{key} is off", f"set gate.{key}: advisory instead")


def _check_unique_names(ctx: _Context, section: str, names: list[str],
                        where: ConfigPath = ("gate",)) -> None:
    for index, name in enumerate(names):
        if name in names[:index]:
            ctx.add((*where, section, index, "name"), f"{_show(name)} is used twice",
                    "names identify results in the verdict: make them unique")


def _check_probe(ctx: _Context, path: ConfigPath, probe: Probe) -> None:
    _check_url(ctx, (*path, "url"), probe.url)
    if probe.tls_min_days is not None and not probe.url.startswith("https://"):
        ctx.add((*path, "tls_min_days"), "needs an https:// URL: there is no certificate to check",
                "remove tls_min_days or probe the https:// URL")
    if probe.p95_ms is not None and probe.p95_ms >= probe.timeout_s * 1000:
        ctx.add((*path, "p95_ms"), f"{probe.p95_ms:g} ms cannot be reached before the timeout "
                f"({probe.timeout_s:g} s)", "raise timeout_s or lower p95_ms")
    for key in probe.expect.json:
        if not all(key.split(".")):
            ctx.add((*path, "expect", "json", key), "is not a dotted path like `checks.db`")


def _check_verify(ctx: _Context) -> None:
    verify = ctx.config.verify
    duration, interval = parse_duration(verify.duration), parse_duration(verify.interval)
    if interval > duration:
        ctx.add(("verify", "interval"), f"{verify.interval} is longer than verify.duration ({verify.duration})",
                "probe at least once per duration: shorten the interval or watch longer")
    tiers = verify.tiers
    for field_name in ("error_rate", "p95_factor"):
        ladder = [(name, getattr(getattr(tiers, name), field_name)) for name in ("immediate", "urgent", "evaluate")]
        known = [(name, value) for name, value in ladder if value is not None]
        for (worse, worse_value), (milder, milder_value) in itertools.pairwise(known):
            if milder_value > worse_value:
                ctx.add(("verify", "tiers", milder, field_name),
                        f"{milder_value:g} is above tiers.{worse}.{field_name} ({worse_value:g})",
                        "tiers go from worst (immediate) to mildest (evaluate): thresholds must not grow")
    for env, environment in verify.environments.items():
        where: ConfigPath = ("verify", "environments", env)
        _check_unique_names(ctx, "probes", [probe.name for probe in environment.probes], where)
        for index, probe in enumerate(environment.probes):
            _check_probe(ctx, (*where, "probes", index), probe)
        if environment.url is not None:
            _check_url(ctx, (*where, "url"), environment.url)


def _check_protection(ctx: _Context) -> None:
    config = ctx.config
    for branch, rule in config.protection.items():
        path: ConfigPath = ("protection", branch)
        problem = _branch_name_problem(branch)
        if problem or not re.fullmatch(r"[^\s~^:?*\[\\]+", branch):
            ctx.add(path, f"{_show(branch)} is not a branch name: {problem or 'patterns are not supported'}")
        if branch == config.branches.production and rule.required_linear_history:
            ctx.add((*path, "required_linear_history"),
                    "contradicts release.merge_method: merge: releases reach production as merge commits, "
                    "which linear history forbids",
                    "set required_linear_history: false on the production branch")
        if rule.backend == "ruleset":
            if rule.restrictions is not None:
                ctx.add((*path, "restrictions"), "applies to classic protection only",
                        "with backend: ruleset, name who may bypass the rules in bypass_actors")
            if rule.enforce_admins:
                ctx.add((*path, "enforce_admins"), "applies to classic protection only",
                        "rulesets apply to administrators unless they are listed in bypass_actors")
            if rule.required_conversation_resolution and rule.required_reviews is None:
                ctx.add((*path, "required_conversation_resolution"),
                        "needs required_reviews with backend: ruleset (a ruleset can only ask for resolved "
                        "conversations in its pull request rule)",
                        "add required_reviews (count: 0 requires a pull request without approvals)")
        elif rule.bypass_actors:
            ctx.add((*path, "bypass_actors"), "applies to rulesets only",
                    "set backend: ruleset, or use restrictions with classic protection")
        for index, actor in enumerate(rule.bypass_actors):
            needs_id = actor.actor_type in ("Integration", "RepositoryRole", "Team")
            if needs_id and actor.actor_id is None:
                ctx.add((*path, "bypass_actors", index, "actor_id"), f"is required for {actor.actor_type}",
                        "the App id, team id or repository role id (2 maintain, 4 write, 5 admin)")


# ----------------------------------------------------------------------------- paths and lines

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_path(path: ConfigPath) -> str:
    """`("gate", "windows", 0, "tz")` -> `gate.windows[0].tz`; odd keys are quoted: `protection["a b"]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def _line_of(path: ConfigPath, lines: Lines) -> int | None:
    """The line of the key (or item) at `path`, else of its nearest ancestor."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())
