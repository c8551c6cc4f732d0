"""The early-warning rule (domain/pace.py) on synthetic histories whose right answers are known, and the
Copenhagen Burnout Inventory's scoring (domain/cbi.py). Pure: no store, no files.

"Sustained", precisely (tests/pace_histories.py): a slide moves sleep (-1.5 h), energy (-1) and
snacking (+1.5) linearly from the person's levels over ``ramp_days`` (14 to 42) and then stays. It is
sustained on the first day from the end of the ramp on which the person has checked in at least
``min_recent`` times at full depth within the last week, provided they had checked in at least
``min_baseline`` times in the four weeks before the slide began (without that there is no "before"
to compare with). The rule must raise a notice between the slide's start and that day + 7.

The rule works on noisy data, so its properties hold at a rate, not always: the rates test measures
it, and the properties run 60 fixed examples (derandomize). Unfixed, 300 random examples find rare
counter-examples (a 40-day slide in a sparse, noisy person: seed 40; a bad night tipping a
borderline week: seed 1814, day 100), in line with the measured rates.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pace_histories import FIRST_DAY, Slide, bad_night, history
from upstack.domain import cbi
from upstack.domain.pace import (
    SIGNALS,
    STEPS,
    PaceRule,
    Signal,
    daily_values,
    late_activity,
    notices,
    sparkline,
    trends,
    warning_sign,
    work_days,
)
from upstack.errors import BadInput

RULE = PaceRule()
WARM_UP = 35 + 14  # days before the rule can first compare (recent + gap + enough baseline)
SIX_MONTHS = 182


def day(index: int) -> date:
    return FIRST_DAY + timedelta(days=index)


def steady_notices(seed: int) -> int:
    series = history(seed, WARM_UP + SIX_MONTHS)
    return len(notices(series, RULE, day(WARM_UP), day(WARM_UP + SIX_MONTHS - 1)))


def sustained_day(series: dict[str, dict[date, float]], slide: Slide, last: int) -> int | None:
    sleep = series["sleep_hours"]
    before = sum(1 for i in range(slide.start - 28, slide.start) if day(i) in sleep)
    if before < RULE.min_baseline:
        return None
    for index in range(slide.sustained, last):
        at_depth = sum(1 for i in range(max(slide.sustained, index - 6), index + 1) if day(i) in sleep)
        if at_depth >= RULE.min_recent:
            return index
    return None


def days_to_notice(seed: int, ramp_days: int, holidays: bool = True) -> int | None | str:
    """Days from sustained to the first notice from the slide's start (negative: before it was
    sustained); None when none came by sustained + 7; "n/a" when the history has no sustained day."""
    slide = Slide(start=WARM_UP + 21, ramp_days=ramp_days)
    last = slide.sustained + 70
    series = history(seed, last + 8, slide, holidays=holidays)
    sustained = sustained_day(series, slide, last)
    if sustained is None:
        return "n/a"
    found = notices(series, RULE, day(slide.start), day(sustained + 7))
    return (found[0].day - day(sustained)).days if found else None


# --- examples with known answers -------------------------------------------------------------------


def test_a_steady_person_gets_no_notice():
    series = history(seed=7, days=WARM_UP + SIX_MONTHS)
    assert notices(series, RULE, day(WARM_UP), day(WARM_UP + SIX_MONTHS - 1)) == []


def test_a_slow_slide_over_three_weeks_gets_a_notice_within_a_week_of_being_sustained():
    slide = Slide(start=WARM_UP + 21, ramp_days=21)
    series = history(seed=3, days=slide.sustained + 30, slide=slide, holidays=False)
    sustained = sustained_day(series, slide, slide.sustained + 30)
    assert sustained is not None
    found = notices(series, RULE, day(WARM_UP), day(sustained + 7))
    assert len(found) == 1 and day(slide.start) <= found[0].day <= day(sustained + 7)
    rising = {t.signal.name for t in found[0].rising}
    assert rising & {"sleep_hours", "energy", "snacking"} and len(rising) >= 2
    assert found[0].steps == STEPS


def test_a_single_bad_night_gets_no_notice():
    series = history(seed=7, days=WARM_UP + 60)
    assert notices(bad_night(series, WARM_UP + 30), RULE, day(WARM_UP), day(WARM_UP + 59)) == []


def test_long_gaps_in_check_ins_give_no_notice_and_say_so():
    series = history(seed=7, days=WARM_UP + 90)
    away = [day(i) for i in range(WARM_UP + 20, WARM_UP + 50)]  # a month without check-ins
    for name, values in series.items():
        if next(s for s in SIGNALS if s.name == name).source == "checkin":
            for gone in away:
                values.pop(gone, None)
    assert notices(series, RULE, day(WARM_UP), day(WARM_UP + 89)) == []
    sleep = trends(series, day(WARM_UP + 40), RULE)[0]
    assert not sleep.enough and not sleep.rising and sleep.recent is None
    assert sleep.note.startswith("not enough check-ins")


def test_a_missing_day_is_a_gap_not_a_zero():
    sleep = {day(i): 7.0 for i in range(49) if i % 7 not in (2, 5)}  # five days a week only
    trend = trends({"sleep_hours": sleep}, day(48), PaceRule(gap_days=0))[0]
    assert trend.enough and trend.recent == 7.0 and trend.baseline == 7.0 and not trend.rising


def test_the_notice_describes_the_pattern_and_never_diagnoses():
    sleep = {day(i): 7.4 for i in range(49)} | {day(i): 5.9 for i in range(42, 49)}
    energy = {day(i): 2.0 for i in range(49)} | {day(i): 1.0 for i in range(42, 49)}
    snacking = {day(i): 0.0 for i in range(49)} | {day(i): 2.0 for i in range(42, 49)}
    [notice] = notices({"sleep_hours": sleep, "energy": energy, "snacking": snacking}, RULE, day(48), day(48))
    assert notice.text == ("sleep 5.9 h a night this week against 7.4 h a night three to seven weeks ago; "
                           "energy down; snacking up")
    words = (notice.text + " ".join(notice.steps)).lower()
    assert all(step in words for step in ("sleep", "food", "exercise", "recover actively", "early signs"))
    assert not any(judgement in words for judgement in ("burnout", "burned out", "burnt out", "diagnos",
                                                         "disorder", "ability", "productiv", "you are"))


def test_the_cooldown_spaces_notices_of_a_lasting_pattern():
    sleep = {day(i): 7.4 for i in range(150)} | {day(i): 5.0 for i in range(42, 150)}
    energy = {day(i): 2.0 for i in range(150)} | {day(i): 0.0 for i in range(42, 150)}
    found = notices({"sleep_hours": sleep, "energy": energy}, RULE, day(42), day(149))
    # The worst day of the week is left out: energy rises on its fourth bad day. A month later the
    # pattern still stands out against a baseline now half made of it; then the baseline has caught up.
    assert [n.day for n in found] == [day(45), day(45 + RULE.cooldown_days)]


def test_a_signal_the_lead_adds_is_used_like_the_others():
    custom = (*SIGNALS, warning_sign("doomscrolling"), Signal("caffeine", +1, "count", "coffees", " a day"))
    coffee = {day(i): 2.0 for i in range(49)} | {day(i): 5.0 for i in range(42, 49)}
    scroll = {day(i): 0.0 for i in range(49)} | {day(i): 3.0 for i in range(42, 49)}
    [notice] = notices({"caffeine": coffee, "doomscrolling": scroll}, RULE, day(48), day(48), custom)
    assert notice.text == "doomscrolling up; coffees 5.0 a day this week against 2.0 a day three to seven weeks ago"
    with pytest.raises(BadInput, match="kind 'odd'"):
        trends({"x": coffee}, day(48), RULE, (Signal("x", 1, "odd", "x"),))
    with pytest.raises(BadInput, match="bad must be"):
        Signal("x", 0, "count", "x")


def test_a_rule_with_impossible_settings_is_refused():
    with pytest.raises(BadInput, match="min_recent"):
        PaceRule(min_recent=8)
    with pytest.raises(BadInput, match="min_baseline"):
        PaceRule(min_baseline=1)


def test_sparkline_shows_gaps_as_spaces():
    assert sparkline([0.0, 1.0, None, 7.0, float("nan")]) == "▁▂ █ "
    assert sparkline([3.0, 3.0]) == "▄▄" and sparkline([None]) == " " and sparkline([]) == ""
    assert daily_values({day(0): 1.0, day(2): 2.0}, day(0), day(2)) == [1.0, None, 2.0]


def test_late_activity_counts_the_night_for_the_evening_it_began():
    times = [datetime(2025, 3, 3, 22, 59), datetime(2025, 3, 3, 23, 0), datetime(2025, 3, 4, 2, 30),
             datetime(2025, 3, 4, 5, 0), datetime(2025, 3, 5, 23, 30)]
    late = late_activity(times, date(2025, 3, 3), date(2025, 3, 5))
    assert late == {date(2025, 3, 3): 2.0, date(2025, 3, 4): 0.0, date(2025, 3, 5): 1.0}
    after_midnight = late_activity(times, date(2025, 3, 3), date(2025, 3, 5), bedtime=time(0, 30))
    assert after_midnight == {date(2025, 3, 3): 1.0, date(2025, 3, 4): 0.0, date(2025, 3, 5): 0.0}


def test_work_days_give_days_off_and_streaks():
    worked, streak = work_days([date(2025, 3, 3), date(2025, 3, 4), date(2025, 3, 6)],
                               date(2025, 3, 3), date(2025, 3, 6))
    assert list(worked.values()) == [1.0, 1.0, 0.0, 1.0] and list(streak.values()) == [1.0, 2.0, 0.0, 1.0]


# --- measured over many fixed histories: the numbers the defaults were chosen by ------------------


def test_rates_over_hundreds_of_generated_people():
    """Steady (600 people): notices per six months; slides of 2-6 weeks, holidays and all: days from
    sustained to notice."""
    per_six_months = [steady_notices(seed) for seed in range(600)]
    delays = [days_to_notice(seed, 14 + seed % 29) for seed in range(1000, 1300)]
    judged = [d for d in delays if d != "n/a"]
    missed = [d for d in judged if d is None]
    caught = [d for d in judged if isinstance(d, int)]
    print(f"steady: {statistics.mean(per_six_months):.3f} notices per six months, at most {max(per_six_months)}; "
          f"slides: {len(caught)} of {len(judged)} noticed, days from sustained min {min(caught)} "
          f"median {statistics.median(caught)} max {max(caught)}")
    # A rule on noisy data is not a guarantee: 2 of 600 steady people got two (one: a real 13-day
    # streak without a day off with low energy, then months later a sparse, gloomy week). The
    # properties below run fixed examples (derandomize), so they are stable; this measures the rate.
    assert statistics.mean(per_six_months) <= 0.1 and sum(n > 1 for n in per_six_months) <= 3
    assert len(missed) <= 0.02 * len(judged) and max(caught) <= 7


# --- properties --------------------------------------------------------------------------------------

PROPERTY = hsettings(derandomize=True, max_examples=60)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1))
def test_steady_histories_give_at_most_one_notice_per_six_months(seed):
    assert steady_notices(seed) <= 1


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), weeks=st.integers(14, 42))
def test_a_sustained_slide_gets_a_notice_within_a_week(seed, weeks):
    """Slides of 2 to 6 weeks, with missed days but no holiday across them (holidays: the rates test)."""
    delay = days_to_notice(seed, weeks, holidays=False)
    assume(delay != "n/a")
    assert isinstance(delay, int) and delay <= 7


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), which=st.integers(WARM_UP, WARM_UP + 120))
def test_a_single_bad_night_never_makes_a_notice(seed, which):
    """The bad night replaces a day's check-in on a steady history that keeps clear of the line (no
    notice even with every floor and the noise bar at three quarters). Without that margin a borderline week can tip:
    the bad night is the day left out, so the week's next-worst day now counts (seed 47832, day 49)."""
    series = history(seed, WARM_UP + 150)
    assume(day(which) in series["sleep_hours"])
    margin = PaceRule(rise={kind: 0.75 * floor for kind, floor in RULE.rise.items()}, noise=0.75 * RULE.noise)
    assume(not notices(series, margin, day(WARM_UP), day(WARM_UP + 149)))
    assert notices(bad_night(series, which), RULE, day(WARM_UP), day(WARM_UP + 149)) == []


