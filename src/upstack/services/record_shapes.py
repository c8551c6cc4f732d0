"""The shape of every record that crosses the network, one schema per op.

A team server takes records from people it cannot trust in shape (a push) and a laptop takes
them from a server (a pull); before either applies one, ``problem(op, data)`` checks it against
the schema of its op, so one malformed field (a run's command given as text, a file size given as
a word, a NUL byte that PostgreSQL refuses to store) is refused at the door with a one-line reason,
instead of breaking every page that later reads it. Readers stay robust to what was stored before
the door was there (domain/run.py: ``stored_provenance``, ``stored_item``).

Fields a reader relies on are typed; others may come along (``extra="allow"``) so that a newer
upstack can add fields an older server keeps.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from upstack.domain.artifact import (
    KIND_PATTERN,
    MOST_FILES,
    check_name,
    link_stays_inside,
    links_problem,
    manifest_digest,
    safe_relative,
)
from upstack.domain.entry import NOTE_META
from upstack.domain.permissions import PATH_OPS
from upstack.domain.run import ENDED, RUN_NAME_CHARS
from upstack.domain.text import KINDS, unstorable
from upstack.domain.tree import NODE_KINDS, NODE_TITLE_CHARS, STATUSES
from upstack.errors import BadInput
from upstack.ids import looks_like_full_id
from upstack.timeutil import offset_minutes, parse_iso

__all__ = ["SHAPES", "problem", "envelope_problem"]


def _text(value: str) -> str:
    """Text as upstack keeps it (domain/text.py, ``clean_text``): the upstack that made the record
    put U+FFFD where a NUL or a lone surrogate was, so a record still holding one was made by
    something else, and is refused rather than changed under its id."""
    wrong = unstorable(value)
    if wrong:
        raise ValueError(f"text may not hold {wrong} (upstack keeps U+FFFD in its place)")
    return value


DEEPEST = 32  # nesting of a config, a summary or meta: more is no config, and reading it back recurses


def _plain_data(value: Any, depth: int = 0) -> Any:
    """JSON a reader can walk: nested at most ``DEEPEST`` deep, its text (keys too) valid."""
    if depth > DEEPEST:
        raise ValueError(f"nested more than {DEEPEST} deep")
    if isinstance(value, str):
        _text(value)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _text(str(key))
            _plain_data(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            _plain_data(inner, depth + 1)
    return value


def _id(value: str) -> str:
    if not looks_like_full_id(value):
        raise ValueError("not an upstack id (26 characters)")
    return value


def _time(value: str) -> str:
    try:
        when = parse_iso(value)  # the one form stored times take, which every reader parses
    except ValueError:
        raise ValueError("not a time as upstack writes it (2026-01-31T09:30:00.000000Z)") from None
    if when.year > LAST_YEAR:  # where the newest change wins, a change stamped so late could never be followed
        raise ValueError(f"a time after the year {LAST_YEAR}")
    return value


LAST_YEAR = 9000


def _offset(value: str) -> str:
    offset_minutes(value)  # +HH:MM within -12:00..+14:00, or a ValueError saying what is wrong
    return value


def _sha256(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ValueError("not a SHA-256 (64 lowercase hex digits)")
    return value


Text = Annotated[StrictStr, AfterValidator(_text)]
Id = Annotated[StrictStr, AfterValidator(_id)]
Time = Annotated[StrictStr, AfterValidator(_time)]
Sha256 = Annotated[StrictStr, AfterValidator(_sha256)]
Offset = Annotated[StrictStr, AfterValidator(_offset)]  # the writer's UTC offset (timeutil.utc_offset)
EventId = Annotated[StrictStr, Field(max_length=120), AfterValidator(_text)]
Data = Annotated[dict[Text, Any], AfterValidator(_plain_data)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Attachment(_Shape):
    id: Id
    sha256: Sha256
    filename: Text
    media_type: Text
    size: StrictInt = Field(ge=0, le=2**53)
    created_at: Time


# -- the tree ------------------------------------------------------------------------------------


class NodeCreate(_Shape):
    id: Id
    kind: Literal[NODE_KINDS]  # type: ignore[valid-type]
    title: Text = Field(min_length=1, max_length=NODE_TITLE_CHARS)
    why: Text = ""
    status: Literal[STATUSES] = "open"  # type: ignore[valid-type]
    parent_id: Id | None = None
    created_at: Time


class _NodeChange(_Shape):
    node_id: Id
    at: Time
    event_id: EventId | None = None


class NodeEdit(_NodeChange):
    title: Text | None = Field(default=None, min_length=1, max_length=NODE_TITLE_CHARS)
    why: Text | None = None


class NodeStatus(_NodeChange):
    status: Literal[STATUSES]  # type: ignore[valid-type]
    reason: Text = ""


class NodeMove(_NodeChange):
    parent_id: Id | None = None


class NodeDelete(_NodeChange):
    reason: Text = ""


# -- entries -------------------------------------------------------------------------------------

NAME_CHARS = 500  # an alias or a vault file's path: each is a row of entry_names, an indexed key
# An entry's title is an indexed key too (title_key): PostgreSQL's index takes about 2,700 bytes, so a
# pushed title of more (a line of 1 MB) would be taken at the door and then stop in the journal.
TITLE_CHARS = NAME_CHARS


class NoteMeta(_Shape):
    """What a revision carries besides its text (domain.entry.NOTE_META); the store keeps nothing else."""
    aliases: list[Annotated[Text, Field(max_length=NAME_CHARS)]] = Field(default=[], max_length=200)
    markdown: Data = {}

    @model_validator(mode="after")
    def _names_fit(self) -> NoteMeta:
        path = self.markdown.get("path")
        if isinstance(path, str) and len(path) > NAME_CHARS:
            raise ValueError(f"a vault file's path is at most {NAME_CHARS} characters")
        return self


def _note_part(meta: dict[str, Any]) -> dict[str, Any]:
    """An entry.create's meta: its note part (aliases, markdown) is found by links as an edit's is, so
    it holds to the same bounds (the rest is plain data, as before)."""
    try:
        NoteMeta.model_validate({key: meta[key] for key in NOTE_META if key in meta})
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ValueError(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}") from None
    return meta


class EntryCreate(_Shape):
    id: Id
    revision_id: Id
    kind: Literal[KINDS]  # type: ignore[valid-type]
    title: Annotated[Text, Field(max_length=TITLE_CHARS)]
    body: Text
    extra_tags: list[Text] = []
    private: StrictBool = False
    starred: StrictBool = False
    node_id: Id | None = None
    project: Text | None = None
    occurred_at: Time
    created_at: Time
    attachments: list[Attachment] = []
    meta: Annotated[Data, AfterValidator(_note_part)] = {}
    source: Text | None = None
    utc_offset: Offset | None = None


class EntryRevise(_Shape):
    entry_id: Id
    revision_id: Id
    parent_id: Id | None = None
    title: Annotated[Text, Field(max_length=TITLE_CHARS)]
    body: Text
    kind: Literal[KINDS] | None = None  # type: ignore[valid-type]
    extra_tags: list[Text] | None = None
    created_at: Time
    meta: NoteMeta | None = None


class EntryAttach(_Shape):
    entry_id: Id
    attachments: list[Attachment] = Field(min_length=1)


class EntryDelete(_Shape):
    entry_id: Id
    at: Time


def _said(value: str) -> str:
    if not value.strip():
        raise ValueError("a comment says something")
    return value


class CommentAdd(_Shape):
    id: Id
    entry_id: Id
    body: Annotated[Text, Field(min_length=1, max_length=20_000), AfterValidator(_said)]
    created_at: Time
    author_login: Annotated[Text, Field(max_length=64)] = ""


class StarSet(_Shape):
    entry_id: Id
    starred: StrictBool
    at: Time
    event_id: EventId | None = None


# -- a person's path (store/path.py) --------------------------------------------------------------
# Each part (the ladder, practice, the portfolio) gives its records fields of its own; the door
# checks what every one has (its subject and time), the fields whose meaning is known wherever they
# appear, and bounds the rest: JSON a reader can walk, no NUL, not nested deep, not large.

PATH_MAX_BYTES = 32_000  # a record's data as JSON: a profile's summary or an accomplishment's text fits
PATH_DEEPEST = 8
PATH_SUBJECT_CHARS = 2_000  # a subject may be a problem's URL
MAX_MINUTES = 24 * 60  # what one attempt or one log of progress may take (the parts' own limit too)


def _path_data(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value, ensure_ascii=False))
    if size > PATH_MAX_BYTES:
        raise ValueError(f"{size} characters of data; a path record holds at most {PATH_MAX_BYTES}")
    return _walk(value, 0, "")


def _walk(value: Any, depth: int, where: str) -> Any:
    """``value`` if a reader can walk it; else a ValueError naming the field (``where``) that is wrong."""
    def wrong(why: str) -> ValueError:
        return ValueError(f"{where or 'the data'}: {why}")

    if depth > PATH_DEEPEST:
        raise wrong(f"nested more than {PATH_DEEPEST} deep")
    if isinstance(value, float) and not math.isfinite(value):
        raise wrong("a number that is not finite")
    if isinstance(value, dict):
        for key, inner in value.items():
            _walk(str(key), depth, where)
            _walk(inner, depth + 1, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _walk(inner, depth + 1, f"{where}.{index}")
    elif isinstance(value, str) and unstorable(value):
        raise wrong(f"text may not hold {unstorable(value)} (upstack keeps U+FFFD in its place)")
    return value


def _minutes(value: float) -> float:
    if not math.isfinite(value) or not 0 <= value <= MAX_MINUTES:
        raise ValueError(f"minutes are a number from 0 to {MAX_MINUTES} (a day)")
    return value


class PathRecord(_Shape):
    """What every record of a person's path has; the rest is its part's own (bounded by ``_path_data``)."""

    subject: Annotated[StrictStr, Field(min_length=1, max_length=PATH_SUBJECT_CHARS), AfterValidator(_text)]
    at: Time
    minutes: Annotated[StrictInt | float, AfterValidator(_minutes)] | None = None
    event_id: EventId | None = None
    utc_offset: Offset | None = None

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        return _path_data(data) if isinstance(data, dict) else data


PATH_PARTS = ("ladder", "portfolio", "pipeline", "contacts", "calibration")  # what a person may show a mentor


def _distinct(parts: list[str]) -> list[str]:
    if len(set(parts)) != len(parts):
        raise ValueError("each part is named once")
    return parts


class PathShare(PathRecord):
    """Whom a person shows their ladder and portfolio: ``subject`` the member (a user id on a server, a
    login on a laptop), ``parts`` what they are shown (none: nothing more), or ``revoked``."""

    subject: Annotated[StrictStr, Field(min_length=1, max_length=64), AfterValidator(_text)]
    parts: Annotated[list[Literal[PATH_PARTS]], Field(max_length=len(PATH_PARTS)),  # type: ignore[valid-type]
                     AfterValidator(_distinct)] = []
    revoked: StrictBool = False


# The pipeline's fields whose meaning its readers rely on (services/opportunities.py, applications.py,
# contacts.py): a day is a calendar day, a stage a stage's name, a list a list of links. The rest is
# bounded like any path record's data.

def _day(value: str) -> str:
    if value:  # "" clears a follow-up or a deadline
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("a day is written YYYY-MM-DD") from None
    return value


Day = Annotated[StrictStr, Field(max_length=10), AfterValidator(_day)]
StageName = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]


class _Link(_Shape):
    contact: Annotated[StrictStr, Field(min_length=1, max_length=PATH_SUBJECT_CHARS)]
    role: Annotated[StrictStr, Field(max_length=200)] = ""


class OppSet(PathRecord):
    deadline: Day | None = None


class ApplySet(PathRecord):
    follow_up: Day | None = None
    stretch: Literal["reach", "fit", "safe", ""] | None = None
    contacts: list[_Link] | None = None
    local_contacts: list[_Link] | None = None


class ApplyStage(PathRecord):
    stage: StageName
    when: Day | None = None
    on: Day | None = None


class ContactSet(PathRecord):
    follow_up: Day | None = None


class OutreachLog(PathRecord):
    when: Day | None = None
    follow_up: Day | None = None


# -- runs ----------------------------------------------------------------------------------------

RunName = Annotated[Text, Field(min_length=1, max_length=RUN_NAME_CHARS)]  # a start's, or a rename's
RunTags = Annotated[list[Annotated[Text, Field(min_length=1, max_length=TITLE_CHARS)]], Field(max_length=200)]


class RunStart(_Shape):
    run_id: Id
    name: RunName
    node_id: Id | None = None
    node_ref: Annotated[Text, Field(max_length=TITLE_CHARS + 1)] | None = None  # an id, a short id or @title
    config: Data = {}
    tags: Annotated[list[Annotated[Text, Field(max_length=TITLE_CHARS)]], Field(max_length=200)] = []
    goals: dict[Annotated[Text, Field(max_length=200)], Literal["min", "max"]] = {}  # metric names
    started_at: Time
    host: Annotated[Text, Field(max_length=TITLE_CHARS)] = ""
    utc_offset: Offset | None = None


class Git(_Shape):
    commit: Text | None = None
    branch: Text | None = None
    remote: Text | None = None
    dirty: StrictBool = False
    diff_truncated: StrictBool = False


class Command(_Shape):
    argv: list[Text] = []
    cwd: Text = ""


class Python(_Shape):
    version: Text = ""
    executable: Text = ""


class Host(_Shape):
    hostname: Text | None = None
    cpu: Text | None = None


class Imported(_Shape):
    """Where a run imported from another tracker came from (interop/trackers.py)."""

    from_: Text = Field(alias="from")
    id: Text
    path: Text = ""
    experiment: Text | None = None
    tags: dict[Text, Text] | None = None


class Provenance(_Shape):
    """What provenance_lines (domain/run.py) reads of a run's provenance."""

    git: Git | None = None
    command: Command | None = None
    python: Python | None = None
    packages: Data | list[Any] | None = None
    host: Host | None = None
    gpu: list[Any] | None = None
    imported: Imported | None = None


