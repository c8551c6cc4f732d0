"""A daily check-in that takes seconds (issue 18): sleep, energy, mood, hours worked, the person's own
early warning signs, a note. Private by construction: every record is local-only (store/path.py's
WELLBEING_OPS), so sync never carries it and a team server never takes one; a workspace that is a team
server (it has accounts) keeps none.

With a passphrase set (services/wellbeing_seal.py) every record is sealed as it is written and opened
as it is read, here and nowhere else.

Records are never changed: a check-in for a day already checked in is a later record, and the newest
for a day is that day's (``checkins``). Signs are the person's: the guide's three to start with,
each added, renamed or retired by a record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import IO, Any

from upstack.domain.permissions import WELLBEING_OPS
from upstack.domain.text import clean_text, slugify
from upstack.errors import BadInput
from upstack.services import wellbeing_seal
from upstack.store import accounts as store_accounts
from upstack.store import path as store_path
from upstack.timeutil import iso_day, now_after, today_local
from upstack.workspace import Workspace

__all__ = ["DEFAULT_SIGNS", "SCALE", "CheckIn", "Sign", "signs", "add_sign", "rename_sign", "retire_sign",
           "check_in", "checkins", "write_csv", "forget_all", "NOT_ON_A_SERVER", "write_record", "read_records",
           "refuse_on_a_server", "checked_score", "checked_hours", "checked_day", "CLEARABLE"]

# The guide's examples of early signs of burnout, each scored 0 (not at all) to 3 (a lot).
DEFAULT_SIGNS = ("snacking", "procrastinating sleep", "video games")
SCALE = range(0, 4)
NOTE_LIMIT = 2000
SIGN_NAME_LIMIT = 100
NOT_ON_A_SERVER = ("check-ins stay on your own machine: a team server keeps none (check in on your laptop, "
                   "where upstack keeps them local-only)")


@dataclass
class Sign:
    slug: str
    name: str
    retired: bool = False


@dataclass
class CheckIn:
    day: str  # YYYY-MM-DD, the person's own day
    at: str
    sleep_hours: float | None = None
    energy: int | None = None
    mood: int | None = None
    hours_worked: float | None = None
    signs: dict[str, int] = field(default_factory=dict)  # sign slug -> 0-3
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day, "at": self.at, "sleep_hours": self.sleep_hours, "energy": self.energy,
                "mood": self.mood, "hours_worked": self.hours_worked, "signs": dict(self.signs), "note": self.note}


def _slug(name: str) -> str:
    """A sign's key: as the ladder and the pipeline name things (domain/text.slugify); '' for none."""
    try:
        return slugify(name)
    except BadInput:
        return ""


def refuse_on_a_server(ws: Workspace) -> None:
    if store_accounts.has_users(ws.store().db):
        raise BadInput(NOT_ON_A_SERVER)


def write_record(ws: Workspace, op: str, subject: str, **data: Any) -> dict[str, Any]:
    """Keep one wellbeing record (an op of WELLBEING_OPS): local-only, and never on a team server.
    Every wellbeing record is written here and read back by ``read_records``, nowhere else. It is
    journaled as `upstack note` journals an entry (this workspace's next read takes it in); its data
    is returned."""
    refuse_on_a_server(ws)
    at = data.pop("at", None) or now_after(store_path.latest_at(ws.store().db, WELLBEING_OPS))
    clear = {"subject": subject, "at": at, **data, **ws.writer_offset(), "local_only": True}
    ws.append([wellbeing_seal.seal_record(ws, ws.record(op, clear))])  # sealed if the check-ins are locked
    return clear


def read_records(ws: Workspace, op: str, subject: str | None = None, *,
                 since: str | None = None) -> list[store_path.PathEvent]:
    """The person's own records of one wellbeing op (about one ``subject`` if given; made at ``since``
    or after, if given), oldest first, opened if sealed (a sealed record's subject is sealed too:
    wellbeing_seal finds its own; its time is in clear)."""
    events = store_path.events(ws.store().db, [op], subject=subject, since=since)
    if subject is not None and wellbeing_seal.is_locked(ws):
        events = wellbeing_seal.sealed_about(ws, op, subject, events)
    return wellbeing_seal.open_events(ws, events)


