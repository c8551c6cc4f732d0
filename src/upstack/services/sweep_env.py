"""What a sweep tells the trial it starts, through one environment variable that ``upstack.run`` reads.

``UPSTACK_SWEEP`` holds JSON: the sweep's id and name, the trial's number and parameters, the node
its runs are filed under, and (for a local sweep) a file to which each run started appends its id,
so that the sweep knows its trials' runs without asking the store. A run inside a trial is filed
under the sweep's node (whatever ``under`` the script passes: the sweep's runs are one group), is
tagged ``sweep/<id>``, and has the trial's parameters in its config where the script's own config
does not set them: the script's value is what its code ran with, so it wins, and a difference is
said on stderr (a script that never reads its arguments shows up at once).

Reading it costs one ``os.environ`` look-up when there is no sweep: only ``json`` is imported.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from upstack.errors import BadInput

__all__ = ["SWEEP_VARIABLE", "SweepTrial", "current_trial", "trial_environment"]

SWEEP_VARIABLE = "UPSTACK_SWEEP"


@dataclass(frozen=True)
class SweepTrial:
    sweep_id: str
    name: str
    index: int
    params: dict[str, Any] = field(default_factory=dict)
    node: str | None = None  # the node (an id, or a reference checked at ingest) its runs go under
    runs_file: str | None = None  # where each run started appends its id (a local sweep only)

    @property
    def tag(self) -> str:
        return f"sweep/{self.sweep_id}"

    def merged_config(self, config: dict[str, Any], warn: Any) -> dict[str, Any]:
        """``config`` with the trial's parameters added where it has none (a dotted name nests:
        ``optim.lr`` is ``{"optim": {"lr": ...}}``); ``warn(line)`` for each that differs."""
        merged = json.loads(json.dumps(config, default=str))  # a copy the parameters can nest into
        for name, value in self.params.items():
            *parents, leaf = name.split(".")
            place = merged
            for part in parents:
                child = place.setdefault(part, {})
                if not isinstance(child, dict):
                    place = None
                    break
                place = child
            if place is None:
                continue  # the script's config has a plain value where the name nests: the script's wins
            if leaf not in place:
                place[leaf] = value
            elif not _same(place[leaf], value):
                warn(f"upstack: sweep {self.name!r} trial {self.index} set {name}={value!r} but the run's "
                     f"config says {place[leaf]!r}; the config keeps the script's value (does the script read "
                     f"--{name}?)")
        return merged

    def note_run(self, run_id: str) -> None:
        """Tell the sweep this trial started run ``run_id`` (a line appended; never fatal)."""
        if not self.runs_file:
            return
        try:
            with open(self.runs_file, "a", encoding="utf-8") as out:
                out.write(run_id + "\n")
        except OSError:
            pass  # the sweep finds the run by its tag all the same (`upstack runs --under`)

    def to_json(self) -> str:
        data: dict[str, Any] = {"id": self.sweep_id, "name": self.name, "trial": self.index, "params": self.params}
        if self.node:
            data["node"] = self.node
        if self.runs_file:
            data["runs_file"] = self.runs_file
        return json.dumps(data)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return float(a) == float(b)
    return bool(a == b) or str(a) == str(b)


def current_trial(environ: Any = None) -> SweepTrial | None:
    """The trial this process runs for a sweep, or None (the usual case: no variable set)."""
    text = (os.environ if environ is None else environ).get(SWEEP_VARIABLE)
    if not text:
        return None
    try:
        data = json.loads(text)
        return SweepTrial(sweep_id=str(data["id"]), name=str(data.get("name", data["id"])),
                          index=int(data.get("trial", 0)), params=dict(data.get("params") or {}),
                          node=data.get("node") or None, runs_file=data.get("runs_file") or None)
    except (ValueError, KeyError, TypeError):
        raise BadInput(f"{SWEEP_VARIABLE} is not a sweep's trial (JSON with id, trial, params); unset it "
                       "to run outside a sweep") from None


def trial_environment(trial: SweepTrial, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a trial's process starts with: ``base`` (default this one's) and the variable."""
    return {**(os.environ if base is None else base), SWEEP_VARIABLE: trial.to_json()}
