"""The benchmark runner behind ``make bench`` (``python -m bench``).

It sets Django up on production settings (DEBUG off) against ``DATABASE_URL`` or, without one, a
``relais_bench`` database on the embedded PostgreSQL, loads the dataset the selected benchmarks need,
runs them, prints p50/p95/max per operation and rewrites their sections of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import re
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import bench
from bench import REGISTRY, Benchmark, BenchmarkSkipped, Run
from bench.generate import DEFAULT_SCALE, DEFAULT_SEED, ensure_dataset
from bench.stats import Summary, format_ms, summarise

BASE_DIR = Path(__file__).resolve().parent.parent
REPORT_PATH = BASE_DIR / "docs" / "benchmarks.md"
RESULTS_DIR = BASE_DIR / "bench" / "results"
BENCH_DATABASE = "relais_bench"
# The settings every benchmark runs under, in this process and in the servers it starts: production
# mode on plain-HTTP loopback.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-secret-key-that-is-long-enough-xxxxxxxxxxxxxxxxxx",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
}
# The embedded Redis's database for benchmarks, apart from make run (0) and the tests (1).
BENCH_REDIS_DB = "2"


def setup_django() -> str:
    """Configure and set Django up for benchmarking, migrate, and return where the data lives.

    Without ``DATABASE_URL`` the embedded PostgreSQL is started (or joined) and a separate
    ``relais_bench`` database is used, so bench rows never mix with ``make run``'s demo data. The
    chosen URL is left in the environment for the servers a benchmark starts.
    """
    import warnings

    import django

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    os.environ.update(PRODUCTION_ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings"
    if os.environ.get("DATABASE_URL"):
        where = "DATABASE_URL"
    else:
        from crm import embedded

        endpoints = embedded.ensure_started()
        _create_database(endpoints.postgres_socket_dir, endpoints.postgres_port, BENCH_DATABASE)
        os.environ["DATABASE_URL"] = endpoints.database_url(BENCH_DATABASE)
        where = f"embedded PostgreSQL, database {BENCH_DATABASE} ({embedded.var_dir()})"
    if not os.environ.get("REDIS_URL"):
        os.environ.setdefault("RELAIS_REDIS_DB", BENCH_REDIS_DB)
    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"database: {where}; migrated in {time.perf_counter() - started:.1f} s", flush=True)
    return where


def _create_database(socket_dir: Path, port: int, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=str(socket_dir), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def discover() -> None:
    """Import every ``bench/bench_*.py`` module, which registers its benchmarks."""
    for module in pkgutil.iter_modules(bench.__path__):
        if module.name.startswith("bench_"):
            importlib.import_module(f"bench.{module.name}")


# -- Machine ------------------------------------------------------------------------------------


def machine_description() -> dict[str, str]:
    """CPU model, cores, RAM and the PostgreSQL server's version."""
    from django.db import connection

    cpu = platform.processor() or platform.machine()
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    ram = "unknown"
    try:
        match = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
        if match:
            ram = f"{int(match.group(1)) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        postgres = cursor.fetchone()[0].split(",")[0]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": str(cores),
        "ram": ram,
        "postgres": postgres,
        "python": platform.python_version(),
    }


# -- Results ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One benchmark's run: its summaries, or why it did not run."""

    benchmark: Benchmark
    run: Run
    summaries: list[Summary]
    seconds: float
    skipped: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and not self.run.problems and all(s.verdict != "FAIL" for s in self.summaries)


def run_benchmark(item: Benchmark, *, scale: int, dataset: dict[str, int]) -> Outcome:
    print(f"\n== {item.name}", flush=True)
    run = Run(name=item.name, scale=scale, dataset={name: dataset[name] for name in item.dataset})
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    skipped = error = ""
    try:
        item.func(run)
    except BenchmarkSkipped as exc:
        skipped = str(exc)
        print(f"  skipped: {skipped}", flush=True)
    except Exception:
        error = traceback.format_exc()
        print(error, file=sys.stderr, flush=True)
    # Other work on the machine skews the tails; the 1-minute load average tells the reader how busy it was.
    run.notes.append(
        f"1-minute load average: {load_before:.2f} before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs)"
    )
    unknown = set(item.targets) - set(run.samples)
    if unknown and not skipped and not error:
        run.problem(f"targets name operations that were not measured: {sorted(unknown)}")
    summaries = [summarise(op, samples, item.targets.get(op)) for op, samples in run.samples.items()]
    return Outcome(item, run, summaries, time.perf_counter() - started, skipped=skipped, error=error)


