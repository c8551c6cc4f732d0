"""A sample research log to try upstack on: three weeks of an interpretability project.

`build_demo` writes it through the services like any other log, living through the three
weeks before ``now`` on a simulated clock (`timeutil.simulated_clock`), so that everything is
dated as a real three weeks would be: the theory-of-change tree grows as the work reaches it
(one agenda, two projects, questions and experiments, each with its why), the story's entries
are written on their days (figures and tables attached, links by title and by short id), eight
weeks of check-ins raise one early warning and a recovery plan follows it (demo_pace.py), a
stuck spell drafts a question for the mentor, learnings are recorded after the fact on failed
results, predictions are made before the results that settle them (one a confident miss) and a
language-model mentor reviews the last week if the `llm` extra is installed (demo_judgment.py),
ideas are captured and later triaged, pruned, parked or promoted, nodes are answered,
dropped or parked, and runs made with the scripting API train for real durations. It never
chooses where: callers open the workspace with `open_demo_workspace`, which always uses SQLite
in the demo's own directory, whatever UPSTACK_DB or the config file say.

The attached figures are real files, made by :mod:`upstack.services.demo_figures`.
"""

from __future__ import annotations

import math
import re
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from upstack.domain.entry import Entry
from upstack.domain.tree import Node
from upstack.errors import BadInput
from upstack.services import capture, demo_judgment, demo_pace, demo_path, demo_pipeline, ideas, learning, stuck
from upstack.services import tree as tree_service
from upstack.services.demo_figures import curve_svg, write_figures
from upstack.services.runstart import start_run
from upstack.store import queries
from upstack.store.tree import load_node
from upstack.timeutil import SimulatedClock, simulated_clock
from upstack.workspace import Workspace

__all__ = ["DemoLog", "STORY", "TREE", "IDEAS", "RUNS", "build_demo", "demo_db_url", "make_demo_home",
           "open_demo_workspace"]

IOI = "IOI circuit"
SAE = "SAE features"


@dataclass(frozen=True)
class DemoLog:
    """What `build_demo` wrote.

    ``entries`` maps keys to the entries as captured, in the order written (the story's in
    `STORY` order; ``entries["heatmap"]`` is the result with a PNG and a CSV that many later
    entries link to), among them the question drafted from the stuck spell ("ask"), the
    learnings recorded after the fact and the ideas. ``nodes`` maps the tree's keys (`TREE`,
    "swapped" for the question an idea was promoted to, "swapped_run" for its experiment) to
    the nodes as they ended up; ``runs`` maps `RUNS` keys to run ids, in the order they ran.
    """

    home: Path
    entries: dict[str, Entry]
    files: tuple[str, ...]
    nodes: dict[str, Node] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)  # run ids (each also a result entry)


def make_demo_home(home: str | Path | None = None) -> Path:
    """A new temporary directory, or ``home`` if it is new or empty (never a used one)."""
    if home is None:
        return Path(tempfile.mkdtemp(prefix="upstack-demo-"))
    path = Path(home).expanduser()
    if path.exists() and not path.is_dir():
        raise BadInput(f"cannot build the demo in {path}: it is not a directory")
    if path.is_dir() and any(path.iterdir()):
        raise BadInput(f"refusing to build the demo in {path}: it is not empty "
                       "(choose a new or empty directory)")
    path.mkdir(parents=True, exist_ok=True)
    return path


def demo_db_url(home: Path) -> str:
    """SQLite inside the demo's directory, named so that no configured database applies."""
    return f"sqlite:///{home / 'upstack.db'}"


def open_demo_workspace(home: Path) -> Workspace:
    """The demo's workspace: SQLite inside ``home``, never the user's configured database."""
    return Workspace(home=home, db=demo_db_url(home))


def build_demo(ws: Workspace, now: datetime | None = None) -> DemoLog:
    """Write the sample log into ``ws``, dated over the three weeks before ``now`` (every step
    before the day of ``now``)."""
    today = (now or datetime.now().astimezone()).astimezone().date()
    with tempfile.TemporaryDirectory(prefix="upstack-demo-files-") as scratch:
        story = _Story(ws, today, Path(scratch))
        steps = sorted(story.steps(), key=lambda step: step[0])  # stable: a tie keeps the tables' order
        with simulated_clock(steps[0][0]) as story.clock:
            for moment, action in steps:
                story.clock.set(moment)
                action()
            ws.ingest()
    tree_service.set_focus(ws, story.nodes["swapped"].id)  # new notes land on the open question
    db = ws.store().db
    nodes = {key: load_node(db, node.id) for key, node in story.nodes.items()}
    return DemoLog(home=ws.home, entries=story.written, files=tuple(story.figures), nodes=nodes, runs=story.runs)


def _moment(today: date, when: str) -> datetime:
    """``"DAYS_AGO HH:MM"`` (local time) as a time."""
    days_ago, clock = when.split()
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime.combine(today - timedelta(days=int(days_ago)), time(hour, minute)).astimezone()