class RunProvenance(_Shape):
    run_id: Id
    data: Provenance = Provenance()
    captured: list[Text] | None = None
    skipped: dict[Text, Text] | None = None
    diff: Attachment | None = None


class RunFigure(_Shape):
    run_id: Id
    title: Text = ""
    attachments: list[Attachment] = Field(min_length=1)


class RunTable(_Shape):
    run_id: Id
    title: Text = ""
    columns: list[Text]
    rows: list[list[Text]]
    row_count: StrictInt = Field(ge=0, le=2**53)
    attachments: list[Attachment] = []


class RunNote(_Shape):
    run_id: Id
    text: Text
    at: Time


class RunSummary(_Shape):
    run_id: Id
    values: Data = {}
    expected: Text | None = None
    happened: Text | None = None
    outcome: Text | None = None
    learned: Text | None = None
    learning_id: Id | None = None


class _RunChange(_Shape):
    """A run's change after the fact (services/run_manage.py): a delete or a restore says no more."""

    run_id: Id
    at: Time


class RunRename(_RunChange):
    name: RunName


class RunRetag(_RunChange):
    tags: RunTags


class RunMove(_RunChange):
    node_id: Id | None = None
    from_node_id: Id | None = None  # where it was (absent: where the receiver has it)


Probability = Annotated[float, Field(allow_inf_nan=False, ge=0.01, le=0.99)]  # scorable: 1%-99%
Number = Annotated[float, Field(allow_inf_nan=False)]


