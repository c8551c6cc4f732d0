"""A note's title is its first sentence, and abbreviations do not end a sentence."""

from __future__ import annotations

import json

import pytest

from conftest import CLI
from upstack.domain.text import ABBREVIATIONS, split_title

# (what a person writes, the title they mean)
ABBREVIATED = [
    ("Compare the widths, e.g. 16k and 64k. Then prune.", "Compare the widths, e.g. 16k and 64k."),
    ("Probe the heads, i.e. 5.1 and 9.9. Next: patching.", "Probe the heads, i.e. 5.1 and 9.9."),
    ("Patching vs. ablation on head 5.1. Patching wins.", "Patching vs. ablation on head 5.1."),
    ("Wang et al. find the same circuit. Read it again.", "Wang et al. find the same circuit."),
    ("See Fig. 3 for the loss curve. It spikes at 40k.", "See Fig. 3 for the loss curve."),
    ("Call with Dr. Lee about probes. She agrees.", "Call with Dr. Lee about probes."),
    ("The U.S. annotators disagree more. Check the UK ones.", "The U.S. annotators disagree more."),
    ("Cf. Eq. 2 in the paper, resp. its appendix. Then test.",
     "Cf. Eq. 2 in the paper, resp. its appendix."),
    ("It matches the result (cf. the SAE run). Good.", "It matches the result (cf. the SAE run)."),
    ("Mr. Smith and Prof. Jones, a.k.a. the reviewers, liked it. Revise.",
     "Mr. Smith and Prof. Jones, a.k.a. the reviewers, liked it."),
    ("Loss approx. 0.3 after warm-up. Fine.", "Loss approx. 0.3 after warm-up."),
    ("Pages pp. 4-9 of vol. 2 are the proof. Read them.", "Pages pp. 4-9 of vol. 2 are the proof."),
]

# Sentences that do end: the rule must not swallow the rest of the line.
ENDED = [
    ("Patching layer 5 kills it. Next: head 5.1", "Patching layer 5 kills it."),
    ("Is it a name mover? Check.", "Is it a name mover?"),
    ("Loss went to 0.3. Then it spiked.", "Loss went to 0.3."),
    ("Tried it on the U.S. split. Nothing.", "Tried it on the U.S. split."),
]


@pytest.mark.parametrize(("text", "title"), ABBREVIATED + ENDED)
def test_the_first_sentence_is_the_title_whatever_its_abbreviations(text: str, title: str) -> None:
    found, body = split_title(text)
    assert found == title
    assert body == text[len(title):].strip()


def test_the_list_covers_the_common_abbreviations() -> None:
    # Dotted ones (e.g., i.e., U.S.) are recognised by their shape; the rest are listed.
    assert {"vs", "al", "fig", "dr", "cf", "eq", "prof"} <= ABBREVIATIONS


def test_a_note_keeps_its_abbreviated_title_and_old_titles_stay(run: CLI) -> None:
    short = run.ok("note", "Compare e.g. the 16k SAE vs. the 64k one. Wider is worse.").strip()
    entry = json.loads(run.ok("show", short, "--json"))
    assert (entry["title"], entry["body"]) == ("Compare e.g. the 16k SAE vs. the 64k one.",
                                               "Wider is worse.")
    # An entry titled by the old rule (a title that ends at "Fig.") keeps its title when edited:
    # the title is its own first line, so it is never split again.
    old = run.ok("edit", short, "--text", "See Fig.\n\n3 for the curve.").strip()
    assert json.loads(run.ok("show", old, "--json"))["title"] == "See Fig."
    run.ok("edit", short, "--kind", "result")
    edited = json.loads(run.ok("show", short, "--json"))
    assert (edited["title"], edited["body"], edited["kind"]) == ("See Fig.", "3 for the curve.", "result")
