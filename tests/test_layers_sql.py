"""SQL and transactions live in store/ only (issue 13 §2): services, interop, web and cli call store
functions, which hold the SQL text and the transactions.

Every module of src/upstack outside store/ is read with ``ast``; none may import a database engine
(sqlite3, psycopg), call ``.execute``, ``.query``, ``.scalar``, ``.executemany`` or ``.transaction``
on anything, or hold SQL text: a string that starts, after whitespace, with a statement's first
word and a space, in any case. Docstrings are prose, not SQL; an f-string is judged by how it starts.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "upstack"
ENGINES = {"sqlite3", "psycopg"}
DATABASE_CALLS = {"execute", "query", "scalar", "executemany", "transaction"}
SQL_TEXT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|WITH|PRAGMA|BEGIN|ALTER|DROP) ", re.IGNORECASE)

# Modules outside store/ that may still run SQL (paths under src/upstack), each with why: none now.
ALLOWED: dict[str, str] = {}
# Text that the rule takes for SQL but is a person's words, by module and how it starts, each with why.
NOT_SQL = {
    "services/demo.py": ("Drop the two",),  # a decision in the demo's story, as its researcher wrote it
}


def findings(source: str, prose: tuple[str, ...] = ()) -> list[str]:
    """Where ``source`` imports an engine, calls the database or holds SQL text (except text that
    starts with one of ``prose``): "line: what"."""
    tree = ast.parse(source)
    skipped: set[int] = set()  # docstrings, and the pieces of f-strings (judged whole)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(id(first.value))
        if isinstance(node, ast.JoinedStr):
            skipped |= {id(part) for part in node.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: imports {a.name}" for a in node.names if a.name.split(".")[0] in ENGINES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ENGINES:
            found.append(f"{node.lineno}: imports from {node.module}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DATABASE_CALLS:
            found.append(f"{node.lineno}: calls .{node.func.attr}()")
        elif isinstance(node, ast.Constant) and id(node) not in skipped and _sql(node.value) \
                and not str(node.value).lstrip().startswith(prose):
            found.append(f"{node.lineno}: SQL text {node.value[:50]!r}")
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant) \
                and _sql(node.values[0].value):
            found.append(f"{node.lineno}: SQL text f{str(node.values[0].value)[:50]!r}")
    return sorted(found, key=lambda line: int(line.split(":")[0]))


def _sql(value: object) -> bool:
    return isinstance(value, str) and SQL_TEXT.match(value) is not None


def _outside_store() -> dict[str, list[str]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if not name.startswith("store/"):
            found[name] = findings(path.read_text(encoding="utf-8"), NOT_SQL.get(name, ()))
    return found


def test_sql_and_transactions_live_in_store_only():
    wrong = [f"src/upstack/{name}:{line}" for name, lines in _outside_store().items() if name not in ALLOWED
             for line in lines]
    assert not wrong, "SQL outside store/ (move it behind a store function):\n" + "\n".join(wrong)


def test_every_allowance_is_still_needed():
    found = _outside_store()
    assert [name for name in sorted(ALLOWED) if not found.get(name)] == []
    for name, starts in NOT_SQL.items():
        for start in starts:
            assert findings((PACKAGE / name).read_text(encoding="utf-8")) != \
                findings((PACKAGE / name).read_text(encoding="utf-8"), (start,)), f"{name}: {start!r} is gone"


def test_what_counts_as_sql():
    source = '''
"""Delete entries: a module's docstring is prose."""
import sqlite3
from psycopg.rows import dict_row

def f(db, table, ws):
    """Update the thing."""
    db.query("SELECT 1")
    ws.transaction()
    label = f"{table} with no path to an agenda"
    sql = f"  insert into {table} VALUES (?)"
    words = "Selected entries", "WITH", "drop it"
    return "\\n  with x AS (SELECT 1) SELECT * FROM x"
'''
    assert findings(source) == [
        "3: imports sqlite3", "4: imports from psycopg.rows", "8: calls .query()", "8: SQL text 'SELECT 1'",
        "9: calls .transaction()", "11: SQL text f'  insert into '", "12: SQL text 'drop it'",
        "13: SQL text '\\n  with x AS (SELECT 1) SELECT * FROM x'"]
    assert findings("words = 'Drop the two templates'", ("Drop the two",)) == []
