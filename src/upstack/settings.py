"""Every setting in one typed registry: name, type, default, help.

Precedence: an explicit argument, then the environment (``UPSTACK_<NAME>``), then
``$XDG_CONFIG_HOME/upstack/config.toml``, then the default. Each value is cast and
checked once, when the settings are made: a wrong one is a ``BadSetting`` naming the
setting and where its value came from, and every reader gets a typed value
(``settings.check_days`` is an int). There are no secrets among the defaults.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from upstack.errors import BadInput, BadSetting

__all__ = ["Setting", "SETTINGS", "Settings", "CAPTURE_KINDS", "default_home", "config_path"]

T = TypeVar("T")

# What a run can capture (the run_capture setting's choices), in the order it captures them.
CAPTURE_KINDS = ("git", "diff", "command", "python", "packages", "host", "gpu", "env")


class _NotValid(ValueError):
    """A value that is not what its setting must be; the text, if any, says why."""


class Setting(Generic[T]):
    """One setting: its default, its help, and how a given value (text from the environment,
    a TOML value, an argument) becomes a ``T``. Declared as a class attribute of ``Settings``."""

    must_be = "text"  # what a value must be, as the error message says it

    def __init__(self, default: T, help: str) -> None:
        self.default = default
        self.help = help
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @property
    def env(self) -> str:
        return "UPSTACK_" + self.name.upper()

    def cast(self, value: object) -> T:
        """``value`` as this setting's type, or ``_NotValid``."""
        raise NotImplementedError

    def checked(self, value: object, source: str) -> T:
        try:
            return self.cast(value)
        except _NotValid as exc:
            why = f": {exc}" if str(exc) else ""
            raise BadSetting(f"setting {self.name} must be {self.must_be}, got {value!r}{why} ({source})",
                             setting=self.name, source=source) from None

    # A non-data descriptor: ``Settings`` stores each checked value in the instance's __dict__, which
    # attribute reads find first; this only gives the type checker the value's type (and the class
    # attribute, ``Settings.check_days``, is the Setting itself).
    @overload
    def __get__(self, instance: None, owner: type) -> Setting[T]: ...

    @overload
    def __get__(self, instance: Settings, owner: type) -> T: ...

    def __get__(self, instance: Settings | None, owner: type) -> Setting[T] | T:
        if instance is None:
            return self
        raise AttributeError(self.name)  # never reached: Settings sets every one


class Text(Setting[str | None]):
    def __init__(self, help: str, default: str | None = None) -> None:
        super().__init__(default, help)

    def cast(self, value: object) -> str | None:
        if not isinstance(value, str):
            raise _NotValid
        return value


class Folder(Setting[Path | None]):
    must_be = "a folder's path"

    def __init__(self, help: str) -> None:
        super().__init__(None, help)

    def cast(self, value: object) -> Path | None:
        if not isinstance(value, str | os.PathLike):
            raise _NotValid
        return Path(value).expanduser() if str(value) else None