class _Story:
    """The demo's steps, each at its time; what they wrote so far (later steps refer to it)."""

    def __init__(self, ws: Workspace, today: date, scratch: Path) -> None:
        self.ws, self.today, self.scratch = ws, today, scratch
        self.figures = write_figures(scratch)
        self.nodes: dict[str, Node] = {}
        self.written: dict[str, Entry] = {}
        self.runs: dict[str, str] = {}
        self.clock = SimulatedClock(_moment(today, "21 00:00"))  # build_demo's, while the story is told

    def steps(self) -> list[tuple[datetime, Callable[[], None]]]:
        def at(when: str, action: Callable[..., None], *args: Any) -> tuple[datetime, Callable[[], None]]:
            return _moment(self.today, when), lambda: action(*args)

        steps = [at(spec.when, self.plant, spec) for spec in TREE]
        steps += [at(when, self.move, key, under) for when, key, under in _MOVES]
        steps += [at(item.when, self.write, item) for item in STORY]
        steps += [at(_ASK_WHEN, self.ask)]
        steps += [at(when, self.learn, key, source, text) for when, key, source, text in _LEARNED]
        steps += [at(idea.when, self.capture_idea, idea) for idea in IDEAS]
        steps += [at(idea.decided, self.decide_idea, idea) for idea in IDEAS if idea.state != "candidate"]
        steps += [at(when, self.set_status, key, status, reason, override)
                  for when, key, status, reason, override in _STATUS_CHANGES]
        steps += [at(_SWAPPED_RUN[0], self.plant_swapped_run)]
        steps += [at(spec.when, self.run, spec) for spec in RUNS]
        steps += [at(when, action, *args) for when, action, args in demo_path.path_steps(self.ws, self.written)]
        steps += [at(when, action, *args)
                  for when, action, args in demo_pipeline.pipeline_steps(self.ws, self.scratch, self.today)]
        steps += [at(when, action, *args) for when, action, args in demo_pace.pace_steps(self.ws, self.today)]
        steps += [at(when, action, *args)
                  for when, action, args in demo_judgment.judgment_steps(self.ws, self.nodes, self.written)]
        return steps

    # -- the tree ------------------------------------------------------------------
    def plant(self, spec: _TreeNode) -> None:
        under = self.nodes[spec.under].id if spec.under else None
        self.nodes[spec.key] = tree_service.add_node(self.ws, spec.kind, spec.title, why=spec.why, under=under,
                                                     status=spec.status, override=spec.override)

    def move(self, key: str, under: str) -> None:
        self.nodes[key] = tree_service.move_node(self.ws, self.nodes[key].id, self.nodes[under].id)

    def set_status(self, key: str, status: str, reason: str, override: str) -> None:
        self.nodes[key] = tree_service.set_status(self.ws, self.nodes[key].id, status, reason, override=override)

    def plant_swapped_run(self) -> None:
        _, title, why = _SWAPPED_RUN
        self.nodes["swapped_run"] = tree_service.add_node(self.ws, "experiment", title, why=why,
                                                          under=self.nodes["swapped"].id, status="active")

    # -- entries -------------------------------------------------------------------
    def write(self, item: _StoryEntry) -> None:
        if _SHORT_LINK.search(item.text):
            # A [[short id]] link is resolved when its entry is ingested, and journal files
            # written within one millisecond are ingested in no fixed order: ingest what came
            # before so the target is surely in the store first.
            self.ws.ingest()
        text = _SHORT_LINK.sub(lambda m: f"[[{self.written[m.group(1)].short}]]", item.text)
        self.written[item.key] = capture.note(
            self.ws, text, kind=item.kind, under=self.nodes[item.node].id if item.node else None,
            private=item.private, attach=[self.figures[name] for name in item.files],
            meta=learning.result_meta(item.kind, *item.result) if item.result else None)

    def ask(self) -> None:
        """The question the stuck spell drafted for the mentor, with the ask filled in."""
        node = self.nodes["path"]
        _, draft = stuck.draft_question(self.ws, node.id, to="Priya", days=7)
        question = ("Why would a path effect come out above 1 when a unit test on a toy model "
                    "passes? Is there a known way batching or padding leaks between prompts?")
        self.written["ask"] = stuck.ask(self.ws, node.id, draft.replace(
            "(Write it here. Writing it down often answers it.)", question))

    def learn(self, key: str, source: str, text: str) -> None:
        self.written[key] = learning.learned(self.ws, self.written[source].id, text)

    # -- ideas ---------------------------------------------------------------------
    def capture_idea(self, idea: _Idea) -> None:
        self.written[idea.key] = ideas.capture_idea(self.ws, idea.text, **idea.triage)

    def decide_idea(self, idea: _Idea) -> None:
        entry_id = self.written[idea.key].id
        if idea.state == "promoted":
            _, self.nodes["swapped"] = ideas.promote(self.ws, entry_id, kind="question", under=self.nodes["IOI"].id,
                                                     reason=idea.reason)
        else:
            ideas.set_state(self.ws, entry_id, idea.state, idea.reason, [self.written[k].id for k in idea.evidence])
        self.written[idea.key] = queries.get_entry(self.ws.store().db, entry_id)  # pruned: with the reason

    # -- runs ----------------------------------------------------------------------
    def run(self, spec: _Run) -> None:
        """A run made with the scripting API, as a training script would (`upstack.run`), its
        steps spread over the run's duration. Provenance is what this machine says (Python,
        packages, host), never the command that built the demo."""
        started = self.clock.moment
        node = self.nodes[spec.node].id
        with start_run(self.ws, spec.name, under=node, config=spec.config, tags=spec.tags,
                       capture=("python", "packages", "host"), goals=spec.goals) as run:
            curves: dict[str, list[float]] = {}
            for step in range(spec.steps):
                self.clock.set(started + timedelta(minutes=spec.minutes * step / spec.steps))
                values = spec.metrics(step)
                for key, value in values.items():
                    curves.setdefault(key, []).append(value)
                run.log(values, step=step)
            self.clock.set(started + timedelta(minutes=spec.minutes))
            key, title, y_max = spec.figure
            chart = self.scratch / f"{spec.key}.svg"
            chart.write_text(curve_svg(title, curves[key], y_title=key, y_max=y_max), encoding="utf-8")
            run.figure(chart, title)
            last = {k: v[-1] for k, v in curves.items()}
            run.summary(**spec.summary(last))
            if spec.note:
                run.note(spec.note)
        self.runs[spec.key] = run.id
        self.ws.ingest()  # take the run in



# -- the tree --------------------------------------------------------------------

@dataclass(frozen=True)
class _TreeNode:
    key: str
    when: str  # "DAYS_AGO HH:MM", local time: when the work reached it
    kind: str
    title: str
    why: str
    under: str | None
    status: str = "active"
    override: str = ""  # for a second active project: the reason, kept in its history


