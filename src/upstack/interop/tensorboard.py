"""TensorBoard's event files, read for `upstack import tensorboard`.

A logdir holds one run per folder that has ``events.out.tfevents.*`` files in it (the logdir itself
too); a run's files are read in the order they were opened, so a job that was restarted into the same
folder is one run, and that run is known by its folder and its first file (its name and when it was
opened) however many files the folder gains (``_oldest_first``). A first file written over (what
tensorboardX does opening one in the same second on the same host) is another run's first file.
Scalars become metrics with every point's step and wall time; the hparams plugin's session start
(what ``add_hparams`` and Keras's ``hp.KerasCallback`` write) becomes the run's config, and its
session end the run's status.
TensorBoard keeps no status or end of its own otherwise: such a run is imported as finished at its
last event. Images, histograms, text, audio, graphs and other plugins' data are not imported, and
the report counts them.

Read with TensorBoard's own loader (``tensorboard.backend.event_processing.event_file_loader``,
which works without TensorFlow and checks every record's CRC), an optional extra:
``pip install 'upstack[tensorboard]'``. Nothing of it is imported unless a TensorBoard import runs.
"""

from __future__ import annotations

import math
import os
import re
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upstack.domain.tracker import EARLIEST_EPOCH, LATEST_EPOCH, TrackerRun, iso_from_epoch
from upstack.errors import BadInput

__all__ = ["tensorboard_runs", "looks_like_tensorboard", "event_files"]

_EVENTS = re.compile(r"events\.out\.tfevents\.")
_OPENED = re.compile(r"events\.out\.tfevents\.(\d+)")  # the second the writer opened it, in its name
_HPARAM_STATUS = {1: "finished", 2: "failed", 3: "crashed"}


def _plain_file(path: Path) -> bool:
    """A regular file, not a link (as interop.common.readable_file takes one: a link named like an event
    file could read anything the importer may read into a run that sync shares)."""
    return path.is_file() and not path.is_symlink()


def event_files(logdir: Path) -> dict[Path, list[Path]]:
    """Each run folder under ``logdir`` (itself included) with its event files, by name. Folders are
    not entered through links (a link to a folder above would be walked forever), and an event file is
    a file: a FIFO or a link named like one would be waited on, fail the whole import, or read a file from
    outside the folder."""
    runs: dict[Path, list[Path]] = {}
    if logdir.is_file():
        return {logdir.parent: [logdir]} if _EVENTS.match(logdir.name) else {}
    for root, dirs, names in os.walk(logdir):
        dirs.sort()
        files = sorted(Path(root) / n for n in names if _EVENTS.match(n) and _plain_file(Path(root) / n))
        if files:
            runs[Path(root)] = files
    return runs


def looks_like_tensorboard(path: Path) -> bool:
    return bool(event_files(path))


def _library() -> Any:
    try:
        from tensorboard.backend.event_processing import event_file_loader
    except ImportError:
        raise BadInput("importing TensorBoard event files needs TensorBoard's reader: "
                       "pip install 'upstack[tensorboard]'") from None
    return event_file_loader


def tensorboard_runs(path: Path) -> tuple[int, Iterator[TrackerRun]]:
    """How many run folders the logdir holds, and the runs one at a time.

    A folder that holds only hparams (what ``add_hparams`` of tensorboardX and of torch writes: a
    folder of its own inside the run's) is read as part of the run whose folder holds it.
    """
    if not path.exists():
        raise BadInput(f"no such file or folder: {path}")
    runs = event_files(path)
    if not runs:
        raise BadInput(f"{path} holds no TensorBoard event files (events.out.tfevents.*)")
    loader = _library()
    root = path if path.is_dir() else path.parent
    return len(runs), _runs(loader, root, runs)


def _runs(loader: Any, root: Path, runs: dict[Path, list[Path]]) -> Iterator[TrackerRun]:
    merged: set[Path] = set()
    for folder, files in runs.items():
        if folder in merged:
            continue
        run = _read(loader, files)
        for child, child_files in runs.items():
            if child.parent == folder:
                inner = _read(loader, child_files)
                if inner.config and not set(inner.metrics) & set(run.metrics):
                    run.config.update(inner.config)
                    run.metrics.update(inner.metrics)
                    run.skipped.update(inner.skipped)
                    run.status, run.ended = inner.status if inner.ended else run.status, inner.ended or run.ended
                    merged.add(child)
        yield _tracker_run(root, folder, run)


