"""What a multi-step operation (ship, rollback) records as it goes: one `Step` a line, and the run state
they share: the port, the configuration, the request, the clock, the notifier."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from opsgh.clock import Clock
from opsgh.config import Config

Notify = Callable[[str], None]


class _Request(Protocol):
    @property
    def repo(self) -> str: ...


P = TypeVar("P")
R = TypeVar("R", bound=_Request)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a run. action: done, skipped (found already done), would (dry run), off (config)."""

    name: str
    action: str
    detail: str


@dataclass
class StepRun(Generic[P, R]):
    """The state of one run (mutable while it goes): `step` names what it is doing, for the error."""

    port: P
    config: Config
    request: R
    clock: Clock
    notify: Notify | None
    steps: list[Step] = field(default_factory=list)
    step: str = "find the Release PR"

    @property
    def repo(self) -> str:
        return self.request.repo

    def record(self, name: str, action: str, detail: str) -> None:
        self.steps.append(Step(name, action, detail))