def signs(ws: Workspace, *, retired: bool = False) -> list[Sign]:
    """The person's warning signs (the guide's three unless changed), in the order they were added."""
    found = {_slug(name): Sign(_slug(name), name) for name in DEFAULT_SIGNS}
    for event in read_records(ws, "checkin.sign"):
        data = event.data
        name = data.get("name") if isinstance(data.get("name"), str) and data["name"].strip() else None
        if data.get("change") == "add":
            found[event.subject] = Sign(event.subject, name or event.subject)
        elif event.subject in found and data.get("change") == "rename":
            found[event.subject].name = name or found[event.subject].name
        elif event.subject in found and data.get("change") == "retire":
            found[event.subject].retired = True
    return [s for s in found.values() if retired or not s.retired]


def _sign(ws: Workspace, name: str) -> Sign:
    """The sign ``name`` is the key of, else the one it names, one tracked before one retired: a tracked
    sign's own key first, as the page's sign-<key> field sends it, even where another sign has that name;
    then a tracked sign's name before a retired sign's key (a retired 'video games' and the sign renamed
    'video games' since: the name is the tracked one's)."""
    wanted = _slug(name)
    known = signs(ws, retired=True)
    tracked = [s for s in known if not s.retired]
    for sign in (*(s for s in tracked if s.slug == wanted), *tracked, *(s for s in known if s.slug == wanted),
                 *(s for s in known if s.retired)):
        if wanted in (sign.slug, _slug(sign.name)):
            return sign
    raise BadInput(f"no warning sign {name!r}: yours are {', '.join(s.name for s in signs(ws)) or 'none'}")


def _sign_name(ws: Workspace, name: str, renaming: Sign | None = None) -> str:
    """A sign's name as kept; refused when it is empty, too long, or what another sign tracked is named
    or keyed by (two signs of one name: a score given by it would go to one of them only)."""
    name = " ".join(clean_text(name).split())
    if not _slug(name):
        raise BadInput("a warning sign needs a name, e.g. 'skipping lunch'")
    if len(name) > SIGN_NAME_LIMIT:
        raise BadInput(f"a warning sign's name is {len(name):,} characters: at most {SIGN_NAME_LIMIT}")
    if _slug(name) in CLEARABLE or _slug(name) in ("sleep-hours", "hours-worked"):  # --clear NAME: one meaning
        raise BadInput(f"{name!r} is one of the check-in's own questions: name the sign otherwise "
                       f"(e.g. '{name.lower()} late')")
    same = next((s for s in signs(ws) if _slug(name) in (s.slug, _slug(s.name))
                 and (renaming is None or s.slug != renaming.slug)), None)
    if same is not None:  # named as it is called now, when it was renamed since ("late nights")
        called = "" if _slug(same.name) == _slug(name) else f", as {same.name!r}"
        raise BadInput(f"you track {name!r} already{called}")
    return name


def add_sign(ws: Workspace, name: str) -> Sign:
    name = _sign_name(ws, name)
    write_record(ws, "checkin.sign", _slug(name), change="add", name=name)
    return _sign(ws, name)


def rename_sign(ws: Workspace, old: str, new: str) -> Sign:
    sign = _sign(ws, old)
    if not " ".join(clean_text(new).split()):
        raise BadInput("the new name is empty")
    new = _sign_name(ws, new, renaming=sign)
    write_record(ws, "checkin.sign", sign.slug, change="rename", name=new)
    return _sign(ws, sign.slug)


def retire_sign(ws: Workspace, name: str) -> Sign:
    """Stop asking about a sign; its past scores stay."""
    sign = _sign(ws, name)
    write_record(ws, "checkin.sign", sign.slug, change="retire")
    return sign


def checked_score(name: str, value: int | None) -> int | None:
    """A 0-3 answer (energy, mood, a sign) as given, or BadInput naming what is wrong."""
    if value is not None and value not in SCALE:
        raise BadInput(f"{name} is scored 0 to 3, not {value}")
    return value


def checked_hours(name: str, value: float | None) -> float | None:
    """Hours in a day (sleep, hours worked) as given, or BadInput naming what is wrong."""
    if value is not None and not 0 <= value <= 24:
        raise BadInput(f"{name} is hours in a day (0 to 24), not {value:g}")
    return None if value is None else value + 0.0  # -0 kept (and shown) as 0


