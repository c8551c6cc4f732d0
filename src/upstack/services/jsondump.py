"""Lossless JSON export and import: every data table, every blob.

On a team server, the accounts (users with their argon2 hashes, and who holds which
share) and the server's own state (sessions, links, API tokens, notifications, the audit
log) stay out of an export, and an import never recreates accounts, unless the admin
asks for a server backup (``server_backup=True``: `upstack export --server-backup`,
and `upstack import --server-backup` to restore one).

The export is a canonical dump (rows ordered by primary key, blobs by hash), so
exporting a workspace imported from an export gives the same file back. Import
restores rows as they were (ids, revisions, times, private items) rather than
re-capturing them: it is the one write path besides journal ingest, and it runs
in a single transaction under the workspace lock.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import IO, Any

from upstack.domain.files import attachment_name
from upstack.domain.imports import ImportFailed, ImportResult, Problem
from upstack.domain.text import clean_data
from upstack.domain.tree import NODE_KINDS
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.store import dump as store_dump
from upstack.store import schema
from upstack.store.accounts import OWNER_KEY, owner_id, user_ids
from upstack.store.db import Database
from upstack.store.integrity import JSON_COLUMNS
from upstack.store.path import SEAL_KEY, WELLBEING_OPS
from upstack.store.store import Store
from upstack.timeutil import now_iso, offset_minutes, parse_iso
from upstack.workspace import Workspace

__all__ = ["DATA_TABLES", "ACCOUNT_TABLES", "SERVER_TABLES", "FORMAT", "dump_tables", "export_json", "import_json",
           "load_dump"]

FORMAT = "upstack-export"
FORMAT_VERSION = 1
# How jrnl's own journal file starts (`[2026-11-30 09:15:00 AM] Title`): such a file given to `import`
# without `jrnl` is named, rather than answered with a JSON parser's complaint.
_JRNL_DATE_LINE = re.compile(r"\[[^\]\n{}\"]*\d[^\]\n{}\"]*\] \S")

# Data tables in the order they can be inserted (parents before children). Not vault_link and
# vault_files (migration 17): a linked folder is this machine's, and its state means nothing elsewhere.
DATA_TABLES: dict[str, tuple[str, ...]] = {
    "workspace_info": ("key",),
    "users": ("id",),
    "nodes": ("id",),
    "shares": ("node_id", "user_id"),
    "node_events": ("id",),
    "entries": ("id",),
    "stars": ("entry_id", "user_id"),
    "revisions": ("id",),
    "entry_names": ("entry_id", "name_key"),
    "comments": ("id",),
    "entry_tags": ("entry_id", "tag"),
    "links": ("from_id", "target"),
    "ideas": ("entry_id",),
    "idea_events": ("id",),
    "predictions": ("entry_id",),
    "prediction_events": ("id",),
    "takes": ("entry_id",),
    "take_events": ("id",),
    "attachments": ("id",),
    "runs": ("id",),
    "run_items": ("id",),
    "run_events": ("id",),
    "run_metrics": ("run_id", "key"),
    "metric_chunks": ("run_id", "key", "file_offset"),
    "artifacts": ("id",),
    "artifact_files": ("artifact_id", "path"),
    "artifact_links": ("artifact_id", "run_id", "role"),
    "panels": ("id",),
    "panel_revisions": ("id",),
    "sync_held": ("record_id",),
    "path_records": ("id",),
    "applied_records": ("id",),
}
# Data tables whose rows are each one person's (the column naming them: '' is the workspace owner).
PERSONAL = {"stars": "user_id", "path_records": "person"}
# Data tables that are a team server's accounts: in a server backup only.
ACCOUNT_TABLES = ("users", "shares")
# The team server's own state, in a server backup only (inserted after the data tables).
SERVER_TABLES: dict[str, tuple[str, ...]] = {
    "account_links": ("id",),
    "sessions": ("id",),
    "api_tokens": ("id",),
    "notifications": ("id",),
    "audit_log": ("id",),
}
# Columns added since the export format began, which a file from an older upstack lacks (they
# stay empty: a checksum is kept only for what was checksummed when it was written).
LATER_COLUMNS: dict[str, frozenset[str]] = {"revisions": frozenset({"checksum", "meta"}),
                                            "metric_chunks": frozenset({"checksum"}),
                                            "comments": frozenset({"author_login"}),
                                            "path_records": frozenset({"local_only"}),
                                            "entries": frozenset({"utc_offset"}),
                                            "runs": frozenset({"utc_offset", "deleted_at"})}
# Packed arrays (see formats/metrics.py) travel as base64 text.
BINARY_COLUMNS: dict[str, tuple[str, ...]] = {"metric_chunks": ("steps", "times", "vals")}


def _rows(db: Database, table: str) -> list[dict[str, Any]]:
    rows = store_dump.table_rows(db, table, {**DATA_TABLES, **SERVER_TABLES}[table])
    for column in BINARY_COLUMNS.get(table, ()):
        for row in rows:
            row[column] = base64.b64encode(bytes(row[column])).decode("ascii")
    return rows


def dump_tables(db: Database) -> dict[str, list[dict[str, Any]]]:
    return {table: _rows(db, table) for table in DATA_TABLES}


def _exported_tables(server_backup: bool) -> list[str]:
    if server_backup:
        return [*DATA_TABLES, *SERVER_TABLES]
    return [t for t in DATA_TABLES if t not in ACCOUNT_TABLES]


def _exported_rows(db: Database, table: str, server_backup: bool, include_wellbeing: bool = False
                   ) -> list[dict[str, Any]]:
    rows = _rows(db, table)
    if table in ("path_records", "applied_records") and not include_wellbeing:  # check-ins: only when asked
        rows = [r for r in rows if r["op"] not in WELLBEING_OPS]  # (backup keeps them), not even a kind and time
    if table == "workspace_info" and not include_wellbeing:  # the seal of check-ins left out goes with them
        rows = [r for r in rows if r["key"] != SEAL_KEY]
    if table == "workspace_info" and not server_backup:  # who owned the log names an account
        rows = [r for r in rows if r["key"] != OWNER_KEY]
    if table in ("entries", "runs") and not server_backup:  # a member's zone is theirs: where in the world they are
        mine = (None, "", owner_id(db))
        rows = [r if r.get("author_id") in mine else {**r, "utc_offset": None} for r in rows]
    if table in PERSONAL and not server_backup:  # another account's stars and path are theirs: a server backup's
        rows = [r for r in rows if r[PERSONAL[table]] == ""]
    return rows


def export_json(ws: Workspace, out: IO[str], *, server_backup: bool = False, include_wellbeing: bool = False
                ) -> dict[str, int]:
    """Stream a lossless export of the log (with ``server_backup``, of the team server's
    accounts and state too); returns counts per table and of blobs. Wellbeing records (check-ins)
    only with ``include_wellbeing``: an export is often made to give to someone."""
    store = ws.store()
    counts: dict[str, int] = {}
    with store.db.snapshot() as db:
        header = {"format": FORMAT, "version": FORMAT_VERSION,
                  "schema": schema.current_version(db), "workspace_id": ws.workspace_id,
                  "exported_at": now_iso(), **({"server_backup": True} if server_backup else {})}
        out.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "tables": {')
        for i, table in enumerate(_exported_tables(server_backup)):
            rows = _exported_rows(db, table, server_backup, include_wellbeing)
            counts[table] = len(rows)
            out.write(("," if i else "") + f'\n"{table}": [')
            out.write(",".join("\n" + json.dumps(r, ensure_ascii=False, sort_keys=True)
                               for r in rows))
            out.write("]")
        out.write('},\n"blobs": {')
        hashes = store_dump.referenced_blobs(db)
        for i, sha in enumerate(hashes):
            data = base64.b64encode(store.blobs.read(sha)).decode("ascii")
            out.write(("," if i else "") + f'\n"{sha}": "{data}"')
        out.write("}}\n")
        counts["blobs"] = len(hashes)
    return counts


def _check(db: Database, name: str, dump: Any) -> tuple[list[Problem], dict[str, bytes]]:
    problems: list[Problem] = []
    if not isinstance(dump, dict) or dump.get("format") != FORMAT:
        return [Problem(name, "not an upstack JSON export (no \"format\": \"upstack-export\")")], {}
    versions = (dump.get("version", 0), dump.get("schema", 0))
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in versions):
        return [Problem(name, "its version and schema are not whole numbers")], {}
    if versions[0] > FORMAT_VERSION or versions[1] > schema.LATEST:
        return [Problem(name, "written by a newer upstack; upgrade upstack to import it")], {}
    tables = dump.get("tables")
    if not isinstance(tables, dict):
        return [Problem(name, "missing \"tables\"")], {}
    for table, rows in tables.items():
        if table not in DATA_TABLES and table not in SERVER_TABLES:
            problems.append(Problem(name, f"unknown table {table!r}"))
            continue
        columns, types = set(store_dump.column_names(db, table)), store_dump.column_types(db, table)
        if not isinstance(rows, list):
            problems.append(Problem(name, f"tables.{table} is not a list"))
            continue
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                problems.append(Problem(name, f"tables.{table}[{i}] is not an object"))
            elif not columns - LATER_COLUMNS.get(table, frozenset()) <= set(row) <= columns:
                missing, extra = sorted(columns - set(row)), sorted(set(row) - columns)
                problems.append(Problem(name, f"tables.{table}[{i}]: missing {missing}, "
                                              f"unknown {extra}"))
            else:
                problems += [Problem(name, f"tables.{table}[{i}].{column}: {wrong}") for column, value in row.items()
                             if (wrong := _wrong_value(table, column, types.get(column, ""), value))]
    blobs: dict[str, bytes] = {}
    for sha, text in (dump.get("blobs") or {}).items():
        try:
            data = base64.b64decode(text, validate=True)
        except (ValueError, TypeError):
            problems.append(Problem(name, f"blob {sha[:12]} is not valid base64"))
            continue
        if hashlib.sha256(data).hexdigest() != sha:
            problems.append(Problem(name, f"blob {sha[:12]} does not match its hash"))
            continue
        blobs[sha] = data
    for i, row in enumerate(tables.get("attachments", [])):
        if isinstance(row, dict) and row.get("sha256") and row["sha256"] not in blobs:
            problems.append(Problem(name, f"tables.attachments[{i}]: its file "
                                          f"{str(row['sha256'])[:12]} is not in the export"))
    if not problems:
        problems += _tree_problems(db, name, tables.get("nodes", []))
    return problems, blobs


def _wrong_value(table: str, column: str, declared: str, value: Any) -> str | None:
    """What is wrong with a column's value, if anything: one JSON value of the column's type (a list,
    an object, a boolean or a number too large for it would be stored differently by each engine, or
    refused with a traceback), JSON text of the right shape where upstack keeps JSON, and times as
    upstack writes them."""
    if value is None:
        return None  # whether the column may be empty is the store's to say (in one line)
    if isinstance(value, (list, dict, bool)):
        return f"a {type(value).__name__} where one value belongs"
    if column in BINARY_COLUMNS.get(table, ()) or "BLOB" in declared or "BYTEA" in declared:
        return None if isinstance(value, str) else "not base64 text"
    if "INT" in declared:
        return None if isinstance(value, int) and -2**63 <= value < 2**63 else f"{str(value)[:40]!r} is not an integer"
    if any(t in declared for t in ("REAL", "DOUBLE", "FLOAT", "NUMERIC")):
        return None if isinstance(value, (int, float)) else f"{str(value)[:40]!r} is not a number"
    if not isinstance(value, str):
        return f"{value!r} where text belongs"
    shape = JSON_COLUMNS.get((table, column))
    if shape is not None:
        try:
            if not isinstance(json.loads(value), shape):
                raise ValueError
        except (ValueError, RecursionError):
            return f"not JSON text holding a{'n object' if shape is dict else ' list'}"
    if column.endswith("_at"):
        try:
            parse_iso(value)
        except ValueError:
            return f"{value[:40]!r} is not a time as upstack writes one (YYYY-MM-DDTHH:MM:SS.ffffffZ)"
    if column == "utc_offset":  # the zone an entry or a run was written in (pace reads its times by it)
        try:
            offset_minutes(value)
        except ValueError as exc:
            return str(exc)
    return None


def _tree_problems(db: Database, name: str, nodes: list[dict[str, Any]]) -> list[Problem]:
    """Nodes that would not be a tree: an unknown kind, a parent that is neither in the file nor
    here, or a loop (a node its own ancestor). Inserted, they would vanish from every view of it."""
    problems: list[Problem] = []
    parents = {str(n.get("id")): n.get("parent_id") for n in nodes}
    here = store_dump.node_ids(db)
    for i, node in enumerate(nodes):
        at = f"tables.nodes[{i}]"
        if node.get("kind") not in NODE_KINDS:
            problems.append(Problem(name, f"{at}: kind {str(node.get('kind'))[:40]!r} is not one of "
                                          f"{', '.join(NODE_KINDS)}"))
        parent = node.get("parent_id")
        if parent is not None and str(parent) not in parents and str(parent) not in here:
            problems.append(Problem(name, f"{at}: its parent {str(parent)[:40]!r} is neither in the file nor here"))
        seen = {str(node.get("id"))}
        while parent is not None and str(parent) in parents:  # up the file's own tree
            if str(parent) in seen:
                problems.append(Problem(name, f"{at}: it is its own ancestor"))
                break
            seen.add(str(parent))
            parent = parents[str(parent)]
    return problems


def _parents_first(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()
    remaining = list(nodes)
    while remaining:
        ready = [n for n in remaining if not n.get("parent_id") or n["parent_id"] in placed
                 or n["parent_id"] not in {m["id"] for m in remaining}]
        ready = ready or remaining[:1]
        for node in ready:
            ordered.append(node)
            placed.add(node["id"])
            remaining.remove(node)
    return ordered


def _left_out(tables: dict[str, Any], server_backup: bool) -> list[str]:
    """What an import without ``server_backup`` leaves out of a file that has accounts."""
    if server_backup:
        return []
    gone = [f"{len(tables[t])} {t.replace('_', ' ')}" for t in (*ACCOUNT_TABLES, *SERVER_TABLES)
            if tables.get(t)]
    return gone


def _importable(db: Database, table: str, rows: list[dict[str, Any]], server_backup: bool) -> list[dict[str, Any]]:
    """The rows of ``table`` to insert: without ``server_backup``, nothing that makes or names an
    account here (comments keep their text; an author who has no account here is left blank)."""
    if server_backup:
        return rows
    if table in ACCOUNT_TABLES or table in SERVER_TABLES:
        return []
    if table == "workspace_info":
        return [r for r in rows if r.get("key") != OWNER_KEY]
    if table == "comments":
        members = user_ids(db)
        return [{**r, "author_id": r.get("author_id") if r.get("author_id") in members else None} for r in rows]
    if table in PERSONAL:
        return [r for r in rows if r.get(PERSONAL[table]) == ""]
    return rows


def load_dump(ws: Workspace, dump: dict[str, Any], blobs: dict[str, bytes], *,
              server_backup: bool = False) -> ImportResult:
    """Insert a checked dump; rows already present (same key) are left as they are. Accounts and
    the server's state only with ``server_backup``."""
    store = ws.store()
    with store.blobs.adding():  # from storing the files until the rows naming them are committed
        return _load(store, dump, blobs, server_backup)


