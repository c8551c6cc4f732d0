"""The scoring of predictions (domain/calibration.py, issue 19): proper scores with known values, the
rule that a forecast counts only if made before its evidence, reliability bins that find a calibrated
forecaster calibrated and an overconfident one not, interval coverage, and the confident misses."""

from __future__ import annotations

import math
import random

import pytest

from upstack.domain.calibration import (
    Forecast,
    Outcome,
    brier,
    coverage,
    forecast_before,
    log_score,
    parse_interval,
    parse_probability,
    reliability,
    score,
    summary,
    surprises,
)
from upstack.errors import BadInput

T0, T1, T2, T3 = "2026-11-01T10:00:00.000000Z", "2026-11-02T10:00:00.000000Z", "2026-11-03T10:00:00.000000Z", \
    "2026-11-04T10:00:00.000000Z"


@pytest.mark.parametrize("text, value", [("0.8", 0.8), ("80%", 0.8), (" 35 % ", 0.35), (0.99, 0.99), ("1%", 0.01)])
def test_a_probability_is_read_as_people_write_it(text: str | float, value: float) -> None:
    assert parse_probability(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["1", "0", "100%", "0%", "1.5", "-0.2", "abc", "nan", "inf", "", True])
def test_a_probability_out_of_range_or_certain_is_refused_in_one_line(text: object) -> None:
    with pytest.raises(BadInput) as refused:
        parse_probability(text)  # type: ignore[arg-type]
    assert "\n" not in str(refused.value) and ("probability" in str(refused.value))


def test_an_interval_upside_down_is_refused() -> None:
    assert parse_interval(0.10, 0.15, 0.8) == (0.10, 0.15, 0.8)
    with pytest.raises(BadInput, match="upside down"):
        parse_interval(0.15, 0.10, 0.8)
    with pytest.raises(BadInput, match="level"):
        parse_interval(0.10, 0.15, 80)


def test_the_scores_have_their_published_values() -> None:
    assert brier(0.8, True) == pytest.approx(0.04) and brier(0.8, False) == pytest.approx(0.64)
    assert log_score(0.8, True) == pytest.approx(math.log(0.8))
    assert log_score(0.8, False) == pytest.approx(math.log(0.2))
    always_half = [score(str(i), [Forecast(T0, 0.5)], Outcome(i % 3 == 0, T1)) for i in range(30)]
    found = summary([s for s in always_half if s is not None])
    assert found.brier == pytest.approx(0.25) and found.log_score == pytest.approx(math.log(0.5))
    assert found.came_true == pytest.approx(10 / 30)


def test_only_a_forecast_made_before_the_evidence_counts() -> None:
    early, late = Forecast(T0, 0.6), Forecast(T2, 0.95)
    assert forecast_before([early, late], T1) == early  # the update came after the result: not used
    assert score("p", [early, late], Outcome(True, T1)).probability == 0.6  # type: ignore[union-attr]
    assert score("p", [early, late], Outcome(True, T3)).probability == 0.95  # type: ignore[union-attr]
    assert score("p", [late], Outcome(True, T1)) is None  # made after: left out
    assert score("p", [early], Outcome(None, T1)) is None  # annulled: left out


def _forecaster(seed: int, stretch: float, n: int = 4000) -> list:
    """Predictions whose true chance is q; the forecaster says q pushed away from 50% by ``stretch``
    (1: calibrated; more: overconfident)."""
    rng = random.Random(seed)
    scored = []
    for i in range(n):
        q = rng.uniform(0.05, 0.95)
        said = min(0.99, max(0.01, 0.5 + (q - 0.5) * stretch))
        scored.append(score(str(i), [Forecast(T0, said)], Outcome(rng.random() < q, T1)))
    return [s for s in scored if s is not None]


def test_reliability_finds_a_calibrated_forecaster_calibrated_and_an_overconfident_one_not() -> None:
    calibrated = reliability(_forecaster(1, 1.0))
    assert len(calibrated) == 10 and [b.low for b in calibrated][:3] == [0.0, 0.1, 0.2]
    for b in calibrated:
        if b.n >= 200:
            assert abs((b.came_true or 0) - (b.mean_forecast or 0)) < 0.06, b
    overconfident = reliability(_forecaster(1, 1.8))
    top = overconfident[-1]
    assert top.n >= 200 and (top.mean_forecast or 0) - (top.came_true or 0) > 0.1  # says 95%, right ~80%
    assert summary(_forecaster(1, 1.0)).brier < summary(_forecaster(1, 1.8)).brier  # type: ignore[operator]


def test_interval_coverage_is_counted_by_level() -> None:
    found = coverage([(0.8, True), (0.8, True), (0.8, False), (0.5, True), (0.8, True)])
    assert [(c.level, c.n, c.covered) for c in found] == [(0.5, 1, 1), (0.8, 4, 3)]
    assert found[1].rate == 0.75


def test_the_confident_misses_come_first() -> None:
    scored = [score("sure-wrong", [Forecast(T0, 0.95)], Outcome(False, T1)),
              score("fairly-wrong", [Forecast(T0, 0.75)], Outcome(False, T1)),
              score("sure-right", [Forecast(T0, 0.95)], Outcome(True, T1)),
              score("unsure", [Forecast(T0, 0.55)], Outcome(False, T1))]
    assert [s.prediction_id for s in surprises([s for s in scored if s])] == ["sure-wrong", "fairly-wrong"]