class Flag(Setting[bool]):
    """Yes or no: a TOML boolean, or true/false, yes/no, on/off, 1/0 from the environment."""

    must_be = "true or false"

    def cast(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower() if isinstance(value, str | int) else ""
        if word in ("true", "yes", "on", "1"):
            return True
        if word in ("false", "no", "off", "0"):
            return False
        raise _NotValid


class Whole(Setting[int]):
    """A whole number above zero, or zero too (``zero=True``: where zero turns something off)."""

    def __init__(self, default: int, help: str, *, zero: bool = False) -> None:
        super().__init__(default, help)
        self.zero = zero
        self.must_be = "a whole number, zero or more" if zero else "a whole number above zero"

    def cast(self, value: object) -> int:
        number = _number(value, zero=self.zero)
        if not number.is_integer():
            raise _NotValid
        return int(value) if isinstance(value, int) else int(number)  # an int stays exact beyond 2**53


class Number(Setting[float]):
    """A number (seconds, days, megabytes) above zero, or zero too (``zero=True``)."""

    def __init__(self, default: float, help: str, *, zero: bool = False) -> None:
        super().__init__(default, help)
        self.zero = zero
        self.must_be = "a number, zero or more" if zero else "a number above zero"

    def cast(self, value: object) -> float:
        return _number(value, zero=self.zero)


class Fraction(Setting[float]):
    """A share strictly between 0 and 1 (a retention, a probability)."""

    must_be = "a number between 0 and 1 (e.g. 0.9)"

    def cast(self, value: object) -> float:
        number = _number(value, zero=False)
        if number >= 1:
            raise _NotValid
        return number


def _number(value: object, *, zero: bool) -> float:
    """A finite number above zero (or zero too) from an int, a float or its text (not a boolean:
    TOML's true is no number)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _NotValid
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise _NotValid from None
    if not math.isfinite(number) or number < 0 or (number == 0 and not zero):
        raise _NotValid
    return number


def _parts(value: object, separators: str) -> tuple[str, ...]:
    """Text split at any of ``separators`` (whitespace if none), or a TOML list of strings."""
    if isinstance(value, list | tuple) and all(isinstance(part, str) for part in value):
        items = [part.strip() for part in value]
    elif isinstance(value, str):
        for separator in separators:
            value = value.replace(separator, " ")
        items = value.split()
    else:
        raise _NotValid
    return tuple(item for item in items if item)


class Names(Setting[tuple[str, ...]]):
    """Several values in one: text split at ``separators`` (whitespace if none), or a TOML list of
    strings; ``check`` refuses a part that is not one."""

    must_be = "names separated by commas"
    separators = ","

    def __init__(self, help: str) -> None:
        super().__init__((), help)

    def cast(self, value: object) -> tuple[str, ...]:
        found = _parts(value, self.separators)
        for part in found:
            self.check(part)
        return found

    def check(self, part: str) -> None:
        """Raise ``_NotValid`` (saying why) if ``part`` is not one of the values."""


class Networks(Names):
    """IP addresses or networks (``10.0.0.0/8``), separated by commas or spaces."""

    must_be = "IP addresses or networks separated by commas (e.g. 127.0.0.1 or 10.0.0.0/8)"
    separators = ", "

    def check(self, part: str) -> None:
        import ipaddress  # only when the setting is given

        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise _NotValid(f"{part!r} is neither") from None


class Patterns(Names):
    """Regular expressions separated by whitespace, none matching empty text."""

    must_be = "regular expressions separated by whitespace"
    separators = ""

    def check(self, part: str) -> None:
        import re

        try:
            compiled = re.compile(part)
        except re.error as exc:
            raise _NotValid(f"{part!r} is not one ({exc})") from None
        if compiled.search(""):  # it would match between every two characters
            raise _NotValid(f"{part!r} matches empty text")


class Stages(Names):
    """Names of an application's stages between wishlist and offer, in order (``domain/pipeline.py``)."""

    must_be = "stage names (lowercase words joined by '-') separated by commas"

    def check(self, part: str) -> None:
        import re

        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", part):
            raise _NotValid(f"{part!r} is not one")
        # (wishlist, offer and the ends are always stages: domain/pipeline.stage_order leaves them out here)


class Levels(Setting[str]):
    """A recovery plan's steps: percents of the usual load, comma-separated (``domain/recovery.py``)."""

    must_be = "percents of your usual load separated by commas (e.g. 50,75,100; a step may add :DAYS)"

    def cast(self, value: object) -> str:
        import re

        if not isinstance(value, str):
            raise _NotValid
        for part in value.split(","):
            found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)%?\s*(?::\s*(\d+)\s*)?", part)
            if found is None or not 0 < float(found[1]) <= 150 or (found[2] and not 1 <= int(found[2]) <= 90):
                raise _NotValid(f"{part.strip()!r} is not a step (a percent above 0 and at most 150, "
                                "days 1 to 90)")
        return value


class Cues(Names):
    """Phrases with weights, ``phrase=weight`` separated by commas (``domain/openings.py``'s cues)."""

    must_be = "phrase=weight pairs separated by commas (e.g. residency=4, newsletter=-3)"

    def cast(self, value: object) -> tuple[str, ...]:
        # A phrase has spaces in it: split at commas only (a TOML list is taken as it is).
        found = _parts(value, "") if not isinstance(value, str) else \
            tuple(part.strip() for part in value.split(",") if part.strip())
        for part in found:
            self.check(part)
        return found

    def check(self, part: str) -> None:
        import re

        if not re.fullmatch(r"[^=]*\w[^=]*=\s*-?\d+(\.\d+)?", part):
            raise _NotValid(f"{part!r} is not one")


