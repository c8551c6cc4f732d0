"""Artifacts with lineage: versions by content, folders, lineage both ways, save, purge, streaming, links."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import pytest

import upstack
from conftest import CLI
from upstack.errors import BadInput, NotFound
from upstack.services import artifacts
from upstack.workspace import Workspace


@pytest.fixture
def cli(home: Path, db_url: str | None) -> CLI:
    return CLI(home, db_url)


def _run(ws: Workspace, name: str = "train") -> upstack.Run:
    return upstack.run(name, home=ws.home, db=ws.db_url, capture="none")


def _produce(ws: Workspace, path: Path, name: str = "model", kind: str = "model") -> str:
    with _run(ws) as run:
        run.artifact(path, name=name, kind=kind)
    ws.ingest()
    return run.id


def test_same_content_is_the_same_version_and_a_change_is_the_next(workspace: Workspace, tmp_path: Path) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"first")
    first = _produce(workspace, weights)
    again = _produce(workspace, weights)
    weights.write_bytes(b"second")
    third = _produce(workspace, weights)
    versions = artifacts.show(workspace, "model")
    assert [v.version for v in versions] == [0, 1]
    assert [p["run_id"] for p in versions[0].produced_by] == [first, again]
    assert [p["run_id"] for p in versions[1].produced_by] == [third]
    [summary] = artifacts.list_artifacts(workspace)
    assert (summary.name, summary.kind, summary.versions, summary.latest) == ("model", "model", 2, 1)


def test_lineage_both_ways_and_use_returns_a_loadable_path(workspace: Workspace, tmp_path: Path) -> None:
    data = tmp_path / "tokens.txt"
    data.write_text("hello tokens")
    producer = _produce(workspace, data, name="tokens", kind="dataset")
    with _run(workspace, "consume") as run:
        local = run.use_artifact("tokens:v0")
        assert Path(local).read_text() == "hello tokens"
        assert Path(local).name == "tokens.txt"
    workspace.ingest()
    [version] = artifacts.show(workspace, "tokens")
    assert [u["run_id"] for u in version.used_by] == [run.id]
    assert artifacts.for_run(workspace, run.id)["used"][0].label == "tokens:v0"
    assert artifacts.for_run(workspace, producer)["produced"][0].label == "tokens:v0"


def test_a_folder_is_a_manifest_and_comes_back_whole(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "ckpt"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"width": 16}')
    (folder / "sub" / "weights.bin").write_bytes(os.urandom(3000))
    os.chmod(folder / "sub" / "weights.bin", 0o600)
    os.symlink("sub/weights.bin", folder / "latest.bin")  # inside: kept as a link
    _produce(workspace, folder)
    version = artifacts.find(workspace, "model:latest")
    assert version.folder
    assert [f["path"] for f in version.files] == ["config.json", "latest.bin", "sub/weights.bin"]
    version, target = artifacts.save(workspace, "model:v0", tmp_path / "out")
    assert (target / "config.json").read_text() == '{"width": 16}'
    assert (target / "sub" / "weights.bin").read_bytes() == (folder / "sub" / "weights.bin").read_bytes()
    assert os.readlink(target / "latest.bin") == "sub/weights.bin"
    assert (target / "sub" / "weights.bin").stat().st_mode & 0o777 == 0o600
    _, inside = artifacts.save(workspace, "model:v0", target)  # a folder there: saved into it, as cp does
    assert inside == target / "model" and (inside / "config.json").exists()
    with pytest.raises(BadInput, match="already exists"):
        artifacts.save(workspace, "model:v0", target)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_a_link_out_of_the_folder_is_never_followed(workspace: Workspace, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("ssh key")
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"a")
    os.symlink(secret, folder / "leak")
    with _run(workspace) as run, pytest.raises(BadInput, match="outside it"):
        run.artifact(folder, name="model")
    (folder / "leak").unlink()
    os.symlink("../secret.txt", folder / "leak")
    with _run(workspace) as run, pytest.raises(BadInput, match="outside it"):
        run.artifact(folder, name="model")
    workspace.ingest()
    assert artifacts.list_artifacts(workspace) == []
    assert b"ssh key" not in b"".join(p.read_bytes() for p in (workspace.home / "blobs").rglob("*") if p.is_file())


def test_save_of_a_file_and_of_an_unknown_one(workspace: Workspace, tmp_path: Path, cli: CLI) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"w" * 100)
    _produce(workspace, weights)
    out = cli.ok("save", "model:v0", str(tmp_path / "saved.bin"))
    assert "model:v0" in out
    assert (tmp_path / "saved.bin").read_bytes() == b"w" * 100
    for ref, message in (("model:v7", "no version v7"), ("nothing:latest", "no artifact named")):
        result = cli("save", ref, str(tmp_path / "x"))
        assert result.exit_code == 1 and message in result.stderr
    with _run(workspace) as run, pytest.raises(NotFound):
        run.use_artifact("nothing")


def test_a_version_is_named_by_its_digest_too(workspace: Workspace, tmp_path: Path, cli: CLI) -> None:
    """NAME@DIGEST names a version by content: the same on every machine, and the way to name
    someone else's (their numbers are theirs alone: test_attack20.py)."""
    weights = tmp_path / "weights.bin"
    for content in (b"first", b"second"):
        weights.write_bytes(content)
        _produce(workspace, weights)
    first, second = artifacts.show(workspace, "model")
    assert artifacts.find(workspace, f"model@{first.digest[:6]}").version == 0
    assert artifacts.find(workspace, f"model@{second.digest.upper()}").version == 1
    out = cli.ok("save", f"model@{first.digest[:10]}", str(tmp_path / "first.bin"))
    assert "model:v0" in out and (tmp_path / "first.bin").read_bytes() == b"first"
    shown = json.loads(cli.ok("artifact", "show", f"model@{second.digest[:8]}", "--json"))
    assert [v["label"] for v in shown["versions"]] == ["model:v1"]
    weights.write_bytes(b"third")
    with _run(workspace) as run:
        stored = run.artifact(weights, name="model")
    with _run(workspace, "consume") as run:  # the ref a run is given names it at once, before any ingest
        assert Path(run.use_artifact(stored["ref"])).read_bytes() == b"third"
    third = artifacts.find(workspace, "model:v2")
    assert stored["ref"] == f"model@{third.digest[:12]}" == third.label.replace(":v2", f"@{third.digest[:12]}")
    for ref, message in ((f"model@{'0' * 40}", "whose digest starts"), ("model@12345", "6 to 64 hex digits"),
                         ("model@xyzxyz", "6 to 64 hex digits"), ("model:v1@abcdef", "artifact name")):
        result = cli("save", ref, str(tmp_path / "x"))
        assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.stderr, ref
    assert "model:v0  purged" in cli.ok("artifact", "purge", f"model@{first.digest[:8]}", "--yes")
    assert artifacts.find(workspace, "model:v0").purged_at and not artifacts.find(workspace, "model:v1").purged_at


