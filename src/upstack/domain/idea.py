"""Ideas and their triage: states, the cheapest disqualifying test, what each waits on.

Pure rules, no I/O. An idea is an entry of kind "idea" plus a triage row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from upstack.errors import BadInput
from upstack.ids import short_id

__all__ = [
    "IDEA_STATES", "ORDERS", "TRIAGE_FIELDS", "Idea", "check_state", "check_triage",
    "rank_ideas",
]

IDEA_STATES = ("candidate", "de-risking", "active", "parked", "pruned", "done")
_STATE_ALIASES = {"derisking": "de-risking", "derisk": "de-risking", "de-risk": "de-risking"}
ORDERS = ("value-per-cost", "value", "cost", "newest")
TRIAGE_FIELDS = ("hypothesis", "cheapest_test", "kill_criteria", "cost_hours", "compute",
                 "value", "value_score")
# Below half an hour, estimates are noise: a 6-minute idea is not ten times better
# than a one-hour one.
MIN_COST_HOURS = 0.5


@dataclass
class Idea:
    entry_id: str
    title: str
    state: str
    hypothesis: str = ""
    cheapest_test: str = ""
    kill_criteria: str = ""
    cost_hours: float | None = None
    compute: str = ""
    value: str = ""
    value_score: int | None = None
    node_id: str | None = None
    created_at: str = ""
    updated_at: str = ""
    reason: str = ""  # the reason given for the latest change of state
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def short(self) -> str:
        return short_id(self.entry_id)

    @property
    def value_per_cost(self) -> float | None:
        if self.value_score is None or self.cost_hours is None:
            return None
        return self.value_score / max(self.cost_hours, MIN_COST_HOURS)

    @property
    def waiting_on(self) -> str:
        """The next thing this idea needs, in words."""
        if self.state == "pruned":
            return f"nothing: pruned ({self.reason})" if self.reason else "nothing: pruned"
        if self.state == "done":
            return "nothing: done"
        if self.state == "parked":
            return "parked: revisit or prune it"
        if self.state == "active":
            return f"work in the tree: {short_id(self.node_id)}" if self.node_id else \
                "work: promote it into the tree"
        if not self.cheapest_test:
            return "needs a cheapest disqualifying test"
        if (self.value_score is None and not self.value) or self.cost_hours is None:
            return "needs triage"
        if self.state == "de-risking":
            return f"run: {self.cheapest_test}"
        return "ready to de-risk: run its cheapest test"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(short=self.short, value_per_cost=self.value_per_cost,
                    waiting_on=self.waiting_on)
        return data


def check_state(state: str) -> str:
    value = _STATE_ALIASES.get(state.strip().lower(), state.strip().lower())
    if value not in IDEA_STATES:
        raise BadInput(f"unknown idea state {state!r}: choose one of {', '.join(IDEA_STATES)}")
    return value


def check_triage(fields: dict[str, Any]) -> dict[str, Any]:
    """The triage fields given (None: not given), checked and cleaned."""
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in TRIAGE_FIELDS:
            raise BadInput(f"unknown triage field {name!r}")
        if value is None:
            continue
        if name == "cost_hours":
            try:
                hours = float(value)
            except (TypeError, ValueError):
                raise BadInput(f"cost must be a number of hours, not {value!r}") from None
            if not hours >= 0 or hours == float("inf"):
                raise BadInput(f"cost must be zero or more hours, not {value!r}")
            clean[name] = hours
        elif name == "value_score":
            try:
                score = int(value)
            except (TypeError, ValueError):
                raise BadInput(f"score must be a whole number from 1 to 5, not {value!r}") from None
            if not 1 <= score <= 5 or str(value).strip() not in (str(score), f"{score}.0"):
                raise BadInput(f"score must be a whole number from 1 to 5, not {value!r}")
            clean[name] = score
        else:
            clean[name] = str(value).strip()
    return clean


def rank_ideas(ideas: list[Idea], order: str = "value-per-cost") -> list[Idea]:
    """Ideas in the chosen order; those missing what the order needs come last, newest first."""
    if order not in ORDERS:
        raise BadInput(f"unknown order {order!r}: choose one of {', '.join(ORDERS)}")
    newest = sorted(ideas, key=lambda i: (i.created_at, i.entry_id), reverse=True)
    if order == "newest":
        return newest
    keys: dict[str, Callable[[Idea], float | None]] = {
        "value-per-cost": lambda i: -i.value_per_cost if i.value_per_cost is not None else None,
        "value": lambda i: -i.value_score if i.value_score is not None else None,
        "cost": lambda i: i.cost_hours,
    }
    key = keys[order]
    known = [i for i in newest if key(i) is not None]
    unknown = [i for i in newest if key(i) is None]
    return sorted(known, key=lambda i: key(i) or 0.0) + unknown  # sorted() is stable: ties stay newest first