def _load(store: Store, dump: dict[str, Any], blobs: dict[str, bytes], server_backup: bool) -> ImportResult:
    new_blobs = [sha for sha in blobs if not store.blobs.path(sha).exists()]
    for data in blobs.values():
        store.blobs.put_bytes(data)  # blobs before the rows that point at them
    try:
        return _load_rows(store, dump, server_backup)
    except BaseException:
        named = set(store_dump.referenced_blobs(store.db))
        for sha in new_blobs:  # refused rows: the files written for them go too, unless something names them
            if sha not in named:
                store.blobs.remove(sha)
        raise


def _load_rows(store: Store, dump: dict[str, Any], server_backup: bool) -> ImportResult:
    result = ImportResult()
    left_out = _left_out(dump["tables"], server_backup)
    if left_out:
        result.warnings.append(f"left out {', '.join(left_out)}: accounts come back only from a server backup, "
                               "with `upstack import --server-backup FILE`")
    plan = []
    tables = _with_stars(dump["tables"])
    # A team server keeps no wellbeing data (services/wellbeing.py): one that is one, or becomes one with
    # this file's accounts, leaves it out.
    team = bool(user_ids(store.db)) or (server_backup and bool(tables.get("users")))
    for table, key in {**DATA_TABLES, **SERVER_TABLES}.items():
        rows = _importable(store.db, table, tables.get(table, []), server_backup)
        if table == "path_records":
            rows, wellbeing = _path_rows(rows, team)
            if wellbeing:
                result.warnings.append(f"left out {wellbeing} wellbeing record{'' if wellbeing == 1 else 's'} "
                                       "(check-ins, plans, fit notes): a team server keeps none")
        if table == "nodes":
            rows = _parents_first(rows)
        if table == "attachments":  # names from someone else: never a path (domain/files.py), as at the sync door;
            # a purged file's name was already cleared, and stays so
            rows = [{**row, "filename": attachment_name(row["filename"])} if row.get("filename") else row
                    for row in rows]
        binary = BINARY_COLUMNS.get(table, ())
        if binary:
            rows = [{k: base64.b64decode(v) if k in binary else v for k, v in row.items()} for row in rows]
        plan.append((table, key, rows))
    inserted = store_dump.insert_rows(store, plan)  # one transaction: every row, or none
    result.imported = inserted["entries"]
    result.unchanged = len(dump["tables"].get("entries", [])) - inserted["entries"]
    return result