# --- the Copenhagen Burnout Inventory --------------------------------------------------------------


def test_cbi_scores_as_published():
    assert cbi.score(["Always"] * 6) == 100.0 and cbi.score(["never/almost never"] * 6) == 0.0
    # (75 + 50 + 25 + 75 + 0) / 5 answered = 45
    assert cbi.score(["Often", "Sometimes", "Seldom", None, "often", "Never/almost never"]) == 45.0
    # (100 + 75 + 75) / 3 = 83.33...: three answers are enough
    assert cbi.score([100, None, "To a high degree", None, 75, None]) == pytest.approx(250 / 3)
    assert cbi.level(cbi.score(["Sometimes"] * 6)) == "high"  # 50: the line is inclusive
    assert cbi.level(cbi.score(["Seldom", "Sometimes", "Seldom", "Sometimes", "Seldom", "Sometimes"])) \
        == "below high"  # 37.5


def test_cbi_with_fewer_than_three_answers_has_no_score():
    assert cbi.score(["Always", "Always", None, None, None, None]) is None
    assert cbi.score([None] * 6) is None and cbi.level(None) is None


def test_cbi_refuses_what_it_cannot_score():
    with pytest.raises(BadInput, match="6 items"):
        cbi.score(["Often"] * 5)
    with pytest.raises(BadInput, match="not an answer"):
        cbi.score(["Often", "Often", "Frequently", None, None, None])
    with pytest.raises(BadInput, match="points"):
        cbi.score([60, 75, 75, None, None, None])
    assert len(cbi.ITEMS) == 6
