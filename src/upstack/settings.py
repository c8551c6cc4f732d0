"""Every setting in one typed registry: name, default, help.

Precedence: an explicit argument, then the environment (``UPSTACK_<NAME>``), then
``$XDG_CONFIG_HOME/upstack/config.toml``, then the default. There are no secrets
among the defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstack.errors import BadInput

__all__ = ["Setting", "SETTINGS", "Settings", "default_home", "config_path"]


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "UPSTACK_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("home", None, "Workspace directory (default $XDG_DATA_HOME/upstack)."),
    Setting("db", None, "Database URL; default is SQLite in the workspace. postgresql://... for a server."),
    Setting("editor", None, "Editor for `note` and `edit` (default $VISUAL, $EDITOR, then vi)."),
    Setting("check_days", 7, "`upstack check`: how many recent days of entries to look at."),
    Setting("stale_weeks", 4, "`upstack check`: weeks without activity before a project is stale."),
    Setting("active_projects", 1, "How many projects may be active at once."),
    Setting("min_commitment_days", 14,
            "Days an active project, question or idea gets before it can be dropped or pruned."),
    Setting("stuck_days", 7, "Days without a new learning before an active project counts as stuck."),
    Setting("run_dir", None,
            "Where runs write their files (default: runs/ in the workspace). On a cluster, a local or "
            "scratch folder that `upstack ingest` reads later."),
    Setting("run_flush_seconds", 1.0,
            "How often a run makes its metrics durable: the most a killed run can lose."),
    Setting("run_heartbeat_seconds", 10.0,
            "The longest a live run goes without saying it is alive (it also says so at every flush)."),
    Setting("run_unwritten_points", 4_000_000,
            "Most metric points a run keeps in memory while its disk refuses them (full, say); beyond, "
            "the oldest are dropped, and the run's status says how many."),
    Setting("run_live_seconds", 10.0,
            "In a workspace linked to a team server (`upstack login`), how often a run sends what it "
            "logged to the server; 0 sends nothing while it runs (`upstack sync` sends it later)."),
    Setting("run_crashed_after", 120.0,
            "Seconds without a heartbeat after which a run that never ended is marked crashed."),
    Setting("run_capture", "all",
            "What runs capture: all, none, or a comma-separated list of git, diff, command, python, "
            "packages, host, gpu, env."),
    Setting("run_diff_limit", 1_000_000, "Largest uncommitted diff a run stores, in bytes (cut beyond, with a note)."),
    Setting("run_env", "", "Extra environment variables runs record (comma-separated names)."),
    Setting("trusted_proxies", "",
            "A team server's TLS proxy: addresses (or networks) whose X-Forwarded-For and "
            "X-Forwarded-Proto headers are believed, comma-separated; nobody's by default."),
    Setting("session_idle_minutes", 480,
            "A team server's browser session ends after this many minutes without a request."),
    Setting("redact", "",
            "Extra secret patterns (regular expressions, separated by whitespace) redacted from what runs capture."),
    # What one member of a team server may cost it (see upstack.limits for the limits on a single query).
    Setting("user_requests", 2,
            "On a team server, how many requests one member may have running at once (more are answered 429): "
            "fewer than the server's 4 handler threads, so one member never holds them all."),
    Setting("user_seconds", 2,
            "On a team server, the seconds of work one member's requests may take in any 10 seconds (more are "
            "answered 429, saying when to try again): a fifth of one handler thread, the rest kept for "
            "everyone else."),
    Setting("user_quota_mb", 10_000,
            "On a team server, the megabytes one member may store: files they upload or attach, and their "
            "runs' metric points (24 bytes each); beyond it a push or upload is answered 413. 0: no quota."),
    Setting("user_max_runs", 10_000, "On a team server, how many runs one member may log there (413 beyond)."),
    Setting("run_max_metrics", 1_000, "On a team server, how many metrics one run may log (413 beyond)."),
    Setting("entry_max_files", 100, "On a team server, how many files one entry may have attached (413 beyond)."),
)


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "upstack" / "config.toml"


def default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(base) / "upstack"


def _read_config_file() -> dict[str, Any]:
    path = config_path()
    if not path.exists():
        return {}
    import tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BadInput(f"cannot read config file {path}: {exc}") from None


class Settings:
    """Resolved settings; attribute access by setting name."""

    def __init__(self, **explicit: Any) -> None:
        known = {s.name for s in SETTINGS}
        unknown = set(explicit) - known
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        file_values: dict[str, Any] | None = None
        self._values: dict[str, Any] = {}
        for setting in SETTINGS:
            value = explicit.get(setting.name)
            if value is None:
                value = os.environ.get(setting.env) or None
            if value is None:
                if file_values is None:
                    file_values = _read_config_file()
                value = file_values.get(setting.name)
            self._values[setting.name] = setting.default if value is None else value

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def number(self, name: str, *, zero: bool = False) -> float:
        """A setting that must be a number above zero (or zero too, where zero turns something off)."""
        value = self._values[name]
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise BadInput(f"setting {name} must be a number, got {value!r}") from None
        if not (number >= 0 if zero else number > 0):
            raise BadInput(f"setting {name} must be {'zero or more' if zero else 'above zero'}, got {value!r}")
        return number

    @property
    def home_path(self) -> Path:
        home = self._values["home"]
        return Path(home).expanduser() if home else default_home()
