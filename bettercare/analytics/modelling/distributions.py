"""Probability distributions for the models' inputs, as validated pydantic parameters.

Owns the few distribution families the scheme impact Monte Carlo and the discharge
pathway simulation draw from (fixed, normal, uniform, triangular, exponential,
lognormal, empirical), their validation -- a distribution with no probability mass
(all-zero weights, a zero-width range where a range is asked for) is refused with a
message naming the field -- and vectorised sampling with a numpy ``Generator``. It does
not own what is drawn for what: see :mod:`.impact` and :mod:`.pathway`.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

FloatArray = NDArray[np.float64]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Fixed(_Model):
    """A certain value (no uncertainty)."""

    kind: Literal["fixed"] = "fixed"
    value: float

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws (all equal to ``value``)."""
        return np.full(n, self.value, dtype=np.float64)

    @property
    def mean(self) -> float:
        """The expected value."""
        return self.value

    @property
    def minimum(self) -> float:
        """The smallest value the distribution can take."""
        return self.value


class Normal(_Model):
    """A normal distribution; ``sd`` 0 is a certain value."""

    kind: Literal["normal"] = "normal"
    mean: float
    sd: float = Field(ge=0)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws."""
        if self.sd == 0:
            return np.full(n, self.mean, dtype=np.float64)
        return rng.normal(self.mean, self.sd, n)

    @property
    def minimum(self) -> float:
        """The smallest value the distribution can take (-inf unless ``sd`` is 0)."""
        return self.mean if self.sd == 0 else -math.inf


class Uniform(_Model):
    """Uniform between ``low`` and ``high`` (``low < high``: a zero-width range has no spread)."""

    kind: Literal["uniform"] = "uniform"
    low: float
    high: float

    @model_validator(mode="after")
    def _width(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(
                f"uniform needs low < high (got {self.low} and {self.high}); "
                "for a certain value use kind: fixed"
            )
        return self

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws."""
        return rng.uniform(self.low, self.high, n)

    @property
    def mean(self) -> float:
        """The expected value."""
        return (self.low + self.high) / 2

    @property
    def minimum(self) -> float:
        """The smallest value the distribution can take."""
        return self.low


class Triangular(_Model):
    """Triangular from ``low`` to ``high`` with its peak at ``mode`` (``low < high``)."""

    kind: Literal["triangular"] = "triangular"
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low < self.high:
            raise ValueError(
                f"triangular needs low < high (got {self.low} and {self.high}); "
                "for a certain value use kind: fixed"
            )
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"triangular mode {self.mode} must lie between low and high")
        return self

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws."""
        return rng.triangular(self.low, self.mode, self.high, n)

    @property
    def mean(self) -> float:
        """The expected value."""
        return (self.low + self.mode + self.high) / 3

    @property
    def minimum(self) -> float:
        """The smallest value the distribution can take."""
        return self.low


class Exponential(_Model):
    """Exponential with mean ``mean`` (> 0): memoryless, as in M/M/c queues."""

    kind: Literal["exponential"] = "exponential"
    mean: float = Field(gt=0)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws."""
        return rng.exponential(self.mean, n)

    @property
    def minimum(self) -> float:
        """The smallest value the distribution can take."""
        return 0.0


class Lognormal(_Model):
    """Lognormal given by its own ``mean`` and ``sd`` (both > 0), e.g. lengths of service."""

    kind: Literal["lognormal"] = "lognormal"
    mean: float = Field(gt=0)
    sd: float = Field(gt=0)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws (the underlying normal's parameters matched to mean and sd)."""
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return rng.lognormal(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2), n)

    @property
    def minimum(self) -> float:
        """The smallest value the distribution can take."""
        return 0.0


class Empirical(_Model):
    """Values with weights (relative frequencies); the weights must not all be zero."""

    kind: Literal["empirical"] = "empirical"
    values: list[float] = Field(min_length=1, max_length=100_000)
    weights: list[Annotated[float, Field(ge=0)]] | None = Field(
        None, description="Relative weight of each value (default: equal)"
    )

    @model_validator(mode="after")
    def _mass(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"empirical needs one weight per value ({len(self.values)} values, "
                    f"{len(self.weights)} weights)"
                )
            if sum(self.weights) <= 0:
                raise ValueError("empirical weights are all zero: the distribution has no mass")
        return self

    def _p(self) -> FloatArray:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights)
        return np.asarray(w / w.sum(), dtype=np.float64)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws."""
        return np.asarray(rng.choice(np.asarray(self.values), size=n, p=self._p()), np.float64)

    @property
    def mean(self) -> float:
        """The expected value."""
        return float(np.dot(np.asarray(self.values), self._p()))

    @property
    def minimum(self) -> float:
        """The smallest value with positive weight."""
        p = self._p()
        return float(min(v for v, w in zip(self.values, p, strict=True) if w > 0))


#: Any of the families, told apart by ``kind``.
Distribution = Annotated[
    Fixed | Normal | Uniform | Triangular | Exponential | Lognormal | Empirical,
    Field(discriminator="kind"),
]


def quantiles(draws: FloatArray, probs: tuple[float, ...]) -> dict[float, float]:
    """Empirical quantiles of ``draws`` at ``probs`` (0-1), numpy's default (linear) rule."""
    qs = np.quantile(draws, probs)
    return {p: float(q) for p, q in zip(probs, qs, strict=True)}


__all__ = [
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "FloatArray",
    "Lognormal",
    "Normal",
    "Triangular",
    "Uniform",
    "quantiles",
]
