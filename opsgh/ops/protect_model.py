"""Branch protection as comparable values, without I/O.

One shape, `BranchRules`, holds a branch's protection whichever way it is expressed: the desired state
from `protection.<branch>` in the configuration, GitHub's classic protection object, or a repository
ruleset. Both GitHub shapes are normalised the way GitHub itself normalises what it stores, so that a
setting opsgh wrote reads back equal and a plan after an apply is empty:

- check names are a set (GitHub keeps the order they were sent in; the order means nothing);
- a required check without `app_id` in the configuration accepts whatever App GitHub ties it to (GitHub
  pins it to the App that reported it last); `-1` means any source (classic: `app_id: null`, rulesets: no
  `integration_id`);
- required checks that are not strict and name no context are no requirement at all (GitHub keeps
  `{strict: false, contexts: []}` where `null` was meant);
- user logins, team and App slugs compare case-insensitively, as sets;
- bypass actors compare as a set; `bypass_mode` defaults to `always`; the id of `OrganizationAdmin` and
  `DeployKey` is ignored (GitHub has answered 1, 0 and null for the same actor);
- rule parameters opsgh does not manage (`allowed_merge_methods`, `do_not_enforce_on_create`...) are
  neither compared nor lost: an update carries them over. Likewise the classic settings the
  configuration has no key for (`lock_branch`, `block_creations`, `allow_fork_syncing`, dismissal
  restrictions and pull request bypass allowances) are read back and sent again unchanged.

An unprotected branch is `UNPROTECTED`: force pushes and deletions allowed, nothing required.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opsgh.config import ProtectionRule

RULESET_PREFIX = "opsgh: "
# Rule types of an opsgh ruleset; any other type found in it is drift (someone added it by hand).
MANAGED_RULE_TYPES = frozenset({"deletion", "non_fast_forward", "required_linear_history", "required_signatures",
                                "pull_request", "required_status_checks"})
# Bypass actor types whose id means nothing (GitHub has answered 1, 0 and null for the organisation admin).
ID_LESS_ACTORS = frozenset({"OrganizationAdmin", "DeployKey"})
ANY_SOURCE = -1
# Classic settings with no configuration key: read back and sent again as they are.
PRESERVED_TOGGLES = ("lock_branch", "allow_fork_syncing")


def ruleset_name(branch: str) -> str:
    """The name of the ruleset opsgh owns for `branch` (names are unique per repository)."""
    return RULESET_PREFIX + branch


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Reviews:
    count: int = 1
    code_owners: bool = False
    dismiss_stale: bool = False
    last_push_approval: bool = False


@dataclass(frozen=True, slots=True)
class Checks:
    """Required checks: context -> App id (ANY_SOURCE, an App id, or None = whatever GitHub pins: desired only)."""

    strict: bool = False
    apps: tuple[tuple[str, int | None], ...] = ()  # sorted by context, case-insensitively

    @property
    def contexts(self) -> tuple[str, ...]:
        return tuple(context for context, _ in self.apps)


@dataclass(frozen=True, slots=True)
class Pushers:
    """Who may push (classic restrictions): logins and slugs, lower-case, sorted."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Actor:
    actor_type: str
    actor_id: int | None
    bypass_mode: str = "always"


@dataclass(frozen=True, slots=True)
class BranchRules:
    """One branch's protection, normalised (see the module docstring)."""

    reviews: Reviews | None = None
    checks: Checks | None = None
    enforce_admins: bool = False
    allow_force_pushes: bool = True
    allow_deletions: bool = True
    conversation_resolution: bool = False
    signatures: bool = False
    linear_history: bool = False
    restrictions: Pushers | None = None
    # Rulesets only:
    bypass_actors: tuple[Actor, ...] = ()
    enforcement: str = "active"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extra_rules: tuple[str, ...] = ()  # rule types opsgh does not manage, found in its ruleset


UNPROTECTED = BranchRules()


@dataclass(frozen=True, slots=True)
class Change:
    """One setting that differs: `setting` is named as in the configuration."""

    setting: str
    current: str
    desired: str

    def line(self) -> str:
        return f"{self.setting}: {self.current} -> {self.desired}"


# ----------------------------------------------------------------------------- normalising


def _lower_sorted(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({value.lower() for value in values}))


