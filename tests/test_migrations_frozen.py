"""Migrations are frozen history: a database upgraded one release at a time has the schema of one
made fresh, and a migration's body is SQL of its own, not a call into code that may change."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

from upstack.store import schema
from upstack.store.db import Database, connect

# What a migration may use from upstack: the connection it is given, and the runner's own needs.
ALLOWED = {"upstack.store.db", "upstack.errors", "upstack.timeutil"}
MIGRATIONS_PACKAGE = "upstack.store.migrations"


def schema_of(db: Database) -> dict[str, Any]:
    """Everything that makes up a database's schema, on either engine, and the rows migrations write."""
    made = {"migrations": db.query("SELECT version, name FROM schema_migrations ORDER BY version"),
            "search_stats": db.query("SELECT * FROM search_stats ORDER BY id")}
    if db.dialect == "sqlite":
        return made | _sqlite_schema(db)
    return made | _postgresql_schema(db)


def _sqlite_schema(db: Database) -> dict[str, Any]:
    # The CREATE texts (columns, types, defaults, constraints, indexes, triggers, the FTS5 table and
    # its shadow tables), then the same read back by SQLite, then FTS5's settings (its rank function).
    return {
        "objects": db.query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"),
        "columns": db.query("SELECT m.name AS tbl, c.* FROM sqlite_master m, pragma_table_xinfo(m.name) c "
                            "WHERE m.type = 'table' ORDER BY m.name, c.cid"),
        "index_columns": db.query("SELECT m.name AS idx, c.* FROM sqlite_master m, pragma_index_xinfo(m.name) c "
                                  "WHERE m.type = 'index' ORDER BY m.name, c.seqno"),
        "foreign_keys": db.query("SELECT m.name AS tbl, f.* FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
                                 "WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq"),
        "fts_config": db.query("SELECT * FROM entry_fts_config ORDER BY k"),
        "user_version": db.scalar("PRAGMA user_version"),
    }


def _postgresql_schema(db: Database) -> dict[str, Any]:
    # Each test database is a schema of its own; its name, in index definitions, is not the schema's.
    prefix = str(db.scalar("SELECT current_schema()")) + "."

    def unnamed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v.replace(prefix, "") if isinstance(v, str) else v for k, v in row.items()} for row in rows]

    return {
        "tables": db.query("SELECT table_name, table_type FROM information_schema.tables "
                           "WHERE table_schema = current_schema() ORDER BY table_name"),
        "columns": db.query(
            "SELECT table_name, ordinal_position, column_name, data_type, is_nullable, column_default, "
            "is_generated, generation_expression FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"),
        "indexes": unnamed(db.query("SELECT tablename, indexname, indexdef FROM pg_indexes "
                                    "WHERE schemaname = current_schema() ORDER BY tablename, indexname")),
        "constraints": unnamed(db.query(
            "SELECT c.conrelid::regclass::text AS tbl, c.conname, c.contype, pg_get_constraintdef(c.oid) AS def "
            "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = current_schema() ORDER BY 1, 2")),
        "triggers": db.query(
            "SELECT trigger_name, event_object_table, action_timing, event_manipulation, action_statement "
            "FROM information_schema.triggers WHERE trigger_schema = current_schema() ORDER BY 1, 2, 4"),
    }


def test_upgrading_one_release_at_a_time_makes_a_fresh_databases_schema(
        tmp_path: Path, db_url: str | None, make_pg_url: Callable[[], str]) -> None:
    stepwise_url = db_url
    for version in range(1, schema.LATEST + 1):  # each step a new connection, as each upgrade is
        db = connect(stepwise_url, tmp_path / "stepwise.db")
        try:
            assert [m.version for m in schema.apply(db, target=version)] == [version]
        finally:
            db.close()
    stepwise = connect(stepwise_url, tmp_path / "stepwise.db")
    fresh = connect(make_pg_url() if db_url else None, tmp_path / "fresh.db")
    try:
        assert [m.version for m in schema.apply(fresh)] == list(range(1, schema.LATEST + 1))
        upgraded, made = schema_of(stepwise), schema_of(fresh)
        assert upgraded.keys() == made.keys()
        for part in made:
            assert upgraded[part] == made[part], part
    finally:
        stepwise.close()
        fresh.close()


