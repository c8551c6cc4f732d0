"""Durable file writes (upstack.files): whole or not at all, no temporary file left, one blob
writer for the workspace's store and a run's folder, and no other module renaming files into place."""

from __future__ import annotations

import ast
import errno
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import upstack
from upstack.faults import describe
from upstack.files import atomic_path, blob_path, store_blob, write_atomically
from upstack.formats.rundir import RunFiles
from upstack.services import tree as tree_service
from upstack.store.blobs import BlobStore
from upstack.workspace import Workspace

SRC = Path(upstack.__file__).resolve().parent  # the package as imported


def _refuse(number: int) -> Callable[..., None]:
    """A system call failing as the kernel fails it: naming the file it was given a name of."""
    def refuse(*args: object) -> None:
        named = args and isinstance(args[0], str | Path)
        raise OSError(number, os.strerror(number), str(args[0]) if named else None)

    return refuse


# -- a file replaced whole ----------------------------------------------------------------------

def test_write_replaces_the_file_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "focus"
    write_atomically(target, "old\n")
    write_atomically(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert os.listdir(tmp_path) == ["focus"]


@pytest.mark.parametrize("failure", ["source", "fsync", "replace"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path: Path, failure: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "export.json"
    target.write_text("old")
    if failure == "fsync":
        monkeypatch.setattr(os, "fsync", _refuse(errno.ENOSPC))
    if failure == "replace":
        monkeypatch.setattr(os, "replace", _refuse(errno.EROFS))

    def write(tmp: Path) -> None:
        tmp.write_text("new, half of it")
        if failure == "source":
            raise RuntimeError("the source failed half-way")

    with pytest.raises((OSError, RuntimeError)) as raised, atomic_path(target) as tmp:
        write(tmp)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["export.json"]
    if isinstance(raised.value, OSError):  # said of the file being written, in one line (upstack.faults)
        reason = "no space left on the disk" if failure == "fsync" else "the file system is read-only"
        assert describe(raised.value, None) is not None
        assert str(describe(raised.value, None)).startswith(f"cannot write {target}: {reason}; the log is as it was")


def test_a_file_that_cannot_be_made_names_the_target(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder" / "review.md"
    with pytest.raises(FileNotFoundError) as raised:
        write_atomically(missing, "text")
    assert raised.value.filename == str(missing)


def test_a_reader_sees_the_old_file_or_the_new_one_never_a_mix(tmp_path: Path) -> None:
    target = tmp_path / "big"
    contents = [b"a" * 2_000_000, b"b" * 2_000_000]
    write_atomically(target, contents[0])
    done = threading.Event()
    seen: set[bytes] = set()

    def read() -> None:
        while not done.is_set():
            data = target.read_bytes()
            seen.add(data[:1] + str(len(data)).encode() if data in contents else b"partial")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for number in range(20):
            write_atomically(target, contents[number % 2])
    finally:
        done.set()
        reader.join()
    assert b"partial" not in seen
    assert os.listdir(tmp_path) == ["big"]


def test_permissions_are_as_asked_less_the_umask(tmp_path: Path) -> None:
    secret, plain = tmp_path / "remote.json", tmp_path / "review.md"
    write_atomically(secret, "{}", permissions=0o600)
    write_atomically(plain, "text")
    umask = os.umask(0)
    os.umask(umask)
    assert secret.stat().st_mode & 0o777 == 0o600
    assert plain.stat().st_mode & 0o777 == 0o666 & ~umask


def test_without_overwrite_the_first_writer_wins(tmp_path: Path) -> None:
    target = tmp_path / "workspace.id"
    write_atomically(target, "first\n", overwrite=False)
    with pytest.raises(FileExistsError) as raised:
        write_atomically(target, "second\n", overwrite=False)
    assert raised.value.filename == str(target)
    assert target.read_text() == "first\n"
    assert os.listdir(tmp_path) == ["workspace.id"]


# -- blobs --------------------------------------------------------------------------------------

def _blob_writers(tmp_path: Path, data: bytes) -> dict[str, tuple[Callable[[], str], Path, bool]]:
    """Each way a blob is written: (write ``data``, the folder, nested)."""
    run = RunFiles(tmp_path / "run")
    store = BlobStore(tmp_path / "blobs")
    source = tmp_path / "figure.png"
    source.write_bytes(data)
    return {"run folder": (lambda: run.put_blob(data), run.blobs, False),
            "store bytes": (lambda: store.put_bytes(data), store.directory, True),
            "store file": (lambda: store.put_file(source)[0], store.directory, True)}


@pytest.mark.parametrize("writer", ["run folder", "store bytes", "store file"])
def test_two_writers_of_one_blob_at_once_both_succeed(tmp_path: Path, writer: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Both have written their copy before either renames it (they meet at their first fsync)."""
    data = os.urandom(300_000)
    put, folder, nested = _blob_writers(tmp_path, data)[writer]
    meet = threading.Barrier(2, timeout=10)
    local = threading.local()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if not getattr(local, "met", False):
            local.met = True
            meet.wait()
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    answers: list[object] = []

    def write() -> None:
        try:
            answers.append(put())
        except Exception as exc:  # noqa: BLE001 - reported below
            answers.append(exc)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sha = hashlib.sha256(data).hexdigest()
    assert answers == [sha, sha]
    assert blob_path(folder, sha, nested=nested).read_bytes() == data
    leftovers = [p for p in folder.rglob(".*") if p.name != ".lock"]
    assert leftovers == []


def test_a_blob_already_there_is_not_written_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = store_blob(tmp_path, b"figure", nested=True)
    monkeypatch.setattr(os, "open", _refuse(errno.ENOSPC))  # a full disk: nothing could be written now
    assert store_blob(tmp_path, b"figure", nested=True) == stored


def test_a_run_folder_blob_that_cannot_be_renamed_leaves_no_temporary_file(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    files = RunFiles(tmp_path / "run")
    monkeypatch.setattr(os, "replace", _refuse(errno.EROFS))
    with pytest.raises(OSError):
        files.put_blob(b"a figure")
    assert list(files.blobs.iterdir()) == []


def test_focus_that_cannot_be_set_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(home=tmp_path / "home")
    try:
        node = tree_service.add_node(ws, "project", "interpretability")
        before = sorted(os.listdir(ws.home))
        monkeypatch.setattr(os, "replace", _refuse(errno.ENOSPC))
        with pytest.raises(OSError):
            tree_service.set_focus(ws, node.id)
        assert sorted(os.listdir(ws.home)) == before
    finally:
        ws.close()


# -- one helper ---------------------------------------------------------------------------------

# Renames that move something already whole, rather than write a file: (module, function) -> why.
MOVES = {
    ("formats/journal.py", "take"): "the live journal is renamed out of its writers' way for ingest",
    ("services/maintenance.py", "_backup_into"): "a finished backup folder is moved into place",
    ("web/site.py", "build"): "a finished website folder is moved into place (the old one back if that fails)",
}
_MODULE_CALLS = {("os", "replace"), ("os", "rename"), ("os", "renames"), ("os", "link"), ("shutil", "move")}


def _renames(tree: ast.AST) -> list[tuple[str, int]]:
    """(enclosing function, line) of each call that renames or links a file into place."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            module_call = isinstance(owner, ast.Name) and (owner.id, node.func.attr) in _MODULE_CALLS
            # Path.replace(target) and Path.rename(target) take one argument; str.replace takes two.
            path_call = node.func.attr in ("replace", "rename") and len(node.args) == 1 and not node.keywords
            if module_call or path_call:
                found.append((function, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "")
    return found


def test_only_upstack_files_renames_a_written_file_into_place() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        module = path.relative_to(SRC).as_posix()
        if module == "files.py":
            continue
        for function, line in _renames(ast.parse(path.read_text(), str(path))):
            if (module, function) not in MOVES:
                offenders.append(f"{module}:{line} ({function})")
    assert offenders == [], "write through upstack.files instead: " + ", ".join(offenders)


def test_the_rename_check_finds_what_it_looks_for() -> None:
    code = ("import os\nfrom pathlib import Path\n"
            "def a(tmp, path):\n    os.replace(tmp, path)\n"
            "def b(tmp, path):\n    Path(tmp).replace(path)\n"
            "def c(text):\n    return text.replace('a', 'b')\n")
    assert _renames(ast.parse(code)) == [("a", 4), ("b", 6)]
