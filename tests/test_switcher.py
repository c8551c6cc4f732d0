"""The quick switcher's look-up (services/switcher.py, store/titles.py), on both engines: any entry,
node or run by the starts of words of its title, best first, never a deleted one. Who may see
what on a team server is checked route by route in tests/test_web_authz.py."""

from __future__ import annotations

import upstack
from upstack.services import capture, curate, switcher, tree
from upstack.workspace import Workspace


def _titles(found: list[switcher.Destination]) -> list[str]:
    return [d.title for d in found]


def test_each_word_starts_a_word_of_the_title(workspace: Workspace) -> None:
    capture.note(workspace, "Path patching on the IOI circuit.", occurred_at="2026-01-01T10:00:00.000000Z")
    capture.note(workspace, "Attention patterns of head 9.6.", occurred_at="2026-01-02T10:00:00.000000Z")
    capture.note(workspace, "Sparse autoencoders on café data.", occurred_at="2026-01-03T10:00:00.000000Z")

    assert _titles(switcher.jump_to(workspace, "path patch")) == ["Path patching on the IOI circuit."]
    assert _titles(switcher.jump_to(workspace, "PAT")) == ["Path patching on the IOI circuit.",  # its start
                                                           "Attention patterns of head 9.6."]
    assert _titles(switcher.jump_to(workspace, "atching")) == []  # the middle of a word is not its start
    assert _titles(switcher.jump_to(workspace, "ioi-circ")) == ["Path patching on the IOI circuit."]
    assert _titles(switcher.jump_to(workspace, "cafe")) == ["Sparse autoencoders on café data."]
    assert _titles(switcher.jump_to(workspace, "head 9")) == ["Attention patterns of head 9.6."]
    assert switcher.jump_to(workspace, "") == [] and switcher.jump_to(workspace, "  -- ") == []


def test_nodes_runs_and_entries_each_go_to_their_page(workspace: Workspace, db_url: str | None) -> None:
    node = tree.add_node(workspace, "question", "Does the IOI circuit transfer?", why="It tests the method.")
    entry = capture.note(workspace, "IOI circuit in GPT-2 medium: a first look.")
    with upstack.run("ioi-circuit-sweep", home=workspace.home, db=db_url, capture="none") as made:
        made.log({"loss": 1.0}, step=0)
    workspace.ingest()

    found = {d.kind: d for d in switcher.jump_to(workspace, "ioi circuit")}
    assert set(found) == {"node", "run", "entry"}
    assert found["node"].href == f"/tree/{node.short}" and found["node"].detail == "question"
    assert found["run"].href == f"/runs/{made.short}" and found["run"].detail == "finished"
    assert found["entry"].href == f"/e/{entry.short}" and found["entry"].detail == "note"
    # The run's result entry is an entry with the run's id: the run stands for it, once.
    assert [d.id for d in switcher.jump_to(workspace, "sweep")] == [made.id]
    assert found["run"].to_dict()["short"] == made.short


def test_the_best_fitting_title_comes_first_then_the_newest(workspace: Workspace) -> None:
    capture.note(workspace, "Probe accuracy by layer.", occurred_at="2026-01-01T10:00:00.000000Z")
    capture.note(workspace, "A linear probe on layer 9.", occurred_at="2026-01-05T10:00:00.000000Z")
    capture.note(workspace, "Probe.", occurred_at="2026-01-02T10:00:00.000000Z")
    capture.note(workspace, "Probes again, with more data.", occurred_at="2026-01-04T10:00:00.000000Z")
    assert _titles(switcher.jump_to(workspace, "probe")) == [
        "Probe.", "Probes again, with more data.", "Probe accuracy by layer.", "A linear probe on layer 9."]
    assert _titles(switcher.jump_to(workspace, "probe", limit=2)) == ["Probe.", "Probes again, with more data."]
    for day in range(10, 20):  # newer matches than the title typed whole: still it comes first
        capture.note(workspace, f"Linear probe {day}.", occurred_at=f"2026-01-{day}T10:00:00.000000Z")
    assert _titles(switcher.jump_to(workspace, "probe", limit=2)) == ["Probe.", "Linear probe 19."]


def test_the_whole_log_answers_what_the_newest_entries_do_not(workspace: Workspace) -> None:
    """A word in few titles is looked up in the search index; the answer is the same either way."""
    for day in range(1, 10):
        capture.note(workspace, f"Daily notes {day}.", occurred_at=f"2026-01-{day:02d}T10:00:00.000000Z")
    capture.note(workspace, "Steering vectors, an old idea.", occurred_at="2025-06-01T10:00:00.000000Z")
    capture.note(workspace, "Steering the refusal direction.", occurred_at="2025-07-01T10:00:00.000000Z")

    everything = switcher.jump_to(workspace, "steer")
    assert _titles(everything) == ["Steering the refusal direction.", "Steering vectors, an old idea."]
    assert switcher.jump_to(workspace, "steer", recent=3) == everything  # only 3 read by date: the index finds them
    assert _titles(switcher.jump_to(workspace, "daily", limit=3, recent=3)) == [
        "Daily notes 9.", "Daily notes 8.", "Daily notes 7."]
    assert _titles(switcher.jump_to(workspace, "daily", limit=3, recent=2)) == [
        "Daily notes 9.", "Daily notes 8.", "Daily notes 7."]


def test_deleted_entries_and_nodes_are_not_found(workspace: Workspace) -> None:
    kept = capture.note(workspace, "Ablation of the name movers.")
    gone = capture.note(workspace, "Ablation of the induction heads.")
    node = tree.add_node(workspace, "question", "Ablation or patching?", why="They disagree.")
    curate.remove(workspace, gone.id)
    tree.remove_node(workspace, node.id)
    assert [d.id for d in switcher.jump_to(workspace, "ablation")] == [kept.id]
    assert [d.id for d in switcher.jump_to(workspace, "ablation", recent=0)] == [kept.id]


def test_private_entries_are_their_authors_to_find(workspace: Workspace) -> None:
    """On a laptop, the one person who writes sees their private notes here too."""
    mine = capture.note(workspace, "Salary negotiation notes.", private=True)
    assert [d.id for d in switcher.jump_to(workspace, "salary")] == [mine.id]
