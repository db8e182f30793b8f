"""Analytic M/M/c queue values (Erlang C): the reference the pathway simulation is checked on.

Owns the textbook formulae for ``c`` servers, Poisson arrivals at rate ``lam`` and
exponential service at rate ``mu`` per server (offered load ``a = lam / mu``, utilisation
``rho = a / c < 1``); e.g. Kleinrock, *Queueing Systems* vol. 1 (1975), section 3.5:

* probability an arrival waits, Erlang C:
  ``C(c, a) = (a^c / c!) / (1 - rho) / (sum_{k<c} a^k / k! + (a^c / c!) / (1 - rho))``;
* mean wait in the queue ``Wq = C(c, a) / (c mu - lam)``;
* ``P(Wq > t) = C(c, a) exp(-(c mu - lam) t)``.

Written out here (a few lines) because no installed library provides Erlang C.
"""

from __future__ import annotations

import math


def _check(c: int, lam: float, mu: float) -> float:
    if c < 1 or lam <= 0 or mu <= 0:
        raise ValueError("M/M/c needs c >= 1 servers and positive rates")
    rho = lam / (c * mu)
    if rho >= 1:
        raise ValueError(f"M/M/c with utilisation {rho:.3f} >= 1 has no steady state")
    return rho


def erlang_c(c: int, lam: float, mu: float) -> float:
    """Probability that an arrival has to wait (Erlang C formula)."""
    rho = _check(c, lam, mu)
    a = lam / mu
    # terms a^k / k! built up step by step (no large factorials)
    term, head = 1.0, 0.0
    for k in range(c):
        head += term
        term *= a / (k + 1)
    tail = term / (1 - rho)  # term is now a^c / c!
    return tail / (head + tail)


def mean_wait(c: int, lam: float, mu: float) -> float:
    """Mean time in the queue before service starts, ``Wq`` (units of 1 / rate)."""
    return erlang_c(c, lam, mu) / (c * mu - lam)


def wait_exceeds(c: int, lam: float, mu: float, t: float) -> float:
    """Probability that the wait exceeds ``t``."""
    return erlang_c(c, lam, mu) * math.exp(-(c * mu - lam) * t)


def utilisation(c: int, lam: float, mu: float) -> float:
    """Mean fraction of the ``c`` servers busy, ``rho``."""
    return _check(c, lam, mu)


__all__ = ["erlang_c", "mean_wait", "utilisation", "wait_exceeds"]
