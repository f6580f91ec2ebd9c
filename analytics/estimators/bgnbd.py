"""BG/NBD ("beta-geometric / negative binomial") model of repeat purchasing (Fader, Hardie & Lee 2005).

A customer buys at a Poisson rate drawn from Gamma(r, alpha) while alive, and after each purchase
drops out with a probability drawn from Beta(a, b). Per customer the model needs only ``x`` (repeat
purchases), ``t_x`` (time of the last purchase since the first) and ``T`` (time since the first
purchase), all in one time unit. Every function works on whole numpy arrays at once; ``weights``
lets callers fit on distinct (x, t_x, T) rows with their counts instead of one row per customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b, "log_likelihood": self.log_likelihood}


def _arrays(x, t_x, T):
    return (np.asarray(x, dtype=float), np.asarray(t_x, dtype=float), np.asarray(T, dtype=float))


def log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Each customer's log-likelihood under (r, alpha, a, b) (the paper's equation 6)."""
    r, alpha, a, b = params
    x, t_x, T = _arrays(x, t_x, T)
    gammaln = special.gammaln
    common = (gammaln(r + x) - gammaln(r) + r * np.log(alpha)
              + gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x))  # fmt: skip
    survived = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    # For x = 0 the "dropped out after the last purchase" term does not exist; -inf keeps logaddexp exact.
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(repeat, np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
                           -np.inf)  # fmt: skip
    return common + np.logaddexp(survived, dropped)


def fit(x, t_x, T, *, weights=None, start=(1.0, 1.0, 1.0, 1.0)) -> BgNbdParams:
    """Maximum-likelihood (r, alpha, a, b): Nelder-Mead on the log-parameters (keeps them positive).

    Raises ``ValueError`` when there is nothing to fit (no customer, or nobody ever bought again).
    """
    x, t_x, T = _arrays(x, t_x, T)
    if x.size == 0 or not np.any(x > 0):
        raise ValueError("the BG/NBD model needs customers with repeat purchases")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    # The time unit is the caller's: scale alpha's start to the data so any unit converges alike.
    alpha_start = start[1] * max(float(np.average(T, weights=w)) / 30.0, 1e-6)
    start = np.log(np.array([start[0], alpha_start, start[2], start[3]]))

    def negative(log_params):
        value = -np.dot(w, log_likelihood(np.exp(log_params), x, t_x, T))
        return value if np.isfinite(value) else 1e300

    # Bounds on the log-parameters: when every customer buys at the same rate the likelihood keeps rising
    # with r and alpha together (the gamma tends to a point mass) and the fit would run off to 1e8, where
    # the hypergeometric function of the forecasts overflows. r <= e^6 is already a near point mass.
    bounds = [(-8.0, 6.0), (-8.0, 14.0), (-8.0, 8.0), (-8.0, 8.0)]
    result = optimize.minimize(negative, np.clip(start, -8.0, 6.0), method="Nelder-Mead", bounds=bounds,
                               options={"xatol": 1e-7, "fatol": 1e-7, "maxiter": 20000, "maxfev": 20000})  # fmt: skip
    r, alpha, a, b = np.exp(result.x)
    return BgNbdParams(float(r), float(alpha), float(a), float(b), float(-result.fun))


def _odds_dropped(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) for repeat buyers, 0 for the others."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_odds = (np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0))
                    + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))  # fmt: skip
        return np.where(repeat, np.exp(np.minimum(log_odds, 700.0)), 0.0)


def probability_alive(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """P(the customer is still active at T | x, t_x, T)."""
    x, t_x, T = _arrays(x, t_x, T)
    return 1.0 / (1.0 + _odds_dropped(params, x, t_x, T))


def expected_purchases(params: BgNbdParams, t, x, t_x, T) -> np.ndarray:
    """E[number of purchases in (T, T + t] | x, t_x, T] (the paper's equation 10)."""
    x, t_x, T = _arrays(x, t_x, T)
    t = np.asarray(t, dtype=float)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    head = (a + b + x - 1) / (a - 1)
    body = 1.0 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyp
    return head * body / (1.0 + _odds_dropped(params, x, t_x, T))


def expected_purchases_new(params: BgNbdParams, t) -> np.ndarray:
    """E[X(t)]: purchases expected from a customer during the first ``t`` after their first purchase."""
    t = np.asarray(t, dtype=float)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hyp)
