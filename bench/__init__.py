"""Relais's benchmark harness: a registry of benchmarks, and what a benchmark records into.

A benchmark is one function in a ``bench/bench_<topic>.py`` module, registered with
``@benchmark(name, targets={...})``. It receives a :class:`Run` and records timings per operation;
the runner (``python -m bench``, see ``bench/run.py``) computes p50/p95/max, compares them with the
targets and writes ``docs/benchmarks.md``::

    from bench import Run, benchmark

    @benchmark("customer_search", targets={"search by name": 50}, dataset=("staff", "customers"))
    def customer_search(run: Run) -> None:
        for term in terms:
            with run.timer("search by name"):
                customer_search(...)

A target is the p95 in milliseconds the operation must stay under, or ``("p50", ms)`` to judge
another statistic.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

Target = float | tuple[str, float]


class BenchmarkSkipped(Exception):
    """Raised by a benchmark that cannot run here; the message says why and is printed."""


@dataclass(frozen=True)
class Benchmark:
    """One registered benchmark."""

    name: str
    func: Callable[[Run], None]
    targets: dict[str, Target]
    description: str
    dataset: tuple[str, ...]
    in_default_run: bool
    how_to_run: str


REGISTRY: dict[str, Benchmark] = {}


def benchmark(
    name: str,
    *,
    targets: dict[str, Target] | None = None,
    dataset: tuple[str, ...] = (),
    in_default_run: bool = True,
    how_to_run: str = "",
) -> Callable[[Callable[[Run], None]], Callable[[Run], None]]:
    """Register ``func`` as the benchmark ``name``.

    ``targets`` maps an operation to its target (p95 in ms, or ``(statistic, ms)``); ``dataset`` names
    the generators (``bench/generate.py``) whose data must be loaded first; a benchmark that takes
    minutes sets ``in_default_run=False`` and says in ``how_to_run`` (Markdown) how to run it alone. The
    function's docstring is the description printed in ``docs/benchmarks.md``.
    """

    def register(func: Callable[[Run], None]) -> Callable[[Run], None]:
        if name in REGISTRY:
            raise ValueError(f"Two benchmarks are named {name!r}.")
        REGISTRY[name] = Benchmark(
            name=name,
            func=func,
            targets=dict(targets or {}),
            description=" ".join((func.__doc__ or "").split()),
            dataset=tuple(dataset),
            in_default_run=in_default_run,
            how_to_run=how_to_run or f"`python -m bench --only {name}`",
        )
        return func

    return register


@dataclass
class Run:
    """What one benchmark run records: timings per operation (seconds) and notes for the report."""

    name: str
    scale: int
    dataset: dict[str, int]
    samples: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def record(self, operation: str, seconds: float) -> None:
        """Add one measurement of ``operation``; operations keep the order they were first seen."""
        self.samples.setdefault(operation, []).append(seconds)

    @contextmanager
    def timer(self, operation: str) -> Iterator[None]:
        """Time the body of a ``with`` block as one measurement of ``operation``."""
        started = time.perf_counter()
        yield
        self.record(operation, time.perf_counter() - started)

    def note(self, text: str) -> None:
        """A line printed under the benchmark's table (conditions, caveats, counts)."""
        print(f"  note: {text}", flush=True)
        self.notes.append(text)

    def problem(self, text: str) -> None:
        """Something wrong that is not a timing (a process left running): reported, and the run fails."""
        print(f"  PROBLEM: {text}", flush=True)
        self.problems.append(text)