TREE: tuple[_TreeNode, ...] = (
    _TreeNode("AGENDA", "21 09:20", "agenda", "Interpretability tools I can trust for auditing models",
              "Auditing a model before deployment needs tools that find real mechanisms: I "
              "must know where patching and dictionary learning fool me before pointing them "
              "at eval awareness.", None),
    _TreeNode("IOI", "21 09:25", "project", IOI,
              "IOI is the best-documented circuit: reproducing it calibrates my patching code "
              "and my judgement against a known answer.", "AGENDA"),
    _TreeNode("baseline", "20 15:00", "experiment", "Baseline logit diff on the IOI prompts",
              "Every patching number is a fraction of this one: it has to match the paper first.",
              "IOI"),
    _TreeNode("corrupt", "19 09:15", "question", "ABC prompts or swapped names for the corrupted run?",
              "The corruption decides what \"fraction recovered\" measures, so every later "
              "number depends on it.", "IOI"),
    _TreeNode("where", "19 14:00", "question", "Where does the name information move from S2 to END?",
              "Knowing the layers tells the 144-head sweep where to look.", "IOI"),
    _TreeNode("resid", "19 14:05", "experiment", "Residual-stream patching, layer × position",
              "The cheapest sweep that can locate the hand-off: 24 patches instead of 144.",
              "where"),
    _TreeNode("who", "18 10:20", "question", "Which heads carry the IOI behaviour?",
              "Finding the paper's heads by my own sweeps is what \"reproduced\" means.", "IOI"),
    _TreeNode("heads", "18 10:25", "experiment", "Per-head patching at END",
              "Ranks all 144 heads by how much of the logit diff each one restores.", "who"),
    _TreeNode("negative", "17 09:10", "question", "Why do 10.7 and 11.10 work against the answer?",
              "Heads I cannot explain are heads I cannot put in the diagram.", "IOI"),
    _TreeNode("SAE", "16 14:15", "project", SAE,
              "An SAE on layer 8 is a second, independent view of the IOI signal: if a feature "
              "lines up with the heads, dictionary learning is ready for the next project.",
              "AGENDA", override="Side thread with a budget of two GPU-days, run alongside IOI."),
    _TreeNode("width", "16 18:20", "question", "How wide should the layer-8 SAE be?",
              "Too narrow merges the signal with others; too wide wastes compute on dead "
              "features.", "SAE"),
    _TreeNode("sweep", "16 18:25", "experiment", "SAE width sweep, 1k to 32k",
              "Reconstruction and dead features against width, in one overnight run.", "width"),
    _TreeNode("how", "15 15:00", "question", "Do S-inhibition heads act through the name movers' queries?",
              "This is the mechanism, not just a list of heads: the core claim of the write-up.",
              "IOI"),
    _TreeNode("path", "15 15:05", "experiment", "Path patching S-inhibition → name movers' queries",
              "Isolates the one path the S-inhibition story predicts.", "how"),
    _TreeNode("resample", "12 14:25", "experiment", "Resample dead features at 8k and 16k",
              "Tells dead capacity apart from a real limit of the method.", "width"),
    _TreeNode("ablate", "12 16:50", "experiment", "Mean-ablate each head class",
              "Patching asks whether a head is enough; ablation asks whether it is needed.",
              "who"),
    _TreeNode("duplicate", "10 13:50", "question", "Is there a feature for \"a name mentioned twice\" at END?",
              "That is the S-inhibition signal: finding it is the independent view.", "SAE"),
    _TreeNode("rank", "10 13:55", "experiment", "Rank features by IOI − ABC activation at END",
              "The cheapest search: one forward pass over the IOI prompts and their ABC twins.",
              "duplicate"),
    _TreeNode("feature_ablation", "9 10:30", "experiment", "Ablate feature 11302 at END",
              "Correlation is not use: the ablation tests whether the logit diff needs it.",
              "duplicate"),
    _TreeNode("medium", "9 11:00", "question", "Does the same circuit appear in GPT-2 medium?",
              "If it does, the reproduction says something beyond one small model.", "IOI"),
    _TreeNode("same_variable", "9 16:15", "question",
              "Does feature 11302 carry the same variable as the S-inhibition heads?",
              "If it is only \"a repeated token nearby\", the second view does not confirm "
              "the first.", "duplicate", status="open"),
    _TreeNode("induction", "5 09:00", "question", "Does ablating induction heads reproduce the paper's drop?",
              "A number I cannot reproduce is one I cannot cite.", "IOI"),
)

# (when, TREE key, new parent): first filed under the project, it turned out to be about the heads.
_MOVES: tuple[tuple[str, str, str], ...] = (("12 10:40", "negative", "who"),)

# The experiment made under the question an idea was promoted to: (when, title, why).
_SWAPPED_RUN = ("1 18:20", "Path patching with swapped-name corruption",
                "The cheapest test that could undercut section 4.")

# Where each story entry is filed (a TREE key; None: nowhere).
_FILED: dict[str, str | None] = {
    "kickoff": "IOI", "paper": "IOI", "setup": "IOI", "tl_defaults": "IOI",
    "baseline": "baseline", "q_corrupt": "corrupt", "resid": "resid", "resid_first": "where",
    "head_plan": "heads", "heatmap": "heads", "q_negative": "negative", "attention": "who",
    "templates": "baseline", "sae_plan": "SAE", "sae_loop": "SAE", "sweep": "sweep",
    "q_dead": "width", "path_first": "path", "week1": "AGENDA", "path_bad": "path",
    "stuck1": "path", "stuck2": "path", "fix": "path", "positions": "how",
    "mentor1": "AGENDA", "resample": "width", "padding_note": "IOI", "ablation": "ablate",
    "backup": "ablate", "noising": "who", "resampled": "resample", "feature_search": "rank",
    "feature": "feature_ablation", "q_feature": "same_variable", "maintenance": "IOI",
    "week2": "AGENDA", "copy_reading": "negative", "copy": "negative", "scope": "IOI",
    "outline": "IOI", "induction": "induction", "induction_stuck": "induction",
    "q_induction": "induction", "ablation_learning": "induction", "split": "same_variable",
    "draft": "IOI", "methods_learning": "IOI", "priya_answer": "induction", "next": "AGENDA",
    "week3": "AGENDA", "shared": "IOI",
}

# Results: (what I expected, what happened, outcome).
_RESULTS: dict[str, tuple[str, str, str]] = {
    "baseline": ("About 3.56, the paper's logit diff.", "3.41 on 750 prompts.", "as-expected"),
    "resid": ("The hand-off from S2 to END somewhere in layers 6-10.",
              "A sharp hand-off between layers 7 and 9.", "as-expected"),
    "heatmap": ("The paper's name movers on top.",
                "9.9, 9.6 and 10.0 on top; 10.7 and 11.10 negative.", "as-expected"),
    "sweep": ("Under 5% dead features at every width.", "27% dead at 16k and 41% at 32k.",
              "failed"),
    "path_bad": ("S-inhibition → name movers recovers most of the effect, below 1.",
                 "1.71: more than the full effect.", "failed"),
    "fix": ("A bug in my path patching code.", "A padding bug in how END was read; 0.83 after "
            "the fix.", "surprise"),
    "ablation": ("Every class needed; removing any lowers the logit diff.",
                 "Removing the negative name movers raises it to 4.07.", "surprise"),
    "resampled": ("Far fewer dead features.", "3% dead at 16k, down from 27%.", "as-expected"),
    "feature": ("Maybe a weak correlate of duplication.",
                "Ablating feature 11302 costs as much as two S-inhibition heads.", "surprise"),
    "copy": ("10.7 suppresses whatever the model is about to copy.",
             "Steering its query moves its negative contribution onto S.", "as-expected"),
    "induction": ("A drop of about 1 in logit diff, as in the paper.", "A drop of 0.21.",
                  "failed"),
    "split": ("11302 stays one feature at 32k.",
              "It splits into a name-specific and a generic duplication feature.", "surprise"),
}