class RunPredict(_Shape):
    """A numeric prediction a run makes of itself as it starts (``upstack.run(..., predict=...)``)."""

    run_id: Id
    entry_id: Id
    at: Time
    claim: Text = Field(min_length=1, max_length=TITLE_CHARS)  # it becomes the title of an entry
    criteria: Text = ""
    probability: Probability
    metric: Text = Field(min_length=1)
    aggregate: Literal["final", "best", "min", "max"] = "final"
    comparison: Literal["below", "above"] | None = None
    threshold: Number | None = None
    low: Number | None = None
    high: Number | None = None
    level: Annotated[float, Field(allow_inf_nan=False, gt=0, lt=1)] | None = None
    resolve_by: Day | None = None

    @model_validator(mode="after")
    def _one_claim(self) -> RunPredict:
        """The fields make one claim the rules can resolve (a comparison with its threshold, an
        interval low end first), else the store would set the record aside after the door said yes."""
        from upstack.domain.calibration import numeric
        from upstack.errors import BadInput

        if (self.comparison is None) != (self.threshold is None) or (self.low is None) != (self.high is None):
            raise ValueError("a comparison goes with its threshold, and an interval has both ends")
        try:
            numeric(self.metric, self.aggregate, below=self.threshold if self.comparison == "below" else None,
                    above=self.threshold if self.comparison == "above" else None,
                    interval=None if self.low is None or self.high is None else (self.low, self.high),
                    level=self.level)
        except BadInput as exc:
            raise ValueError(str(exc)) from None
        return self


