"""Every default beat job names a task a worker knows; a typo would make beat send work nobody runs."""

from __future__ import annotations

from crm.celery import app
from crm.schedule import DEFAULT_JOBS


def test_every_default_job_names_a_registered_task():
    app.loader.import_default_modules()
    unknown = sorted(job.task for job in DEFAULT_JOBS if job.task not in app.tasks)
    assert not unknown, f"beat jobs naming tasks no worker registers: {unknown}"


def test_every_default_job_goes_to_a_queue_the_worker_consumes():
    from pathlib import Path

    procfile = (Path(__file__).resolve().parents[2] / "Procfile").read_text()
    worker_queues = procfile.split("-Q ", 1)[1].split()[0].split(",")
    assert {job.queue for job in DEFAULT_JOBS} <= set(worker_queues)
