"""The benchmark report: a run rewrites its own section and keeps the others and the hand-written end."""

from datetime import UTC, datetime

from bench import REGISTRY, Benchmark, Run
from bench import run as runner

MACHINE = {"cpu": "test CPU", "cores": "2", "ram": "1 GiB", "postgres": "PostgreSQL 18", "python": "3.11"}


def _outcome(name: str, note: str) -> runner.Outcome:
    item = Benchmark(name=name, func=lambda run: None, targets={}, description=f"{name} described",
                     dataset=(), in_default_run=False, how_to_run="by hand")  # fmt: skip
    run = Run(name=name, scale=1, dataset={})
    run.notes.append(note)
    return runner.Outcome(benchmark=item, run=run, summaries=[], seconds=1.0)


def test_a_run_replaces_its_section_and_keeps_the_rest(tmp_path, monkeypatch):
    report = tmp_path / "benchmarks.md"
    monkeypatch.setattr(runner, "REPORT_PATH", report)
    monkeypatch.setattr(runner, "BASE_DIR", tmp_path)
    first, second = "bench_test_first", "bench_test_second"
    for name in (first, second):
        monkeypatch.setitem(REGISTRY, name, _outcome(name, "").benchmark)
    when = datetime(2026, 11, 23, tzinfo=UTC)
    runner.write_report([_outcome(first, "old figures A"), _outcome(second, "old figures B")], MACHINE, when)
    report.write_text(report.read_text() + "\n## Measured by hand\n\nResolve took 9 ms on a warm cache.\n")

    runner.write_report([_outcome(first, "new figures A")], MACHINE, when)

    text = report.read_text()
    assert "new figures A" in text
    assert "old figures A" not in text
    assert "old figures B" in text
    assert text.rstrip().endswith("## Measured by hand\n\nResolve took 9 ms on a warm cache.")