def _checks(strict: bool, apps: Iterable[tuple[str, int | None]]) -> Checks | None:
    """Checks with each context once (the first mention wins, as GitHub does), None when they require nothing."""
    chosen: dict[str, int | None] = {}
    for context, app in apps:
        chosen.setdefault(context, app)
    if not strict and not chosen:
        return None
    return Checks(strict, tuple(sorted(chosen.items(), key=lambda item: (item[0].lower(), item[0]))))


def _actor(actor_type: str, actor_id: int | None, bypass_mode: str | None) -> Actor:
    return Actor(actor_type, None if actor_type in ID_LESS_ACTORS else actor_id, bypass_mode or "always")


def _actors(actors: Iterable[Actor]) -> tuple[Actor, ...]:
    return tuple(sorted(set(actors), key=lambda a: (a.actor_type, a.actor_id or 0, a.bypass_mode)))


def desired_rules(branch: str, rule: ProtectionRule) -> BranchRules:
    """What `protection.<branch>` asks for."""
    reviews = rule.required_reviews
    checks = rule.required_checks
    restrictions = rule.restrictions
    ruleset = rule.backend == "ruleset"
    return BranchRules(
        reviews=Reviews(reviews.count, reviews.code_owners, reviews.dismiss_stale, reviews.require_last_push_approval)
        if reviews is not None else None,
        checks=_checks(checks.strict, ((c.context, c.app_id) for c in checks.contexts)) if checks is not None
        else None,
        enforce_admins=rule.enforce_admins,
        allow_force_pushes=rule.allow_force_pushes,
        allow_deletions=rule.allow_deletions,
        conversation_resolution=rule.required_conversation_resolution,
        signatures=rule.required_signatures,
        linear_history=rule.required_linear_history,
        restrictions=Pushers(_lower_sorted(restrictions.users), _lower_sorted(restrictions.teams),
                             _lower_sorted(restrictions.apps)) if restrictions is not None else None,
        bypass_actors=_actors(_actor(a.actor_type, a.actor_id, a.bypass_mode) for a in rule.bypass_actors),
        include=(f"refs/heads/{branch}",) if ruleset else (),
    )


def _enabled(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name)
    return bool(value.get("enabled")) if isinstance(value, Mapping) else bool(value)


def _names(items: Any, key: str) -> tuple[str, ...]:
    return _lower_sorted(str(item[key]) for item in items or () if isinstance(item, Mapping) and item.get(key))


def _classic_checks(section: Mapping[str, Any] | None) -> Checks | None:
    if section is None:
        return None
    if isinstance(section.get("checks"), list):
        apps = [(str(c["context"]), ANY_SOURCE if c.get("app_id") is None else int(c["app_id"]))
                for c in section["checks"] if isinstance(c, Mapping)]
    else:  # servers that only know `contexts` say nothing about the source
        apps = [(str(c), ANY_SOURCE) for c in section.get("contexts") or ()]
    return _checks(bool(section.get("strict")), apps)


def classic_rules(data: Mapping[str, Any] | None) -> BranchRules:
    """GitHub's classic protection object (GET/PUT `/branches/{branch}/protection`) normalised; None: unprotected."""
    if data is None:
        return UNPROTECTED
    reviews = data.get("required_pull_request_reviews")
    restrictions = data.get("restrictions")
    return BranchRules(
        reviews=Reviews(int(reviews.get("required_approving_review_count", 1)),
                        bool(reviews.get("require_code_owner_reviews")), bool(reviews.get("dismiss_stale_reviews")),
                        bool(reviews.get("require_last_push_approval")))
        if isinstance(reviews, Mapping) else None,
        checks=_classic_checks(data.get("required_status_checks")),
        enforce_admins=_enabled(data, "enforce_admins"),
        allow_force_pushes=_enabled(data, "allow_force_pushes"),
        allow_deletions=_enabled(data, "allow_deletions"),
        conversation_resolution=_enabled(data, "required_conversation_resolution"),
        signatures=_enabled(data, "required_signatures"),
        linear_history=_enabled(data, "required_linear_history"),
        restrictions=Pushers(_names(restrictions.get("users"), "login"), _names(restrictions.get("teams"), "slug"),
                             _names(restrictions.get("apps"), "slug"))
        if isinstance(restrictions, Mapping) else None,
    )