def checked_day(day: date | None) -> date:
    """The day a check-in is for: today unless ``day``, never a day to come."""
    today = today_local()
    day = day or today
    if day > today:
        raise BadInput(f"{day.isoformat()} is in the future: a check-in is for today or a day gone by")
    return day


# What `--clear` names (a question, by the word its option uses), and the answer it makes a gap again.
CLEARABLE = {"sleep": "sleep_hours", "energy": "energy", "mood": "mood", "hours": "hours_worked", "note": "note"}


def check_in(ws: Workspace, *, day: date | None = None, sleep_hours: float | None = None, energy: int | None = None,
             mood: int | None = None, hours_worked: float | None = None, sign_scores: dict[str, int] | None = None,
             note: str = "", clear: tuple[str, ...] | list[str] = ()) -> CheckIn:
    """Record a day's check-in (today unless ``day``: a missed day back-filled); anything left out is
    not asked again, and stays a gap, never a zero. ``clear`` names answers given earlier that day to
    make gaps again (a mistyped one): sleep, energy, mood, hours, note, or a sign."""
    day = checked_day(day)
    scores = {}
    for name, value in (sign_scores or {}).items():
        scores[_sign(ws, name).slug] = checked_score(f"sign {name!r}", value) or 0
    note = clean_text(note).strip()
    if len(note) > NOTE_LIMIT:
        raise BadInput(f"the note is {len(note):,} characters: at most {NOTE_LIMIT:,}")
    data: dict[str, Any] = {
        "sleep_hours": checked_hours("sleep", sleep_hours), "energy": checked_score("energy", energy),
        "mood": checked_score("mood", mood), "hours_worked": checked_hours("hours worked", hours_worked),
        "signs": scores, "note": note}
    found = checkins(ws, day.isoformat())  # the day's check-in so far, which this one adds to
    data["cleared"] = _cleared(ws, clear, data, day.isoformat(), found.get(day.isoformat()))
    if all(v in (None, {}, "", []) for v in data.values()):
        raise BadInput("nothing to record: give at least one of sleep, energy, mood, hours worked, a sign or a note")
    written = write_record(ws, "checkin.log", day.isoformat(),
                           **{k: v for k, v in data.items() if v not in (None, {}, "", [])})
    _fold(found, day.isoformat(), str(written["at"]), written)
    return found.get(day.isoformat()) or CheckIn(day=day.isoformat(), at=str(written["at"]))  # all cleared: empty


def _cleared(ws: Workspace, names: tuple[str, ...] | list[str], given: dict[str, Any], when: str,
             day: CheckIn | None) -> list[str]:
    """The keys of the answers ``names`` clear ('sign:<slug>' for a sign); BadInput for one the day
    does not hold, or one given a new value at the same time."""
    if names and day is None:
        raise BadInput(f"no check-in on {when} to clear")
    keys = []
    for name in names:
        key = CLEARABLE.get(name.strip().lower())
        if key is None:
            try:
                key = f"sign:{_sign(ws, name).slug}"
            except BadInput:
                raise BadInput(f"--clear takes {', '.join(CLEARABLE)} or a sign's name "
                               f"({', '.join(s.name for s in signs(ws))}), not {name[:80]!r}") from None
        if key.startswith("sign:"):
            held, now = day is not None and key[5:] in day.signs, key[5:] in given["signs"]
        else:
            held, now = day is not None and getattr(day, key) not in (None, ""), given[key] not in (None, "")
        if now:
            raise BadInput(f"{name!r} is both given and cleared: give one of them")
        if not held:
            raise BadInput(f"nothing to clear: the check-in of {when} has no {name!r}")
        keys.append(key)
    return sorted(set(keys))