@dataclass
class _Folder:
    """What one run folder's event files hold."""

    metrics: dict[str, tuple[array, array, array]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    status: str = "finished"
    ended: float | None = None
    first: float | None = None  # the earliest wall time in its first file: when the run started
    last: float | None = None
    opened_by: str = ""  # the name of its first file: with its folder, what names the run
    opened_at: float = math.inf  # and when that file was opened (its first event), to the microsecond


def _read(loader: Any, files: list[Path]) -> _Folder:
    read = _Folder()
    files = _oldest_first(loader, files)
    read.opened_by, read.opened_at = files[0].name, _first_wall_time(loader, files[0])
    earliest: float | None = None
    for file in files:
        try:
            for event in _events(loader, file):
                earliest = event.wall_time if earliest is None else min(earliest, event.wall_time)
                read.last = event.wall_time if read.last is None else max(read.last, event.wall_time)
                for value in event.summary.value:
                    _take(read, event, value)
        except (OSError, ValueError) as exc:  # protobuf's DecodeError is a ValueError
            raise BadInput(f"cannot read {file}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") \
                from None
        if file is files[0]:
            read.first = earliest  # what later files hold (another start's points) never moves it
    if earliest is None:
        raise BadInput(f"{files[0]} holds no events")
    read.first = earliest if read.first is None else read.first
    return read


def _oldest_first(loader: Any, files: list[Path]) -> list[Path]:
    """A folder's event files in the order their writers opened them: by the second their names give,
    then by their first event's wall time (the ``file_version`` event a writer writes as it opens the
    file, to the microsecond), then by name. By name alone a file opened later in the same second could
    come first (another host, a smaller process id, a suffix) and the run read again would be another."""
    def opened(file: Path) -> tuple[float, float, str]:
        named = _OPENED.match(file.name)
        return float(named.group(1)) if named else math.inf, _first_wall_time(loader, file), file.name

    return sorted(files, key=opened)


def _first_wall_time(loader: Any, file: Path) -> float:
    from tensorboard.compat.proto import event_pb2

    try:
        for record in loader.RawEventFileLoader(str(file)).Load():
            return float(event_pb2.Event.FromString(record).wall_time)
    except (OSError, ValueError):  # reading it whole says what is wrong with it
        pass
    return math.inf


def _events(loader: Any, file: Path) -> Iterator[Any]:
    """The file's events as TensorBoard's ``EventFileLoader`` gives them (its read-time compat layers
    applied), checked to the end: the loader stops quietly at a damaged or cut-short record (it is made
    for files still being written), which in a history being imported would lose the rest unsaid."""
    from tensorboard import data_compat, dataclass_compat
    from tensorboard.compat.proto import event_pb2

    size = file.stat().st_size
    used = 0
    initial: dict[str, Any] = {}
    for record in loader.RawEventFileLoader(str(file)).Load():
        used += len(record) + 16  # length (8), its CRC (4), the record, its CRC (4)
        yield from dataclass_compat.migrate_event(data_compat.migrate_event(event_pb2.Event.FromString(record)),
                                                  initial)
    if used != size:
        raise ValueError(f"a damaged or cut-short record at byte {used} of {size}; nothing was imported")


def _take(read: _Folder, event: Any, value: Any) -> None:
    from tensorboard.plugins.hparams import metadata as hparams
    from tensorboard.util import tensor_util

    plugin = value.metadata.plugin_data.plugin_name
    if plugin == "scalars":
        steps, times, values = read.metrics.setdefault(value.tag, (array("q"), array("d"), array("d")))
        if not EARLIEST_EPOCH <= event.wall_time <= LATEST_EPOCH:  # NaN too
            raise BadInput(f"a time of {event.wall_time!r} seconds since 1970 is out of range (step {event.step})")
        steps.append(event.step)
        times.append(event.wall_time)
        values.append(float(tensor_util.make_ndarray(value.tensor).item()))
    elif plugin == "hparams":
        content = value.metadata.plugin_data.content
        if value.tag == hparams.SESSION_START_INFO_TAG:
            start = hparams.parse_session_start_info_plugin_data(content)
            read.config.update({k: _hparam(v) for k, v in start.hparams.items()})
        elif value.tag == hparams.SESSION_END_INFO_TAG:
            end = hparams.parse_session_end_info_plugin_data(content)
            read.status = _HPARAM_STATUS.get(end.status, read.status)
            read.ended = end.end_time_secs or None
    else:
        read.skipped[plugin or "other"] += 1


def _tracker_run(root: Path, folder: Path, read: _Folder) -> TrackerRun:
    relative = folder.relative_to(root).as_posix()
    first = read.first or 0.0
    run = TrackerRun(tool="tensorboard", source_id=f"{relative}\0{read.opened_by}",
                     source_key=repr(read.opened_at),  # two jobs opened in one second on one host: two runs
                     name=root.name if relative == "." else relative,
                     started_at=iso_from_epoch(first), ended_at=iso_from_epoch(read.ended or read.last or first),
                     status=read.status, experiment=root.name, config=read.config, metrics=read.metrics,
                     where=str(folder.resolve()),
                     not_imported=dict(read.skipped))
    if read.status == "crashed":
        run.error = "TensorBoard's hparams had it as running when it was imported: it never ended"
    return run


def _hparam(value: Any) -> Any:
    """An hparam's value (a protobuf Value) as plain Python."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "bool_value":
        return value.bool_value
    if kind == "string_value":
        return value.string_value
    return None