def _rule_parameters(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{rule type: parameters} of a ruleset (a type listed twice: the first)."""
    found: dict[str, dict[str, Any]] = {}
    for rule in data.get("rules") or ():
        if isinstance(rule, Mapping) and isinstance(rule.get("type"), str):
            found.setdefault(rule["type"], dict(rule.get("parameters") or {}))
    return found


def ruleset_rules(data: Mapping[str, Any] | None) -> BranchRules:
    """A repository ruleset (GET `/rulesets/{id}`) normalised; None: no ruleset."""
    if data is None:
        return UNPROTECTED
    rules = _rule_parameters(data)
    pull = rules.get("pull_request")
    status = rules.get("required_status_checks")
    ref_name = (data.get("conditions") or {}).get("ref_name") or {}
    return BranchRules(
        reviews=Reviews(int(pull.get("required_approving_review_count", 0)),
                        bool(pull.get("require_code_owner_review")), bool(pull.get("dismiss_stale_reviews_on_push")),
                        bool(pull.get("require_last_push_approval")))
        if pull is not None else None,
        checks=_checks(bool(status.get("strict_required_status_checks_policy")),
                       ((str(c["context"]), ANY_SOURCE if c.get("integration_id") is None else int(c["integration_id"]))
                        for c in status.get("required_status_checks") or () if isinstance(c, Mapping)))
        if status is not None else None,
        allow_force_pushes="non_fast_forward" not in rules,
        allow_deletions="deletion" not in rules,
        conversation_resolution=bool(pull and pull.get("required_review_thread_resolution")),
        signatures="required_signatures" in rules,
        linear_history="required_linear_history" in rules,
        bypass_actors=_actors(_actor(str(a.get("actor_type")), a.get("actor_id"), a.get("bypass_mode"))
                              for a in data.get("bypass_actors") or () if isinstance(a, Mapping)),
        enforcement=str(data.get("enforcement") or "active"),
        include=tuple(sorted(set(ref_name.get("include") or ()))),
        exclude=tuple(sorted(set(ref_name.get("exclude") or ()))),
        extra_rules=tuple(sorted(set(rules) - MANAGED_RULE_TYPES)),
    )


# ----------------------------------------------------------------------------- comparing


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _words(values: Iterable[str]) -> str:
    return ", ".join(values) or "none"


def _app(app: int | None) -> str:
    return "any source" if app == ANY_SOURCE else "GitHub's choice" if app is None else f"app {app}"


def describe_reviews(reviews: Reviews | None) -> str:
    if reviews is None:
        return "off"
    flags = [name for name, on in (("code owners", reviews.code_owners), ("dismiss stale", reviews.dismiss_stale),
                                   ("last push approval", reviews.last_push_approval)) if on]
    return ", ".join([f"{reviews.count} approval{'s' * (reviews.count != 1)}", *flags])


def describe_checks(checks: Checks | None) -> str:
    if checks is None:
        return "off"
    names = [context if app is None else f"{context} ({_app(app)})" for context, app in checks.apps]
    return _words(names) + (" (strict)" if checks.strict else "")


def describe_pushers(pushers: Pushers | None) -> str:
    if pushers is None:
        return "off"
    return f"users: {_words(pushers.users)}; teams: {_words(pushers.teams)}; apps: {_words(pushers.apps)}"


def describe_actor(actor: Actor) -> str:
    who = actor.actor_type if actor.actor_id is None else f"{actor.actor_type} {actor.actor_id}"
    return who if actor.bypass_mode == "always" else f"{who} ({actor.bypass_mode})"


def _set_change(setting: str, current: Iterable[str], desired: Iterable[str]) -> Change | None:
    now, wanted = list(current), list(desired)
    added = [item for item in wanted if item not in now]
    removed = [item for item in now if item not in wanted]
    if not added and not removed:
        return None
    if not now or not wanted:
        return Change(setting, _words(now), _words(wanted))
    return Change(setting, _words(now), _words(wanted) + " (" + ", ".join(
        [f"+{item}" for item in added] + [f"-{item}" for item in removed]) + ")")


def _check_changes(current: Checks | None, desired: Checks | None) -> list[Change]:
    if current is None or desired is None:
        if (current is None) != (desired is None):
            return [Change("required_checks", describe_checks(current), describe_checks(desired))]
        return []
    changes = []
    if current.strict != desired.strict:
        changes.append(Change("required_checks.strict", _flag(current.strict), _flag(desired.strict)))
    listed = _set_change("required_checks.contexts", current.contexts, desired.contexts)
    if listed is not None:
        changes.append(listed)
    now = dict(current.apps)
    for context, app in desired.apps:
        if context in now and app is not None and now[context] != app:
            changes.append(Change(f"required_checks.contexts[{context}].app_id", _app(now[context]), _app(app)))
    return changes


def _review_changes(current: Reviews | None, desired: Reviews | None) -> list[Change]:
    if current is None or desired is None:
        if (current is None) != (desired is None):
            return [Change("required_reviews", describe_reviews(current), describe_reviews(desired))]
        return []
    names = {"count": "count", "code_owners": "code_owners", "dismiss_stale": "dismiss_stale",
             "last_push_approval": "require_last_push_approval"}
    changes = []
    for attribute, setting in names.items():
        now, wanted = getattr(current, attribute), getattr(desired, attribute)
        if now != wanted:
            shown = (str(now), str(wanted)) if attribute == "count" else (_flag(now), _flag(wanted))
            changes.append(Change(f"required_reviews.{setting}", *shown))
    return changes


def _pusher_changes(current: Pushers | None, desired: Pushers | None) -> list[Change]:
    if current is None or desired is None:
        if (current is None) != (desired is None):
            return [Change("restrictions", describe_pushers(current), describe_pushers(desired))]
        return []
    found = (_set_change(f"restrictions.{kind}", getattr(current, kind), getattr(desired, kind))
             for kind in ("users", "teams", "apps"))
    return [change for change in found if change is not None]


_TOGGLES = (("enforce_admins", "enforce_admins"), ("allow_force_pushes", "allow_force_pushes"),
            ("allow_deletions", "allow_deletions"), ("conversation_resolution", "required_conversation_resolution"),
            ("signatures", "required_signatures"), ("linear_history", "required_linear_history"))


def diff(current: BranchRules, desired: BranchRules, backend: str) -> tuple[Change, ...]:
    """What must change for `current` to become `desired`, in the configuration's words; () when equal."""
    changes = [*_review_changes(current.reviews, desired.reviews), *_check_changes(current.checks, desired.checks)]
    for attribute, setting in _TOGGLES:
        if backend == "ruleset" and attribute == "enforce_admins":
            continue  # rulesets have no such switch (bypass_actors say who is exempt)
        now, wanted = getattr(current, attribute), getattr(desired, attribute)
        if now != wanted:
            changes.append(Change(setting, _flag(now), _flag(wanted)))
    if backend == "classic":
        changes.extend(_pusher_changes(current.restrictions, desired.restrictions))
        return tuple(changes)
    actors = _set_change("bypass_actors", map(describe_actor, current.bypass_actors),
                         map(describe_actor, desired.bypass_actors))
    if actors is not None:
        changes.append(actors)
    if current.enforcement != desired.enforcement:
        changes.append(Change("enforcement", current.enforcement, desired.enforcement))
    if (current.include, current.exclude) != (desired.include, desired.exclude):
        shown = _words(current.include) + (f" except {_words(current.exclude)}" if current.exclude else "")
        changes.append(Change("conditions.ref_name", shown, _words(desired.include)))
    if current.extra_rules:
        changes.append(Change("rules", _words(current.extra_rules) + " (not in the configuration)", "removed"))
    return tuple(changes)


# ----------------------------------------------------------------------------- request bodies


def _actor_lists(section: Any, *, with_apps: bool = True) -> dict[str, list[str]] | None:
    """{users, teams[, apps]} as a PUT takes them, from the objects a GET shows; None when empty."""
    if not isinstance(section, Mapping):
        return None
    lists = {"users": [str(u["login"]) for u in section.get("users") or () if isinstance(u, Mapping)],
             "teams": [str(t["slug"]) for t in section.get("teams") or () if isinstance(t, Mapping)]}
    if with_apps:
        lists["apps"] = [str(a["slug"]) for a in section.get("apps") or () if isinstance(a, Mapping)]
    return lists if any(lists.values()) else None


def _current_apps(checks: Iterable[Mapping[str, Any]], key: str) -> dict[str, int]:
    """context -> App id of the checks GitHub holds now (ANY_SOURCE for "any")."""
    return {str(c["context"]): ANY_SOURCE if c.get(key) is None else int(c[key])
            for c in checks if isinstance(c, Mapping) and "context" in c}


def _keep_or_pick(desired: int | None, current: int | None) -> int | None:
    """An unpinned check keeps the App GitHub holds now (nothing to change); a new one lets GitHub pick."""
    return desired if desired is not None else current


def classic_body(desired: BranchRules, current: Mapping[str, Any] | None) -> dict[str, Any]:
    """The PUT `/branches/{branch}/protection` body for `desired`, carrying over from `current` (GitHub's
    object, None when unprotected) the settings the configuration has no key for."""
    current = current or {}
    body: dict[str, Any] = {"required_status_checks": None, "enforce_admins": desired.enforce_admins,
                            "required_pull_request_reviews": None, "restrictions": None}
    if desired.checks is not None:
        held = _current_apps((current.get("required_status_checks") or {}).get("checks") or (), "app_id")
        checks = []
        for context, app in desired.checks.apps:
            chosen = _keep_or_pick(app, held.get(context))
            checks.append({"context": context} if chosen is None else {"context": context, "app_id": chosen})
        body["required_status_checks"] = {"strict": desired.checks.strict, "checks": checks}
    if desired.reviews is not None:
        reviews: dict[str, Any] = {
            "dismiss_stale_reviews": desired.reviews.dismiss_stale,
            "require_code_owner_reviews": desired.reviews.code_owners,
            "required_approving_review_count": desired.reviews.count,
            "require_last_push_approval": desired.reviews.last_push_approval,
        }
        held_reviews = current.get("required_pull_request_reviews") or {}
        dismissal = _actor_lists(held_reviews.get("dismissal_restrictions"), with_apps=False)
        if dismissal is not None:
            reviews["dismissal_restrictions"] = dismissal
        allowances = _actor_lists(held_reviews.get("bypass_pull_request_allowances"))
        if allowances is not None:
            reviews["bypass_pull_request_allowances"] = allowances
        body["required_pull_request_reviews"] = reviews
    if desired.restrictions is not None:
        body["restrictions"] = {"users": list(desired.restrictions.users), "teams": list(desired.restrictions.teams),
                                "apps": list(desired.restrictions.apps)}
        # Blocking creations is part of push restrictions on GitHub: kept while they are.
        body["block_creations"] = _enabled(current, "block_creations")
    body.update({
        "required_linear_history": desired.linear_history,
        "allow_force_pushes": desired.allow_force_pushes,
        "allow_deletions": desired.allow_deletions,
        "required_conversation_resolution": desired.conversation_resolution,
    })
    for name in PRESERVED_TOGGLES:
        body[name] = _enabled(current, name)
    return body


def ruleset_body(branch: str, desired: BranchRules, current: Mapping[str, Any] | None) -> dict[str, Any]:
    """The POST/PUT `/rulesets` body of opsgh's ruleset for `branch`; parameters opsgh does not manage are
    carried over from `current` (GitHub's ruleset, None when there is none yet)."""
    held = _rule_parameters(current or {})
    rules: list[dict[str, Any]] = []
    if not desired.allow_deletions:
        rules.append({"type": "deletion"})
    if not desired.allow_force_pushes:
        rules.append({"type": "non_fast_forward"})
    if desired.linear_history:
        rules.append({"type": "required_linear_history"})
    if desired.signatures:
        rules.append({"type": "required_signatures"})
    if desired.reviews is not None or desired.conversation_resolution:
        reviews = desired.reviews or Reviews(count=0)
        rules.append({"type": "pull_request", "parameters": {
            **held.get("pull_request", {}),
            "required_approving_review_count": reviews.count,
            "require_code_owner_review": reviews.code_owners,
            "dismiss_stale_reviews_on_push": reviews.dismiss_stale,
            "require_last_push_approval": reviews.last_push_approval,
            "required_review_thread_resolution": desired.conversation_resolution,
        }})
    if desired.checks is not None:
        previous = held.get("required_status_checks", {})
        now = _current_apps(previous.get("required_status_checks") or (), "integration_id")
        checks = []
        for context, app in desired.checks.apps:
            chosen = _keep_or_pick(app, now.get(context))
            checks.append({"context": context} if chosen in (None, ANY_SOURCE)
                          else {"context": context, "integration_id": chosen})
        rules.append({"type": "required_status_checks", "parameters": {
            **previous, "strict_required_status_checks_policy": desired.checks.strict,
            "required_status_checks": checks}})
    return {
        "name": ruleset_name(branch),
        "target": "branch",
        "enforcement": "active",
        "bypass_actors": [_actor_body(actor) for actor in desired.bypass_actors],
        "conditions": {"ref_name": {"include": [f"refs/heads/{branch}"], "exclude": []}},
        "rules": rules,
    }


def _actor_body(actor: Actor) -> dict[str, Any]:
    # GitHub's documentation asks for 1 as the organisation admin's id, and null for deploy keys.
    actor_id = 1 if actor.actor_type == "OrganizationAdmin" else actor.actor_id
    return {"actor_id": actor_id, "actor_type": actor.actor_type, "bypass_mode": actor.bypass_mode}
