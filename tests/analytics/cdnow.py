"""The CDNOW sample (Fader, Hardie & Lee 2005) read from the ``lifetimes`` wheel's data files.

The package is a dev requirement only for its data: it is located through its installed metadata and
never imported. Transactions are summarised here the way the paper does: one purchase per day, the
calibration period ends on 1997-09-30 (39 weeks), the holdout runs to 1998-06-30 (week 78).
"""

from __future__ import annotations

import datetime
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

CALIBRATION_END = datetime.date(1997, 9, 30)
HOLDOUT_END = datetime.date(1998, 6, 30)


def data_file(name: str) -> Path:
    path = Path(importlib.metadata.distribution("lifetimes").locate_file(f"lifetimes/datasets/{name}"))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: install requirements-dev.txt (lifetimes==0.11.3 ships the CDNOW sample)")
    return path


def summary() -> pd.DataFrame:
    """The published calibration summary: ID, frequency (x), recency (t_x) and T, in weeks."""
    return pd.read_csv(data_file("cdnow_customers_summary.csv"))


def transactions() -> pd.DataFrame:
    """One row per customer and purchase day: id, date, spend (the day's amounts added up)."""
    raw = pd.read_csv(data_file("CDNOW_sample.txt"), sep=r"\s+", header=None,
                      names=["master_id", "id", "date", "cds", "amount"], dtype={"date": str})  # fmt: skip
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw.groupby(["id", "date"], as_index=False)["amount"].sum().rename(columns={"amount": "spend"})


@dataclass
class Calibration:
    ids: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    mean_repeat_spend: np.ndarray
    holdout_repeats: np.ndarray


def calibration_and_holdout() -> Calibration:
    """Per customer (in weeks): x, t_x, T at 1997-09-30, mean repeat spend, and holdout purchase days."""
    days = transactions()
    end, holdout_end = pd.Timestamp(CALIBRATION_END), pd.Timestamp(HOLDOUT_END)
    first = days.groupby("id")["date"].transform("min")
    calibration = days[days["date"] <= end].assign(first=first[days["date"] <= end])
    repeat = calibration[calibration["date"] > calibration["first"]]
    per = calibration.groupby("id").agg(first=("first", "min"), last=("date", "max"))
    per["x"] = repeat.groupby("id").size().reindex(per.index, fill_value=0)
    per["m"] = repeat.groupby("id")["spend"].mean().reindex(per.index, fill_value=0.0)
    holdout = days[(days["date"] > end) & (days["date"] <= holdout_end)]
    per["holdout"] = holdout.groupby("id").size().reindex(per.index, fill_value=0)
    week = pd.Timedelta(days=7)
    return Calibration(
        ids=per.index.to_numpy(),
        x=per["x"].to_numpy(dtype=float),
        t_x=((per["last"] - per["first"]) / week).to_numpy(),
        T=((end - per["first"]) / week).to_numpy(),
        mean_repeat_spend=per["m"].to_numpy(),
        holdout_repeats=per["holdout"].to_numpy(dtype=float),
    )
