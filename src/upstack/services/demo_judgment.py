"""The demo's judgment (issue 19): predictions made on the experiments before their results, resolved
by them, and a weekly review from a language-model mentor.

Each prediction is made on its experiment or question a few minutes after the work reached it, before
its result entry existed, so that it is scored (services/predictions.py): the residual sweep and the
path patching came true (the latter after an update down to 40% when the first run came out at 1.71),
the SAE width sweep is the confident miss (90%, and 27% of the features were dead at 16k), the head
ablation came out against a 65% forecast, feature 11302 beat a 35% one, the induction drop is annulled
(the paper's number used another convention: the claim, as written, could not be settled) and the
swapped-name corruption is open, to be known within the week.

Three takes, claims heard and held with skepticism (services/takes.py): that SAEs find the model's real
features, heard at a reading group at 70% and moved twice by a second source (the feature-splitting
write-up, then the width sweep read against it) down to 30%; that deception evals are saturated, heard on
a podcast and resting on that one source, with its revisit day in the coming week (so `upstack due`
lists it); and that induction heads drive most in-context learning, from the paper, shared on the IOI
project.

The mentor's review is asked of the ``echo`` model of the `llm` plugin llm-echo (which answers with the
prompt it was sent, and needs no network) through services/mentor.py's own path, and filed as the
command files it; only when `llm` and llm-echo are installed (the ``llm`` extra), else it is left out.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from upstack.domain.entry import Entry
from upstack.domain.tree import Node
from upstack.services import mentor, predictions, takes
from upstack.workspace import Workspace

__all__ = ["PREDICTIONS", "TAKES", "MENTOR_WHEN", "judgment_steps", "mentor_available"]

Step = tuple[str, Callable[..., Any], tuple[Any, ...]]
ECHO_MODEL = "echo"
MENTOR_WHEN = "1 21:00"  # the evening review, after the week's last run ended


@dataclass(frozen=True)
class _Prediction:
    key: str
    node: str  # a TREE key (or "swapped_run")
    when: str  # made, "DAYS_AGO HH:MM"
    claim: str
    probability: str
    criteria: str = ""
    update: tuple[str, str, str] | None = None  # (when, probability, why)
    resolve: tuple[str, str, str, str] | None = None  # (when, outcome, evidence: a story key, why)
    by: str = ""  # a resolve-by day, for one still open


PREDICTIONS: tuple[_Prediction, ...] = (
    _Prediction("predict_resid", "resid", "19 14:10", "The hand-off from S2 to END is in layers 6-10 #patching",
                "75%", "Read off the layer × position heatmap of the residual sweep.",
                resolve=("19 15:00", "true", "resid", "")),
    _Prediction("predict_sweep", "sweep", "16 18:30", "Under 5% dead features at every SAE width #sae", "90%",
                "Dead fraction at 1k-32k in the overnight sweep.",
                resolve=("15 09:40", "false", "sweep", "")),
    _Prediction("predict_path", "path", "15 15:10",
                "Path patching S-inhibition → name movers' queries recovers most of the effect #path-patching",
                "70%", "Recovered fraction between 0.5 and 1.",
                update=("14 10:30", "40%", "The first run came out at 1.71: either a bug or the story is wrong."),
                resolve=("13 15:30", "true", "fix", "")),
    _Prediction("predict_ablation", "ablate", "12 16:55",
                "Mean-ablating any head class lowers the logit diff #ablation", "65%",
                resolve=("12 17:30", "false", "ablation", "")),
    _Prediction("predict_feature", "feature_ablation", "9 10:35",
                "Ablating feature 11302 costs at least one S-inhibition head's worth of logit diff #sae", "35%",
                resolve=("9 10:55", "true", "feature", "")),
    _Prediction("predict_induction", "induction", "5 09:05",
                "Ablating induction heads drops the logit diff by about 1, as in the paper #ioi", "80%",
                resolve=("2 10:40", "annulled", "induction",
                         "The paper measures the drop with another convention: as written, the claim cannot "
                         "be settled.")),
    _Prediction("predict_swapped", "swapped_run", "1 18:25",
                "Path patching keeps above 0.5 with swapped-name corruption #path-patching", "75%",
                "The same path, swapped-name corruption, 650 prompts.", by="in 1 week"),
)


@dataclass(frozen=True)
class _Take:
    key: str
    when: str  # heard, "DAYS_AGO HH:MM"
    claim: str
    source: str
    where: str
    confidence: str
    reason: str = ""
    crux: str = ""
    would_change: str = ""
    node: str | None = None  # a TREE key
    revisit: str | None = None  # from when it was heard: "in 20 days" lands in the coming week
    shared: bool = False
    updates: tuple[tuple[str, str, str, str, str], ...] = ()  # (when, confidence, why, another source, where)


TAKES: tuple[_Take, ...] = (
    _Take("take_sae", "16 15:30", "SAEs find the model's real features #sae", "a reading-group talk",
          "the Thursday reading group", "70%", "The demo features were strikingly clean.",
          crux="Do the features stay put as the dictionary grows?",
          would_change="The same direction splitting into several features at every width.", node="SAE",
          updates=(("14 09:10", "50%", "Features split as the dictionary grows: which width's are the real ones?",
                    "the feature-splitting write-up", "Towards Monosemanticity, the feature-splitting section"),
                   ("9 11:20", "30%", "Feature 11302 is one of several splits of one direction, as the write-up "
                    "shows at every width.", "", ""))),
    _Take("take_evals", "16 20:40", "Deception evals are saturated: frontier models pass them all #evals",
          "a podcast guest",
          "an AI-safety podcast episode", "65%", "They sounded sure, and named three evals.",
          would_change="A deception eval published this year that frontier models fail.",
          node="AGENDA", revisit="in 20 days"),
    _Take("take_induction", "20 16:30", "Induction heads are most of in-context learning in small models #induction",
          "Olsson et al. 2022", "In-context Learning and Induction Heads", "75%",
          "The phase change lines up with the bump in the loss curve.",
          crux="Does the claim hold beyond two-layer models?", node="IOI", shared=True),
)


def mentor_available() -> bool:
    """Whether the optional `llm` library and its llm-echo plugin are installed (never imported here)."""
    return all(importlib.util.find_spec(name) is not None for name in ("llm", "llm_echo"))


def judgment_steps(ws: Workspace, nodes: dict[str, Node], written: dict[str, Entry]) -> list[Step]:
    """(when, action, args) for the demo's story: the predictions, their updates and resolutions, and the
    mentor's review; what they write goes into ``written`` under their keys (as they happen: ``nodes``
    and ``written`` fill in as the story is told)."""
    steps: list[Step] = []
    for item in PREDICTIONS:
        steps.append((item.when, _make, (ws, nodes, written, item)))
        if item.update:
            when, probability, why = item.update
            steps.append((when, _update, (ws, written, item.key, probability, why)))
        if item.resolve:
            when, outcome, evidence, why = item.resolve
            steps.append((when, _resolve, (ws, written, item.key, outcome, evidence, why)))
    for heard in TAKES:
        steps.append((heard.when, _take, (ws, nodes, written, heard)))
        steps += [(when, _update_take, (ws, written, heard.key, confidence, why, source, where))
                  for when, confidence, why, source, where in heard.updates]
    if mentor_available():
        steps.append((MENTOR_WHEN, _review, (ws, nodes, written)))
    return steps


def _make(ws: Workspace, nodes: dict[str, Node], written: dict[str, Entry], item: _Prediction) -> None:
    made = predictions.make(ws, item.claim, item.probability, on=nodes[item.node].id, criteria=item.criteria,
                            resolve_by=item.by or None)
    written[item.key] = made.entry


def _update(ws: Workspace, written: dict[str, Entry], key: str, probability: str, why: str) -> None:
    predictions.update(ws, written[key].id, probability, reason=why)


def _resolve(ws: Workspace, written: dict[str, Entry], key: str, outcome: str, evidence: str, why: str) -> None:
    ws.ingest()  # the result that settles it, captured to the journal, is in the store first
    predictions.resolve(ws, written[key].id, outcome, evidence=written[evidence].id, reason=why)


def _take(ws: Workspace, nodes: dict[str, Node], written: dict[str, Entry], heard: _Take) -> None:
    made = takes.make(ws, heard.claim, heard.confidence, source=heard.source, where=heard.where,
                      cruxes=[heard.crux] if heard.crux else [], would_change=heard.would_change,
                      on=[nodes[heard.node].id] if heard.node else [], revisit=heard.revisit, shared=heard.shared,
                      reason=heard.reason)
    written[heard.key] = made.entry


def _update_take(ws: Workspace, written: dict[str, Entry], key: str, confidence: str, why: str, source: str,
                 where: str) -> None:
    takes.update(ws, written[key].id, confidence, reason=why, source=source or None, where=where)


def _review(ws: Workspace, nodes: dict[str, Node], written: dict[str, Entry]) -> None:
    """`upstack mentor --model echo --yes`, as the command does it: the week's prompt (only what may leave),
    the model's answer, filed as an entry tagged #mentor; here on the agenda, the week's work as a whole
    (so that it traces to it: `upstack check`)."""
    ws.ingest()
    prompt = mentor.week_prompt(ws, days=7)
    answer, used = mentor.send(prompt, mentor.model(ECHO_MODEL))
    written["mentor_review"] = mentor.file_answer(ws, answer, used, node_id=nodes["AGENDA"].id,
                                                  about="the last 7 days")
