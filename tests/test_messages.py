"""Messages say what happened: a filter that matches nothing says so, and counts read as English."""

from __future__ import annotations

from conftest import CLI


def test_a_filter_that_matches_nothing_says_so(run: CLI) -> None:
    assert run.ok("log") == 'No entries yet. Write one with: upstack note "..."\n'
    assert run.ok("runs").startswith("No runs yet.")
    assert run.ok("tags") == "No tags yet: write #tags in a note.\n"
    assert run.ok("ideas").startswith("No ideas here yet.")
    run.ok("note", "Loss spikes at step 40k. #sae")
    assert run.ok("log", "--kind", "decision", "-t", "sae") == "No entries match --tag sae --kind decision.\n"
    assert run.ok("log", "--since", "2999-01-01") == "No entries match --since 2999-01-01.\n"
    assert run.ok("search", "loss", "--kind", "result") == "No entries match 'loss' (--kind result).\n"
    assert run.ok("search", "nothing") == "No entries match 'nothing'.\n"
    assert run.ok("tags", "--until", "last year") == "No tags on the entries that match --until 'last year'.\n"
    assert run.ok("runs", "--status", "failed", "--where", "lr=3e-4") == \
        "No runs match --status failed --where lr=3e-4.\n"
    assert run.ok("ideas", "--state", "pruned", "--state", "parked") == "No ideas are pruned or parked.\n"