def _path_rows(rows: list[dict[str, Any]], team: bool) -> tuple[list[dict[str, Any]], int]:
    """Path rows as the store keeps them: ``local_only`` read from the record (its op, its data), never
    taken from the file, as ingest does (store/path.py), so that a row of a check-in or a local-only
    contact that says otherwise is still never synced; on a ``team`` server, no wellbeing row at all.
    The rows, and how many wellbeing rows were left out."""
    kept = []
    for row in rows:
        if row.get("op") in WELLBEING_OPS and team:
            continue
        data = json.loads(row["data"]) if isinstance(row.get("data"), str) else {}
        local = row.get("op") in WELLBEING_OPS or (isinstance(data, dict) and data.get("local_only") is True)
        kept.append({**row, "local_only": 1 if local else 0})
    return kept, len(rows) - len(kept)


def _with_stars(tables: dict[str, Any]) -> dict[str, Any]:
    """A file from before stars were each person's (schema 11 and older) marks them on its entries:
    they become the stars of whoever wrote each entry (the owner's, '', when nobody signed in did)."""
    starred = [r for r in tables.get("entries", []) if r.get("starred")]
    if not starred:
        return tables
    owner = next((r.get("value") for r in tables.get("workspace_info", []) if r.get("key") == OWNER_KEY), None)
    made = [{"entry_id": r["id"], "user_id": "" if r.get("author_id") in (None, owner) else r["author_id"],
             "starred": 1, "at": r["updated_at"], "event_id": f"star-{r['id']}-{new_id()}"} for r in starred]
    return {**tables, "entries": [{**r, "starred": 0} for r in tables["entries"]],
            "stars": [*tables.get("stars", []), *made]}