# (when, TREE key, new status, reason, override): what changed in the tree over the weeks.
_STATUS_CHANGES: tuple[tuple[str, str, str, str, str], ...] = (
    ("19 15:00", "resid", "done", "Hand-off between layers 7 and 9.", ""),
    ("19 17:15", "where", "done", "S2 to END in layers 7-9, by the S-inhibition heads' layers.", ""),
    ("18 16:50", "heads", "done", "Name movers 9.9, 9.6, 10.0; negative 10.7, 11.10.", ""),
    ("16 10:05", "baseline", "done", "3.52 on 650 prompts after dropping two templates.", ""),
    ("15 09:35", "sweep", "done", "Dead features explode above 8k.", ""),
    ("14 10:30", "path", "blocked", "Path effect above 1: a bug somewhere.", ""),
    ("13 15:25", "path", "done", "0.83 after the padding fix.", ""),
    ("13 16:10", "how", "done", "Yes: path patching recovers 0.83 along that path.", ""),
    ("12 10:30", "corrupt", "done", "ABC to find the circuit, both reported (mentor call).", ""),
    ("11 10:25", "ablate", "done", "Name movers necessary; backup heads take over when ablated.", ""),
    ("10 09:35", "resample", "done", "3% dead at 16k with resampling.", ""),
    ("10 09:40", "width", "done", "16k with resampling.", ""),
    ("10 14:05", "rank", "done", "Feature 11302 on top.", ""),
    ("9 10:50", "feature_ablation", "done", "Costs as much as two S-inhibition heads.", ""),
    ("7 15:35", "negative", "done", "Copy suppression, reproduced on my prompts.", ""),
    ("7 15:45", "who", "done", "The paper's heads, found by my own sweeps.", ""),
    ("6 10:00", "medium", "dropped", "Out of scope for the write-up (the scope decision).",
     "Three weeks is the whole project; the write-up covers GPT-2 small only."),
    ("4 16:05", "duplicate", "done", "Feature 11302, which splits at 32k into a name-specific one.", ""),
    ("2 10:35", "induction", "done", "Same convention as the paper: 2.61; the gap was the convention.", ""),
    ("2 15:05", "SAE", "parked", "Paused for the probing project; the write-up gives it one section. "
     "Back to it if probing needs features.", ""),
)

# (when, key, the failed result it came from, text): learnings recorded after the fact.
_LEARNED: tuple[tuple[str, str, str, str], ...] = (
    ("13 16:20", "learned_path", "path_bad", "A path effect above 1 is a bug, not a finding.\n"
     "Check that effects stay within [0, 1] before reading anything into them; it would have "
     "pointed at the padding a day earlier. #method #path-patching"),
    ("10 09:50", "learned_sweep", "sweep", "Resample dead features before reading an SAE width sweep.\n"
     "Without it the sweep measured dead capacity, not what width buys. #sae #method"),
)

_ASK_WHEN = "14 22:50"  # the question drafted from the stuck spell, right after its second entry


# -- ideas -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Idea:
    key: str
    when: str  # captured
    text: str
    triage: dict[str, Any]
    state: str = "candidate"  # or de-risking, parked, pruned, or promoted
    decided: str = ""  # when it left the candidates
    reason: str = ""
    evidence: tuple[str, ...] = ()  # story keys


IDEAS: tuple[_Idea, ...] = (
    _Idea("idea_attribution", "18 17:10",
          "Attribution patching could replace the 12-minute head sweep. #patching",
          {"hypothesis": "Gradient attribution ranks the heads like activation patching does.",
           "cheapest_test": "Rank the 144 heads both ways and compare the top 10.",
           "kill_criteria": "Rank correlation of the top 10 below 0.8.", "cost_hours": 2,
           "compute": "10 GPU-minutes", "value": "Sweeps in seconds for the next project.",
           "value_score": 4}),
    _Idea("idea_64k", "15 10:00", "Train a 64k SAE to find more duplication features. #sae",
          {"cheapest_test": "Dead fraction and feature splitting at 32k first.", "cost_hours": 12,
           "compute": "two GPU-days", "value_score": 2},
          state="pruned", decided="4 16:15", reason="At 32k 11302 already splits, and dead features grow "
          "faster than reconstruction improves past 8k.", evidence=("sweep", "split")),
    _Idea("idea_right_pad", "14 09:00", "Keep right padding and read END at a fixed index to batch faster. "
          "#patching",
          {"cheapest_test": "Compare END indices of clean and ABC prompts in one batch.",
           "cost_hours": 0.5, "value_score": 2},
          state="pruned", decided="13 15:40", reason="That is the padding bug: two-token names shift END.",
          evidence=("fix",)),
    _Idea("idea_swapped", "12 11:00", "Report path patching under swapped-name corruption too. #path-patching",
          {"hypothesis": "0.83 for S-inhibition → name movers holds with swapped names.",
           "cheapest_test": "Rerun the path patching with swapped-name corruption.",
           "kill_criteria": "Below 0.5 with swapped names.", "cost_hours": 1,
           "value": "Answers the first question any reader of section 4 will ask.",
           "value_score": 5},
          state="promoted", decided="1 18:10",
          reason="Sending the draft out made it plain: section 4 needs it before anyone reads it."),
    _Idea("idea_attn_sae", "10 16:30", "An SAE on the attention outputs of layer 8 might isolate "
          "S-inhibition better than the residual stream. #sae",
          {"hypothesis": "Head outputs are sparser in features than the residual stream.",
           "cheapest_test": "Train a 4k SAE on hook_z of layer 8 for 50M tokens.",
           "cost_hours": 6, "compute": "half a GPU-day", "value_score": 3},
          state="de-risking", decided="9 09:10"),
    _Idea("idea_medium", "9 09:00", "Check that the IOI circuit carries over to GPT-2 medium. #ioi",
          {"cheapest_test": "Per-head patching sweep on GPT-2 medium.", "cost_hours": 10,
           "value_score": 2},
          state="pruned", decided="6 10:05", reason="Out of scope: the write-up is the GPT-2 small reproduction.",
          evidence=("scope",)),
    _Idea("idea_probe", "8 14:00", "Linear probes for eval awareness on the residual stream. #planning",
          {"hypothesis": "Eval awareness is linearly readable in the middle layers.",
           "cheapest_test": "Probe 200 labelled eval and deployment prompts.", "cost_hours": 8,
           "value_score": 4},
          state="parked", decided="2 15:10", reason="Next quarter's project; it starts after the write-up.",
          evidence=("next",)),
)


# -- runs ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Run:
    key: str
    when: str  # started
    minutes: float  # how long it ran
    name: str
    node: str  # a TREE key, or "swapped_run"
    config: dict[str, Any]
    tags: tuple[str, ...]
    goals: dict[str, str]
    steps: int
    metrics: Callable[[int], dict[str, float]]
    figure: tuple[str, str, float]  # (metric, title, top of its y axis)
    summary: Callable[[dict[str, float]], dict[str, Any]]  # from the last values
    note: str = ""


