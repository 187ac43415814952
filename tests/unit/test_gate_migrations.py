"""The migrations criterion: destructive statements need the allow label; require_down."""

from __future__ import annotations

from opsgh.config import MigrationsConfig
from opsgh.gate.migrations import evaluate_migrations
from opsgh.gate.verdict import Outcome
from opsgh.ports import FileChange

CONFIG = MigrationsConfig(paths=("db/migrations/**",), allow_label="destructive-ok")


def change(name: str, *added: str, status: str = "added") -> FileChange:
    patch = f"@@ -0,0 +1,{len(added)} @@\n" + "".join(f"+{line}\n" for line in added)
    return FileChange(name, status, len(added), 0, patch)


DROP = change("db/migrations/0042_drop_legacy.sql", "ALTER TABLE users DROP COLUMN legacy_id;")
ADD = change("db/migrations/0043_add_index.sql", "CREATE INDEX users_email ON users (email);")


def test_destructive_statement_fails_without_the_label_and_passes_with_it() -> None:
    result = evaluate_migrations(CONFIG, [DROP, ADD], ["release"])
    assert result.outcome is Outcome.FAIL
    assert "add the label 'destructive-ok'" in result.summary
    assert any("0042_drop_legacy.sql:1" in d for d in result.details)
    allowed = evaluate_migrations(CONFIG, [DROP, ADD], ["Destructive-OK"])
    assert allowed.outcome is Outcome.PASS
    assert "allowed by the label" in allowed.summary


def test_safe_migrations_and_no_migrations_pass_and_outside_paths_are_ignored() -> None:
    assert evaluate_migrations(CONFIG, [ADD], []).outcome is Outcome.PASS
    elsewhere = change("scripts/cleanup.sql", "DROP TABLE tmp;")
    assert evaluate_migrations(CONFIG, [elsewhere], []).summary == "no migration changed"
    assert evaluate_migrations(MigrationsConfig(), [DROP], []).outcome is Outcome.SKIP


def test_require_down() -> None:
    config = MigrationsConfig(paths=("db/migrations/**",), require_down=True)
    missing = evaluate_migrations(config, [ADD], [])
    assert missing.outcome is Outcome.FAIL
    assert "without a down migration" in missing.summary
    down = change("db/migrations/0043_add_index.down.sql", "DROP INDEX users_email;")
    assert evaluate_migrations(config, [ADD, down], []).outcome is Outcome.PASS