def import_json(ws: Workspace, path: Path, *, server_backup: bool = False) -> ImportResult:
    name = Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"cannot import {path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"cannot import {path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise BadInput(f"cannot import {path}: {exc.strerror}") from None
    try:
        dump = json.loads(text)
    except json.JSONDecodeError as exc:
        if _JRNL_DATE_LINE.match(text.lstrip("\ufeff \t\r\n")):
            raise BadInput(f"cannot import {name}: it is not JSON but looks like a jrnl journal: "
                           f"`upstack import jrnl {path}`") from None
        raise ImportFailed([Problem(f"{name}:{exc.lineno}", f"invalid JSON: {exc.msg}")], skip_bad=False) from None
    except RecursionError:
        raise ImportFailed([Problem(name, "nested deeper than any export is")], skip_bad=False) from None
    db = ws.store().db
    # _check reads the file's shape; a value of a wrong type it does not look at (a version in words, a list
    # where a column holds text, a row naming a node that is not there) is still the file's fault, and the
    # rows go in one transaction: say so in one line, with nothing of them kept.
    malformed = (ValueError, TypeError, KeyError, AttributeError, RecursionError, db.integrity_error, db.data_error,
                 db.too_large_error)
    try:
        # Its text as upstack keeps it (domain.text.clean_text): an export of a store that an older
        # upstack let a NUL into imports the same on both engines.
        dump = clean_data(dump)
        problems, blobs = _check(db, name, dump)
        if problems:
            raise ImportFailed(problems, skip_bad=False)
        restoring = bool(dump.get("workspace_id")) and not store_dump.has_entries(db)
        result = load_dump(ws, dump, blobs, server_backup=server_backup)
        if restoring:  # into a new workspace: it takes the file's identity, once every row is in
            ws.adopt_workspace_id(str(dump["workspace_id"]))
        return result
    except malformed as exc:
        said = (str(exc).splitlines() or [""])[0][:200]  # PostgreSQL adds lines of CONTEXT
        raise BadInput(f"cannot import {name}: it does not hold what an upstack export holds "
                       f"({type(exc).__name__}: {said}); nothing of it was imported") from None
