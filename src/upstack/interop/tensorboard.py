"""TensorBoard's event files, read for `upstack import tensorboard`.

A logdir holds one run per folder that has ``events.out.tfevents.*`` files in it (the logdir itself
too); a run's files are read oldest first (their names start with the time they were opened), so a
job that was restarted into the same folder is one run. Scalars become metrics with every point's
step and wall time; the hparams plugin's session start (what ``add_hparams`` and Keras's
``hp.KerasCallback`` write) becomes the run's config, and its session end the run's status.
TensorBoard keeps no status or end of its own otherwise: such a run is imported as finished at its
last event. Images, histograms, text, audio, graphs and other plugins' data are not imported, and
the report counts them.

Read with TensorBoard's own loader (``tensorboard.backend.event_processing.event_file_loader``,
which works without TensorFlow and checks every record's CRC), an optional extra:
``pip install 'upstack[tensorboard]'``. Nothing of it is imported unless a TensorBoard import runs.
"""

from __future__ import annotations

import os
import re
from array import array
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from upstack.domain.tracker import TrackerRun, iso_from_epoch
from upstack.errors import BadInput

__all__ = ["tensorboard_runs", "looks_like_tensorboard", "event_files"]

_EVENTS = re.compile(r"events\.out\.tfevents\.")
_HPARAM_STATUS = {1: "finished", 2: "failed", 3: "crashed"}


def event_files(logdir: Path) -> dict[Path, list[Path]]:
    """Each run folder under ``logdir`` (itself included) with its event files, oldest first."""
    runs: dict[Path, list[Path]] = {}
    if logdir.is_file():
        return {logdir.parent: [logdir]} if _EVENTS.match(logdir.name) else {}
    for root, dirs, names in os.walk(logdir):
        dirs.sort()
        files = sorted(Path(root) / n for n in names if _EVENTS.match(n))
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
    """How many runs the logdir holds, and the runs one at a time."""
    if not path.exists():
        raise BadInput(f"no such file or folder: {path}")
    runs = event_files(path)
    if not runs:
        raise BadInput(f"{path} holds no TensorBoard event files (events.out.tfevents.*)")
    loader = _library()
    root = path if path.is_dir() else path.parent
    return len(runs), (_run(loader, root, folder, files) for folder, files in runs.items())


def _run(loader: Any, root: Path, folder: Path, files: list[Path]) -> TrackerRun:
    from tensorboard.compat import tf  # TensorFlow's errors when it is installed, else TensorBoard's stub's
    from tensorboard.plugins.hparams import metadata as hparams
    from tensorboard.util import tensor_util

    relative = folder.relative_to(root).as_posix()
    name = root.name if relative == "." else relative
    series: dict[str, tuple[array, array, array]] = {}
    skipped: Counter[str] = Counter()
    config: dict[str, Any] = {}
    status, ended = "finished", None
    first = last = None
    for file in files:
        try:
            for event in loader.EventFileLoader(str(file)).Load():
                first = event.wall_time if first is None else min(first, event.wall_time)
                last = event.wall_time if last is None else max(last, event.wall_time)
                for value in event.summary.value:
                    plugin = value.metadata.plugin_data.plugin_name
                    if plugin == "scalars":
                        steps, times, values = series.setdefault(value.tag, (array("q"), array("d"), array("d")))
                        steps.append(event.step)
                        times.append(event.wall_time)
                        values.append(float(tensor_util.make_ndarray(value.tensor).item()))
                    elif plugin == "hparams":
                        content = value.metadata.plugin_data.content
                        if value.tag == hparams.SESSION_START_INFO_TAG:
                            start = hparams.parse_session_start_info_plugin_data(content)
                            config.update({k: _hparam(v) for k, v in start.hparams.items()})
                        elif value.tag == hparams.SESSION_END_INFO_TAG:
                            end = hparams.parse_session_end_info_plugin_data(content)
                            status = _HPARAM_STATUS.get(end.status, status)
                            ended = end.end_time_secs or None
                    else:
                        skipped[plugin or "other"] += 1
        except (tf.errors.OpError, OSError, ValueError) as exc:  # a damaged or cut-short file; DecodeError is a ValueError
            raise BadInput(f"cannot read {file}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") \
                from None
    if first is None:
        raise BadInput(f"{files[0]} holds no events")
    run = TrackerRun(tool="tensorboard", source_id=f"{relative}\0{files[0].name}", name=name,
                     started_at=iso_from_epoch(first), ended_at=iso_from_epoch(ended or last or first),
                     status=status, config=config, metrics=series, where=str(folder))
    if status == "crashed":
        run.error = "TensorBoard's hparams had it as running when it was imported: it never ended"
    run.not_imported = [f"{count} {plugin} value{'' if count == 1 else 's'}"
                        for plugin, count in sorted(skipped.items())]
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