class Choices(Setting[tuple[str, ...]]):
    """Some of ``choices`` (comma-separated), or all, or none; the value is the chosen, in their order."""

    def __init__(self, choices: tuple[str, ...], help: str) -> None:
        super().__init__(choices, help)
        self.choices = choices
        self.must_be = f"all, none, or some of {', '.join(choices)} separated by commas"

    def cast(self, value: object) -> tuple[str, ...]:
        named = _parts(value, ",")
        if named in (("all",), ("none",)):
            return self.choices if named == ("all",) else ()
        unknown = [name for name in named if name not in self.choices]
        if not named or unknown:
            raise _NotValid(f"{unknown[0]!r} is not one" if unknown else "")
        return tuple(choice for choice in self.choices if choice in named)


class Settings:
    """Resolved settings, each cast and checked once: ``settings.check_days`` is an int.

    Example:
        >>> Settings(check_days="3").check_days
        3
    """

    home = Folder("Workspace directory (default $XDG_DATA_HOME/upstack).")
    db = Text("Database URL; default is SQLite in the workspace. postgresql://... for a server.")
    editor = Text("Editor for `note` and `edit` (default $VISUAL, $EDITOR, then vi).")
    check_days = Whole(7, "`upstack check`: how many recent days of entries to look at.")
    stale_weeks = Whole(4, "`upstack check`: weeks without activity before a project is stale.")
    active_projects = Whole(1, "How many projects may be active at once.")
    min_commitment_days = Number(
        14, "Days an active project, question or idea gets before it can be dropped or pruned.", zero=True)
    upskilling_weeks = Whole(
        6, "`upstack ladder`: weeks of study alone, with no active project, before it says so (the upskilling trap).")
    stuck_days = Whole(7, "Days without a new learning before an active project counts as stuck.")
    run_dir = Folder("Where runs write their files (default: runs/ in the workspace). On a cluster, a local or "
                     "scratch folder that `upstack ingest` reads later.")
    run_flush_seconds = Number(1.0, "How often a run makes its metrics durable: the most a killed run can lose.")
    run_heartbeat_seconds = Number(
        10.0, "The longest a live run goes without saying it is alive (it also says so at every flush).")
    run_unwritten_points = Whole(
        4_000_000, "Most metric points a run keeps in memory while its disk refuses them (full, say); beyond, "
        "the oldest are dropped, and the run's status says how many.")
    run_live_seconds = Number(
        10.0, "In a workspace linked to a team server (`upstack login`), how often a run sends what it "
        "logged to the server; 0 sends nothing while it runs (`upstack sync` sends it later).", zero=True)
    run_crashed_after = Number(
        120.0, "Seconds without a heartbeat after which a run that never ended is marked crashed.")
    run_capture = Choices(CAPTURE_KINDS, "What runs capture: all, none, or a comma-separated list of git, diff, "
                          "command, python, packages, host, gpu, env.")
    run_system_seconds = Number(
        10.0, "How often a run samples CPU, memory and GPU use as system/... metrics; 0 samples nothing "
        "(psutil and NVML are then never imported).", zero=True)
    run_diff_limit = Whole(1_000_000, "Largest uncommitted diff a run stores, in bytes (cut beyond, with a note).")
    vault_delete_limit = Fraction(
        0.25, "`upstack vault sync` stops (exit 1) rather than delete more than this share of the vault's notes "
        "(at least 5); `--force` goes ahead.")
    run_env = Names("Extra environment variables runs record (comma-separated names).")
    sync_artifact_mb = Number(
        25.0, "`upstack sync` sends an artifact version's files to the team server when the version is at most "
        "this many MB (0: never; its description always goes); `upstack artifact send NAME:vN` sends a larger one.",
        zero=True)
    trusted_proxies = Networks(
        "A team server's TLS proxy: addresses (or networks) whose X-Forwarded-For and "
        "X-Forwarded-Proto headers are believed, comma-separated; nobody's by default.")
    session_idle_minutes = Whole(
        480, "A team server's browser session ends after this many minutes without a request.")
    redact = Patterns(
        "Extra secret patterns (regular expressions, separated by whitespace) redacted from what runs capture.")
    # What one member of a team server may cost it (see upstack.limits for the limits on a single query).
    user_requests = Whole(
        2, "On a team server, how many requests one member may have running at once (more are answered 429): "
        "fewer than the server's 4 handler threads, so one member never holds them all.")
    user_seconds = Number(
        2, "On a team server, the seconds of work one member's requests may take in any 10 seconds (more are "
        "answered 429, saying when to try again): a fifth of one handler thread, the rest kept for everyone "
        "else.")
    user_quota_mb = Number(
        10_000, "On a team server, the megabytes one member may store: files they upload or attach, and their "
        "runs' metric points (24 bytes each); beyond it a push or upload is answered 413. 0: no quota.", zero=True)
    user_max_runs = Whole(10_000, "On a team server, how many runs one member may log there (413 beyond).")
    run_max_metrics = Whole(1_000, "On a team server, how many metrics one run may log (413 beyond).")
    entry_max_files = Whole(100, "On a team server, how many files one entry may have attached (413 beyond).")
    # Interview practice (`upstack practice`): the guide's bar, "LeetCode mediums reliably in under 30 minutes".
    practice_target_minutes = Number(
        30, "`upstack practice`: minutes within which a problem solved unaided counts towards the bar.")
    practice_bar_window = Whole(20, "`upstack practice bar`: how many of the latest first attempts at medium "
                                "problems the bar looks at.")
    practice_bar_solved = Whole(16, "`upstack practice bar`: how many of those must be solved unaided within "
                                "the target for the bar to be reached (at most practice_bar_window).")
    practice_retention = Fraction(
        0.9, "`upstack practice due`: the desired retention FSRS schedules reviews for (between 0 and 1; "
        "higher means more frequent reviews).")
    # Opportunities, applications and contacts (`upstack opp`, `apply`, `contact`, issue 16).
    application_stages = Stages(
        "`upstack apply`: the stages between wishlist and offer, in order, comma-separated (empty: applied, "
        "screen, work-test, interview). Rejected, withdrawn and no-answer end an application at any stage.")
    opening_cues = Cues(
        "`upstack opp import FEED`: more cues for what looks like an opening, phrase=weight separated by commas "
        "(a negative weight counts against; a cue the rule has already gets the new weight).")
    opening_threshold = Number(
        4, "`upstack opp import FEED`: how much cue weight a post needs to be proposed as an opening "
        "(a cue in the title counts twice; a stated deadline adds 3).")
    contacts_local_only = Flag(
        False, "`upstack contact`: keep new contacts, and every exchange with them, on this machine only "
        "(never synced, never on a server); a contact's --local-only or --private says otherwise for it.")
    checkin_reminder = Flag(
        False, "`upstack due`: list a check-in not yet done today (`upstack checkin`), the weekly burnout "
        "questionnaire once you have answered it, and a monthly fit note; off unless you ask for it.")
    recover_steps = Levels(
        "50,75,100", "`upstack recover start`: the plan's steps, each a percent of your usual load (:DAYS after "
        "one gives it its own length).")
    recover_step_days = Whole(7, "`upstack recover start`: how many days each step of a plan lasts.")
    burnout_talk_line = Text(
        "`upstack checkin burnout` and `pace`: the line shown with a high burnout score (50 or more); "
        "`off` shows none.",
        "A score this high is worth talking over with someone you trust: a doctor, a mentor, a friend.")

    def __init__(self, **explicit: Any) -> None:
        unknown = set(explicit) - {s.name for s in SETTINGS}
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        file_values: dict[str, Any] | None = None
        for setting in SETTINGS:
            value, source = explicit.get(setting.name), "given as an argument"
            if value is None:
                value, source = os.environ.get(setting.env) or None, f"from {setting.env}"
            if value is None:
                if file_values is None:
                    file_values = _read_config_file()
                value, source = file_values.get(setting.name), f"from {config_path()}"
            vars(self)[setting.name] = setting.default if value is None else setting.checked(value, source)

    @property
    def home_path(self) -> Path:
        return self.home or default_home()


SETTINGS: tuple[Setting[Any], ...] = tuple(v for v in vars(Settings).values() if isinstance(v, Setting))


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