def _path_patching(key: str, when: str, minutes: float, node: str, corruption: str, seed: int,
                   plateau: float, note: str = "") -> _Run:
    """Path patching over 500 prompts: the running mean of the share recovered settles."""
    def metrics(step: int) -> dict[str, float]:
        recovered = plateau + math.sin(step * 0.37 + seed) * 0.4 / math.sqrt(step + 1)
        return {"recovered": recovered, "logit_diff": 3.1 * recovered}

    def summary(last: dict[str, float]) -> dict[str, Any]:
        return {"recovered": round(last["recovered"], 3), "expected": "About 0.83, as with ABC prompts.",
                "happened": f"{last['recovered']:.2f} of the logit difference recovered.",
                "outcome": "as-expected"}

    config = {"model": "gpt2-small", "corruption": corruption, "seed": seed, "prompts": 500,
              "sender": "S-inhibition heads", "receiver": "name movers"}
    return _Run(key, when, minutes, "path-patching", node, config, ("ioi", "path-patching"),
                {"recovered": "max", "logit_diff": "max"}, 500, metrics,
                ("recovered", f"Share of the logit difference recovered ({corruption}, seed {seed})", 1.0),
                summary, note)


def _sae_metrics(step: int) -> dict[str, float]:
    """A 16k SAE on 200M tokens, one step per 250k tokens, dead features resampled every 100 steps."""
    since_resample = step % 100
    dead = 0.031 + 0.22 * (1 - math.exp(-since_resample / 30)) * math.exp(-step / 160)
    return {"mse": 0.071 + 0.3 * math.exp(-step / 90), "l0": 44 + 70 * math.exp(-step / 60),
            "dead_fraction": dead}


RUNS: tuple[_Run, ...] = (
    _path_patching("abc", "13 16:40", 38, "path", "ABC prompts", 0, 0.83,
                   note="END read per prompt from the attention mask: below 1, as it must be."),
    _Run("sae16k", "11 21:30", 430, "sae-layer8-16k", "resample",
         {"model": "gpt2-small", "hook": "blocks.8.hook_resid_pre", "width": 16384, "l1": 5e-4, "lr": 3e-4,
          "tokens": 200_000_000, "resample_every": 25_000},
         ("sae", "sweep"), {"mse": "min", "dead_fraction": "min"}, 800, _sae_metrics,
         ("dead_fraction", "Dead features during training (resampled every 25k steps)", 0.3),
         lambda last: {"mse": round(last["mse"], 3), "dead_fraction": round(last["dead_fraction"], 3),
                       "expected": "Far fewer dead features than the 27% without resampling.",
                       "happened": f"{last['dead_fraction']:.1%} dead at the end, MSE {last['mse']:.3f}.",
                       "outcome": "as-expected"},
         "Dead features spike after each resample and settle lower each time."),
    _path_patching("swapped0", "1 19:05", 41, "swapped_run", "swapped names", 0, 0.79,
                   note="Swapped names give the same picture within noise: section 4 stands."),
    _path_patching("swapped1", "1 19:55", 43, "swapped_run", "swapped names", 1, 0.81),
)


# -- the story -------------------------------------------------------------------

_SHORT_LINK = re.compile(r"\[\[@([a-z0-9_]+)\]\]")

@dataclass(frozen=True)
class _StoryEntry:
    key: str
    when: str  # "DAYS_AGO HH:MM", local time
    kind: str
    text: str  # [[@key]] becomes a link by short id to an earlier entry
    node: str | None  # the TREE key it is filed under
    files: tuple[str, ...] = ()
    private: bool = False
    result: tuple[str, str, str] | None = None  # expected, happened, outcome


def _entry(key: str, when: str, kind: str, text: str, files: tuple[str, ...] = (),
           private: bool = False) -> _StoryEntry:
    return _StoryEntry(key, when, kind, textwrap.dedent(text).strip(), _FILED[key], files,
                       private, _RESULTS.get(key))