def print_table(outcome: Outcome) -> None:
    if not outcome.summaries:
        return
    width = max(len(s.operation) for s in outcome.summaries)
    print(f"  {'operation':<{width}}  {'n':>5}  {'p50':>9}  {'p95':>9}  {'max':>9}  {'target':<14} verdict")
    for s in outcome.summaries:
        print(
            f"  {s.operation:<{width}}  {s.n:>5}  {format_ms(s.p50):>9}  {format_ms(s.p95):>9}  "
            f"{format_ms(s.max):>9}  {s.target_text:<14} {s.verdict}"
        )
    print(f"  ({outcome.seconds:.1f} s)", flush=True)


def dataset_text(dataset: dict[str, int], scale: int) -> str:
    if not dataset:
        return f"none loaded (scale {scale})"
    parts = ", ".join(f"{name} {rows:,} rows" for name, rows in dataset.items())
    return f"{parts} (scale {scale}, seed {DEFAULT_SEED})"


def section_markdown(outcome: Outcome, machine: dict[str, str], when: datetime) -> str:
    """The Markdown for one benchmark, between markers so that later runs replace only it."""
    item, run = outcome.benchmark, outcome.run
    lines = [
        f"<!-- bench:{item.name} start -->",
        f"## {item.name}",
        "",
        item.description,
        "",
        f"- Measured: {when:%Y-%m-%d %H:%M} UTC, in {outcome.seconds:.0f} s",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram']} RAM; {machine['postgres']}; "
        f"Python {machine['python']}",
        f"- Dataset: {dataset_text(run.dataset, run.scale)}",
        f"- Run it: {item.how_to_run}",
    ]
    if outcome.summaries:
        lines += ["", "| operation | n | p50 | p95 | max | target | verdict |", "|---|---:|---:|---:|---:|---|---|"]
    for s in outcome.summaries:
        lines.append(
            f"| {s.operation} | {s.n} | {format_ms(s.p50)} | {format_ms(s.p95)} | {format_ms(s.max)} "
            f"| {s.target_text} | {s.verdict} |"
        )
    if run.notes or run.problems or outcome.error:
        lines.append("")
    lines.extend(f"- {note}" for note in run.notes)
    lines.extend(f"- **Problem:** {problem}" for problem in run.problems)
    if outcome.error:
        lines.append(f"- **Error** (the run stopped here): `{outcome.error.strip().splitlines()[-1]}`")
    lines.append(f"<!-- bench:{item.name} end -->")
    return "\n".join(lines)


REPORT_HEADER = """# Benchmarks

Generated by `make bench` (`python -m bench`, see `bench/README.md`); do not edit the sections by
hand. Each section is rewritten when its benchmark runs, so sections may come from different runs: each
one says when, on which machine and on which dataset it was measured. Times are wall-clock durations of
one operation each; the verdict compares the statistic the target names with the target. What follows
the last section is written by hand and kept as it is.
"""
SECTION_PATTERN = re.compile(r"<!-- bench:(\S+) start -->.*?<!-- bench:\1 end -->", re.DOTALL)


