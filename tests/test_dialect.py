"""One place for each engine difference (store/dialect/), and SQL that reaches psycopg as written."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from upstack.store.db import connect
from upstack.store.dialect import Dialect, PostgresDialect, SqliteDialect, to_pyformat

SRC = Path(__file__).resolve().parents[1] / "src" / "upstack"
ENGINE_NAMES = {"sqlite", "postgresql", "postgres"}
DIALECT_CLASSES = {"SqliteDialect", "PostgresDialect"}
ALLOWED = (
    "store/dialect/",  # where the differences live
    # Frozen history: migrations keep the SQL they ran.
    "store/migrations/",
    "store/schema.py",
)


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = %s AND c = %s"),
    ("SELECT ? WHERE name LIKE 'x%'", "SELECT %s WHERE name LIKE 'x%%'"),
    ("SELECT 7 % ?", "SELECT 7 %% %s"),
    ("SELECT '?', ?", "SELECT '?', %s"),
    ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),
    ("SELECT '''?''' || ?", "SELECT '''?''' || %s"),
    ('SELECT "why?" FROM t WHERE x = ?', 'SELECT "why?" FROM t WHERE x = %s'),
    ('SELECT "a""?b" FROM t WHERE x = ?', 'SELECT "a""?b" FROM t WHERE x = %s'),
    ("SELECT 1 -- isn't it?\n, ?", "SELECT 1 -- isn't it?\n, %s"),
    ("SELECT /* one ? here */ ?", "SELECT /* one ? here */ %s"),
    ("SELECT ? WHERE op = '?|' OR op = '?&'", "SELECT %s WHERE op = '?|' OR op = '?&'"),
    ("SELECT 1", "SELECT 1"),
    ("SELECT 'not closed ?", "SELECT 'not closed ?"),  # the server names the error, not a parameter count
])
def test_placeholders_for_psycopg_leave_quotes_and_comments_alone(sql: str, expected: str) -> None:
    assert to_pyformat(sql) == expected
    assert to_pyformat(sql) is to_pyformat(sql)  # translated once


def test_sqlite_takes_the_sql_as_written() -> None:
    sql = "SELECT ? WHERE name LIKE 'x%'"
    assert SqliteDialect().placeholders(sql) is sql


def test_literals_with_percent_and_question_marks_reach_the_engine(engine: str, db_url: str | None,
                                                                   tmp_path: Path) -> None:
    db = connect(db_url, tmp_path / "upstack.db")
    try:
        row = db.one("SELECT ? AS given, '%' AS percent, '?' AS question, 'it''s ?' AS quoted "
                     "WHERE 'x%' LIKE 'x%' -- isn't that so?\n AND ? = 1", ("p", 1))
        assert row == {"given": "p", "percent": "%", "question": "?", "quoted": "it's ?"}
        db.execute("CREATE TABLE notes (body TEXT NOT NULL)")
        db.executemany("INSERT INTO notes (body) VALUES (? || ' 100%?')", [("a",), ("b",)])
        assert [r["body"] for r in db.query("SELECT body FROM notes WHERE body LIKE ? OR body LIKE '%?' "
                                            "ORDER BY body", ("none",))] == ["a 100%?", "b 100%?"]
    finally:
        db.close()


def test_both_engines_answer_the_same_questions() -> None:
    def public(dialect: Dialect) -> set[str]:
        return {name for name in dir(dialect) if not name.startswith("_")}

    sqlite, postgresql = SqliteDialect(), PostgresDialect()
    assert public(sqlite) == public(postgresql)
    assert set(Dialect.__annotations__) <= public(sqlite)


# -- nobody else tells the engines apart -------------------------------------------------------

def _names_engine(node: ast.AST) -> bool:
    """An engine's name, a dialect class, or what holds a name (``db.dialect``, ``engine.name``)."""
    if isinstance(node, ast.Constant):
        return node.value in ENGINE_NAMES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_engine(element) for element in node.elts)
    if isinstance(node, ast.Name):
        return node.id == "dialect" or node.id in DIALECT_CLASSES
    if isinstance(node, ast.Attribute):
        holder = ast.unparse(node.value).rsplit(".", 1)[-1]
        return node.attr in {"dialect", *DIALECT_CLASSES} or (node.attr == "name" and holder == "engine")
    return False


def engine_comparisons(tree: ast.AST) -> list[int]:
    """The lines where code compares an engine's name or checks which dialect it has."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            compared = [node.left, *node.comparators]
        elif isinstance(node, ast.Match):
            compared = [node.subject]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
            compared = node.args[1:]
        else:
            continue
        if any(_names_engine(operand) for operand in compared):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("code", [
    'if db.dialect == "sqlite":\n    pass',
    'blob = "BLOB" if dialect != "postgresql" else "BYTEA"',
    'team = "postgresql" == self.db.dialect',
    'ok = db.engine.name in ("sqlite", "other")',
    "ok = self.db.engine.name == wanted",
    "ok = isinstance(db.engine, SqliteDialect)",
    "ok = type(db.engine) is PostgresDialect",
    'match db.dialect:\n    case "sqlite":\n        pass',
])
def test_the_check_sees_each_way_of_telling_engines_apart(code: str) -> None:
    assert engine_comparisons(ast.parse(code)) == [1]


def test_only_the_dialect_tells_the_engines_apart() -> None:
    found = [f"src/upstack/{path.relative_to(SRC).as_posix()}:{line}" for path in sorted(SRC.rglob("*.py"))
             if not path.relative_to(SRC).as_posix().startswith(ALLOWED)
             for line in engine_comparisons(ast.parse(path.read_text(encoding="utf-8")))]
    assert not found, "ask db.engine (store/dialect/) instead of comparing engines: " + ", ".join(found)


def test_postgresql_plans_for_data_in_memory_unless_its_admin_chose(make_pg_url: object, tmp_path: Path) -> None:
    """A page read out of order costs upstack's PostgreSQL about what the next one does (random_page_cost
    1.1, not the default 4 of spinning disks, which had a reader's search read its whole table); a value
    the server's administrator set stays theirs."""
    url = make_pg_url()  # type: ignore[operator]
    db = connect(url, tmp_path / "unused.db")
    try:
        assert db.scalar("SHOW random_page_cost") == "1.1"
    finally:
        db.close()
    joiner = "&" if "?" in url else "?"
    chosen = connect(url + joiner + "options=-c%20random_page_cost%3D2", tmp_path / "unused.db")
    try:
        assert chosen.scalar("SHOW random_page_cost") == "2"
    finally:
        chosen.close()
