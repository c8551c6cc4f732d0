"""The demo's search for a research position (issue 16): the person the demo follows saves a forum's
feed of openings and accepts what it proposes, applies to a mix of reaches, fits and safe bets,
hears back (a screen, a work test, an interview, two rejections, each with what it taught), keeps
contacts whose interests match the IOI work, one of them local-only, drafts a cold email from the
matched results and sends another.

The feed (``demo_feed.xml``, beside this module; every organisation, person and posting in it is
invented) states its dates relative to the day the demo is built (``{{+16 %B %d, %Y}}``: sixteen days
after it, written so), so the deadlines are always ahead of whoever tries the demo. Each step is dated
like the rest of the demo (``"DAYS_AGO HH:MM"``) and told by ``services/demo.py`` in order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from upstack.services import applications, contacts, opp_feed, outreach
from upstack.workspace import Workspace

__all__ = ["FEED", "feed_text", "pipeline_steps"]

FEED = Path(__file__).with_name("demo_feed.xml")
_DATE = re.compile(r"\{\{([+-]\d+) ([^}]+)\}\}")

# Applications: (when, opportunity, stretch).
_APPLIED = (
    ("19 09:00", "meridian", "reach"),
    ("18 09:30", "foxglove", "fit"),
    ("17 10:00", "quarry", "safe"),
    ("16 09:00", "beacon", "reach"),
    ("15 11:00", "keel", "fit"),
)
# Moves: (when, application, stage, the day it waits on as days after the demo's today, what was learned).
_MOVES: tuple[tuple[str, str, str, int | None, str], ...] = (
    ("12 14:00", "quarry", "screen", None, ""),
    ("10 16:00", "beacon", "rejected", None,
     "They wanted experience with sparse autoencoders; my write-up showed circuits only. "
     "A small SAE replication in the portfolio would answer that."),
    ("9 10:00", "foxglove", "work-test", 3, ""),
    ("8 17:30", "keel", "rejected", None,
     "The call asked for a red-teaming sample and I sent interpretability work. "
     "Next time send the piece closest to what they asked for."),
    ("6 15:00", "quarry", "interview", 2, ""),
)
# Contacts: (when, name, fields, local only).
_CONTACTS: tuple[tuple[str, str, dict[str, Any], bool], ...] = (
    ("14 20:00", "Mira Okonkwo", {"organisation": "Meridian Interpretability Lab",
                                  "interests": "indirect object identification, name mover heads, path patching, "
                                               "circuit discovery in GPT-2",
                                  "tags": ["interpretability", "circuits"],
                                  "how_known": "her talk at the interpretability reading group"}, False),
    ("14 20:10", "Tomas Lindqvist", {"organisation": "Foxglove Institute",
                                     "interests": "activation patching methodology, mean ablation versus resampling, "
                                                  "causal scrubbing",
                                     "tags": ["interpretability"], "how_known": "a fellowship mentor; met at a meetup"},
     True),
    ("13 19:00", "Keel Institute", {"kind": "organisation",
                                    "interests": "red-teaming language-model agents, jailbreaks, evals",
                                    "tags": ["red-teaming"]}, False),
)

Step = tuple[str, Callable[..., Any], tuple[Any, ...]]


def feed_text(today: date) -> str:
    """The saved feed with its dates written out relative to ``today``."""
    def written(found: re.Match[str]) -> str:
        return (today + timedelta(days=int(found[1]))).strftime(found[2])

    return _DATE.sub(written, FEED.read_text(encoding="utf-8"))


def pipeline_steps(ws: Workspace, scratch: Path, today: date) -> list[Step]:
    """The search's steps: (when, action, its arguments)."""
    steps: list[Step] = [("20 21:00", _import_feed, (ws, scratch, today))]
    steps += [(when, _apply, (ws, ref, stretch)) for when, ref, stretch in _APPLIED]
    steps += [("4 21:00", _wishlist, (ws, "cinder", "reach")), ("4 21:05", _wishlist, (ws, "lattice", "fit"))]
    steps += [(when, _move, (ws, ref, stage, on, learned, today)) for when, ref, stage, on, learned in _MOVES]
    steps += [("5 09:00", _follow_up, (ws, "meridian", today + timedelta(days=1)))]
    steps += [(when, _contact, (ws, name, fields, local)) for when, name, fields, local in _CONTACTS]
    steps += [("3 21:00", _draft, (ws, "mira-okonkwo")), ("2 20:30", _sent, (ws, "tomas-lindqvist"))]
    return steps


def _import_feed(ws: Workspace, scratch: Path, today: date) -> None:
    saved = scratch / "alignment-opportunities.xml"
    saved.write_text(feed_text(today), encoding="utf-8")
    proposed = opp_feed.propose(ws, str(saved))
    opp_feed.accept(ws, proposed, [p.number for p in proposed.proposals])


def _apply(ws: Workspace, ref: str, stretch: str) -> None:
    applications.add(ws, ref, stage="applied", stretch=stretch)


def _wishlist(ws: Workspace, ref: str, stretch: str) -> None:
    applications.add(ws, ref, stretch=stretch)


def _move(ws: Workspace, ref: str, stage: str, on: int | None, learned: str, today: date) -> None:
    applications.move(ws, ref, stage, on=(today + timedelta(days=on)).isoformat() if on is not None else None,
                      learned=learned or None)


def _follow_up(ws: Workspace, ref: str, day: date) -> None:
    applications.follow_up(ws, ref, day.isoformat())


def _contact(ws: Workspace, name: str, fields: dict[str, Any], local_only: bool) -> None:
    contacts.add(ws, name, local_only=local_only, **fields)


def _draft(ws: Workspace, ref: str) -> None:
    ws.ingest()  # the story's results are in the store before they are matched
    draft = outreach.draft(ws, ref)
    outreach.save_draft(ws, ref, f"Subject: {draft.subject}\n\n{draft.text}")


def _sent(ws: Workspace, ref: str) -> None:
    ws.ingest()
    draft = outreach.draft(ws, ref)
    outreach.sent(ws, ref, draft.text, subject=draft.subject)  # its follow-up: a week after
