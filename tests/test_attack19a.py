"""Attack on issue 19's first slice: the LLM mentor (`upstack ask --llm`, `upstack mentor`) and predictions
with calibration (`upstack predict ...`, `upstack calibration`). Each hole it found (a strict xfail when
found) is fixed, and its test stays beside those of what held. Both engines where the store matters.
The mentor's tests use the real `llm` library with the llm-echo plugin (model "echo" answers with the prompt
it was sent, as JSON)."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from attack_common import Team, team  # noqa: F401  (a fixture)
from conftest import CLI, assert_refused_unchanged, round_trip
from upstack.cli.main import cli
from upstack.domain import access
from upstack.domain import calibration as rule
from upstack.errors import Forbidden, NotFound
from upstack.ids import new_id
from upstack.services import capture, predictions, tree
from upstack.store import SCHEMA_VERSION
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

SECRET = "hf_abcdefghijklmnopqrstuvwxyz123456"


pytestmark = pytest.mark.usefixtures("llm_home")


def _invoke(run: CLI, *args: str) -> Result:
    """The CLI with exceptions caught (a traceback is a failed exit, not an error of the test)."""
    return CliRunner().invoke(cli, list(args), env=run.env)


def _sent(output: str) -> dict[str, Any]:
    """The echo model's answer: the prompt and system prompt it was sent, as JSON."""
    return json.loads(output[output.index("{"):output.rindex("}") + 1])


def _entries(run: CLI) -> list[dict[str, Any]]:
    return json.loads(run.ok("log", "--json"))


def _hand_made_line(home: Path, op: str, data: dict[str, Any]) -> None:
    """A journal line as a hand or another tool writes it (no checksum: read as it is)."""
    with open(home / "journal" / "log.jsonl", "a", encoding="utf-8") as handle:
        handle.write("\n" + json.dumps({"v": 1, "id": new_id(), "op": op, "workspace": "hand", "at": now_iso(),
                                        "data": data}) + "\n")


def _full_id(run: CLI, short: str) -> str:
    return str(json.loads(run.ok("predict", "show", short, "--json"))["id"])


# == 1. The mentor: what leaves the machine ========================================================

def test_held_what_may_not_leave_stays(run: CLI, workspace: Workspace, llm_home: Path) -> None:
    """Held: a private result and the learning drawn from it, a deleted entry, a check-in, a teammate's
    entry and run result (author set), secrets in a node's why, a title and a result's expected/happened
    (several shapes), and a run's provenance never reach the prompt; nothing is written to llm's folder."""
    from upstack.services import wellbeing

    project = tree.add_node(workspace, "project", "Probe deception", why=f"my key is {SECRET}")
    private = capture.note(workspace, "QUPRIVATE the probe is a fraud", under=project.id, private=True,
                           kind="result")
    run.ok("learned", private.short, "QUPRIVLEARN what the private result taught")
    gone = capture.note(workspace, "QUDELETED an old note", under=project.id)
    run.ok("rm", gone.short)
    capture.note(workspace, "token=abcd1234efgh5678 and sk-ant-abcdefghijklmnopqrstuvwxyz", under=project.id)
    capture.note(workspace, "url postgres://ada:QUPASSWORD1@db.example/x", under=project.id)
    wellbeing.check_in(workspace, sleep_hours=3.0, note="QUWELLBEING a bad night")
    at = now_iso()
    workspace.store().write([workspace.record("entry.create", {
        "id": new_id(), "revision_id": new_id(), "kind": "note", "title": "QUTEAMMATE a colleague's note",
        "body": "", "extra_tags": [], "private": False, "node_id": project.id, "occurred_at": at,
        "created_at": at, "attachments": [], "by": "someone-else"})])
    import upstack

    with upstack.run("sweep", under=project.id, capture="all", home=run.home, db=run.db_url) as made:
        made.log({"loss": 0.5})
    for args in (("ask", project.id, "--llm", "--model", "echo", "--yes", "--no-edit"),
                 ("mentor", "--model", "echo", "--yes")):
        result = run(*args)
        assert result.exit_code == 0, result.output
        sent = json.dumps(_sent(result.stdout))
        for never in ("QUPRIVATE", "QUPRIVLEARN", "QUDELETED", "QUWELLBEING", "QUTEAMMATE", "QUPASSWORD1",
                      SECRET, "abcd1234efgh5678", "sk-ant-abcd", str(Path.cwd()), "git"):
            assert never not in sent, (args, never)
        assert "Run sweep" in sent  # the run's result goes, by its title only
    assert not llm_home.exists() or not any(llm_home.rglob("*"))


