"""The LLM mentor (issue 19): `upstack ask --llm` and `upstack mentor`, through the real `llm` library and
a real plugin that needs no network (llm-echo: its "echo" model answers with the prompt it was given, as
JSON), so the prompt that would leave the machine is asserted as sent. Both engines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import CLI
from upstack.ids import new_id
from upstack.services import capture, mentor, tree
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

SECRET = "hf_abcdefghijklmnopqrstuvwxyz123456"


pytestmark = pytest.mark.usefixtures("llm_home")


def _project(ws: Workspace) -> str:
    project = tree.add_node(ws, "project", "Probe deception", why="Find the features that lie.")
    capture.note(ws, "Linear probe on layer 12 gets 0.61 #probe", under=project.id)
    capture.note(ws, "QUPRIVATE my honest doubts about the probe", under=project.id, private=True)
    capture.note(ws, f"Pasted my token {SECRET} into the config", under=project.id)
    # Someone else's entry, as sync brings it from a team server: its author is set.
    ws.store().write([ws.record("entry.create", {
        "id": new_id(), "revision_id": new_id(), "kind": "note", "title": "QUTEAMMATE a colleague's note",
        "body": "", "extra_tags": [], "private": False, "node_id": project.id, "occurred_at": now_iso(),
        "created_at": now_iso(), "attachments": [], "by": "someone-else"})])
    return project.id


def _sent(output: str) -> dict[str, Any]:
    """The echo model's answer: the prompt and system prompt it was sent, as JSON (then our own lines)."""
    start = output.index("{")
    return json.loads(output[start:output.rindex("}") + 1])


def test_ask_llm_sends_what_may_leave_and_keeps_the_answer_by_the_question(run: CLI, workspace: Workspace,
                                                                         llm_home: Path) -> None:
    from upstack.services import wellbeing

    node_id = _project(workspace)
    wellbeing.check_in(workspace, sleep_hours=4.0, note="QUWELLBEING an awful week")
    result = run("ask", node_id, "--llm", "--model", "echo", "--yes", "--no-edit")
    assert result.exit_code == 0, result.output
    sent = _sent(result.stdout)
    prompt = sent["prompt"]
    assert "Probe deception" in prompt and "Find the features that lie." in prompt
    assert "Linear probe on layer 12 gets 0.61" in prompt
    assert "[redacted]" in prompt and SECRET not in prompt
    for never in ("QUPRIVATE", "QUTEAMMATE", "QUWELLBEING"):
        assert never not in json.dumps(sent), never
    assert sent["system"] == mentor.SYSTEM
    # The question and the answer are both kept, the answer linked to the question.
    entries = json.loads(run.ok("log", "--json"))
    question = next(e for e in entries if e["kind"] == "question")
    answer = next(e for e in entries if "mentor" in e["tags"])
    assert answer["title"] == 'Mentor (echo) on "Probe deception"' and answer["node_id"] == node_id
    assert f"In answer to [[{question['short']}]]" in answer["body"]
    assert not (llm_home / "logs.db").exists()  # nothing in llm's own prompt log


def test_show_prints_the_exact_prompt_and_keeps_nothing(run: CLI, workspace: Workspace) -> None:
    node_id = _project(workspace)
    before = json.loads(run.ok("log", "--json"))
    shown = run.ok("ask", node_id, "--llm", "--show", "--no-edit")
    assert shown.startswith("--- system ---") and "--- prompt ---" in shown and SECRET not in shown
    _, prompt = mentor.question_prompt(workspace, node_id, mentor.draft(workspace, node_id))
    assert prompt.text in shown  # what --show prints is what would be sent
    assert json.loads(run.ok("log", "--json")) == before


def test_without_a_terminal_or_yes_nothing_is_sent_or_kept(run: CLI, workspace: Workspace) -> None:
    node_id = _project(workspace)
    before = json.loads(run.ok("log", "--json"))
    refused = run("mentor", "--model", "echo")
    assert refused.exit_code == 1 and "give --yes" in refused.stderr and len(refused.stderr.splitlines()) == 1
    missing = run("mentor", "--model", "no-such-model", "--yes")
    assert missing.exit_code == 1 and "no model 'no-such-model'" in missing.stderr and "Traceback" not in missing.output
    assert json.loads(run.ok("log", "--json")) == before
    assert run("ask", node_id, "--show").exit_code == 2  # --show is for --llm


