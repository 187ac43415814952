"""The reliability matrix (tests/faults/matrix.py): each cell runs an operation under a fault, then again.

For every cell: the first run completes, or stops with one `error:` line, its `hint:` and the documented
exit code (the gate's NO-GO/PENDING: the verdict first); GitHub then holds no duplicate of anything and
nothing the operation would not write; the re-run (fault gone, time passed, permission granted) exits 0;
and GitHub then holds exactly what the operation leaves without any fault. `record_property` keeps each
cell's figures for docs/RELIABILITY.md (scripts/reliability_report.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
from matrix import Cell, Fault, Operation, cell_id, cells, documents, expectation, not_applicable, open_world
from world import Fact, Outcome, duplicates, extra_keys

from opsgh.clock import FakeClock
from opsgh.errors import ExitCode
from opsgh.sandbox import Sandbox

CELLS = list(cells())
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def difference(found: list[Fact], expected: list[Fact]) -> str:
    extra, missing = Counter(found) - Counter(expected), Counter(expected) - Counter(found)
    return "\n".join([*(f"+ {k} = {v}" for k, v in sorted(extra.elements())),
                      *(f"- {k} = {v}" for k, v in sorted(missing.elements()))])


def describe(outcome: Outcome) -> str:
    return f"exit {outcome.code}\n--- out\n{outcome.out}\n--- err\n{outcome.err}"


def clear_error(outcome: Outcome) -> tuple[str, str]:
    """The one `error:` line (indented in protect's per-repository summary; `::error` in the Action) and the
    `hint:` that follows it; no traceback."""
    lines = (outcome.err + outcome.out).splitlines()
    errors = [i for i, line in enumerate(lines) if line.strip().startswith(("error: ", "::error title=opsgh::"))]
    assert len(errors) == 1, describe(outcome)
    after = lines[errors[0] + 1].strip() if errors[0] + 1 < len(lines) else ""
    assert after.startswith(("hint: ", "::notice title=opsgh hint::")), describe(outcome)
    assert "Traceback" not in outcome.err + outcome.out
    return lines[errors[0]].strip(), after


def retry_waits(outcome: Outcome) -> int:
    """Seconds opsgh said it waits before retrying (5xx, network, rate limits), on the sandbox's clock."""
    return sum(int(seconds) for seconds in re.findall(r"retrying in (\d+) s", outcome.err + outcome.out))


def writes_of(sandbox: Sandbox, since: int) -> set[tuple[str, str]]:
    return {(e.method, re.sub(r"/\d+(?=/|$)", "/*", e.path)) for e in sandbox.log.entries[since:]
            if e.method in WRITES and e.path != "/graphql"}


@pytest.mark.parametrize(("operation", "fault"), CELLS, ids=[cell_id(o, f) for o, f in CELLS])
def test_cell(operation: Operation, fault: Fault, sandbox: Sandbox, sandbox_clock: FakeClock, tmp_path: Path,
              record_property: Callable[[str, object], None]) -> None:
    with ExitStack() as stack:
        world = open_world(operation, sandbox, sandbox_clock, tmp_path, stack)
        cell = Cell(world)
        operation.prepare(cell)
        requests_before = len(sandbox.log.entries)

        fault.inject(cell, operation)
        first = operation.run(cell)
        fired = sum(rule.fired for rule in sandbox.faults.rules)
        sandbox.faults.clear()  # before the test reads GitHub's state itself
        partial = operation.normalize(world.facts())
        print(describe(first), *(f"{k} = {v}" for k, v in partial), sep="\n")
        mode, code = expectation(operation, fault)
        record_property("first_exit", int(first.code))
        record_property("waited_s", retry_waits(first))
        assert first.code == code, describe(first)
        if fault.injected and fault.id != "none":
            assert fired, "the fault never fired: the cell tests nothing"
        if mode == "stops" and operation.id == "gate" and code in (ExitCode.PRECONDITION, ExitCode.PENDING):
            # The gate's NO-GO and PENDING are verdicts, not errors: the verdict first, then why.
            assert first.out.startswith(("NO-GO #", "PENDING #")), describe(first)
            record_property("first_error", first.out.splitlines()[0])
        elif mode == "stops":
            error, hint = clear_error(first)
            record_property("first_error", error)
            record_property("first_hint", hint)
            if fault.id == "403-permission":  # the fix is a permission: the hint names it
                assert any(p.replace("_", "") in hint.lower().replace("_", "") for p in operation.lacking), hint
        if fault.id == "none":
            # The refusals that have no cell for this operation: no write it makes can get them from GitHub.
            made = writes_of(sandbox, requests_before)
            for _, missing, _ in (c for c in not_applicable() if c[0] is operation):
                assert missing.status is not None
                assert not [w for w in made if documents(*w, missing.status)], (missing.id, made)
        # Nothing twice, nothing a fault-free run would not leave (a /ship refused, then asked again, is
        # answered twice: one reply per command comment).
        assert not (set(duplicates(partial)) - set(duplicates(operation.expected(cell)))), partial
        assert not extra_keys(partial, operation.expected(cell)), difference(partial, operation.expected(cell))

        fault.between(cell)
        cell.timeout = None
        second = operation.run(cell)
        final = operation.normalize(world.facts())
        print(describe(second), *(f"{k} = {v}" for k, v in final), sep="\n")
        record_property("rerun_exit", int(second.code))
        record_property("requests", len(sandbox.log.entries) - requests_before)
        assert second.code == ExitCode.OK, describe(second)
        expected = sorted(operation.expected(cell))
        assert final == expected, difference(final, expected)