def test_ask_llm_does_not_send_the_mentors_own_answers(run: CLI, workspace: Workspace) -> None:
    """`upstack mentor` leaves out entries tagged #mentor, but `ask --llm` names them under "What I tried":
    the model's own answer (filed under the node) comes back to it as work the person did."""
    project = tree.add_node(workspace, "project", "Probe deception", why="Find the features that lie.")
    capture.note(workspace, "Linear probe on layer 12", under=project.id)
    run.ok("ask", project.id, "--llm", "--model", "echo", "--yes", "--no-edit")
    again = _sent(run.ok("ask", project.id, "--llm", "--model", "echo", "--yes", "--no-edit"))["prompt"]
    assert "Mentor (echo)" not in again


def test_ask_llm_leaves_a_teammates_node_out(run: CLI, workspace: Workspace) -> None:
    """On a laptop linked to a team server, a teammate's project comes with its owner set (``by``). Asking
    about my own question under it sends the teammate's project title and why ("What I'm trying to do,
    and why"), though the mentor promises no one else's work leaves."""
    theirs = new_id()
    workspace.store().write([workspace.record("node.create", {
        "id": theirs, "kind": "project", "title": "QUTEAMPROJECT", "why": "QUTEAMWHY their unpublished plan",
        "parent_id": None, "created_at": now_iso(), "by": "someone-else"})])
    mine = tree.add_node(workspace, "question", "Does my probe transfer?", why="mine", under=theirs)
    capture.note(workspace, "Tried layer 12", under=mine.id)
    sent = json.dumps(_sent(run.ok("ask", mine.id, "--llm", "--model", "echo", "--yes", "--no-edit")))
    assert "QUTEAMWHY" not in sent and "QUTEAMPROJECT" not in sent


def test_ask_llm_that_fails_leaves_no_entry(run: CLI, workspace: Workspace) -> None:
    project = tree.add_node(workspace, "project", "Probe deception")
    before = _entries(run)
    refused = run("ask", project.id, "--llm", "--no-edit")  # no --yes, and no terminal to ask on
    assert refused.exit_code == 1 and "give --yes" in refused.stderr
    missing = run("ask", project.id, "--llm", "--model", "no-such-model", "--yes", "--no-edit")
    assert missing.exit_code == 1
    assert _entries(run) == before


@pytest.fixture
def boom_model() -> Iterator[str]:
    """A model whose provider fails, with a second line that must not be shown."""
    import llm

    class Boom(llm.Model):
        model_id = "boom-attack19"

        def execute(self, prompt: Any, stream: bool, response: Any, conversation: Any) -> Iterator[str]:
            raise RuntimeError(f"quota exceeded\nTraceback-ish detail {SECRET}")
            yield ""  # pragma: no cover

    class Plugin:
        @llm.hookimpl
        def register_models(self, register: Any) -> None:
            register(Boom())

    name = "attack19-boom"
    llm.plugins.pm.register(Plugin(), name=name)
    try:
        yield Boom.model_id
    finally:
        llm.plugins.pm.unregister(name=name)


def test_held_a_model_that_fails_says_one_line_and_keeps_nothing(run: CLI, workspace: Workspace,
                                                                 boom_model: str) -> None:
    capture.note(workspace, "a note this week")
    before = _entries(run)
    failed = _invoke(run, "mentor", "--model", boom_model, "--yes")
    assert failed.exit_code == 1 and "quota exceeded" in failed.stderr, failed.output
    assert "Traceback" not in failed.output and SECRET not in failed.output
    assert _entries(run) == before


