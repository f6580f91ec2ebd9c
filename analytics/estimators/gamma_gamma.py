"""Gamma-Gamma model of the average spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV").

A customer's purchases are Gamma(p, nu) around their own mean, and nu varies across customers as
Gamma(q, gamma). Fitted on repeat buyers only: ``x`` repeat purchases and ``m`` their mean value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float
    log_likelihood: float = float("nan")

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma, "log_likelihood": self.log_likelihood}


def log_likelihood(params, x, m) -> np.ndarray:
    """Each repeat buyer's log-likelihood of their mean spend ``m`` over ``x`` purchases."""
    p, q, gamma = params
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(gamma)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(gamma + x * m))  # fmt: skip


def fit(x, m, *, weights=None, start=(1.0, 1.0, 1.0)) -> GammaGammaParams:
    """Maximum-likelihood (p, q, gamma) over customers with x > 0 and m > 0 (others are ignored)."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = (x > 0) & (m > 0)
    x, m, w = x[keep], m[keep], w[keep]
    if x.size < 2:
        raise ValueError("the Gamma-Gamma model needs at least two repeat buyers with a positive spend")
    start = np.log(np.array([start[0], start[1], start[2] * float(np.average(m, weights=w))]))

    def negative(log_params):
        value = -np.dot(w, log_likelihood(np.exp(log_params), x, m))
        return value if np.isfinite(value) else 1e300

    result = optimize.minimize(negative, start, method="Nelder-Mead",
                               options={"xatol": 1e-7, "fatol": 1e-7, "maxiter": 20000, "maxfev": 20000})  # fmt: skip
    p, q, gamma = np.exp(result.x)
    return GammaGammaParams(float(p), float(q), float(gamma), float(-result.fun))


def expected_average_value(params: GammaGammaParams, x, m, *, population_mean: float | None = None) -> np.ndarray:
    """E[spend per purchase | x, m]: a weighted mix of the population mean and the customer's own mean.

    Customers with no repeat purchase get the population mean p*gamma/(q-1).
    """
    p, q, gamma = params.p, params.q, params.gamma
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    prior = population_mean if population_mean is not None else p * gamma / (q - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        posterior = p * (gamma + x * m) / (p * x + q - 1)
    return np.where((x > 0) & (m > 0), posterior, prior)
