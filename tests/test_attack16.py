"""Attacks on issue 16 (opportunities, applications, contacts, outreach) that found holes: each
test fails on the main it was written against (5278e17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from path_team import Team, path_rows
from upstack.services import applications, contacts, opportunities
from upstack.services import sync as sync_service
from upstack.workspace import Workspace


@pytest.fixture
def team(path_team: Team) -> Team:
    """The path's team server (tests/path_team.py)."""
    return path_team


def test_a_local_only_contact_linked_to_an_application_does_not_reach_the_server(team: Team, tmp_path: Path) -> None:
    laptop = Workspace(home=tmp_path / "ada")
    opportunities.add(laptop, kind="job", organisation="Lab", role="RE", link="https://lab.example/re")
    applications.add(laptop, "lab-re", stage="applied")
    contacts.add(laptop, "Alan Turing", interests="probes", local_only=True)
    applications.link_contact(laptop, "lab-re", "alan-turing", "referrer")
    sync_service.login(laptop, team.server.url, team.token(team.ada))
    sync_service.sync(laptop)
    rows = path_rows(team)
    assert rows, "the application itself syncs"
    assert "alan-turing" not in str(rows)  # the contact's name (its slug) stays on the laptop
    assert [c["contact"] for c in applications.find(laptop, "lab-re").contacts] == ["alan-turing"]


def test_a_json_import_nested_past_the_decoder_is_one_line(tmp_path: Path) -> None:
    import pytest

    from upstack.errors import BadInput
    from upstack.services import opp_import

    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BadInput, match="deep.json is nested too deeply"):
        opp_import.read_json(path, path.read_bytes(), {})


def test_a_pushed_stage_with_a_date_that_is_not_a_day_leaves_the_board_and_funnel_readable(team: Team) -> None:
    from upstack.domain import access
    from upstack.ids import new_id
    from upstack.services import path_access, sync_door
    from upstack.timeutil import now_iso
    from upstack.web import pipeline_view

    with access.acting_as(team.audience(team.ada)):
        opportunities.add(team.ws, kind="job", organisation="Lab", role="RE", link="https://lab.example/re")
        applications.add(team.ws, "lab-re", stage="applied")
        path_access.show(team.ws, "bob", ("pipeline",))
        record = {"id": new_id(), "op": "apply.stage", "workspace": "laptop", "at": now_iso(),
                  "data": {"subject": "lab-re", "at": now_iso(), "stage": "screen", "when": "not a date"}}
        answer = sync_door.accept(team.ws, [record], team.audience(team.ada))
    if answer["applied"]:  # taken: every reader must still read it (a mentor's page was a 500)
        with access.acting_as(team.audience(team.bob)):
            person = path_access.reading(team.ws, "ada", "pipeline")
            assert pipeline_view.board(team.ws, person)["total"] == 1
            assert pipeline_view.funnel(team.ws, person)["applied"] == 1


def test_a_posting_the_laptop_keeps_is_one_the_server_takes(team: Team, tmp_path: Path) -> None:
    import pytest

    from upstack.errors import BadInput

    laptop = Workspace(home=tmp_path / "ada")
    text = ('"' * 99 + "\n") * 190  # under MAX_POSTING characters; quotes and line ends take two in JSON
    assert len(text) <= opportunities.MAX_POSTING
    opportunities.add(laptop, kind="job", organisation="Lab", role="RE", link="https://lab.example/re",
                      posting={"text": text, "html": "<p>" + "x" * 19_000 + "</p>"})  # as a feed's or a CSV's
    with pytest.raises(BadInput, match="a team server would not take it"):  # kept by hand: said at once
        opportunities.keep_posting(laptop, "lab-re", text=text)
    assert opportunities.posting(laptop, "lab-re")["text"]
    sync_service.login(laptop, team.server.url, team.token(team.ada))
    done = sync_service.sync(laptop)
    assert done.refused == [], done.refused


def test_an_import_of_an_endless_file_stops_at_the_cap(tmp_path: Path) -> None:
    """/dev/zero has a size of 0 to stat: read whole, it took all memory (a MemoryError traceback)."""
    import pytest

    from upstack.errors import BadInput
    from upstack.services import opp_feed, opp_import

    endless = Path("/dev/zero")
    ws = Workspace(home=tmp_path / "log")
    for fmt in ("csv", "json"):
        with pytest.raises(BadInput, match="larger than"):
            opp_import.import_file(ws, endless, fmt=fmt)
    with pytest.raises(BadInput, match="larger than"):
        opp_feed.read(str(endless), max_bytes=1000)
