"""The BG/NBD and Gamma-Gamma formulas on hand-checkable cases."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.estimators import bgnbd, gamma_gamma

CDNOW = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_a_customer_who_never_bought_again_is_surely_alive():
    assert bgnbd.probability_alive(CDNOW, [0], [0], [30]) == pytest.approx([1.0])


def test_a_frequent_buyer_silent_for_long_is_less_likely_alive_than_one_who_just_bought():
    recent, silent = bgnbd.probability_alive(CDNOW, [10, 10], [38, 10], [39, 39])
    assert recent > 0.9
    assert silent < 0.1


def test_expected_purchases_grow_with_the_horizon_and_the_frequency():
    short, long = bgnbd.expected_purchases(CDNOW, np.array([13.0, 52.0]), [5, 5], [35, 35], [39, 39])
    assert 0 < short < long
    low, high = bgnbd.expected_purchases(CDNOW, 52.0, [1, 6], [35, 35], [39, 39])
    assert low < high


def test_the_unconditional_expectation_starts_at_zero_and_increases():
    values = bgnbd.expected_purchases_new(CDNOW, np.array([0.0, 10.0, 39.0, 78.0]))
    assert values[0] == pytest.approx(0.0)
    assert np.all(np.diff(values) > 0)


def test_the_log_likelihood_of_a_one_time_buyer_is_the_survival_term():
    r, alpha, a, b = 0.5, 2.0, 0.8, 2.5
    # x = 0: P(no purchase in (0, T]) = (alpha / (alpha + T)) ** r.
    assert bgnbd.log_likelihood((r, alpha, a, b), [0], [0], [10]) == pytest.approx([r * np.log(alpha / 12)])


def test_a_fit_without_repeat_buyers_is_refused():
    with pytest.raises(ValueError):
        bgnbd.fit([0, 0], [0, 0], [5, 7])
    with pytest.raises(ValueError):
        gamma_gamma.fit([0, 1], [0, 20])


def test_the_expected_spend_moves_from_the_population_mean_toward_the_customers_own_mean():
    params = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
    population = 6.25 * 15.44 / 2.74
    one, many, none = gamma_gamma.expected_average_value(params, [1, 50, 0], [100.0, 100.0, 0.0])
    assert none == pytest.approx(population)
    assert population < one < many < 100.0
    assert many > 90.0
