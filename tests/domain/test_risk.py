"""Risk score and bands: likelihood x impact on the NPSA 2008 5 x 5 matrix."""

from __future__ import annotations

import pytest

from bettercare.domain.plan import Risk
from bettercare.domain.risk import RiskBand, band, band_of, floor, score, score_or_none


@pytest.mark.parametrize(
    ("risk_score", "expected"),
    [
        (1, RiskBand.LOW),
        (3, RiskBand.LOW),
        (4, RiskBand.MODERATE),
        (6, RiskBand.MODERATE),
        (8, RiskBand.HIGH),
        (12, RiskBand.HIGH),  # the plan page and the board pack used to disagree here
        (15, RiskBand.EXTREME),
        (25, RiskBand.EXTREME),
    ],
)
def test_bands_at_their_edges(risk_score, expected) -> None:
    assert band(risk_score) is expected


def test_every_cell_of_the_matrix_has_one_band() -> None:
    counts = {b: 0 for b in RiskBand}
    for likelihood in range(1, 6):
        for impact in range(1, 6):
            counts[band_of(likelihood, impact)] += 1
    # hand count of the 25 products: 1-3 {1,2,2,3,3}; 4-6 {4,4,4,5,5,6,6};
    # 8-12 {8,8,9,10,10,12,12}; 15-25 {15,15,16,20,20,25}
    assert counts == {
        RiskBand.LOW: 5,
        RiskBand.MODERATE: 7,
        RiskBand.HIGH: 7,
        RiskBand.EXTREME: 6,
    }


def test_floors() -> None:
    assert [floor(b) for b in RiskBand] == [1, 4, 8, 15]


@pytest.mark.parametrize(("likelihood", "impact"), [(0, 3), (3, 6), (-1, -1)])
def test_off_the_scale_is_refused(likelihood, impact) -> None:
    with pytest.raises(ValueError, match="1-5 scale"):
        score(likelihood, impact)


@pytest.mark.parametrize("risk_score", [0, 26])
def test_a_score_outside_1_to_25_has_no_band(risk_score) -> None:
    with pytest.raises(ValueError):
        band(risk_score)


def test_a_risk_is_scored_from_likelihood_and_impact_never_from_the_stated_score() -> None:
    risk = Risk(id="R2", description="d", likelihood=1, impact=2, score=3)
    assert risk.risk_score == 2 and risk.band is RiskBand.LOW
    assert Risk(id="R9", description="d", score=20).risk_score is None
    assert score_or_none(None, 4) is None