def test_held_without_llm_the_mentor_says_how_to_install(run: CLI, workspace: Workspace,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    capture.note(workspace, "a note this week")
    monkeypatch.setitem(sys.modules, "llm", None)  # import llm raises ImportError
    failed = _invoke(run, "mentor", "--yes")
    assert failed.exit_code == 1 and "pip install 'upstack[llm]'" in failed.stderr, failed.output
    shown = _invoke(run, "mentor", "--show")  # the prompt can still be read without llm
    assert shown.exit_code == 0 and "--- prompt ---" in shown.stdout


# == 2. Predictions: probabilities, resolutions, evidence ==========================================

@pytest.mark.parametrize(("given", "stored"), [("0.01", 0.01), ("0.99", 0.99), ("50 %", 0.5), (" 70% ", 0.7),
                                               ("1e-9", None), ("½", None), ("nan", None), ("inf", None),
                                               ("0.995", None), ("100%", None), ("0", None), ("-0.5", None)])
def test_held_probabilities_at_the_edges(run: CLI, given: str, stored: float | None) -> None:
    result = _invoke(run, "predict", "add", "A claim", "-p", given, "--json")
    if stored is None:
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert json.loads(run.ok("predict", "list", "--json")) == []
    else:
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["probability"] == pytest.approx(stored)


def test_held_resolving_twice_and_updating_after(run: CLI) -> None:
    short = run.ok("predict", "add", "The probe beats chance", "-p", "0.7").strip()
    run.ok("predict", "resolve", short, "false")
    again = run("predict", "resolve", short, "true")
    assert again.exit_code == 1 and "--why" in again.stderr
    late = run("predict", "update", short, "-p", "0.1")
    assert late.exit_code == 1 and "would know the answer" in late.stderr
    run.ok("predict", "resolve", short, "true", "--why", "misread the table")
    shown = json.loads(run.ok("predict", "show", short, "--json"))
    assert [r["outcome"] for r in shown["resolutions"]] == ["false", "true"] and shown["state"] == "true"
    assert len(shown["forecasts"]) == 1


def test_held_a_running_run_is_not_evidence(run: CLI, workspace: Workspace) -> None:
    import upstack

    short = run.ok("predict", "add", "loss under 0.1", "-p", "0.6").strip()
    with upstack.run("sweep", home=run.home, db=run.db_url, capture="none") as made:
        made.log({"loss": 0.05})
        refused = _invoke(run, "predict", "resolve", short, "true", "--evidence", made.id)
        # Refused (its result entry does not exist yet, so "no entry"; the service also checks it ended).
        assert refused.exit_code == 1 and "Traceback" not in refused.output, refused.output
    run.ok("predict", "resolve", short, "true", "--evidence", made.id)
    report = json.loads(run.ok("calibration", "--json"))
    assert report["n"] == 1 and report["brier"] == pytest.approx(0.16)


def test_a_prediction_is_not_its_own_evidence(run: CLI) -> None:
    """A confident miss can be taken out of the score by citing the prediction itself (or any entry
    older than it) as the evidence: resolve ... --evidence ITSELF is accepted, and calibration then
    counts it 'made after its evidence'."""
    short = run.ok("predict", "add", "The probe beats chance", "-p", "0.95").strip()
    result = _invoke(run, "predict", "resolve", short, "false", "--evidence", short)
    assert result.exit_code == 1, result.output


def test_held_evidence_older_than_the_prediction_leaves_it_out(run: CLI) -> None:
    """Held (by the stated rule): a result written before the prediction was made is evidence that
    existed first, so the prediction is 'made after' and not scored; a back-dated --at result counts by
    when it was written."""
    old = run.ok("note", "QU the result, already in", "--kind", "result").strip()
    short = run.ok("predict", "add", "it works", "-p", "0.9").strip()
    run.ok("predict", "resolve", short, "true", "--evidence", old)
    later = run.ok("predict", "add", "it works again", "-p", "0.8").strip()
    dated = run.ok("note", "QU written now, dated last week", "--kind", "result", "--at", "7 days ago").strip()
    run.ok("predict", "resolve", later, "false", "--evidence", dated)
    report = json.loads(run.ok("calibration", "--json"))
    assert (report["n"], report["made_after"]) == (1, 1) and report["brier"] == pytest.approx(0.64)


def test_a_seventy_percent_miss_is_a_confident_miss(run: CLI) -> None:
    """calibration's docs: the confident misses are those that gave what happened 30% or less."""
    short = run.ok("predict", "add", "The probe beats chance", "-p", "70%").strip()
    run.ok("predict", "resolve", short, "false")
    assert [s["short"] for s in json.loads(run.ok("calibration", "--json"))["surprises"]] == [short]
    assert rule.surprises([rule.Scored("x", 0.7, False, 0.49, math.log(1 - 0.7), "2026-01-01")])


def test_held_delete_restore_purge_and_kind_changes(run: CLI) -> None:
    short = run.ok("predict", "add", "The probe beats chance", "-p", "0.7", "--by", "in 2 days").strip()
    note = run.ok("note", "a plain note").strip()
    assert run("edit", short, "--text", "now a note", "--kind", "note").exit_code == 1
    assert run("edit", note, "--text", "now a prediction", "--kind", "prediction").exit_code == 1
    assert run("note", "sneaky", "--kind", "prediction").exit_code == 1
    run.ok("rm", short)
    assert json.loads(run.ok("predict", "list", "--json")) == []
    assert "resolve:" not in run.ok("due")
    assert run("predict", "update", short, "-p", "0.5").exit_code == 1
    run.ok("restore", short)
    assert [p["short"] for p in json.loads(run.ok("predict", "list", "--json"))] == [short]
    assert "resolve: The probe beats chance" in run.ok("due")
    full = _full_id(run, short)
    run.ok("purge", short, "--yes")
    with Workspace(home=run.home, db=run.db_url) as ws:
        db = ws.store().db
        assert db.scalar("SELECT count(*) FROM predictions WHERE entry_id = ?", (full,)) == 0
        assert db.scalar("SELECT count(*) FROM prediction_events WHERE entry_id = ?", (full,)) == 0


# == 3. Hand-made journal lines =====================================================================

def test_held_broken_prediction_lines_are_set_aside(run: CLI) -> None:
    short = run.ok("predict", "add", "The probe beats chance", "-p", "0.7").strip()
    full = _full_id(run, short)
    note = run.ok("note", "a plain note", "--json")
    for op, data in (("prediction.make", {"entry_id": full}),
                     ("prediction.make", {"entry_id": json.loads(note)["id"], "probability": 0.5}),
                     ("prediction.forecast", {"entry_id": full}),
                     ("prediction.forecast", {"entry_id": full, "probability": "abc"}),
                     ("prediction.forecast", {"entry_id": full, "probability": None}),
                     ("prediction.forecast", {"entry_id": "01NOSUCHENTRY0000000000000", "probability": 0.5}),
                     ("prediction.resolve", {"entry_id": full}),
                     ("prediction.resolve", {"entry_id": full, "outcome": 1}),
                     ("prediction.resolve", {"entry_id": full, "outcome": "true", "value": "abc"})):
        _hand_made_line(run.home, op, data)
    for args in (("predict", "list"), ("log",), ("due",), ("calibration",)):
        result = _invoke(run, *args)
        assert result.exit_code == 0 and "Traceback" not in result.output, (args, result.output)
    shown = json.loads(run.ok("predict", "show", short, "--json"))
    assert [f["probability"] for f in shown["forecasts"]] == [0.7] and shown["resolutions"] == []


def test_a_nan_forecast_line_is_set_aside(run: CLI, engine: str, request: pytest.FixtureRequest) -> None:
    """SQLite stores a NaN as NULL (the forecast is then skipped); PostgreSQL's DOUBLE PRECISION keeps it,
    so the line is applied: `predict list` says "nan%" and `calibration` dies (int(NaN) in the
    reliability table) once the prediction resolves."""
    short = run.ok("predict", "add", "The probe beats chance", "-p", "0.7").strip()
    _hand_made_line(run.home, "prediction.forecast", {"entry_id": _full_id(run, short), "probability": float("nan")})
    run.ok("predict", "resolve", short, "false")
    shown = json.loads(run.ok("predict", "show", short, "--json"))
    assert [f["probability"] for f in shown["forecasts"]] == [0.7]
    result = _invoke(run, "calibration", "--json")
    assert result.exit_code == 0, repr(result.exception)
    assert json.loads(result.stdout)["brier"] == pytest.approx(0.49)


@pytest.mark.parametrize("probability", [1.5, 1e308, 0.0, -1.0, True])
def test_an_out_of_range_forecast_line_is_set_aside(run: CLI, probability: Any) -> None:
    short = run.ok("predict", "add", "The probe beats chance", "-p", "0.9").strip()
    _hand_made_line(run.home, "prediction.forecast", {"entry_id": _full_id(run, short), "probability": probability})
    run.ok("predict", "resolve", short, "false")
    result = _invoke(run, "calibration", "--json")
    assert result.exit_code == 0, repr(result.exception)
    assert json.loads(result.stdout)["brier"] == pytest.approx(0.81)  # scored by the 90% made by the CLI


def test_a_forecast_cannot_be_back_dated_from_the_command_line(run: CLI) -> None:
    """The rule is "the last forecast made before the evidence existed, by its real time (never a
    back-dated --at)". upstack writes a forecast's time itself, now: `predict update` takes no date, and
    once the answer is known it refuses. (A record's time is its writer's claim: the store takes a
    forecast it is sent whenever it comes, so that a person's machines that forecast offline keep one
    history (tests/test_attack19b.py); a line written into one's own journal by hand fools only its
    writer, and a forecast made after the evidence counts for nothing.)"""
    short = run.ok("predict", "add", "The probe beats chance", "-p", "0.1").strip()
    run.ok("predict", "resolve", short, "true")
    assert run("predict", "update", short, "-p", "0.99", "--at", "yesterday").exit_code == 2  # no such option
    assert_refused_unchanged(run, ["predict", "update", short, "-p", "0.99"], "would know the answer")
    assert json.loads(run.ok("calibration", "--json"))["brier"] == pytest.approx(0.81)


# == 4. Whose predictions: a team server ============================================================

def test_held_others_predictions_on_a_team_server(team: Team) -> None:  # noqa: F811
    ws = team.ws
    with access.acting_as(team.as_user(team.eve)):
        private = predictions.make(ws, "QUEVEPRIVATE", 0.9, under=team.project, private=True, resolve_by="today")
        shared = predictions.make(ws, "QUEVESHARED", 0.8, under=team.project, resolve_by="today")
        predictions.resolve(ws, shared.id, "false")
    with access.acting_as(team.as_user(team.bob)):
        assert [p.entry.title for p in predictions.listing(ws)] == ["QUEVESHARED"]
        assert predictions.calibration(ws).summary.n == 0
        from upstack.services import due

        assert not [d for d in due.due(ws) if d.kind == "resolve"]
        with pytest.raises(NotFound, match="no prediction"):
            predictions.get(ws, private.id)
    with access.acting_as(team.as_user(team.mal)):
        assert predictions.listing(ws) == []
    with access.acting_as(team.as_user(team.eve)):
        assert predictions.calibration(ws).summary.n == 1


def test_a_teammate_cannot_change_my_calibration(team: Team) -> None:  # noqa: F811
    ws = team.ws
    with access.acting_as(team.as_user(team.ada)):
        made = predictions.make(ws, "QUADA the probe transfers", 0.2, under=team.project)
        predictions.resolve(ws, made.id, "true")
        before = predictions.calibration(ws).summary.brier
    # eve edits the project, but the prediction is ada's.
    with access.acting_as(team.as_user(team.eve)), pytest.raises(Forbidden):
        predictions.resolve(ws, made.id, "false", reason="I say so")
    with access.acting_as(team.as_user(team.ada)):
        assert predictions.calibration(ws).summary.brier == before


def test_a_viewer_cannot_file_a_prediction_under_a_project(team: Team) -> None:  # noqa: F811
    with access.acting_as(team.as_user(team.bob)):  # a viewer
        with pytest.raises(Forbidden, match="may not"):
            capture.note(team.ws, "a note", under=team.project)
        with pytest.raises(Forbidden, match="may not"):
            predictions.make(team.ws, "QUBOB a viewer's prediction", 0.5, under=team.project)


# == 5. Export, import, migration ===================================================================

def test_held_json_round_trip(run: CLI, tmp_path: Path, engine: str, make_pg_url: Any) -> None:
    short = run.ok("predict", "add", "The probe beats chance", "-p", "0.7", "--by", "in 3 days",
                   "--criteria", "held-out AUC > 0.6").strip()
    run.ok("predict", "update", short, "-p", "0.4", "--why", "noisy pilot")
    run.ok("predict", "resolve", short, "false")
    run.ok("predict", "add", "QU private one", "-p", "0.3", "--private")
    copy = round_trip(run, tmp_path, engine, make_pg_url)
    assert json.loads(copy.ok("predict", "list", "--json")) == json.loads(run.ok("predict", "list", "--json"))
    assert copy.ok("calibration", "--json") == run.ok("calibration", "--json")


def test_held_migration_from_schema_18(tmp_path: Path, db_url: str | None) -> None:
    from helpers_reliability import make_workspace, schema_version

    home = tmp_path / "old"
    make_workspace(home, db_url, 18, ["an old note"], ["a pending note"])
    old = CLI(home, db_url)
    short = old.ok("predict", "add", "it works", "-p", "0.6").strip()
    assert schema_version(home, db_url) == SCHEMA_VERSION
    assert [p["short"] for p in json.loads(old.ok("predict", "list", "--json"))] == [short]
    assert len(_entries(old)) == 3