# -- judgment (issue 19): what is said about a prediction or a take, by its author --------------

class _Said(_Shape):
    entry_id: Id
    at: Time


class PredictionMake(_Said):
    probability: Probability
    reason: Text = ""
    target_kind: Literal["node", "entry", "idea", "run"] | None = None
    target_id: Id | None = None
    resolve_by: Day | None = None
    metric: Text | None = Field(default=None, min_length=1)
    aggregate: Literal["final", "best", "min", "max"] | None = None
    comparison: Literal["below", "above"] | None = None
    threshold: Number | None = None
    low: Number | None = None
    high: Number | None = None
    level: Annotated[float, Field(allow_inf_nan=False, gt=0, lt=1)] | None = None


class PredictionForecast(_Said):
    probability: Probability
    reason: Text = ""


class PredictionResolve(_Said):
    outcome: Literal["true", "false", "annulled"]
    value: Number | None = None
    evidence_id: Id | None = None
    evidence_at: Time
    reason: Text = ""


MOST_PARTS = 50  # cruxes or related nodes one record adds to a take


class TakeMake(_Said):
    source: Text = Field(min_length=1)
    place: Text = ""
    revisit_by: Day | None = None
    confidence: Probability
    reason: Text = ""
    cruxes: list[Text] = Field(default=[], max_length=MOST_PARTS)
    would_change: Text | None = None
    nodes: list[Id] = Field(default=[], max_length=MOST_PARTS)