def test_purge_frees_the_bytes_and_keeps_a_tombstone(workspace: Workspace, tmp_path: Path, cli: CLI) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"to be purged")
    _produce(workspace, weights)
    sha = artifacts.find(workspace, "model:v0").files[0]["sha256"]
    assert workspace.blobs.path(sha).exists()
    bare = cli("artifact", "purge", "model", "--yes")  # a name alone is not guessed, even with --yes
    assert bare.exit_code == 1 and "needs a version" in bare.stderr and "model:v0" in bare.stderr
    assert workspace.blobs.path(sha).exists() and not artifacts.find(workspace, "model:v0").purged_at
    refused = cli("artifact", "purge", "model:v0")  # not at a terminal, and no --yes: nothing lost
    assert refused.exit_code == 1 and "needs confirmation" in refused.stderr
    assert refused.stderr.count("\n") == 1 and workspace.blobs.path(sha).exists()
    out = cli.ok("artifact", "purge", "model:v0", "--yes")
    assert "purged" in out
    assert not workspace.blobs.path(sha).exists()
    version = artifacts.find(workspace, "model:v0")
    assert version.purged_at and version.files  # the tombstone keeps what it was
    result = cli("save", "model:v0", str(tmp_path / "back"))
    assert result.exit_code == 1 and "was purged" in result.stderr
    again = cli("artifact", "purge", "model:v0")  # said before asking: nothing to confirm
    assert again.exit_code == 1 and "already purged" in again.stderr
    shown = json.loads(cli.ok("artifact", "show", "model", "--json"))
    assert shown["versions"][0]["purged_at"]


def test_a_large_file_streams(workspace: Workspace, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    with open(big, "wb") as out:
        for _ in range(48):  # 48 MB: a whole-file read would show as ≥ 48 MB at peak
            out.write(block)
    with _run(workspace) as run:
        tracemalloc.start()
        run.artifact(big, name="big")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 8 << 20, peak
    workspace.ingest()
    tracemalloc.start()
    artifacts.save(workspace, "big:v0", tmp_path / "back.bin")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 << 20, peak
    assert (tmp_path / "back.bin").stat().st_size == 48 << 20


def test_cli_lists_and_shows_lineage(workspace: Workspace, tmp_path: Path, cli: CLI) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"w")
    producer = _produce(workspace, weights)
    with _run(workspace, "eval") as run:
        run.use_artifact("model")
    listed = json.loads(cli.ok("artifacts", "--json"))
    assert [(a["name"], a["versions"]) for a in listed] == [("model", 1)]
    assert "model" in cli.ok("artifacts")
    shown = cli.ok("artifact", "show", "model")
    assert "v0" in shown and producer[:6].lower() in shown.lower() or "train" in shown
    assert "eval" in shown


def test_web_pages_show_versions_and_lineage(workspace: Workspace, tmp_path: Path) -> None:
    from webserver import serve

    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"w")
    producer = _produce(workspace, weights)
    with _run(workspace, "eval") as run:
        run.use_artifact("model:v0")
    workspace.ingest()
    with serve(workspace.home, workspace.db_url) as server:
        client = server.client()
        listed = client.get("/artifacts.json").json()
        assert [a["name"] for a in listed["artifacts"]] == ["model"]
        page = client.get("/artifacts/model.json").json()
        [version] = page["versions"]
        assert version["label"] == "model:v0" and version["bytes_here"]
        assert [r["run_id"] for r in version["produced_by"]] == [producer]
        assert [r["run_id"] for r in version["used_by"]] == [run.id]
        html = client.get("/artifacts/model").text
        assert "model:v0" in html and "eval" in html
        shown = client.get(f"/runs/{run.id}.json").json()
        assert [v["label"] for v in shown["artifacts"]["used"]] == ["model:v0"]
        assert 'href="/artifacts/model#v0"' in client.get(f"/runs/{run.id}").text
        assert client.get("/artifacts/nothing.json").status_code == 404


def test_doctor_counts_an_artifacts_files_as_used_and_backups_keep_them(workspace: Workspace, tmp_path: Path,
                                                                       cli: CLI) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"kept by the artifact only")
    _produce(workspace, weights)
    assert "used by no entry" not in cli("doctor").output
    exported = json.loads(cli.ok("export"))
    assert [row["name"] for row in exported["tables"]["artifacts"]] == ["model"]