def _migration_files() -> list[Path]:
    store = Path(schema.__file__).parent
    return [store / "schema.py", *sorted((store / "migrations").glob("*.py"))]


def _imports(path: Path) -> list[str]:
    """Every name a file imports, anywhere in it (inside functions too), as module.name."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            names += [f"{module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")):
            names.append(_by_name(node))
    return names


def _by_name(call: ast.Call) -> str:
    """What an import by name reaches: a migration of the package (its name starts the f-string, as
    schema.py imports one when it runs), else unknown."""
    arg = call.args[0] if call.args else None
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant) \
            and str(arg.values[0].value).startswith(MIGRATIONS_PACKAGE + "."):
        return f"{MIGRATIONS_PACKAGE}.(a migration by name)"
    return f"(an import by name, line {call.lineno})"


def _allowed(name: str) -> bool:
    if name.startswith((".", "(")):  # relative, or by name: what it reaches is not checked here
        return False
    if name.split(".")[0] != "upstack":
        return True  # the standard library
    module = name.rsplit(".", 1)[0]
    return (module in ALLOWED or name in ALLOWED
            or name == MIGRATIONS_PACKAGE or name.startswith(MIGRATIONS_PACKAGE + "."))


def test_migrations_import_no_feature_code() -> None:
    """A migration that called, say, store/runs.py would change when runs.py does."""
    files = _migration_files()
    found = {path.name: [name for name in _imports(path) if not _allowed(name)] for path in files}
    assert found == {path.name: [] for path in files}


def test_each_migration_is_a_module_of_its_own_in_order() -> None:
    """What runs is what the migrations package holds: module vNN_... is migration NN."""
    import importlib

    runs = [(m.version, f"{MIGRATIONS_PACKAGE}.{m.module}",
             importlib.import_module(f"{MIGRATIONS_PACKAGE}.{m.module}").run.__name__) for m in schema.MIGRATIONS]
    assert [version for version, _, _ in runs] == list(range(1, schema.LATEST + 1))
    modules = [f"{MIGRATIONS_PACKAGE}.{path.stem}" for path in _migration_files() if path.stem.startswith("v")]
    assert [(version, module) for version, module, _ in runs] == list(enumerate(modules, start=1))
    assert all(module.startswith(f"{MIGRATIONS_PACKAGE}.v{version:02d}_") and name == "run"
               for version, module, name in runs)


FIXTURES = Path(__file__).parent / "fixtures"


def test_a_fresh_database_has_the_schema_the_migrations_shipped_with(tmp_path: Path, db_url: str | None) -> None:
    """A shipped migration edited in place changes new databases but not upgraded ones: both sides of the
    test above run the same code, so it is the schema as it shipped, kept here, that notices. A new
    migration changes it on purpose: write the file anew with UPSTACK_WRITE_SCHEMA=1."""
    import json
    import os

    db = connect(db_url, tmp_path / "fresh.db")
    try:
        schema.apply(db)
        made = json.loads(json.dumps(schema_of(db), default=str))
    finally:
        db.close()
    kept = FIXTURES / f"schema-{db.dialect}.json"
    if os.environ.get("UPSTACK_WRITE_SCHEMA") == "1":
        kept.write_text(json.dumps(made, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert kept.exists(), f"{kept.name} is missing: write it with UPSTACK_WRITE_SCHEMA=1"
    shipped = json.loads(kept.read_text(encoding="utf-8"))
    for part in shipped.keys() | made.keys():
        assert made.get(part) == shipped.get(part), (
            f"a fresh database's {part} differs from the schema the migrations shipped with "
            f"(tests/fixtures/{kept.name}): a shipped migration was changed? (a new one: UPSTACK_WRITE_SCHEMA=1)")