def write_report(outcomes: list[Outcome], machine: dict[str, str], when: datetime) -> None:
    """Replace the sections of the benchmarks that ran in ``docs/benchmarks.md``; keep the others."""
    previous = REPORT_PATH.read_text() if REPORT_PATH.exists() else ""
    matches = list(SECTION_PATTERN.finditer(previous))
    sections = {match.group(1): match.group(0) for match in matches}
    # The hand-written findings after the last section stay where they are.
    hand_written = previous[matches[-1].end() :].strip() if matches else ""
    for outcome in outcomes:
        # A skipped benchmark keeps its previous figures; a failed one says so in place of them.
        if not outcome.skipped:
            sections[outcome.benchmark.name] = section_markdown(outcome, machine, when)
    ordered = [sections[name] for name in REGISTRY if name in sections]
    REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
    trailer = f"\n\n{hand_written}\n" if hand_written else "\n"
    REPORT_PATH.write_text(REPORT_HEADER + "\n" + "\n\n".join(ordered) + trailer)
    print(f"\nwrote {REPORT_PATH.relative_to(BASE_DIR)}")


def write_json(outcomes: list[Outcome], machine: dict[str, str], when: datetime) -> Path:
    """Keep the raw figures of this run under bench/results/ (not committed)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{when:%Y%m%dT%H%M%S}.json"
    payload = {
        "when": when.isoformat(),
        "machine": machine,
        "benchmarks": [
            {
                "name": o.benchmark.name,
                "dataset": o.run.dataset,
                "scale": o.run.scale,
                "seconds": round(o.seconds, 2),
                "skipped": o.skipped,
                "error": o.error,
                "problems": o.run.problems,
                "notes": o.run.notes,
                "operations": [s.as_dict() for s in o.summaries],
                "samples_ms": {op: [round(v * 1000, 3) for v in values] for op, values in o.run.samples.items()},
            }
            for o in outcomes
        ],
    }
    path.write_text(json.dumps(payload, indent=1))
    return path


# -- Command line -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run Relais's benchmarks.")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this benchmark (repeatable, or comma-separated); runs those left out of the default run too",
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=DEFAULT_SCALE,
        help=f"dataset scale: staff accounts to generate (default {DEFAULT_SCALE})",
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md as it is")
    parser.add_argument("--reload", action="store_true", help="reload the dataset even if it is already there")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    discover()
    if args.list:
        for item in REGISTRY.values():
            default = "" if item.in_default_run else f"  (not in the default run: {item.how_to_run})"
            print(f"{item.name}: {item.description}{default}")
        return 0
    if args.only:
        names = [name for value in args.only for name in value.split(",") if name]
        unknown = [name for name in names if name not in REGISTRY]
        if unknown:
            print(f"unknown benchmark(s) {unknown}; known: {', '.join(REGISTRY)}", file=sys.stderr)
            return 2
        selected = [REGISTRY[name] for name in names]
    else:
        selected = [item for item in REGISTRY.values() if item.in_default_run]
        for item in REGISTRY.values():
            if not item.in_default_run:
                print(f"not in the default run: {item.name} (takes minutes); run it with {item.how_to_run}")

    setup_django()
    outcomes: list[Outcome] = []
    try:
        parts = [name for item in selected for name in item.dataset]
        loaded = ensure_dataset(parts, scale=args.scale, force=args.reload)
        dataset = {entry.name: entry.rows for entry in loaded}
        if loaded:
            print("dataset: " + dataset_text(dataset, args.scale), flush=True)
        machine = machine_description()
        print("machine: " + ", ".join(f"{key} {value}" for key, value in machine.items()), flush=True)
        for item in selected:
            outcome = run_benchmark(item, scale=args.scale, dataset=dataset)
            print_table(outcome)
            outcomes.append(outcome)
        when = datetime.now(UTC)
        results = write_json(outcomes, machine, when)
        print(f"\nraw figures: {results.relative_to(BASE_DIR)}")
        if not args.no_write:
            write_report(outcomes, machine, when)
    finally:
        stop_embedded_if_started_here()
    failed = [o.benchmark.name for o in outcomes if not o.ok and not o.skipped]
    if failed:
        print(f"\nfailed or missed a target: {', '.join(failed)}")
    return 1 if failed else 0


def stop_embedded_if_started_here() -> None:
    """Stop the embedded servers if this process started them (as the test suite does)."""
    from crm import embedded

    if embedded.started_by_this_process:
        embedded.EmbeddedServices().stop()
