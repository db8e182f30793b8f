"""Small-sample cluster-robust inference for a linear contrast of a (weighted) regression.

Owns one calculation: the CR2 ("bias-reduced linearisation") variance of ``l' b`` from a
weighted least squares fit, with clusters (Bell & McCaffrey, Survey Methodology 2002;
Pustejovsky & Tipton, JBES 2018), and its Bell-McCaffrey degrees of freedom, the
small-sample t reference that Imbens & Kolesár (REStat 2016) recommend when there are few
clusters or few treated clusters. With one cluster per row it is HC2 (MacKinnon & White
1985). Written here because neither statsmodels nor scikit-learn offers CR2 or the
Bell-McCaffrey degrees of freedom (statsmodels' cluster errors are CR1 with G - 1 degrees
of freedom, which over-reject with 4 treated units of 24: benchmarks/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Eigenvalues of ``I - H_cc`` below this mean the cluster fixes its own fit (CR2 undefined).
_SINGULAR = 1e-9


@dataclass(frozen=True)
class Contrast:
    """A contrast's estimate, standard error and t degrees of freedom."""

    estimate: float
    se: float
    df: float


def _inv_sqrt(a: np.ndarray) -> np.ndarray | None:
    """The symmetric inverse square root of ``a`` (None when ``a`` is singular)."""
    vals, vecs = np.linalg.eigh((a + a.T) / 2)
    if vals.min() < _SINGULAR:
        return None
    return np.asarray((vecs / np.sqrt(vals)) @ vecs.T, dtype=float)


def cr2_contrast(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    clusters: np.ndarray,
    contrast: np.ndarray,
) -> Contrast | None:
    """WLS of ``y`` on ``x`` and the CR2 / Bell-McCaffrey inference for ``contrast' b``.

    ``clusters``: a label per row; rows of one cluster may be correlated, clusters are
    independent. Returns None when CR2 is undefined: a cluster alone determines its own
    fitted values (e.g. the only treated unit), so its residuals carry no information
    about its variance.
    """
    sw = np.sqrt(np.asarray(weights, dtype=float))
    xw = np.asarray(x, dtype=float) * sw[:, None]
    yw = np.asarray(y, dtype=float) * sw
    m = np.linalg.pinv(xw.T @ xw)
    b = m @ xw.T @ yw
    h = xw @ m @ xw.T
    e = yw - h @ yw
    lm = m @ np.asarray(contrast, dtype=float)
    n = len(yw)
    labels = np.asarray(clusters)
    columns = []
    u = []
    for c in dict.fromkeys(labels.tolist()):
        idx = np.flatnonzero(labels == c)
        a = _inv_sqrt(np.eye(len(idx)) - h[np.ix_(idx, idx)])
        if a is None:
            return None
        g = np.zeros(n)
        g[idx] = a @ (xw[idx] @ lm)
        columns.append(g)
        u.append(float(g[idx] @ e[idx]))
    var = float(np.sum(np.square(u)))
    gm = np.column_stack(columns)
    # Bell-McCaffrey: under a working model of independent errors with variance
    # proportional to 1 / weight, var = e' G G' e = eps' (I - H) G G' (I - H) eps, a
    # weighted sum of chi-squares with weights the eigenvalues of G' (I - H) G.
    lam = np.linalg.eigvalsh(gm.T @ (np.eye(n) - h) @ gm)
    lam = lam[lam > 0]
    df = float(lam.sum() ** 2 / np.sum(lam**2)) if lam.size else 0.0
    return Contrast(float(contrast @ b), float(np.sqrt(var)), df)
