"""RFM scoring: quintile scores 1..5 and the cell of the recency x frequency-monetary grid."""

from __future__ import annotations

import numpy as np
import pandas as pd

# (recency score, frequency-monetary score) -> cell; every one of the 25 squares is named once.
_GRID = {
    **{(r, fm): "hibernating" for r in (1, 2) for fm in (1, 2)},
    **{(r, fm): "at_risk" for r in (1, 2) for fm in (3, 4)},
    **{(r, 5): "cannot_lose" for r in (1, 2)},
    (3, 1): "about_to_sleep", (3, 2): "about_to_sleep", (3, 3): "need_attention",
    (3, 4): "loyal", (3, 5): "loyal", (4, 4): "loyal", (4, 5): "loyal",
    (4, 1): "promising", (4, 2): "potential_loyalists", (4, 3): "potential_loyalists",
    (5, 1): "new", (5, 2): "potential_loyalists", (5, 3): "potential_loyalists",
    (5, 4): "champions", (5, 5): "champions",
}  # fmt: skip
CELL_GRID = _GRID


def quintile_scores(values, *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1..5 by rank: the lowest fifth gets 1, the best fifth 5; equal values share a score.

    A value's score is 1 + floor(5 * (its lowest rank - 1) / n), so ties never split across scores
    (many customers with one order all get the same frequency score).
    """
    series = pd.Series(np.asarray(values, dtype=float))
    if series.empty:
        return np.array([], dtype=int)
    ranks = series.rank(method="min", ascending=higher_is_better).to_numpy()
    return (1 + np.floor(5 * (ranks - 1) / len(series))).astype(int)


def frequency_monetary(f_scores, m_scores) -> np.ndarray:
    """The mean of the F and M scores, halves rounded up (F 4 + M 5 -> 5)."""
    return np.floor((np.asarray(f_scores) + np.asarray(m_scores) + 1) / 2).astype(int)


def cells(r_scores, f_scores, m_scores) -> np.ndarray:
    """The cell name of each customer (``analytics.models.RfmCell`` values)."""
    fm = frequency_monetary(f_scores, m_scores)
    lookup = np.empty((6, 6), dtype=object)
    for (r, f), cell in _GRID.items():
        lookup[r, f] = cell
    return lookup[np.asarray(r_scores, dtype=int), fm]
