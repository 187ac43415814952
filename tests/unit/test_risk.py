"""Risk flags: destructive migrations (SQL and framework DSLs, down migrations excepted), configuration
inventories, dependency manifests, hotfixes, the 300-file cap."""

from __future__ import annotations

import pytest
from release_fixtures import change, commit

from opsgh.risk import assess, destructive_statements, env_changes, glob_match


@pytest.mark.parametrize(("line", "kind"), [
    ("ALTER TABLE orders DROP COLUMN legacy;", "drop column"),
    ("alter table orders drop legacy;", "drop column"),  # MySQL: COLUMN is optional
    ("ALTER TABLE users RENAME COLUMN name TO full_name;", "rename column"),
    ("DROP TABLE IF EXISTS sessions;", "drop table"),
    ("ALTER TABLE carts RENAME TO baskets;", "rename table"),
    ("TRUNCATE audit_log;", "truncate"),
    ("DELETE FROM carts WHERE created_at < now() - interval '1 year';", "delete rows"),
    ("DROP INDEX CONCURRENTLY idx_orders_user;", "drop"),
])
def test_destructive_sql(line: str, kind: str) -> None:
    found = destructive_statements(change("migrations/0003_x.sql", f"@@ -0,0 +1,2 @@\n+-- cleanup\n+{line}\n"))
    assert [(d.kind, d.line, d.statement) for d in found] == [(kind, 2, line)]


@pytest.mark.parametrize("line", [
    "ALTER TABLE orders ADD COLUMN note text;",
    "ALTER TABLE orders DROP CONSTRAINT orders_fk;",
    "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;",
    "ALTER TABLE orders ALTER COLUMN note DROP DEFAULT;",
    "-- DROP TABLE orders; (a comment)",
    "CREATE TABLE orders (id SERIAL PRIMARY KEY);",
])
def test_not_destructive(line: str) -> None:
    assert destructive_statements(change("migrations/0003_x.sql", f"@@ -0,0 +1 @@\n+{line}\n")) == []


def test_only_added_lines_count_and_line_numbers_follow_the_hunks() -> None:
    patch = ("@@ -1,3 +1,3 @@\n CREATE TABLE a (id int);\n-DROP TABLE old;\n+SELECT 1;\n"
             "@@ -10,2 +10,3 @@\n context\n+ALTER TABLE a DROP COLUMN b;\n more\n")
    found = destructive_statements(change("db/migrations/0009.sql", patch))
    assert [(d.kind, d.line) for d in found] == [("drop column", 11)]


def test_framework_dsls_and_down_migrations() -> None:
    alembic = ("@@ -0,0 +1,9 @@\n+def upgrade():\n+    op.drop_column('orders', 'legacy')\n"
               "+    op.alter_column('users', 'name', new_column_name='full_name')\n+\n+\n"
               "+def downgrade():\n+    op.drop_table('audit')  # undoes what upgrade created\n+\n+\n")
    found = destructive_statements(change("alembic/versions/42_cleanup.py", alembic, "added"))
    assert [(d.kind, d.line) for d in found] == [("drop column", 2), ("rename column", 3)]
    rails = "@@ -0,0 +1,3 @@\n+  def change\n+    remove_column :users, :nickname\n+    rename_table :carts, :baskets\n"
    assert [d.kind for d in destructive_statements(change("db/migrate/20270115_x.rb", rails))] == [
        "drop column", "rename table"]
    django = ("@@ -0,0 +1,2 @@\n+        migrations.RemoveField(model_name='order', name='legacy'),\n"
              "+        migrations.DeleteModel(name='Coupon'),\n")
    assert [d.kind for d in destructive_statements(change("shop/migrations/0007_auto.py", django))] == [
        "drop column", "drop table"]
    assert destructive_statements(change("migrations/0003_x_rollback.sql", "@@ -0,0 +1 @@\n+DROP TABLE x;\n")) == []
    assert destructive_statements(change("migrations/0003_x.down.sql", "@@ -0,0 +1 @@\n+DROP TABLE x;\n")) == []
    assert destructive_statements(change("migrations/0003_x.sql", None)) == []


