"""Predictions and takes through `upstack sync` with a real team server (real HTTP, the server's store on
both engines, laptops on SQLite): every forecast, resolution and update travels with its history; a
second sync changes nothing; a take stays private; what is said of someone's prediction is theirs alone;
and nobody is anchored: another member's forecasts on a question show only once they have made theirs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from upstack.domain import access
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.services import accounts, predictions, takes, tree
from upstack.services import sync as sync_service
from upstack.services.jsondump import dump_tables
from upstack.timeutil import now_iso
from upstack.workspace import Workspace
from webserver import Server, serve


@dataclass
class Team:
    server: Server
    ws: Workspace
    project: str  # shared with ada and bob as editors
    experiment: str
    ada: accounts.User
    bob: accounts.User

    def token(self, user: accounts.User) -> str:
        return accounts.create_token(self.ws, user.id, "laptop")[1]

    def laptop(self, tmp_path: Path, name: str, user: accounts.User) -> Workspace:
        ws = Workspace(home=tmp_path / name)
        sync_service.login(ws, self.server.url, self.token(user))
        return ws


@pytest.fixture
def team(tmp_path: Path, db_url: str | None) -> Iterator[Team]:
    home = tmp_path / "server"
    ws = Workspace(home=home, db=db_url)
    ada, _ = accounts.add_user(ws, "ada")
    bob, _ = accounts.add_user(ws, "bob")
    project = tree.add_node(ws, "project", "Probing", why="Shared with both.")
    question = tree.add_node(ws, "question", "Does depth matter?", why="Probes.", under=project.id)
    experiment = tree.add_node(ws, "experiment", "Probe each layer", why="Cheap test.", under=question.id)
    accounts.share(ws, project.id, "ada", "editor", by=None)
    accounts.share(ws, project.id, "bob", "editor", by=None)
    with serve(home, db_url, token=None) as server:
        yield Team(server, ws, project.id, experiment.id, ada, bob)
    ws.close()


def _mine(ws: Workspace) -> dict[str, tuple[str, list[float], int]]:
    """{claim: (state, forecasts, resolutions)} of every prediction the workspace shows."""
    return {p.entry.title: (p.state, [f.probability for f in p.forecasts], len(p.resolutions))
            for p in predictions.listing(ws)}


def test_predictions_and_takes_travel_with_their_history_and_a_second_sync_changes_nothing(
        team: Team, tmp_path: Path) -> None:
    laptop = team.laptop(tmp_path, "laptop", team.ada)
    sync_service.sync(laptop)  # the tree comes down
    made = predictions.make(laptop, "Layer 6 probes beat chance", "70%", on=team.experiment, criteria="held-out")
    predictions.update(laptop, made.id, "55%", reason="the pilot was noisy")
    predictions.resolve(laptop, made.id, "false", reason="chance on held-out")
    predictions.make(laptop, "Depth helps past layer 12", "40%", on=team.experiment)
    secret = takes.make(laptop, "Probes only find what you put in", "60%", source="a talk")
    shared = takes.make(laptop, "Linear probes are enough", "30%", source="Chris", cruxes=["nonlinear features"],
                        on=[team.experiment], shared=True)
    takes.update(laptop, shared.id, "45%", reason="read the paper", source="the paper", where="arXiv")

    first = sync_service.sync(laptop)
    assert first.refused == []
    with access.acting_as(accounts.audience_for(team.ws, team.ada)):
        assert _mine(team.ws) == _mine(laptop)
        assert _mine(team.ws)["Layer 6 probes beat chance"] == ("false", [0.7, 0.55], 1)
        on_server = {t.entry.title: t for t in takes.listing(team.ws)}
        assert on_server["Linear probes are enough"].now == pytest.approx(0.45)
        assert [s["source"] for s in on_server["Linear probes are enough"].sources] == ["Chris", "the paper"]
        assert on_server["Probes only find what you put in"].entry.private
        assert predictions.calibration(team.ws).to_dict() == predictions.calibration(laptop).to_dict()

    before = (dump_tables(laptop.store().db), dump_tables(team.ws.store().db))
    again = sync_service.sync(laptop)
    assert (again.pushed, again.pulled, again.refused) == (0, 0, [])
    assert (dump_tables(laptop.store().db), dump_tables(team.ws.store().db)) == before

    # Her second machine gets everything, her private take too: it is hers.
    other = team.laptop(tmp_path, "desktop", team.ada)
    sync_service.sync(other)
    assert _mine(other) == _mine(laptop)
    assert {t.entry.title for t in takes.listing(other)} == {t.entry.title for t in takes.listing(laptop)}
    assert takes.get(other, secret.id).entry.private
    assert predictions.calibration(other).to_dict() == predictions.calibration(laptop).to_dict()
    # Bob's sees her shared take and none of the private one.
    bob = team.laptop(tmp_path, "bob", team.bob)
    sync_service.sync(bob)
    assert {t.entry.title for t in takes.listing(bob)} == {"Linear probes are enough"}
    for ws in (laptop, other, bob):
        ws.close()


def test_nobody_is_anchored_by_anothers_forecast_until_they_have_made_their_own(team: Team, tmp_path: Path) -> None:
    ada = team.laptop(tmp_path, "ada", team.ada)
    sync_service.sync(ada)
    hers = predictions.make(ada, "Layer 6 probes beat chance", "90%", on=team.experiment)
    sync_service.sync(ada)

    bob = team.laptop(tmp_path, "bob", team.bob)
    sync_service.sync(bob)
    assert _mine(bob) == {}  # her prediction's entry is there, its forecasts are not
    with access.acting_as(accounts.audience_for(team.ws, team.bob)):
        assert predictions.listing(team.ws) == []
        with pytest.raises(BadInput, match="once you have made yours"):
            predictions.get(team.ws, hers.id)
    predictions.make(bob, "Layer 6 probes beat chance (bob)", "30%", on=team.experiment)
    sync_service.sync(bob)  # pushes his
    sync_service.sync(bob)  # now hers may come
    assert _mine(bob)["Layer 6 probes beat chance"] == ("open", [0.9], 0)
    with access.acting_as(accounts.audience_for(team.ws, team.bob)):
        assert {p.entry.title for p in predictions.listing(team.ws)} == {
            "Layer 6 probes beat chance", "Layer 6 probes beat chance (bob)"}
        assert [p.entry.title for p in predictions.calibration(team.ws).surprises] == []  # his own only

    # A resolved prediction anchors nobody: the answer is known.
    other = predictions.make(ada, "Depth helps past layer 12", "80%", on=team.project)
    predictions.resolve(ada, other.id, "true")
    sync_service.sync(ada)
    sync_service.sync(bob)
    assert _mine(bob)["Depth helps past layer 12"] == ("true", [0.8], 1)
    ada.close()
    bob.close()


def _push(team: Team, user: accounts.User, records: list[dict[str, object]]) -> dict[str, object]:
    answer = httpx.post(f"{team.server.url}/api/sync/push", json={"records": records},
                        headers={"Authorization": f"Bearer {team.token(user)}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_what_is_said_of_a_prediction_or_take_is_its_authors_alone(team: Team, tmp_path: Path) -> None:
    ada = team.laptop(tmp_path, "ada", team.ada)
    sync_service.sync(ada)
    hers = predictions.make(ada, "Layer 6 probes beat chance", "70%", on=team.experiment)
    take = takes.make(ada, "Linear probes are enough", "30%", source="Chris", shared=True, on=[team.experiment])
    sync_service.sync(ada)
    before = dump_tables(team.ws.store().db)

    def record(op: str, data: dict[str, object]) -> dict[str, object]:
        return {"id": new_id(), "op": op, "workspace": "bob", "at": now_iso(), "data": {"at": now_iso(), **data}}

    # Bob is an editor where they are filed: still not his to forecast, resolve or update.
    answer = _push(team, team.bob, [
        record("prediction.forecast", {"entry_id": hers.id, "probability": 0.1}),
        record("prediction.resolve", {"entry_id": hers.id, "outcome": "false", "evidence_at": now_iso()}),
        record("take.update", {"entry_id": take.id, "confidence": 0.9, "reason": "mine now"}),
        record("prediction.make", {"entry_id": take.id, "probability": 0.5})])
    assert [r["reason"] for r in answer["refused"]] == ["no such entry, or you may not change it"] * 4  # type: ignore[index]
    # Malformed ones are refused at the door, by their shape, whoever sends them.
    answer = _push(team, team.ada, [
        record("prediction.forecast", {"entry_id": hers.id, "probability": 1.5}),
        record("prediction.forecast", {"entry_id": hers.id, "probability": "70%"}),
        record("prediction.resolve", {"entry_id": hers.id, "outcome": "maybe", "evidence_at": now_iso()}),
        record("take.update", {"entry_id": take.id, "confidence": 0.5, "cruxes": ["x"] * 51})])
    assert len(answer["refused"]) == 4  # type: ignore[arg-type]
    # An id that names something else is taken: her prediction's entry id, as a forecast's.
    answer = _push(team, team.ada, [{**record("prediction.forecast", {"entry_id": hers.id, "probability": 0.4}),
                                     "id": take.id}])
    assert answer["refused"][0]["reason"].startswith("that id is taken")  # type: ignore[index]
    assert dump_tables(team.ws.store().db) == before
    ada.close()
