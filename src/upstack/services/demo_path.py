"""The demo's path to a research job (issue 15): the person the demo follows is two steps up the
ladder (they could code; they implemented the IOI paper with ARENA's walkthrough, and skipped the
from-scratch step as their area is not low-level), works through learning resources, practises
interview problems a few times a week (below the bar, the slowest patterns showing), and keeps a
portfolio seeded from the project.

Each step is dated like the rest of the demo (``"DAYS_AGO HH:MM"``) and told by ``services/demo.py``
in order with the others, so the path's history interleaves with the log's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from upstack.services import ladder, portfolio, practice, resources
from upstack.workspace import Workspace

__all__ = ["PRACTICE", "path_steps"]

# Interview practice: (when, problem, title, difficulty, topics, minutes, outcome). Mediums that
# take over 30 minutes are the graph and dynamic-programming ones: the bar shows it.
PRACTICE: tuple[tuple[str, str, str, str, tuple[str, ...], int, str], ...] = (
    ("21 07:30", "two-sum", "Two Sum", "easy", ("hash-map",), 9, "unaided"),
    ("20 07:40", "group-anagrams", "Group Anagrams", "medium", ("hash-map", "strings"), 22, "unaided"),
    ("19 07:35", "top-k-frequent-elements", "Top K Frequent Elements", "medium", ("heap",), 26, "unaided"),
    ("18 07:30", "number-of-islands", "Number of Islands", "medium", ("graphs",), 41, "hints"),
    ("17 07:45", "coin-change", "Coin Change", "medium", ("dynamic-programming",), 48, "failed"),
    ("16 07:30", "longest-substring-without-repeating-characters",
     "Longest Substring Without Repeating Characters", "medium", ("sliding-window", "strings"), 24, "unaided"),
    ("15 07:40", "product-of-array-except-self", "Product of Array Except Self", "medium", ("arrays",), 19,
     "unaided"),
    ("14 07:30", "course-schedule", "Course Schedule", "medium", ("graphs",), 38, "unaided"),
    ("13 07:35", "house-robber", "House Robber", "medium", ("dynamic-programming",), 27, "unaided"),
    ("12 07:30", "kth-largest-element-in-an-array", "Kth Largest Element in an Array", "medium", ("heap",),
     17, "unaided"),
    ("11 07:45", "rotting-oranges", "Rotting Oranges", "medium", ("graphs", "bfs"), 33, "unaided"),
    ("10 07:30", "coin-change", "Coin Change", "medium", ("dynamic-programming",), 29, "unaided"),  # a review
    ("9 07:30", "merge-intervals", "Merge Intervals", "medium", ("sorting", "intervals"), 21, "unaided"),
    ("8 07:40", "longest-increasing-subsequence", "Longest Increasing Subsequence", "medium",
     ("dynamic-programming",), 44, "hints"),
    ("7 07:30", "valid-parentheses", "Valid Parentheses", "easy", ("stack",), 7, "unaided"),
    ("6 07:35", "search-in-rotated-sorted-array", "Search in Rotated Sorted Array", "medium",
     ("binary-search",), 25, "unaided"),
    ("5 07:30", "clone-graph", "Clone Graph", "medium", ("graphs",), 28, "unaided"),
    ("4 07:45", "word-break", "Word Break", "medium", ("dynamic-programming",), 36, "unaided"),
    ("3 07:30", "daily-temperatures", "Daily Temperatures", "medium", ("stack",), 18, "unaided"),
    ("2 07:35", "number-of-islands", "Number of Islands", "medium", ("graphs",), 24, "unaided"),  # a review
    ("1 07:30", "task-scheduler", "Task Scheduler", "medium", ("heap", "greedy"), 31, "unaided"),
)

# Learning resources: (when, resource, position, minutes, done).
_PROGRESS = (
    ("21 20:00", "arena", "1.2 Intro to mech interp", 90, False),
    ("20 20:30", "mech-interp-quickstart", "", 60, True),
    ("17 20:00", "arena", "1.3 Indirect object identification", 120, False),
    ("12 20:15", "arena", "1.3 Indirect object identification", 75, False),
    ("6 20:00", "mit-6006", "Lecture 4: hashing", 50, False),
)

Step = tuple[str, Callable[..., Any], tuple[Any, ...]]


def path_steps(ws: Workspace, written: dict[str, Any]) -> list[Step]:
    """The path's steps: (when, action, its arguments); ``written`` is the story's entries by key,
    filled as the story is told (an action reads it when it runs, not when this is called)."""
    steps: list[Step] = [
        ("21 08:00", ladder.mark_done, (ws, "code")),
        ("21 08:05", ladder.skip, (ws, "from-scratch",
                                   "interpretability on GPT-2 small: TransformerLens gives the components")),
        ("21 19:55", _hang, (ws, "arena", "paper-walkthrough")),
    ]
    steps += [(when, _progress, (ws, ref, position, minutes, done)) for when, ref, position, minutes, done in _PROGRESS]
    steps += [(when, _attempt, (ws, *attempt)) for when, *attempt in PRACTICE]
    steps += [
        ("13 16:30", _evidence, (ws, written, "paper-walkthrough", "baseline")),
        ("13 16:35", ladder.mark_done, (ws, "paper-walkthrough")),
        ("3 18:00", _portfolio, (ws, written)),
    ]
    return steps


def _hang(ws: Workspace, ref: str, step: str) -> None:
    resources.edit_resource(ws, ref, step=step)


def _progress(ws: Workspace, ref: str, position: str, minutes: int, done: bool) -> None:
    resources.log_progress(ws, ref, position=position, minutes=minutes, done=done)


def _attempt(ws: Workspace, problem: str, title: str, difficulty: str, topics: tuple[str, ...], minutes: int,
             outcome: str) -> None:
    practice.log_attempt(ws, problem, minutes=minutes, outcome=outcome, difficulty=difficulty, topics=topics,
                         title=title)


def _evidence(ws: Workspace, written: dict[str, Any], step: str, key: str) -> None:
    ws.ingest()  # the entry was captured through the journal: in the store before it is linked
    ladder.add_evidence(ws, step, written[key].id)


def _portfolio(ws: Workspace, written: dict[str, Any]) -> None:
    ws.ingest()
    portfolio.set_profile(ws, name="Sam Okafor", headline="Interpretability research: circuits in GPT-2 small",
                          links=[("GitHub", "https://github.com/example-sam")],
                          summary="Replicating and stress-testing the IOI circuit; looking for a research fellowship.")
    portfolio.add_item(ws, "write-up", "Replicating the IOI circuit in GPT-2 small (work in progress)",
                       sources=[written["outline"].id], summary="Path patching, ablations and where they disagree.")
    portfolio.add_item(ws, "result", "IOI baseline logit difference 3.41 on 750 prompts (paper: 3.56)",
                       sources=[written["baseline"].id])