class TakeUpdate(_Said):
    confidence: Probability | None = None
    reason: Text = ""
    new_source: Text | None = Field(default=None, min_length=1)
    place: Text | None = None
    cruxes: list[Text] = Field(default=[], max_length=MOST_PARTS)
    would_change: Text | None = None
    nodes: list[Id] = Field(default=[], max_length=MOST_PARTS)
    revisit_by: Day | None = None


class RunEnd(_Shape):
    run_id: Id
    status: Literal[ENDED]  # type: ignore[valid-type]
    ended_at: Time
    error: Text = ""
    traceback: Attachment | None = None
    points_lost: StrictInt = Field(default=0, ge=0, le=2**53)


class RunResume(_Shape):
    """A run taken up again after it stopped (a pre-empted job requeued)."""

    run_id: Id
    at: Time
    host: Annotated[Text, Field(max_length=TITLE_CHARS)] = ""
    pid: StrictInt = Field(default=0, ge=0, le=2**31)
    step: StrictInt = Field(default=-1, ge=-(2**63), le=2**63 - 1)
def _artifact_name(value: str) -> str:
    check_name(value)  # a BadInput is a ValueError's sibling: said as the field's problem
    return value


def _artifact_path(value: str) -> str:
    safe_relative(value)
    return _text(value)


ArtifactName = Annotated[StrictStr, AfterValidator(lambda v: _wrapped(_artifact_name, v))]
ArtifactPath = Annotated[StrictStr, AfterValidator(lambda v: _wrapped(_artifact_path, v))]


def _wrapped(check: Any, value: str) -> str:
    try:
        return str(check(value))
    except BadInput as exc:
        raise ValueError(str(exc)) from None