def test_mentor_reviews_the_week_without_what_stays(run: CLI, workspace: Workspace) -> None:
    _project(workspace)
    result = run("mentor", "--model", "echo", "--yes")
    assert result.exit_code == 0, result.output
    prompt = _sent(result.stdout)["prompt"]
    assert "Is this rate of progress fine? What would you prune?" in prompt
    assert "Linear probe on layer 12 gets 0.61" in prompt and SECRET not in prompt
    assert "QUPRIVATE" not in prompt and "QUTEAMMATE" not in prompt
    again = _sent(run.ok("mentor", "--model", "echo", "--yes"))["prompt"]
    assert "Mentor (echo)" not in again  # its own answers are not sent back to it


def _learnings(ws: Workspace, node_id: str) -> None:
    """A public learning with its text, a private one, a teammate's (pulled from a server: author set) and
    a #mentor answer, all this week under the node."""
    from upstack.services import learning

    result = capture.note(ws, "Probe on layer 12 tracks position #probe", under=node_id, kind="result",
                          meta=learning.result_meta("result", "deception", "position", None))
    learning.learned(ws, result.id, "QUPUBLIC layer 12 reads position\n\nQUTEXT the probe's accuracy follows "
                                    "the token index, not the label.")
    secret = capture.note(ws, "My doubts about the whole project", under=node_id, private=True)
    learning.learned(ws, secret.id, "QUPRIVLEARN I am not sure this project is worth it")
    for title, extra in (("QUTEAMLEARN a colleague's lesson", {"by": "someone-else"}),
                         ("QUMENTORLEARN an answer's lesson", {})):
        ws.store().write([ws.record("entry.create", {
            "id": new_id(), "revision_id": new_id(), "kind": "learning", "title": title, "body": "",
            "extra_tags": ["mentor"] if not extra else [], "private": False, "node_id": node_id,
            "occurred_at": now_iso(), "created_at": now_iso(), "attachments": [], **extra})])


def _section(prompt: str, heading: str) -> str:
    start = prompt.index(f"## {heading}")
    end = prompt.find("\n## ", start + 3)
    return prompt[start:end if end >= 0 else len(prompt)]


@pytest.mark.parametrize("command", [["mentor"], ["ask", "{node}", "--llm", "--no-edit"]])
def test_prompts_name_recent_learnings_that_may_leave(run: CLI, workspace: Workspace, command: list[str]) -> None:
    node_id = _project(workspace)
    _learnings(workspace, node_id)
    result = run(*[part.replace("{node}", node_id) for part in command], "--model", "echo", "--yes")
    assert result.exit_code == 0, result.output
    prompt = _sent(result.stdout)["prompt"]
    learned = _section(prompt, "What I learned")
    assert "QUPUBLIC layer 12 reads position" in learned
    assert "QUTEXT the probe's accuracy follows the token index" in learned  # its text, not just its title
    assert "Learned from [[" not in prompt  # the link to its source is not sent
    for never in ("QUPRIVLEARN", "QUTEAMLEARN", "QUMENTORLEARN", "My doubts"):
        assert never not in prompt, never


def test_a_stuck_question_names_the_last_learnings_when_none_is_recent(workspace: Workspace) -> None:
    from datetime import timedelta

    from upstack.services import learning
    from upstack.timeutil import now, to_iso

    node_id = _project(workspace)
    result = capture.note(workspace, "SAE sweep at 16x", under=node_id, kind="result")
    long_ago = to_iso(now() - timedelta(days=40))
    learning.learned(workspace, result.id, "QUOLD wider SAEs split features", occurred_at=long_ago)
    private = capture.note(workspace, "Private sweep", under=node_id, private=True)
    learning.learned(workspace, private.id, "QUOLDPRIVATE it was a waste", occurred_at=long_ago)
    _, prompt = mentor.question_prompt(workspace, node_id)
    assert "## What I learned last (nothing since)" in prompt.text and "QUOLD wider SAEs" in prompt.text
    assert "QUOLDPRIVATE" not in prompt.text
    learning.learned(workspace, result.id, "QUNEW the 16x SAE has dead features")
    _, prompt = mentor.question_prompt(workspace, node_id)
    lately = _section(prompt.text, "What I learned lately")
    assert "QUNEW" in lately and "QUOLD" not in lately  # the recent ones only, once there are some