STORY: tuple[_StoryEntry, ...] = (
    _entry("kickoff", "21 09:40", "note", """\
    # Project kickoff: IOI circuit in GPT-2 small
    Goal for the next three weeks: reproduce the core of the indirect-object-identification
    circuit with activation patching in TransformerLens, well enough that I can explain every
    head in the diagram and say where my numbers differ from the paper.

    Why: patching is the tool I will lean on for the eval-awareness project next quarter, and
    IOI is the best-documented circuit to calibrate my code and my judgement against.

    Done means: logit diff within ~10% of the paper; name movers, S-inhibition and induction
    heads found by my own sweeps, not read off their figure. Side thread if there is slack:
    a small SAE on the layer-8 residual stream. #ioi #gpt2 #planning
    """),
    _entry("paper", "21 11:15", "note", """\
    # Reading notes: Interpretability in the Wild (the IOI paper)
    Prompt: "When Mary and John went to the store, John gave a drink to" → " Mary".
    Metric: logit diff = logit(IO) − logit(S) at END; they report 3.56.

    Circuit in three stages:
    1. Duplicate-token and induction heads (0.1, 3.0, 5.5, 6.9) notice that S occurs twice.
    2. S-inhibition heads (7.3, 7.9, 8.6, 8.10) write "S is duplicated" into END and steer
       the name movers' queries away from S.
    3. Name movers (9.6, 9.9, 10.0) attend to IO and copy it into the logits. Negative name
       movers (10.7, 11.10) push the other way.

    Corruption for patching: the ABC distribution (three different names), which removes the
    duplication but keeps the grammar. Kickoff: [[Project kickoff: IOI circuit in GPT-2 small]]
    #reading #ioi
    """),
    _entry("setup", "20 10:05", "note", """\
    # Activation patching setup
    TransformerLens, `HookedTransformer.from_pretrained("gpt2")`, fp32. Dataset: 15 templates
    × 50 name pairs = 750 prompts, ABBA and BABA balanced, names from the paper's list.

    Patching helper: run the corrupted prompt, hook `blocks.{L}.hook_resid_pre` (or
    `attn.hook_z` for one head), write the clean activation at one position, read the logit
    diff at END. Normalised so 0 = corrupted run and 1 = clean run.
    Code in ioi/patching.py, commit 3f2a9c1. #setup #patching #transformerlens
    """),
    _entry("tl_defaults", "20 13:10", "learning", """\
    Check the TransformerLens defaults against HuggingFace before trusting any number.
    `from_pretrained` folds LayerNorm and centres the writing weights by default. Logits match
    the HF gpt2 model to 3e-5, but raw residual activations do not (they are centred). Fine
    for patching; it matters the day I compare activations with another library's.
    #transformerlens #setup
    """),
    _entry("baseline", "20 15:30", "result", """\
    Baseline logit diff on 750 prompts: 3.41 (paper: 3.56).
    Std 1.2; IO beats S on 97.6% of prompts. The gap is probably my templates: I kept two
    "gave it to" templates the paper dropped. Good enough to start patching; recheck once the
    templates are cleaned up. Setup: [[Activation patching setup]] #ioi #baseline
    """),
    _entry("q_corrupt", "19 09:20", "question", """\
    Should the corrupted run use ABC prompts or the same prompt with S and IO swapped?
    Swapping keeps the duplication but flips the answer, so "fraction recovered" would measure
    something else. Zhang & Nanda (2023, best practices for activation patching) show the
    choice changes which components look important. Ask Priya on Thursday.
    Context: [[@setup]] #mentor #patching
    """),
    _entry("resid", "19 14:50", "result", """\
    Residual-stream patching: the name information moves from S2 to END between layers 7 and 9.
    Patching the clean resid_pre at S2 recovers ~95% of the logit diff up to layer 6, then
    falls off a cliff: 0.55 at layer 8, 0.31 at layer 9, ~0 by layer 11. At END it is the
    mirror image: nothing until layer 7, 0.58 at layer 8, ~1.0 from layer 10.

    That is the S-inhibition story in one picture: whatever matters is moved from S2 to END
    by heads in layers 7-8. 750 prompts, ABC corruption, setup in [[@setup]].
    #patching #ioi
    """, files=("logit_diff_by_layer.svg",)),
    _entry("resid_first", "19 17:10", "learning", """\
    Patch the residual stream before individual heads: it says where before spending compute on who.
    The 12 × 2 residual sweep took 40 s; the 144-head sweep takes ~12 min. [[@resid]] told me
    to look at layers 7-11 at END only. I would have guessed that from the paper, but now the
    evidence is mine. #patching #method
    """),
    _entry("head_plan", "18 10:30", "note", """\
    Per-head sweep queued: hook_z at END, one head at a time, 144 patches × 750 prompts.
    Batches of 50 prompts. Also logging each head's attention from END to IO and to S, so I
    can classify heads afterwards without a second pass. Follows [[@resid]]. #patching
    """),
    _entry("heatmap", "18 16:45", "result", """\
    Head patching: 9.9, 9.6 and 10.0 dominate; 10.7 and 11.10 are negative.
    Clean output of one head at END patched into the ABC run, fraction of logit diff
    recovered:
    - 9.9: 0.55, 9.6: 0.38, 10.0: 0.22 — the paper's name movers, in the same order.
    - 10.7: −0.31, 11.10: −0.24 — the negative name movers, also as in the paper.
    - S-inhibition heads 7.3, 7.9, 8.6, 8.10: 0.09-0.15 each. Small one at a time, which fits
      heads that act through the name movers' queries rather than on the logits directly.
    - Everything else within ±0.03.

    Heatmap (layer × head) and the raw numbers attached. Plan was [[@head_plan]].
    #patching #ioi #name-movers
    """, files=("head_patching_heatmap.png", "head_patching_effects.csv")),
    _entry("q_negative", "17 09:15", "question", """\
    Why do 10.7 and 11.10 work against the correct answer at all?
    If their job is to suppress the name the model is about to say, the model pays logit
    diff for calibration. Is there a known argument that this lowers loss on natural text, or
    is it an artefact of the IOI distribution? A pointer would save me a day.
    Seen in [[@heatmap]]. #mentor #name-movers
    """),
    _entry("attention", "17 11:00", "note", """\
    Attention of the name movers on 20 hand-checked prompts.
    9.9 attends from END to IO with mean weight 0.71 and to S2 with 0.06; 9.6 is similar but
    weaker (0.52 / 0.09); 10.0 splits 0.38 / 0.21. Copying scores of their OV circuits (name
    token → same-name logit) are positive for all three, highest for 9.9. So "attend to IO and
    copy it" holds for the heads from [[@heatmap]]. #name-movers #attention
    """),
    _entry("templates", "16 10:00", "decision", """\
    Drop the two "gave it to" templates: 13 templates × 50 pairs = 650 prompts from now on.
    They carried most of the variance (mean logit diff 1.9 against 3.6 on the rest) and the
    paper excluded them. Rerun on 650 prompts: 3.52, within 1% of the paper. [[@baseline]] and
    [[@resid]] moved by less than 0.02 and keep their conclusions. #ioi #dataset
    """),
    _entry("sae_plan", "16 14:20", "note", """\
    # SAE side thread: plan
    Train a sparse autoencoder on resid_pre layer 8 of GPT-2 small (the layer where the IOI
    signal arrives at END, see [[@resid]]) on 200M OpenWebText tokens. Widths 1k to 32k, L1
    tuned for an L0 of 30-60.

    The question I care about: is there a feature that fires at END when a name has been
    mentioned twice, i.e. the S-inhibition signal? If so the SAE gives a second, independent
    view of the circuit. Budget: two GPU-days, then decide whether to continue.
    #sae #planning
    """),
    _entry("sae_loop", "16 18:30", "note", """\
    SAE training loop runs; first 8k run looks sane.
    Tied pre-encoder bias, unit-norm decoder columns, Adam 3e-4, L1 5e-4 on activations times
    decoder norms, a 4M-token shuffled activation buffer. At 50M tokens the normalised MSE is
    still falling and L0 = 48. Queued the width sweep overnight. Plan: [[SAE side thread: plan]]
    #sae #setup
    """),
    _entry("sweep", "15 09:30", "result", """\
    SAE width sweep: reconstruction keeps improving, but dead features explode above 8k.
    Normalised MSE 0.182 (1k), 0.141 (2k), 0.109 (4k), 0.087 (8k), 0.079 (16k), 0.074 (32k).
    Dead features (no activation in 10M tokens): 1%, 2%, 4%, 11%, 27%, 41%.
    CE loss recovered with the SAE spliced in goes from 89% to 96%.

    Past 8k I am paying for features that never fire. Chart and table attached.
    #sae #sweep
    """, files=("sae_width_sweep.svg", "sae_sweep.csv")),
    _entry("q_dead", "15 11:45", "question", """\
    Is 27% dead features at 16k a bug in my training code or expected without resampling?
    Towards Monosemanticity resamples dead neurons during training; I did not. What dead
    fraction do people see at 16k on GPT-2 small without it? Data: [[@sweep]]
    #sae #mentor
    """),
    _entry("path_first", "15 15:10", "note", """\
    # Path patching: first attempt
    Path patching from the S-inhibition heads to the name movers' queries: freeze every other
    component to its corrupted value and patch the S-inhibition outputs only along the path
    into the q input of 9.6, 9.9 and 10.0. Writing it myself instead of using a library, so I
    understand every hook. #patching #path-patching
    """),
    _entry("week1", "15 18:00", "note", """\
    # Week 1 summary
    - Setup and baseline done; 3.41 against the paper's 3.56 ([[@baseline]]).
    - Residual patching locates the hand-off from S2 to END in layers 7-9 ([[@resid]]).
    - Head sweep finds the paper's name movers and negative name movers ([[@heatmap]]).
    - SAE sweep done, but dead features make widths above 8k hard to read ([[@sweep]]).
    Next: path patching, class ablations, questions for Priya on Thursday. #weekly
    """),
    _entry("path_bad", "14 10:20", "result", """\
    Path patching gives nonsense: S-inhibition → name movers recovers 1.71 of the full effect.
    A path effect above 1 should not happen here. The path from 0.1 into the name movers also
    shows 0.2, where the paper finds it only acts indirectly. The bug is in my code, not the
    model. Suspects: (a) LayerNorm scale frozen from the wrong run; (b) positions misaligned
    between clean and ABC prompts. Code from [[Path patching: first attempt]]
    #path-patching #bug
    """),
    _entry("stuck1", "14 16:00", "stuck", """\
    Stuck on path patching after four hours.
    Checked: hooks fire in the expected order; the frozen cache comes from the clean prompt;
    LN scale is frozen from the receiver run, as in the paper. Still 1.7. A unit test on a
    2-layer toy model with hand-set weights passes. So the toy case is right and the real one
    is not: what differs is real tokenization. See [[@path_bad]] #path-patching
    """),
    _entry("stuck2", "14 22:40", "stuck", """\
    Still stuck: path patching numbers change when I shuffle the prompt order.
    That should be impossible unless batching leaks something between prompts. Padding? The
    tokenizer pads on the right, and if clean and ABC prompts differ in length, "END" might
    not be the same index in both. Too tired to check properly; tomorrow. [[@stuck1]]
    #path-patching #bug
    """),
    _entry("fix", "13 15:20", "result", """\
    Found it: END was the last padded position, not the last real token.
    With right padding, `logits[:, -1]` reads a pad position for every prompt shorter than
    the longest in its batch. ABC prompts with a two-token name (" Kristen" → " Krist" "en")
    were one token longer, so clean and corrupted runs were misaligned for ~30% of pairs.

    Fix: gather END per prompt from the attention mask. Path patching S-inhibition → name
    movers now recovers 0.83, and 0.1 → name movers drops to 0.02. Reran the head sweep
    ([[@heatmap]]): name movers unchanged, S-inhibition numbers moved by up to 0.04.
    Ends [[@stuck1]] and [[@stuck2]]. #path-patching #bug #tokenization
    """),
    _entry("positions", "13 16:05", "learning", """\
    Single-token names or explicit position indices, always.
    A two-token name silently shifted positions ([[@path_bad]]) and cost me a day and a
    half ([[@fix]]). Now: names filtered to single GPT-2 tokens (with the leading space), an
    assertion that clean and corrupted prompts have equal length, and END gathered by index.
    patching.py fails loudly on a length mismatch. #tokenization #method
    """),
    _entry("mentor1", "12 10:00", "note", """\
    # Mentor call with Priya: notes
    - ABC or swapped names ([[@q_corrupt]]): use ABC to find the circuit but report both.
      Swapped names ask whether a head is name-specific, ABC asks whether it needs the
      duplication. Different questions, not a better and a worse choice.
    - Negative name movers ([[@q_negative]]): the calibration story is plausible but weakly
      supported. She pointed me to the copy suppression paper (McDougall et al. 2023).
    - Dead SAE features ([[@q_dead]]): 20-30% dead at 16k without resampling is normal for
      that setup. Resample (or use ghost grads) before reading anything into the sweep.
    - Her push: write up the padding bug as a short note; lots of people fall into it.
    #mentor
    """),
    _entry("resample", "12 14:30", "decision", """\
    Add dead-feature resampling every 25k steps and rerun only the 8k and 16k SAEs.
    Per [[Mentor call with Priya: notes]]. Not rerunning the whole sweep: 1k-4k already have
    under 5% dead features, and the open question is only whether 16k is worth its cost.
    #sae
    """),
    _entry("padding_note", "12 16:00", "note", """\
    Posted a half-page note on the padding trap in the team's interp channel.
    Three replies within the hour from people who had hit it; one found a figure in a draft
    that was affected. The note is [[@fix]] with the code snippet. #tokenization #writing
    """),
    _entry("ablation", "12 17:20", "result", """\
    Mean-ablating head classes: name movers are necessary; negative name movers cost accuracy.
    Logit diff on the 650-prompt set after mean-ablating each class (mean over the ABC
    distribution, all positions): full model 3.52; without name movers 0.98; without
    S-inhibition 1.41; without induction 2.61; without duplicate-token 2.47; without
    previous-token 2.88; without negative name movers 4.07, higher than the full model.
    Bar chart attached. Compare single-head patching in [[@heatmap]]. #ablation #ioi
    """, files=("ablation_by_class.svg",)),
    _entry("backup", "11 10:15", "note", """\
    Backup name movers: ablating 9.6, 9.9 and 10.0 leaves 0.98, not 0, because others take over.
    With the name movers ablated, 10.10, 10.6, 11.2 and 9.0 start attending to IO, which they
    barely did before. This is the self-repair the paper describes. It means single-head
    patching underestimates importance: worth remembering when reading [[@heatmap]] next to
    [[@ablation]]. #name-movers #self-repair
    """),
    _entry("noising", "11 15:40", "learning", """\
    Patching in and ablating answer different questions.
    Patching a clean head into a corrupted run (denoising) asks whether it is enough to
    restore the behaviour; ablating it (noising) asks whether it is necessary. Backup heads
    ([[@backup]]) make the second look smaller than the first. The write-up will show both
    and say which question each one answers. #method #patching #ablation
    """),
    _entry("resampled", "10 09:30", "result", """\
    Resampling cuts dead features at 16k from 27% to 3%.
    16k with resampling every 25k steps: 3.1% dead, normalised MSE 0.071 (was 0.079), L0 44.
    8k: 1.9% dead, MSE 0.084. Most of the plateau in [[@sweep]] was dead capacity, not a
    limit of the method. Decision was [[@resample]]. #sae #sweep
    """),
    _entry("feature_search", "10 14:00", "note", """\
    Looking for a "name mentioned twice" feature at END.
    Collected 16k SAE (resampled) activations at END for the 650 IOI prompts and their ABC
    twins, ranked features by mean activation difference IOI − ABC. Top: feature 11302
    (difference 2.9; fires on 92% of IOI prompts at END, 4% of ABC), then 5410 (1.7) and
    871 (1.1). Max-activating OpenWebText contexts for 11302 all look like "… X … Y … X",
    a repeated name about to be followed by another name. Promising. #sae #features
    """),
    _entry("feature", "9 10:45", "result", """\
    Feature 11302 is read by the name movers' queries and carries the duplication signal.
    Its decoder direction projected through W_Q of 9.9 gives the largest query shift of all
    16k features. Ablating it at END (activation set to 0, reconstruction plus error term
    spliced in) drops logit diff from 3.52 to 2.64, about as much as removing S-inhibition
    heads 7.9 and 8.6 together (2.58). Independent support for the S-inhibition story, from
    a different method. Candidates from [[@feature_search]], ablations in [[@ablation]].
    #sae #features #ioi
    """),
    _entry("q_feature", "9 16:20", "question", """\
    Is feature 11302 the S-inhibition signal, or just "a repeated token nearby"?
    It also fires, more weakly, on repeated non-name tokens (" the … the"). Is there a
    standard test that a feature and a circuit component carry the same variable, beyond
    correlation plus a causal ablation? From [[@feature]] #sae #mentor
    """),
    _entry("maintenance", "8 09:30", "note", """\
    Cluster maintenance until 14:00, so a morning without GPUs: reread my own log.
    Three entries from week 1 say "recheck" and I had not. Rechecked [[@baseline]] on the
    650-prompt set (3.52, fine) and the residual curve in [[@resid]] with the padding fix
    (changes below 0.01). The third, copy suppression, is on the reading list. #ioi
    """),
    _entry("week2", "8 17:45", "note", """\
    # Week 2 summary
    - A day and a half lost to the padding bug ([[@fix]]); path patching now gives 0.83.
    - Class ablations and backup name movers ([[@ablation]], [[@backup]]).
    - SAE: resampling fixes dead features; feature 11302 looks like the duplication signal.
    - Learnings: [[@positions]], [[@noising]].
    - Went over my hours twice; kept the rules afterwards.
    Next: copy suppression for 10.7, write-up outline, feature splitting. #weekly
    """),
    _entry("copy_reading", "7 10:10", "note", """\
    # Reading notes: copy suppression
    McDougall et al. 2023 explain 10.7 as copy suppression: it attends to tokens that the
    model currently predicts and that already appear in context, and writes their negative.
    In IOI the model predicts IO, IO appears in context, so 10.7 suppresses it. Their claim:
    this mostly helps on natural text (it stops over-confident copying) and IOI is a side
    effect. Answers most of [[@q_negative]]. #reading #name-movers
    """),
    _entry("copy", "7 15:30", "result", """\
    10.7 behaves like copy suppression on my prompts too.
    Steering its query towards the S direction instead of IO moves its negative contribution
    onto S (logit diff +0.6). Its OV circuit has a strongly negative copying score (−0.8,
    normalised). Fits [[Reading notes: copy suppression]] #name-movers
    """),
    _entry("scope", "6 09:50", "decision", """\
    Scope the write-up to the IOI reproduction, with the SAE result as one short section.
    One feature on one layer is an anecdote, however exciting. Write-up = reproduction +
    the padding pitfall + feature 11302 as preliminary. Outline in [[Write-up outline]].
    #writing
    """),
    _entry("outline", "6 11:30", "note", """\
    # Write-up outline
    1. Setup and baseline: 3.52 against 3.56 ([[@templates]]).
    2. Where: residual-stream patching ([[@resid]]).
    3. Who: head patching heatmap ([[@heatmap]]) and class ablations ([[@ablation]]).
    4. How: path patching S-inhibition → name movers, 0.83.
    5. Pitfall: padding and the END position ([[@fix]]).
    6. Aside: an SAE feature for the duplication signal ([[@feature]]).
    7. Open questions. #writing
    """),
    _entry("induction", "5 09:15", "result", """\
    Mean-ablating induction heads 5.5 and 6.9 does not reproduce the paper's drop.
    Ablated at S2 only, over the ABC mean: 3.52 → 3.31, a drop of 0.21 where the paper's
    figure suggests about 1. Same heads, same prompts as [[@ablation]]. #ioi #ablation
    """),
    _entry("induction_stuck", "5 10:00", "stuck", """\
    Cannot reproduce the paper's drop from ablating the induction heads.
    Mean ablation of 5.5 and 6.9 over ABC at all positions: 3.52 → 2.61. Restricted to the
    S2 position: 3.52 → 3.31. Their appendix does not say clearly which one they used; the
    whole morning went into it. Leaving it as an open question in the write-up instead of
    sinking another day. #ioi #ablation
    """),
    _entry("q_induction", "5 14:20", "question", """\
    Which mean ablation does the IOI paper use for the induction-head result?
    Over ABC at all positions, or at S2 only? It is 2.61 against 3.31 for me
    ([[@induction_stuck]]). Ask Priya; if she does not know, email the authors. #mentor #ioi
    """),
    _entry("ablation_learning", "4 09:40", "learning", """\
    Write the ablation convention into every figure caption.
    Three different "mean ablations" live in my code (ABC mean per position, ABC mean over
    all positions, OpenWebText mean) and for the same heads they give logit diffs between 2.6
    and 3.3. A number without its convention is not a result. From [[@induction]] and
    [[@induction_stuck]]
    #method #ablation
    """),
    _entry("split", "4 16:00", "result", """\
    Feature 11302 splits in the 32k SAE into a name-specific and a generic duplication feature.
    In a resampled 32k SAE it becomes 24711 (repeated proper noun; ablating it drops logit
    diff to 2.71) and 3098 (any repeated token; ablating it: 3.44). Feature splitting as in
    Towards Monosemanticity, and a partial answer to [[@q_feature]]. #sae #features
    """),
    _entry("draft", "3 11:00", "note", """\
    Draft sections 1-3 written, about 1,900 words.
    Writing section 3 showed I never reported variance across templates; added the
    per-template std to the results table. Figures from [[@resid]], [[@heatmap]] and
    [[@ablation]]. Outline: [[Write-up outline]] #writing
    """),
    _entry("methods_learning", "3 17:30", "learning", """\
    Writing the methods section exposed two choices I had never written down.
    (1) Which mean the ablations use ([[@ablation_learning]]). (2) That the patching metric
    is normalised per prompt, not against the dataset mean. Each moves numbers by 5-10%.
    Writing found them, not running code. #writing #method
    """),
    _entry("priya_answer", "2 10:30", "note", """\
    Priya: the paper's induction result uses the ABC mean at all positions.
    So 2.61 is my comparable number, and the S2-only ablation (3.31) is a different, weaker
    intervention. Closes [[@q_induction]]; the write-up reports both, with the convention in
    the caption. #mentor #ioi
    """),
    _entry("next", "2 15:00", "decision", """\
    Next project: probing for eval awareness, reusing the patching code; the SAE thread pauses.
    The IOI reproduction did its job: I trust my patching code (with the length assertion)
    and know its pitfalls. SAE: write up feature 24711 as preliminary ([[@split]]) and return
    to it only if the probing work needs features. #planning
    """),
    _entry("week3", "1 11:00", "note", """\
    # Week 3 summary
    - Copy suppression explains 10.7 ([[@copy]]).
    - The induction-head discrepancy was an ablation convention ([[@priya_answer]]).
    - SAE: feature splitting gives a name-specific duplication feature ([[@split]]).
    - Write-up draft done and outlined in [[Write-up outline]].
    - Most of this project's learnings came from things that went wrong. #weekly
    """),
    _entry("shared", "1 17:40", "note", """\
    Sent the draft to Priya and Sam for comments; asked for the harshest reading of section 4.
    Specifically: is 0.83 for the path S-inhibition → name movers convincing without the
    swapped-name corruption next to it ([[@mentor1]])? Deadline for comments: Friday.
    #writing #mentor
    """),
)
