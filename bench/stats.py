"""Summaries of timing samples (p50, p95, max) and their verdict against a target.

Percentiles interpolate linearly between the two nearest ranks (numpy's default method), so a p95 of
500 samples sits between the 475th and 476th fastest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

STATISTICS = ("p50", "p95", "max")


def percentile(samples: list[float], fraction: float) -> float:
    """The ``fraction`` (0..1) quantile of ``samples``; raises ValueError on an empty list."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


@dataclass(frozen=True)
class Summary:
    """One operation's figures, in milliseconds."""

    operation: str
    n: int
    p50: float
    p95: float
    max: float
    target_stat: str | None = None
    target_ms: float | None = None

    @property
    def verdict(self) -> str:
        """``pass`` or ``FAIL`` against the target, ``-`` when the operation has none."""
        if self.target_ms is None or self.target_stat is None:
            return "-"
        return "pass" if getattr(self, self.target_stat) <= self.target_ms else "FAIL"

    @property
    def target_text(self) -> str:
        if self.target_ms is None:
            return "-"
        return f"{self.target_stat} ≤ {format_ms(self.target_ms)}"

    def as_dict(self) -> dict:
        return {
            "operation": self.operation,
            "n": self.n,
            "p50_ms": round(self.p50, 3),
            "p95_ms": round(self.p95, 3),
            "max_ms": round(self.max, 3),
            "target": self.target_text,
            "verdict": self.verdict,
        }


def summarise(operation: str, seconds: list[float], target: float | tuple[str, float] | None = None) -> Summary:
    """Summarise samples taken in seconds; ``target`` is a p95 in ms or ``(statistic, ms)``."""
    ms = [value * 1000 for value in seconds]
    if isinstance(target, tuple):
        stat, target_ms = target
        if stat not in STATISTICS:
            raise ValueError(f"Target statistic {stat!r} for {operation!r} is not one of {STATISTICS}.")
    elif target is not None:
        stat, target_ms = "p95", float(target)
    else:
        stat, target_ms = None, None
    return Summary(
        operation=operation,
        n=len(ms),
        p50=percentile(ms, 0.50),
        p95=percentile(ms, 0.95),
        max=max(ms),
        target_stat=stat,
        target_ms=target_ms,
    )


def format_ms(ms: float) -> str:
    """A duration for people: ``0.42 ms``, ``12.3 ms``, ``4.56 s``, ``2 min 05 s``."""
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 120:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
