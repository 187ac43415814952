"""The Action tests' repository and runner: acme/shop configured as action_support.CONFIG says, and the
runner's side of `opsgh action` (modules with another repository override `shop`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from action_support import CONFIG, ActionHarness
from ship_support import ReleaseRepo

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[ReleaseRepo]:
    repo = ReleaseRepo(sandbox, sandbox_clock, config=CONFIG)
    yield repo
    repo.close()


@pytest.fixture
def action(shop: ReleaseRepo, tmp_path: Path) -> ActionHarness:
    return ActionHarness(shop, tmp_path)
