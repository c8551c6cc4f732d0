"""Artifacts in the SQL store: versions by content, their files, and the runs that made and used them.

A ``run.artifact`` record names a manifest; the store finds the version of that name and content in
the producing run's author's namespace (``owner``: their user id on a team server, '' on a laptop),
or numbers a new one (v0, v1, ...), and links the run to it as a producer. ``run.use_artifact``
links the run as a consumer of the version its producing run made. Who may see a version follows
the runs that produced it (``visible_runs_sql``): a reader sees none of a run they may not see, not
even as a count, and so the numbers, which count them all, are read out to the owner alone (the
others name a version by its digest: domain/artifact.py). A purge frees a version's bytes and keeps
its row as a tombstone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from upstack.domain import access
from upstack.domain.artifact import ArtifactSummary, ArtifactVersion, manifest_digest
from upstack.errors import BadInput, NotFound, UpstackError
from upstack.formats.journal import Record
from upstack.store.db import Database
from upstack.store.queries import visible_runs_sql

__all__ = ["HANDLERS", "summaries", "versions", "find", "for_run", "purge_version", "artifact_records",
           "blob_in_use", "referenced_blobs", "link_record_ids", "producer_of", "check_usable"]


# -- record handlers -------------------------------------------------------------------

def _produced(db: Database, record: Record) -> None:
    data = record.data
    run = db.one("SELECT author_id FROM runs WHERE id = ?", (data["run_id"],))
    if run is None:
        raise NotFound(f"run {data['run_id']} has no start record")
    files = list(data["files"])
    folder = bool(data.get("folder"))
    digest = manifest_digest(files, folder)
    if digest != data.get("digest"):
        raise UpstackError(f"artifact {data['name']}: its digest does not match its files")
    owner = run["author_id"] or ""
    found = db.one("SELECT id FROM artifacts WHERE owner = ? AND name = ? AND digest = ?",
                   (owner, data["name"], digest))
    if found is None:
        artifact_id = record.id
        version = int(db.scalar("SELECT coalesce(max(version) + 1, 0) FROM artifacts WHERE owner = ? AND name = ?",
                                (owner, data["name"])))
        db.execute("INSERT INTO artifacts (id, owner, name, kind, version, digest, folder, size, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (artifact_id, owner, data["name"], data.get("kind") or "artifact", version, digest,
                    int(folder), sum(int(f.get("size") or 0) for f in files), data.get("at") or record.at))
        db.executemany("INSERT INTO artifact_files (artifact_id, path, sha256, link, size, mode) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       [(artifact_id, f["path"], f.get("sha256"), f.get("link"), int(f.get("size") or 0),
                         int(f.get("mode") or 0o644)) for f in files])
    else:
        artifact_id = found["id"]
    _link(db, artifact_id, data["run_id"], "produced", record)


def _used(db: Database, record: Record) -> None:
    data = record.data
    if db.one("SELECT 1 FROM runs WHERE id = ?", (data["run_id"],)) is None:
        raise NotFound(f"run {data['run_id']} has no start record")
    artifact = producer_of(db, str(data["producer"]), str(data["name"]), str(data["digest"]))
    if artifact is None:
        raise NotFound(f"artifact {data['name']} ({str(data['digest'])[:12]}) is not here")
    _link(db, artifact, data["run_id"], "used", record)


def _link(db: Database, artifact_id: str, run_id: str, role: str, record: Record) -> None:
    db.execute("INSERT INTO artifact_links (artifact_id, run_id, role, record_id, at) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT DO NOTHING", (artifact_id, run_id, role, record.id, record.data.get("at") or record.at))


HANDLERS = {"run.artifact": _produced, "run.use_artifact": _used}


def producer_of(db: Database, run_id: str, name: str, digest: str) -> str | None:
    """The id of the version ``name`` with this content that run ``run_id`` produced, whoever may see it."""
    value = db.scalar("SELECT a.id FROM artifacts a JOIN artifact_links l ON l.artifact_id = a.id "
                      "WHERE l.run_id = ? AND l.role = 'produced' AND a.name = ? AND a.digest = ?",
                      (run_id, name, digest))
    return None if value is None else str(value)


# -- reads, for the reader in access.current -----------------------------------------------

def _over_producers(db: Database, pick: str, everything: str) -> tuple[str, list[Any]]:
    """``pick`` over the links of ``artifacts a`` to its producers the reader may see (``everything``: no
    one signed in, or the workspace's own reader)."""
    audience = access.current(team=db.team)
    if audience is None:
        return everything, []
    runs, params = visible_runs_sql(audience, "r")
    return (f"(SELECT {pick} FROM artifact_links p JOIN runs r ON r.id = p.run_id "
            f"WHERE p.artifact_id = a.id AND p.role = 'produced' AND {runs})"), params


def _visible(db: Database) -> tuple[str, list[Any]]:
    """A condition over ``artifacts a``: a version the reader may see (one of its producers is)."""
    pick, params = _over_producers(db, "1", "")
    return (f"EXISTS {pick}", params) if pick else ("1 = 1", [])


def _first_made(db: Database) -> tuple[str, list[Any]]:
    """A column over ``artifacts a``: when the reader first sees the version made, by a producer they may
    see. Its own ``created_at`` is its first producer's, maybe a run they may not see (so was its time)."""
    return _over_producers(db, "min(p.at)", "a.created_at")


def _owns(db: Database) -> Callable[[str], bool]:
    """Whether the reader owns a namespace: a person's user id, or '' (the workspace owner's: a laptop's,
    or what a team server's owner wrote on its command line)."""
    audience = access.current(team=db.team)
    return lambda owner: audience is None or audience.is_author(owner or None)


def summaries(db: Database) -> list[ArtifactSummary]:
    """Every artifact name the reader may see, with the versions they may see of it."""
    visible, params = _visible(db)
    made, made_params = _first_made(db)
    owns = _owns(db)
    found: dict[tuple[str, str], ArtifactSummary] = {}
    for row in db.query(f"SELECT a.owner, a.name, a.kind, a.version, {made} AS created_at, a.size FROM artifacts a "
                        f"WHERE {visible} ORDER BY a.owner, a.name, a.version", [*made_params, *params]):
        key = (str(row["owner"]), str(row["name"]))
        summary = found.get(key)
        if summary is None:
            summary = found[key] = ArtifactSummary(owner=key[0], name=key[1], kind=str(row["kind"]), versions=0,
                                                   latest=None, updated_at="", size=0)
        summary.versions += 1
        summary.size += int(row["size"])  # Python's int: no overflow
        summary.updated_at = max(summary.updated_at, str(row["created_at"]))
        summary.kind = max(summary.kind, str(row["kind"]))
        if owns(key[0]):
            summary.latest = int(row["version"])
    by_name = sorted(found.values(), key=lambda a: (a.name, a.owner))
    return sorted(by_name, key=lambda a: a.updated_at, reverse=True)  # stable: by name within a time


def versions(db: Database, name: str, owner: str | None = None) -> list[ArtifactVersion]:
    """The versions of ``name`` the reader may see (of one owner's namespace, or of every one), oldest first,
    each with its files and the runs (that the reader may see) that produced and used it."""
    visible, params = _visible(db)
    where, extra = ("AND a.owner = ?", [owner]) if owner is not None else ("", [])
    rows = db.query(f"SELECT a.* FROM artifacts a WHERE a.name = ? {where} AND {visible} "
                    "ORDER BY a.owner, a.version", [name, *extra, *params])
    owns = _owns(db)
    return [_version(db, row, numbered=owns(str(row["owner"]))) for row in rows]


def _version(db: Database, row: dict[str, Any], *, numbered: bool) -> ArtifactVersion:
    version = ArtifactVersion(
        id=str(row["id"]), owner=str(row["owner"]), name=str(row["name"]), kind=str(row["kind"]),
        version=int(row["version"]) if numbered else None, digest=str(row["digest"]), folder=bool(row["folder"]),
        size=int(row["size"]), created_at=str(row["created_at"]), purged_at=row["purged_at"])
    version.files = [{"path": f["path"], "sha256": f["sha256"], "link": f["link"], "size": int(f["size"]),
                      "mode": int(f["mode"])}
                     for f in db.query("SELECT * FROM artifact_files WHERE artifact_id = ? ORDER BY path",
                                       (version.id,))]
    audience = access.current(team=db.team)
    runs_visible, params = ("1 = 1", []) if audience is None else visible_runs_sql(audience, "r")
    first: dict[str, Any] | None = None
    for link in db.query("SELECT l.run_id, l.role, l.at, l.record_id, r.name FROM artifact_links l "
                         f"JOIN runs r ON r.id = l.run_id WHERE l.artifact_id = ? AND {runs_visible} "
                         "ORDER BY l.at, l.run_id", [version.id, *params]):
        seen = {"run_id": link["run_id"], "name": link["name"], "at": link["at"]}
        (version.produced_by if link["role"] == "produced" else version.used_by).append(seen)
        first = first or (dict(link) if link["role"] == "produced" else None)
    if audience is not None and not numbered and first is not None:
        # Its id and time are its first producer's, a run the reader may not see: named by the first they may.
        version.id, version.created_at = str(first["record_id"]), str(first["at"])
    return version


def find(db: Database, name: str, selector: int | str | None) -> ArtifactVersion:
    """The version of ``name`` a reference names, as the reader may see it (``parse_ref``): the latest
    (None) or their own version number N (an int), of their own namespace when they have one of that
    name, else of the only namespace they see it in; or the version whose digest starts so (a str),
    of anyone's (their own first, when the same content is in two)."""
    found = versions(db, name)
    owners = sorted({v.owner for v in found})
    if not owners:
        raise NotFound(f"no artifact named {name!r}")
    owns = _owns(db)
    if isinstance(selector, str):
        matching = [v for v in found if v.digest.startswith(selector)]
        if len({v.digest for v in matching}) > 1:
            raise BadInput(f"{name}@{selector} names {len({v.digest for v in matching})} versions: give more digits")
        if not matching:
            raise NotFound(f"no version of artifact {name!r} whose digest starts {selector}")
        return next((v for v in matching if owns(v.owner)), matching[0])
    mine = [o for o in owners if owns(o)]
    if mine:
        owner = mine[-1]  # a server's owner has two: what they pushed (their id) before what its CLI wrote ('')
    elif len(owners) == 1:
        owner = owners[0]
    else:
        raise BadInput(f"{len(owners)} people have an artifact named {name!r} that you may see, and none of "
                       f"them is yours: name the one you mean by its content, {name}@DIGEST, as "
                       f"`upstack artifact show {name}` lists them")
    found = [v for v in found if v.owner == owner]
    if selector is None:
        return found[-1]
    if not owns(owner):
        raise BadInput(f"v-numbers name your own versions; name one of someone else's {name!r} by its content, "
                       f"{name}@DIGEST, as `upstack artifact show {name}` lists them")
    for version in found:
        if version.version == selector:
            return version
    raise NotFound(f"no version v{selector} of artifact {name!r} (latest: v{found[-1].version})")


def check_usable(db: Database, producer: str, name: str, digest: str) -> None:
    """Refuse (NotFound) a use of a version the reader may not see: the door's check of ``run.use_artifact``."""
    artifact = producer_of(db, producer, name, digest)
    visible, params = _visible(db)
    if artifact is None or db.one(f"SELECT 1 FROM artifacts a WHERE a.id = ? AND {visible}",
                                  [artifact, *params]) is None:
        raise NotFound(f"no artifact {name!r} of that content that you may see")


def for_run(db: Database, run_id: str) -> dict[str, list[ArtifactVersion]]:
    """The versions a run produced and used (those the reader may see)."""
    visible, params = _visible(db)
    owns = _owns(db)
    out: dict[str, list[ArtifactVersion]] = {"produced": [], "used": []}
    for row in db.query(f"SELECT a.*, l.role FROM artifacts a JOIN artifact_links l ON l.artifact_id = a.id "
                        f"WHERE l.run_id = ? AND {visible} ORDER BY a.name, a.version", [run_id, *params]):
        out[str(row["role"])].append(_version(db, row, numbered=owns(str(row["owner"]))))
    return out


# -- purge, blobs and sync --------------------------------------------------------------

def purge_version(db: Database, artifact_id: str, at: str) -> list[str]:
    """Mark a version purged (its tombstone), in a transaction of its own; the hashes of its files, for the
    caller to free once it is committed."""
    with db.transaction():
        db.execute("UPDATE artifacts SET purged_at = ? WHERE id = ? AND purged_at IS NULL", (at, artifact_id))
    return [str(r["sha256"]) for r in db.query(
        "SELECT DISTINCT sha256 FROM artifact_files WHERE artifact_id = ? AND sha256 IS NOT NULL", (artifact_id,))]


# A condition over ``artifact_files f JOIN artifacts a``: the version holds the file's bytes. One of the
# workspace's own ('' owner) does; one of a person's (a team server's, or pulled from one) only when they
# uploaded the file (as ``services.artifacts.missing_bytes`` counts it there): a manifest naming the hash
# of someone else's file would otherwise keep it from their purge, on the disk and in every dump.
_HOLDS = ("a.purged_at IS NULL AND (a.owner = '' OR EXISTS (SELECT 1 FROM audit_log u WHERE "
          "u.action = 'file.upload' AND u.actor_id = a.owner AND u.subject = f.sha256))")


def blob_in_use(db: Database, sha256: str) -> bool:
    """Whether a version not purged holds this file."""
    return db.one("SELECT 1 FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id "
                  f"WHERE f.sha256 = ? AND {_HOLDS}", (sha256,)) is not None


def referenced_blobs(db: Database) -> list[str]:
    """Every file a version not purged holds, by hash."""
    return [str(r["sha256"]) for r in db.query(
        "SELECT DISTINCT f.sha256 FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id "
        f"WHERE f.sha256 IS NOT NULL AND {_HOLDS} ORDER BY f.sha256")]


def link_record_ids(db: Database, run_ids: list[str] | None) -> dict[str, list[str]]:
    """For sync's comparison: the ids of the records that linked each run to a version the reader may see."""
    visible, params = _visible(db)
    of_runs = f" AND l.run_id IN ({', '.join('?' for _ in run_ids)})" if run_ids else ""
    found: dict[str, list[str]] = {}
    for row in db.query("SELECT l.run_id, l.record_id FROM artifact_links l JOIN artifacts a ON a.id = l.artifact_id "
                        f"WHERE {visible}{of_runs} ORDER BY l.record_id", [*params, *(run_ids or [])]):
        found.setdefault(str(row["run_id"]), []).append(str(row["record_id"]))
    return found


def artifact_records(db: Database, run_id: str) -> list[Record]:
    """The ``run.artifact`` and ``run.use_artifact`` records that rebuild a run's links elsewhere (sync)."""
    records = []
    visible, params = _visible(db)  # a run the reader sees may have used a version they may not: not said
    for row in db.query("SELECT l.record_id, l.role, l.at, l.artifact_id, a.name, a.kind, a.digest, a.folder "
                        "FROM artifact_links l JOIN artifacts a ON a.id = l.artifact_id "
                        f"WHERE l.run_id = ? AND {visible} ORDER BY l.at, l.record_id", [run_id, *params]):
        if row["role"] == "produced":
            files = [{k: f[k] for k in ("path", "sha256", "link", "size", "mode") if f[k] is not None}
                     for f in db.query("SELECT * FROM artifact_files WHERE artifact_id = ? ORDER BY path",
                                       (row["artifact_id"],))]
            data = {"run_id": run_id, "name": row["name"], "kind": row["kind"], "digest": row["digest"],
                    "folder": bool(row["folder"]), "files": files, "at": row["at"]}
            records.append(Record(str(row["record_id"]), "run.artifact", "sync", str(row["at"]), data))
        else:
            # A producer the reader may see (another may be a run of someone else's they may not).
            audience = access.current(team=db.team)
            runs, shown = ("1 = 1", []) if audience is None else visible_runs_sql(audience, "r")
            producer = db.scalar("SELECT p.run_id FROM artifact_links p JOIN runs r ON r.id = p.run_id "
                                 f"WHERE p.artifact_id = ? AND p.role = 'produced' AND {runs} "
                                 "ORDER BY p.at, p.run_id LIMIT 1", [row["artifact_id"], *shown])
            data = {"run_id": run_id, "name": row["name"], "digest": row["digest"], "producer": producer,
                    "at": row["at"]}
            records.append(Record(str(row["record_id"]), "run.use_artifact", "sync", str(row["at"]), data))
    return records
