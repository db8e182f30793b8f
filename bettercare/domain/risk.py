"""A plan risk's score and band: the one place that computes and grades them.

The score is likelihood x impact, each on the 1-5 scale, as the BCF 2014-16 plan
template's risk log asks ("Overall risk factor (likelihood * potential impact)"; the
Rutland plan in ``/work/shared/seeds`` fills it in). It is computed, never typed: the web
form does not ask for it, and a score stated in a plan file that disagrees is a finding
of the ``risk-score`` planning rule (:mod:`bettercare.domain.rules`); everything shown
uses :func:`score`.

The BCF templates give no bands. The bands are those of the NPSA's "A risk matrix for
risk managers" (National Patient Safety Agency, January 2008), the 5 x 5 matrix NHS
bodies use for their risk registers: 1-3 low, 4-6 moderate, 8-12 high, 15-25 extreme
(the thresholds as NHS trusts reproduce the matrix; the products 7, 13 and 14 cannot
occur). One set of bands for the plan page, the board pack and the CLI.
"""

from __future__ import annotations

from enum import StrEnum


class RiskBand(StrEnum):
    """The grade of a likelihood x impact score (NPSA 2008 risk matrix)."""

    LOW = "low"  # 1-3
    MODERATE = "moderate"  # 4-6
    HIGH = "high"  # 8-12
    EXTREME = "extreme"  # 15-25

    @property
    def label(self) -> str:
        """The band as people read it: ``High``."""
        return self.value.capitalize()


#: Lowest score of each band, highest band first.
BAND_FLOORS: tuple[tuple[int, RiskBand], ...] = (
    (15, RiskBand.EXTREME),
    (8, RiskBand.HIGH),
    (4, RiskBand.MODERATE),
    (1, RiskBand.LOW),
)


def floor(risk_band: RiskBand) -> int:
    """The lowest score of a band."""
    return next(f for f, b in BAND_FLOORS if b is risk_band)


def score(likelihood: int, impact: int) -> int:
    """Likelihood x impact, each 1-5 (raises ``ValueError`` outside the scale)."""
    for name, value in (("likelihood", likelihood), ("impact", impact)):
        if not 1 <= value <= 5:
            raise ValueError(f"{name} {value} is not on the 1-5 scale")
    return likelihood * impact


def band(risk_score: int) -> RiskBand:
    """The band of a score from 1 to 25."""
    if not 1 <= risk_score <= 25:
        raise ValueError(f"risk score {risk_score} is not between 1 and 25")
    return next(b for floor, b in BAND_FLOORS if risk_score >= floor)


def band_of(likelihood: int, impact: int) -> RiskBand:
    """The band of likelihood x impact."""
    return band(score(likelihood, impact))


def score_or_none(likelihood: int | None, impact: int | None) -> int | None:
    """Likelihood x impact when both are given, else None (a stated score is never used)."""
    if likelihood is None or impact is None:
        return None
    return score(likelihood, impact)
