"""Where a run came from: git state and diff, command line, Python, packages, host, GPUs, environment.

`collect` never fails because something is missing (no git, not a repository, no
nvidia-smi): each kind it cannot capture is recorded in ``skipped`` with the reason.
Everything captured passes through a `Redactor` first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstack.capture.redact import Redactor
from upstack.errors import BadInput
from upstack.settings import CAPTURE_KINDS

__all__ = ["KINDS", "DEFAULT_ENV", "Provenance", "collect"]

KINDS = CAPTURE_KINDS  # declared with the run_capture setting, which chooses among them
# Environment variables recorded by default; a trailing * makes a prefix.
DEFAULT_ENV = (
    "CUDA_*", "NCCL_*", "SLURM_*", "OMP_*", "MKL_*", "HF_*", "TRANSFORMERS_*", "TORCH*", "WANDB_*",
    "PYTHONHASHSEED", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_DEFAULT_ENV",
)
_TIMEOUT_SECONDS = 10.0
_UNTRACKED_NAMES = 200
_READ_CHUNK = 1 << 20


@dataclass
class Provenance:
    """What `collect` found.

    Attributes:
        data: one JSON-serialisable entry per captured kind, except the diff.
        diff: the uncommitted diff against HEAD, redacted and capped; None when there is no change.
        captured: the kinds captured, in `KINDS` order.
        skipped: kind -> why it was not captured ("turned off", "not a git repository", ...).
    """

    data: dict[str, Any]
    diff: bytes | None
    captured: list[str]
    skipped: dict[str, str]


class _Skip(Exception):
    """A kind cannot be captured here; the message says why."""


def collect(kinds: Collection[str], redactor: Redactor, cwd: Path | None = None, diff_limit: int = 1_000_000,
            env_names: Iterable[str] = DEFAULT_ENV) -> Provenance:
    """Collect the provenance ``kinds`` for the process, with git looked up from ``cwd``.

    Args:
        kinds: which of `KINDS` to capture; the others are skipped as "turned off".
        redactor: removes secrets from everything captured.
        cwd: where to look for the git repository (default: the current directory).
        diff_limit: the most bytes of diff kept; a longer diff is cut with a note.
        env_names: environment variables to record: exact names, or prefixes ending in ``*``.
    """
    wanted = set(kinds)
    unknown = sorted(wanted - set(KINDS))
    if unknown:
        raise BadInput(f"unknown capture kind {unknown[0]!r}: choose from {', '.join(KINDS)}")
    if diff_limit < 0:
        raise BadInput(f"the diff limit must be zero or more bytes, got {diff_limit}")
    found = Provenance(data={}, diff=None, captured=[], skipped={})
    # nvidia-smi can take most of a second to answer: it runs while the rest is collected.
    gpu_query = _start_gpu_query() if "gpu" in wanted else None
    repo = _Repository(Path(cwd) if cwd is not None else Path.cwd())
    for kind in KINDS:
        if kind not in wanted:
            found.skipped[kind] = "turned off"
            continue
        try:
            if kind == "git":
                found.data["git"] = repo.state(redactor)
            elif kind == "diff":
                if "git" not in found.data:
                    raise _Skip(found.skipped["git"] if "git" in wanted else "needs git, which is turned off")
                git = found.data["git"]
                found.diff, size, truncated = repo.diff(redactor, diff_limit, git["commit"])
                git.update(diff_bytes=size, diff_truncated=truncated)
            elif kind == "gpu":
                found.data["gpu"] = _finish_gpu_query(gpu_query)
            else:
                found.data[kind] = _SIMPLE[kind](redactor, env_names)
        except _Skip as reason:
            found.skipped[kind] = str(reason)
        except Exception as exc:  # noqa: BLE001 - a provenance gap must never stop the training run
            found.skipped[kind] = f"failed: {type(exc).__name__}: {exc}"
        else:
            found.captured.append(kind)
    return found


class _Repository:
    """The git repository around a directory, asked through the git command line."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def _git(self, *args: str, stdin: bytes | None = None) -> bytes:
        if shutil.which("git") is None:
            raise _Skip("git not found")
        try:
            done = subprocess.run(["git", *args], cwd=self.cwd, env=_git_env(), input=stdin, capture_output=True,
                                  timeout=_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise _Skip(f"git {args[0]} took more than {_TIMEOUT_SECONDS:g} s") from None
        if done.returncode != 0:
            raise _Skip(_git_problem(done.stderr))
        return done.stdout

    def state(self, redactor: Redactor) -> dict[str, Any]:
        root = self._git("rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape").strip()
        status = self._git("status", "--porcelain=v2", "--branch", "-z", "--untracked-files=normal")
        commit = branch = None
        dirty = False
        untracked: list[str] = []
        fields = iter(status.decode("utf-8", "surrogateescape").split("\0"))
        for field in fields:
            if field.startswith("# branch.oid "):
                commit = field.removeprefix("# branch.oid ")
            elif field.startswith("# branch.head "):
                branch = field.removeprefix("# branch.head ")
            elif field.startswith("? "):
                untracked.append(field[2:])
            elif field[:2] in ("1 ", "2 ", "u "):
                dirty = True
                if field.startswith("2 "):
                    next(fields, None)  # a rename's original path follows in its own field
        remote_name, remote = self._remote()
        return {
            "root": root,
            "commit": None if commit == "(initial)" else commit,
            "branch": None if branch == "(detached)" else branch,
            "remote_name": remote_name,
            "remote": redactor.text(remote) if remote else None,
            "dirty": dirty,
            "untracked": [redactor.text(name) for name in untracked[:_UNTRACKED_NAMES]],
            "untracked_count": len(untracked),
        }

    def _remote(self) -> tuple[str | None, str | None]:
        try:
            listing = self._git("config", "--get-regexp", r"^remote\..*\.url$")
        except _Skip:
            return None, None  # no remote at all: git config exits 1
        urls: dict[str, str] = {}
        for line in listing.decode("utf-8", "surrogateescape").splitlines():
            key, _, url = line.partition(" ")
            urls.setdefault(key.removeprefix("remote.").removesuffix(".url"), url)
        if not urls:
            return None, None
        name = "origin" if "origin" in urls else next(iter(urls))
        return name, urls[name]

    def diff(self, redactor: Redactor, limit: int, commit: str | None) -> tuple[bytes | None, int, bool]:
        """The redacted diff of tracked files against ``commit`` (HEAD as `state` saw it), its size
        before cutting, and whether it was cut."""
        # No commit yet: everything tracked is new, so compare with the empty tree.
        base = commit or self._git("hash-object", "-t", "tree", "--stdin", stdin=b"").decode().strip()
        command = ["git", "-c", "core.quotepath=off", "diff", "--no-ext-diff", "--no-textconv", "--no-color",
                   "--src-prefix=a/", "--dst-prefix=b/", base, "--"]
        # Keep a little more than the limit: redaction may shorten it, and the cut needs a whole line.
        head, size = _read_capped(command, self.cwd, keep=limit + 65_536)
        if size == 0:
            return None, 0, False
        if size > len(head):
            head = head[:head.rfind(b"\n") + 1]  # a half line could hold half a secret
        redacted = redactor.text(head.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        if size == len(head) and len(redacted) <= limit:
            return redacted, size, False
        return _cut(redacted, limit, size), size, True


def _read_capped(command: list[str], cwd: Path, keep: int) -> tuple[bytes, int]:
    """The first ``keep`` bytes of a command's output and its full size, without holding it all."""
    kept = bytearray()
    size = 0
    # stderr is dropped: unread, a flood of warnings would fill its pipe and stall git.
    with subprocess.Popen(command, cwd=cwd, env=_git_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL) as process:
        timer = threading.Timer(_TIMEOUT_SECONDS, process.kill)
        timer.daemon = True
        timer.start()
        try:
            assert process.stdout is not None
            while chunk := process.stdout.read(_READ_CHUNK):
                size += len(chunk)
                if len(kept) < keep:
                    kept += chunk[:keep - len(kept)]
        finally:
            timer.cancel()
    if process.returncode < 0:
        raise _Skip(f"git diff took more than {_TIMEOUT_SECONDS:g} s")
    if process.returncode != 0:
        raise _Skip(f"git diff failed with exit code {process.returncode}")
    return bytes(kept), size


def _git_env() -> dict[str, str]:
    # Plain English messages, no prompts, and no index refresh taking a lock that a
    # concurrent git command of the user's could trip over.
    return {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}


def _cut(diff: bytes, limit: int, size: int) -> bytes:
    """The diff cut at a line boundary so that it and the note fit in ``limit`` bytes."""
    note = f"# upstack: diff cut at {limit:,} of {size:,} bytes (setting run_diff_limit)\n".encode()
    room = max(limit - len(note), 0)
    return diff[:diff.rfind(b"\n", 0, room) + 1] + note


def _git_problem(stderr: bytes) -> str:
    message = stderr.decode("utf-8", "replace").strip()
    if "not a git repository" in message:
        return "not a git repository"
    first = message.splitlines()[0] if message else "no message"
    return f"git failed: {first.removeprefix('fatal: ')}"


def _command(redactor: Redactor, env_names: Iterable[str]) -> dict[str, Any]:
    return {"argv": redactor.argv(getattr(sys, "argv", [])), "cwd": redactor.text(os.getcwd()),
            "executable": sys.executable}


def _python(redactor: Redactor, env_names: Iterable[str]) -> dict[str, Any]:
    import platform  # 8 ms to import: only when provenance is collected

    return {"version": platform.python_version(), "implementation": platform.python_implementation(),
            "executable": sys.executable}


def _packages(redactor: Redactor, env_names: Iterable[str]) -> dict[str, str]:
    """Installed distributions, name -> version; the first found on sys.path wins, as for import.

    This reads the ``*.dist-info`` and ``*.egg-info`` folders on sys.path the way
    importlib.metadata does, without its cost: importing it takes 40 ms and its
    metadata parser half a millisecond a package, where two header lines suffice.
    """
    versions: dict[str, str] = {}
    seen: set[str] = set()
    for entry in sys.path:
        folder = entry or "."
        try:
            names = sorted(os.listdir(folder))
        except OSError:  # a zip file or a folder that does not exist
            continue
        for name in names:
            if name.endswith(".dist-info"):
                found = _name_and_version(os.path.join(folder, name, "METADATA"))
            elif name.endswith(".egg-info"):
                path = os.path.join(folder, name)
                found = _name_and_version(os.path.join(path, "PKG-INFO") if os.path.isdir(path) else path)
            else:
                continue
            if found is not None and _normalized(found[0]) not in seen:
                seen.add(_normalized(found[0]))
                versions[found[0]] = found[1]
    return dict(sorted(versions.items(), key=lambda item: item[0].lower()))


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _name_and_version(path: str) -> tuple[str, str] | None:
    """Name and Version from a metadata file's headers, which come first."""
    name = version = ""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip() or (name and version):
                    break  # the headers end at the first blank line
                if line.startswith("Name:"):
                    name = line[5:].strip()
                elif line.startswith("Version:"):
                    version = line[8:].strip()
    except OSError:
        return None
    return (name, version) if name else None


def _host(redactor: Redactor, env_names: Iterable[str]) -> dict[str, Any]:
    import platform

    available: int | None
    try:
        available = len(os.sched_getaffinity(0))  # what a batch scheduler granted, not the machine
    except (AttributeError, OSError):
        available = os.cpu_count()
    return {"hostname": platform.node(), "platform": platform.platform(),
            "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or None,
            "cpu_count": os.cpu_count(), "cpu_available": available, "memory_bytes": _memory_bytes()}


def _proc_field(path: str, name: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, colon, value = line.partition(":")
                if colon and key.strip() == name:
                    return value.strip()
    except OSError:
        pass
    return None


def _memory_bytes() -> int | None:
    total = _proc_field("/proc/meminfo", "MemTotal")  # "24684096 kB"
    if total and total.endswith(" kB") and total[:-3].strip().isdigit():
        return int(total[:-3]) * 1024
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _start_gpu_query() -> subprocess.Popen[bytes] | str:
    program = shutil.which("nvidia-smi")
    if program is None:
        return "nvidia-smi not found"
    try:
        return subprocess.Popen(
            [program, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C"})
    except OSError as exc:
        return f"nvidia-smi did not start: {exc.strerror or exc}"


def _finish_gpu_query(query: subprocess.Popen[bytes] | str | None) -> list[dict[str, Any]]:
    if query is None or isinstance(query, str):
        raise _Skip(query or "turned off")
    try:
        out, err = query.communicate(timeout=_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        query.kill()
        query.communicate()
        raise _Skip(f"nvidia-smi took more than {_TIMEOUT_SECONDS:g} s") from None
    if query.returncode != 0:
        message = (err or out).decode("utf-8", "replace").strip()
        raise _Skip(f"nvidia-smi failed: {message.splitlines()[0] if message else query.returncode}")
    gpus = []
    for line in out.decode("utf-8", "replace").splitlines():
        if line.strip():
            name, memory, driver = ([part.strip() for part in line.split(",")] + ["", ""])[:3]
            gpus.append({"name": name, "memory_bytes": _mebibytes(memory), "driver_version": driver or None})
    return gpus


def _mebibytes(text: str) -> int | None:
    number, _, unit = text.partition(" ")  # "81920 MiB"
    return int(number) * 1024 * 1024 if number.isdigit() and unit == "MiB" else None


def _env(redactor: Redactor, env_names: Iterable[str]) -> dict[str, str]:
    return redactor.env(os.environ, env_names)


_SIMPLE = {"command": _command, "python": _python, "packages": _packages, "host": _host, "env": _env}