def checkins(ws: Workspace, day: str | None = None, *, since: date | None = None) -> dict[str, CheckIn]:
    """{day: that day's check-in}, oldest day first (only ``day``'s, if given; only days from ``since``
    on, if given). A day checked in twice is one check-in: what the later one says wins, what it leaves
    out is kept from the earlier (a mood added after)."""
    days: dict[str, CheckIn] = {}
    # A check-in is written on its day or after (UTC: from the day before), so none about a day from
    # ``since`` on was written before that: those are read, not every check-in there is.
    written_from = None if since is None else (since - timedelta(days=1)).isoformat()
    for event in read_records(ws, "checkin.log", day, since=written_from):
        if since is not None and event.subject < since.isoformat():
            continue
        data = _stored(event.subject, event.data)
        if data is None:
            continue  # not a check-in as upstack writes one (another version's, a hand-edited import): unread
        _fold(days, event.subject, event.at, data)
    return dict(sorted(days.items()))


def _fold(days: dict[str, CheckIn], subject: str, at: str, data: dict[str, Any]) -> None:
    """One more record of a day's check-in, onto what the day's earlier ones said."""
    found = days.setdefault(subject, CheckIn(day=subject, at=at))
    found.at = at
    for key in ("sleep_hours", "energy", "mood", "hours_worked"):
        if data.get(key) is not None:
            setattr(found, key, data[key])
    found.signs.update({str(k): int(v) for k, v in (data.get("signs") or {}).items()})
    found.note = str(data.get("note") or found.note)
    for key in data.get("cleared") or []:  # answers this record makes gaps again
        if key.startswith("sign:"):
            found.signs.pop(key[5:], None)
        elif key in CLEARABLE.values():
            setattr(found, key, "" if key == "note" else None)
    if _empty(found):  # every answer cleared: no check-in that day, as before it
        del days[subject]


def _empty(found: CheckIn) -> bool:
    return all(getattr(found, key) in (None, "") for key in CLEARABLE.values()) and not found.signs


def _stored(day: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """A stored check-in's answers, if each is of its kind and in its range (else None): readers rely on
    them (a sum, a format, a chart)."""
    def number(value: Any, scale: bool) -> bool:
        if value is None:
            return True
        if isinstance(value, bool) or not isinstance(value, int | float) or (scale and not isinstance(value, int)):
            return False
        return value in SCALE if scale else math.isfinite(value) and 0 <= value <= 24

    signs, cleared = data.get("signs") or {}, data.get("cleared") or []
    if not isinstance(cleared, list) or not all(isinstance(key, str) for key in cleared):
        return None
    if iso_day(day) is None or not isinstance(signs, dict) or not isinstance(data.get("note") or "", str) \
            or not all(number(data.get(k), k in ("energy", "mood")) for k in ("sleep_hours", "energy", "mood",
                                                                             "hours_worked")) \
            or not all(isinstance(v, int) and number(v, True) for v in signs.values()):
        return None
    return {**data, "signs": {str(k): v for k, v in signs.items()}}


def write_csv(ws: Workspace, out: IO[str]) -> int:
    """Your own check-ins as CSV (a column per sign); how many rows."""
    rows = list(checkins(ws).values())
    names = {s.slug: s.name for s in signs(ws, retired=True)}
    order = {slug: index for index, slug in enumerate(names)}
    used = sorted({slug for row in rows for slug in row.signs}, key=lambda s: order.get(s, len(order)))
    import csv  # only for an export

    writer = csv.writer(out)
    writer.writerow(["day", "sleep_hours", "energy", "mood", "hours_worked", *(names.get(s, s) for s in used), "note"])
    for row in rows:
        writer.writerow([row.day, _cell(row.sleep_hours), _cell(row.energy), _cell(row.mood), _cell(row.hours_worked),
                         *(_cell(row.signs.get(s)) for s in used), row.note])
    return len(rows)


def _cell(value: float | int | None) -> str:
    return "" if value is None else f"{value:g}"


def forget_all(ws: Workspace) -> int:
    """Remove all the person's wellbeing data for good; how many records. Allowed on a team server too
    (which takes none, but may hold some written before its first account). The seal goes with it (no
    passphrase needed); the database's freed pages are overwritten, and the copies a journal keeps
    aside (a file with an unreadable line, records that could not be applied) lose theirs as well."""
    store = ws.store()
    store.prepare_scrub()  # their bytes overwritten, not left in the database file's free pages
    count = store_path.forget_wellbeing(store.db)  # the seal with them: no passphrase needed
    store.scrub(("path_records",))
    with store.lock():
        ws.journal.forget_kept(WELLBEING_OPS)
    return count
