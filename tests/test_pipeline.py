"""Opportunities, applications, contacts and what is due (issue 16), through the services, on both
engines: the same link merges and the same role elsewhere is a possible duplicate, stages move
forward unless forced, a rejection's lesson is a private learning, the funnel counts what it says,
and a local-only record survives the owner's JSON round trip as local-only."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from upstack.domain import pipeline
from upstack.errors import BadInput, NotFound
from upstack.services import applications, contacts, due, jsondump, opportunities, recall
from upstack.store import path as store_path
from upstack.timeutil import today_local
from upstack.workspace import Workspace


def _day(days: int) -> str:
    return (today_local() + timedelta(days=days)).isoformat()


def _opp(ws: Workspace, org: str, role: str, link: str = "", **fields: object) -> opportunities.Added:
    return opportunities.add(ws, organisation=org, role=role, link=link, **fields)


def test_the_same_link_merges_and_the_same_role_elsewhere_is_a_possible_duplicate(workspace: Workspace) -> None:
    first = _opp(workspace, "Redwood Research", "Research Engineer", "https://redwood.example/jobs/re",
                 deadline="2027-01-15", areas="control, interpretability")
    assert (first.outcome, first.opportunity.slug) == ("added", "redwood-research-research-engineer")
    assert first.opportunity.areas == ["control", "interpretability"]
    again = _opp(workspace, "Redwood Research", "Research Engineer", "https://REDWOOD.example/jobs/re/#apply",
                 location="Berkeley", deadline="2027-02-01")
    assert again.outcome == "merged"
    # What it lacked is filled in; what it had is not overwritten.
    assert (again.opportunity.location, again.opportunity.deadline) == ("Berkeley", "2027-01-15")
    same = _opp(workspace, "Redwood Research", "Research Engineer", "https://redwood.example/jobs/re")
    assert same.outcome == "unchanged"
    next_year = _opp(workspace, "Redwood Research", "Research Engineer", "https://redwood.example/jobs/re-2028")
    assert next_year.outcome == "duplicate"
    assert next_year.opportunity.duplicate_of == "redwood-research-research-engineer"
    assert len(opportunities.opportunities(workspace)) == 2

    kept = opportunities.merge(workspace, next_year.opportunity.slug, into="redwood-research-research-engineer")
    assert kept.slug == "redwood-research-research-engineer"
    assert [o.slug for o in opportunities.opportunities(workspace)] == [kept.slug]
    gone = opportunities.find(workspace, next_year.opportunity.slug)
    assert gone.archived and gone.merged_into == kept.slug
    restored = opportunities.restore(workspace, gone.slug)
    assert opportunities.distinct(workspace, restored.slug).duplicate_of == ""


def test_bad_opportunity_input_changes_nothing(workspace: Workspace) -> None:
    _opp(workspace, "Apollo Research", "Evals Engineer")
    before = store_path.events(workspace.store().db, store_path.OPS)
    for fields, said in (({"kind": "gig"}, "no kind"), ({"link": "javascript:alert(1)"}, "not a web address"),
                         ({"deadline": "soonish"}, "cannot understand"), ({"organisation": " "}, "organisation"),
                         ({"role": "x" * 300}, "keep it under")):
        with pytest.raises(BadInput, match=said):
            opportunities.add(workspace, **{"organisation": "Org", "role": "Role", **fields})
    with pytest.raises(BadInput, match="nothing to change"):
        opportunities.edit(workspace, "apollo", role="Evals Engineer")
    with pytest.raises(NotFound, match="no opportunity"):
        opportunities.find(workspace, "deepmind")
    # One bad item in a batch: none of the batch is kept.
    with pytest.raises(BadInput, match="not a web address"):
        opportunities.add_many(workspace, [({"organisation": "A", "role": "R"}, None),
                                           ({"organisation": "B", "role": "R", "link": "ftp://x"}, None)])
    assert store_path.events(workspace.store().db, store_path.OPS) == before


def test_a_posting_is_kept_apart_and_read_back(workspace: Workspace) -> None:
    added = opportunities.add(workspace, organisation="FAR AI", role="Research Scientist",
                              posting={"text": "We are hiring. Apply by Jan 15.", "html": "<p>We are hiring.</p>",
                                       "url": "https://far.example/feed"})
    assert opportunities.posting(workspace, added.opportunity.slug) == {
        "text": "We are hiring. Apply by Jan 15.", "html": "<p>We are hiring.</p>", "url": "https://far.example/feed"}
    opportunities.keep_posting(workspace, "far-ai", text="The new text.")
    assert opportunities.posting(workspace, "far-ai")["text"] == "The new text."
    assert [e.op for e in store_path.events(workspace.store().db, opportunities.OPP_OPS)] == ["opp.set"]


def test_stages_move_forward_unless_forced_and_every_move_is_dated(workspace: Workspace) -> None:
    _opp(workspace, "METR", "Member of Technical Staff", kind="job")
    app = applications.add(workspace, "metr", stage="applied", when="2026-11-01", stretch="fit")
    assert [s["stage"] for s in app.timeline] == ["wishlist", "applied"]
    with pytest.raises(BadInput, match="already"):
        applications.add(workspace, "metr")
    applications.move(workspace, "metr", "screen", when="2026-11-10", on="2026-11-20")
    before = store_path.events(workspace.store().db, store_path.OPS)
    with pytest.raises(BadInput, match="needs --force"):
        applications.move(workspace, "metr", "applied")
    with pytest.raises(BadInput, match="cannot be dated"):
        applications.move(workspace, "metr", "interview", when="2026-11-05")
    with pytest.raises(BadInput, match="has not happened yet"):
        applications.move(workspace, "metr", "interview", when=_day(3))
    with pytest.raises(BadInput, match="no stage"):
        applications.move(workspace, "metr", "hired")
    assert store_path.events(workspace.store().db, store_path.OPS) == before
    back = applications.move(workspace, "metr", "applied", force=True, when="2026-11-12")
    assert back.timeline[-1] == {"stage": "applied", "when": "2026-11-12", "forced": True}


def test_custom_stages_come_from_the_setting(tmp_path: Path, db_url: str | None) -> None:
    with Workspace(home=tmp_path / "h", db=db_url, application_stages="applied, take-home, interview") as ws:
        _opp(ws, "Anthropic", "Research Engineer")
        applications.add(ws, "anthropic", stage="applied")
        assert applications.move(ws, "anthropic", "take home").stage == "take-home"
        with pytest.raises(BadInput, match="take-home"):
            applications.move(ws, "anthropic", "screen")  # not a stage here


def test_a_rejections_lesson_is_a_private_learning(workspace: Workspace) -> None:
    _opp(workspace, "Conjecture", "Research Engineer")
    applications.add(workspace, "conjecture", stage="applied")
    rejected = applications.move(workspace, "conjecture", "rejected", learned="Show tests in the take-home.")
    lesson = recall.show(workspace, rejected.timeline[-1]["learned"])
    assert (lesson.kind, lesson.private) == ("learning", True)
    assert "Show tests in the take-home." in lesson.body or "Show tests in the take-home." in lesson.title
    assert rejected.ended
    with pytest.raises(BadInput, match="belongs to a rejection"):
        _opp(workspace, "Redwood", "RE")
        applications.add(workspace, "redwood", stage="applied")
        applications.move(workspace, "redwood", "screen", learned="nothing")


def test_the_funnel_counts_what_it_says(workspace: Workspace) -> None:
    moves = {  # slug: stages after the wishlist, with days
        "a": [("applied", "2026-10-01"), ("screen", "2026-10-05"), ("interview", "2026-10-15"),
              ("offer", "2026-10-25")],
        "b": [("applied", "2026-10-01"), ("rejected", "2026-10-03")],
        "c": [("applied", "2026-10-02"), ("no-answer", "2026-11-02")],
        "d": [("applied", "2026-10-02"), ("screen", "2026-10-12"), ("rejected", "2026-10-20")],
        "e": [],  # still on the wishlist: not in the funnel
    }
    for slug, steps in moves.items():
        _opp(workspace, f"Org {slug}", "Role", kind="fellowship" if slug in "ab" else "job")
        applications.add(workspace, f"org-{slug}", stretch="reach" if slug in "ab" else "fit")
        for stage, when in steps:
            applications.move(workspace, f"org-{slug}", stage, when=when)
    every = applications.funnel(workspace)["all"]
    assert (every.applied, str(every.response), str(every.interview), str(every.offer)) == \
        (4, "3/4 (75%)", "1/4 (25%)", "1/4 (25%)")
    assert every.days_in_stage["screen"] == 9.0  # 10 days (a) and 8 days (d)
    by_kind = applications.funnel(workspace, by="kind")
    assert (str(by_kind["fellowship"].offer), str(by_kind["job"].response)) == ("1/2 (50%)", "1/2 (50%)")
    assert set(applications.funnel(workspace, by="stretch")) == {"reach", "fit"}
    with pytest.raises(BadInput):
        applications.funnel(workspace, by="colour")


def test_the_variety_notice_speaks_only_of_a_one_kind_mix() -> None:
    assert "out of reach" in pipeline.variety_notice(["safe"] * 5)
    assert pipeline.variety_notice(["safe", "reach", "safe", "fit"]) == ""
    assert pipeline.variety_notice(["reach"] * 3) == ""  # too few to tell


def test_contacts_keep_their_level_and_their_history(workspace: Workspace) -> None:
    contacts.add(workspace, "Neel Example", interests="mechanistic interpretability, SAEs", tags="interp, sae",
                 links=["https://neel.example"], local_only=True)
    contacts.log_exchange(workspace, "neel", "sent", "Hi Neel", title="SAE question", follow_up=_day(7))
    replied = contacts.log_exchange(workspace, "neel example", "reply", "Thanks!", follow_up="")
    assert [h["kind"] for h in replied.history] == ["sent", "reply"] and replied.follow_up == ""
    rows = store_path.events(workspace.store().db, contacts.CONTACT_OPS)
    assert all(e.data.get("local_only") is True for e in rows)  # every record about a local-only contact
    assert store_path.own_ids(workspace.store().db) == []
    with pytest.raises(BadInput, match="has not happened yet"):
        contacts.log_exchange(workspace, "neel", "call", when=_day(2))
    with pytest.raises(NotFound):
        contacts.find(workspace, "nobody at all")


def test_the_owners_json_round_trip_keeps_a_local_only_record_local(workspace: Workspace, tmp_path: Path) -> None:
    contacts.add(workspace, "Ada Example", local_only=True)
    contacts.add(workspace, "Bob Example", local_only=False)
    out = io.StringIO()
    jsondump.export_json(workspace, out)
    rows = json.loads(out.getvalue())["tables"]["path_records"]
    assert sorted((r["subject"], r["local_only"]) for r in rows) == [("ada-example", 1), ("bob-example", 0)]
    (tmp_path / "log.json").write_text(out.getvalue())
    with Workspace(home=tmp_path / "copy", db=None) as copy:
        jsondump.import_json(copy, tmp_path / "log.json")
        assert [c.slug for c in contacts.contacts(copy) if c.local_only] == ["ada-example"]
        assert [e.subject for e in store_path.events(copy.store().db, store_path.OPS)
                if e.id in store_path.own_ids(copy.store().db)] == ["bob-example"]


def test_what_is_due_is_one_list_soonest_first(workspace: Workspace) -> None:
    _opp(workspace, "Open Phil", "Career development grant", kind="grant", deadline=_day(5))
    _opp(workspace, "Applied Already", "Role", deadline=_day(1))
    applications.add(workspace, "applied-already", stage="applied")
    _opp(workspace, "AISI", "Research Scientist")
    applications.add(workspace, "aisi", stage="applied", when=_day(-3))
    applications.move(workspace, "aisi", "interview", on=_day(2))
    applications.follow_up(workspace, "aisi", _day(-1))
    contacts.add(workspace, "Chris Example")
    contacts.set_follow_up(workspace, "chris", _day(40))
    found = [(item.kind, item.ref, item.day) for item in due.due(workspace)]
    aisi = "aisi-research-scientist"  # applied to: its deadline is not due; the contact's is 40 days out
    assert found == [("follow-up", aisi, _day(-1)), ("interview", aisi, _day(2)),
                     ("deadline", "open-phil-career-development-grant", _day(5))]
    assert due.due(workspace, days=60, kinds=["follow-up"])[-1].ref == "chris-example"
    assert due.due(workspace)[0].to_dict(today_local())["overdue"] is True
    with pytest.raises(BadInput):
        due.due(workspace, days=-1)


def test_the_opening_rule_takes_the_settings_cues_and_threshold(tmp_path: Path) -> None:
    from upstack.domain import openings
    from upstack.services import opp_feed

    title, text = "Notes from the reading group, week 12", "We read about induction heads."
    assert openings.opening_score(title, text)[0] is False
    with Workspace(home=tmp_path / "h", opening_cues="reading group=5, Induction Heads = 1") as ws:
        rule = opp_feed.opening_rule(ws)
        assert (rule.cues["reading group"], rule.cues["induction heads"]) == (5.0, 1.0)
        assert openings.opening_score(title, text, rule)[0] is True
    with Workspace(home=tmp_path / "h", opening_threshold=100) as ws:
        assert openings.opening_score("Meridian is hiring research engineers", "Apply by Jan 15.",
                                      opp_feed.opening_rule(ws))[0] is False


def test_a_move_back_undoes_the_slip_in_the_funnel_and_the_days_in_a_stage(workspace: Workspace) -> None:
    _opp(workspace, "Redwood", "RE")
    applications.add(workspace, "redwood", stage="applied", when="2026-11-01")
    applications.move(workspace, "redwood", "interview", when="2026-11-03")  # a slip: it was never interviewed
    back = applications.move(workspace, "redwood", "applied", when="2026-11-04", force=True, note="oops")
    assert [s["stage"] for s in back.timeline] == ["wishlist", "applied", "interview", "applied"]  # kept
    assert back.since == "2026-11-01"  # at applied since it was sent
    every = applications.funnel(workspace)["all"]
    assert (str(every.response), str(every.interview)) == ("0/1 (0%)", "0/1 (0%)")
    assert "interview" not in every.days_in_stage
    order = pipeline.stage_order()
    assert pipeline.settled([{"stage": "wishlist"}, {"stage": "applied"}, {"stage": "rejected"},
                             {"stage": "screen", "forced": True}], order)[-1] == {"stage": "screen", "forced": True}
    assert [s["stage"] for s in pipeline.settled([{"stage": "wishlist"}, {"stage": "applied"}, {"stage": "rejected"},
                                                  {"stage": "screen", "forced": True}], order)] == \
        ["wishlist", "applied", "screen"]