class ArtifactFile(_Shape):
    path: ArtifactPath
    sha256: Sha256 | None = None
    link: Text | None = Field(default=None, max_length=4096)
    size: StrictInt = Field(ge=0, le=2**53)
    mode: StrictInt = Field(ge=0, le=0o7777)

    @model_validator(mode="after")
    def _file_or_link(self) -> ArtifactFile:
        if (self.sha256 is None) == (self.link is None):
            raise ValueError("an artifact's file has a sha256 or, a link, a target: one of them")
        if self.link is not None and not link_stays_inside(self.path, self.link):
            raise ValueError(f"link {self.path[:80]!r} points outside its artifact")
        return self


MOST_BYTES = 2**53  # an artifact's files together (a file's own size has the same bound)


class RunArtifact(_Shape):
    run_id: Id
    name: ArtifactName
    kind: Annotated[StrictStr, Field(pattern=f"^{KIND_PATTERN}$")]
    digest: Sha256
    folder: StrictBool
    files: list[ArtifactFile] = Field(min_length=1, max_length=MOST_FILES)
    at: Time

    @model_validator(mode="after")
    def _digest_and_paths(self) -> RunArtifact:
        paths = [f.path for f in self.files]
        if len(set(paths)) != len(paths):
            raise ValueError("an artifact names one path twice")
        if sum(f.size for f in self.files) > MOST_BYTES:  # the store keeps the total in a 64-bit integer
            raise ValueError(f"its files' sizes add up to more than {MOST_BYTES:,} bytes")
        if not self.folder and (len(self.files) != 1 or "/" in paths[0] or self.files[0].link is not None):
            raise ValueError("an artifact that is one file has one file, at its top")
        wrong = links_problem([f.model_dump() for f in self.files])
        if wrong:
            raise ValueError(wrong)
        if manifest_digest([f.model_dump() for f in self.files], self.folder) != self.digest:
            raise ValueError("its digest does not match its files")
        return self


class RunUseArtifact(_Shape):
    run_id: Id
    name: ArtifactName
    digest: Sha256
    producer: Id
    at: Time


SHAPES: dict[str, type[_Shape]] = {
    "node.create": NodeCreate, "node.edit": NodeEdit, "node.status": NodeStatus, "node.move": NodeMove,
    "node.delete": NodeDelete, "node.restore": _NodeChange,
    "entry.create": EntryCreate, "entry.revise": EntryRevise, "entry.attach": EntryAttach,
    "entry.delete": EntryDelete, "comment.add": CommentAdd, "star.set": StarSet,
    "run.start": RunStart, "run.provenance": RunProvenance, "run.figure": RunFigure, "run.table": RunTable,
    "run.note": RunNote, "run.summary": RunSummary, "run.end": RunEnd,
    "run.predict": RunPredict, "run.resume": RunResume, "run.artifact": RunArtifact,
    "run.use_artifact": RunUseArtifact,
    "run.rename": RunRename, "run.retag": RunRetag, "run.move": RunMove, "run.delete": _RunChange,
    "run.restore": _RunChange,
    "prediction.make": PredictionMake, "prediction.forecast": PredictionForecast,
    "prediction.resolve": PredictionResolve, "take.make": TakeMake, "take.update": TakeUpdate,
    **{op: PathRecord for op in PATH_OPS if op != "path.share"}, "path.share": PathShare,
    "opp.set": OppSet, "apply.set": ApplySet, "apply.stage": ApplyStage, "contact.set": ContactSet,
    "outreach.log": OutreachLog,
}


def problem(op: str, data: Any) -> str:
    """'' if ``data`` fits the schema of ``op``; else one line naming the first field that does not."""
    shape = SHAPES.get(op)
    if shape is None:
        return f"records of kind {op!r} cannot travel"
    try:
        shape.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "the record"
        return f"{op} {where}: {error['msg']}"
    return ""


def envelope_problem(record_id: str, workspace: str, at: str) -> str:
    """'' if a record's own id, workspace and time can be stored and read; else why not."""
    for name, value in (("id", record_id), ("workspace", workspace)):
        if not value or len(value) > 120:
            return f"a record's {name} must be 1 to 120 characters"
        try:
            _text(value)
        except ValueError as exc:
            return f"a record's {name}: {exc}"
    try:
        _time(at)
    except ValueError as exc:
        return f"a record's at: {exc}"
    return ""