def test_glob_match() -> None:
    assert glob_match("migrations/0001.sql", ["migrations/**"])
    assert glob_match("services/api/migrations/0001.sql", ["**/migrations/**"])
    assert glob_match("migrations/0001.sql", ["**/migrations/**"])
    assert not glob_match("src/migrations.py", ["migrations/**"])
    assert glob_match("db/schema.sql", ["*.sql", "db/*.sql"])
    assert not glob_match("db/nested/schema.sql", ["db/*.sql"])


def test_env_changes() -> None:
    patch = "@@ -1,3 +1,3 @@\n DATABASE_URL=\n-OLD_KEY=1\n+export STRIPE_KEY=\n+PAYMENT_TIMEOUT: 5\n"
    assert env_changes(change(".env.example", patch)) == (["STRIPE_KEY", "PAYMENT_TIMEOUT"], ["OLD_KEY"])


def test_assess_all_flags_highest_severity_first() -> None:
    files = [
        change("migrations/0003_drop.sql", "@@ -0,0 +1 @@\n+ALTER TABLE orders DROP COLUMN legacy;\n", "added"),
        change("migrations/0002_add.sql", "@@ -0,0 +1 @@\n+CREATE TABLE orders (id int);\n", "added"),
        change(".env.example", "@@ -1 +1,2 @@\n A=1\n+B=2\n"),
        change("web/package-lock.json", None),
        change("requirements-dev.txt", "@@ -1 +1 @@\n-x==1\n+x==2\n"),
        change("app/cart.py", "@@ -1 +1 @@\n-a\n+b\n"),
    ]
    hotfix = commit("cc1", ("a0",), "fix: payments", author="alice")
    report = assess(files, hotfixes=[hotfix], migration_paths=["migrations/**"], allow_label="db-ok")
    assert [flag.key for flag in report.flags] == ["destructive-migration", "hotfix", "migration", "config",
                                                   "dependencies"]
    destructive = report.flags[0]
    assert [(i.ref, i.text, i.snippet) for i in destructive.items] == [
        ("migrations/0003_drop.sql:1", "drop column", "ALTER TABLE orders DROP COLUMN legacy;")]
    assert "label `db-ok`" in destructive.detail
    assert report.env_added == ("B",)
    assert report.dependency_files == ("web/package-lock.json", "requirements-dev.txt")
    assert report.flags[1].items[0].ref == "cc10000"
    assert report.flags[1].items[0].url is not None


def test_assess_quiet_release_and_incomplete_file_lists() -> None:
    quiet = assess([change("app/cart.py", "@@ -1 +1 @@\n-a\n+b\n")])
    assert quiet.flags == ()
    capped = assess([change("app/cart.py", None)], files_complete=False, uncovered=12)
    assert [f.key for f in capped.flags] == ["files-incomplete"]
    assert "12 or more files unseen" in capped.flags[0].detail


def test_default_migration_paths_and_missing_down_migrations() -> None:
    files = [change("db/migrate/001_add.rb", "@@ -0,0 +1 @@\n+create_table :x\n", "added")]
    report = assess(files, require_down=True)
    assert report.migrations == ("db/migrate/001_add.rb",)
    assert "usual places" in report.flags[-1].detail or any("usual places" in f.detail for f in report.flags)
    assert report.has("missing-down-migration")
    with_down = assess([*files, change("db/migrate/001_add_down.rb", "@@ -0,0 +1 @@\n+drop_table :x\n", "added")],
                       require_down=True)
    assert not with_down.has("missing-down-migration")
    assert not with_down.has("destructive-migration")


def test_a_committed_env_file_is_flagged() -> None:
    report = assess([change(".env", "@@ -0,0 +1 @@\n+SECRET=hunter2\n", "added")])
    assert report.flags[0].key == "secrets-file"
