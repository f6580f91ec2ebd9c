"""Import jobs survive a dead worker and a lost message: real Celery worker processes on a private Redis.

Not eager mode: the test queues the job through Redis to a worker process started here, kills that
worker (and its pool child) with SIGKILL while the job runs, starts another worker and sends the
beat's sweeper task; the job must finish "done" with every row of the file written exactly once.
The workers run with a 3-second lease (``IMPORT_LEASE_SECONDS``), so an expired lease is seconds away.
"""

from __future__ import annotations

import datetime
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count
from django.utils import timezone

from crm.embedded import EmbeddedServices
from crm.envparse import celery_urls_from_redis_url
from customers.models import ContactPoint, Customer, CustomerExternalId, ImportJob, ImportRowError, PostalAddress
from customers.services.imports import import_job_create, import_job_queue
from tests.support import BASE_DIR, process_env, test_database_url, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3
MAPPING = {"Id": "external_id", "Prénom": "given_name", "Nom": "family_name", "E-mail": "email",
           "Téléphone": "phone", "Adresse": "line4", "Code postal": "postcode", "Ville": "city"}  # fmt: skip
GIVEN = ["Camille", "Loïc", "Manon", "Hugo", "Léa", "Théo", "Chloé", "Nathan", "Inès", "Lucas"]
SLUGS = ["camille", "loic", "manon", "hugo", "lea", "theo", "chloe", "nathan", "ines", "lucas"]


def _letters(number: int) -> str:
    """A distinct family name per person: the number spelled in letters (a, b, ..., ba, bb, ...)."""
    out = ""
    while True:
        number, digit = divmod(number, 26)
        out = chr(ord("a") + digit) + out
        if not number:
            return out.capitalize()


def customer_file(people: int, duplicates: int) -> tuple[bytes, int]:
    """``people`` distinct people, then ``duplicates`` rows re-typing some of them in other formats
    (email upper case, phone as +33, no id): ``(csv bytes, data rows)``."""
    lines = ["Id;Prénom;Nom;E-mail;Téléphone;Adresse;Code postal;Ville"]

    def person(i: int) -> tuple[str, str, str]:
        return GIVEN[i % len(GIVEN)], f"Martin{_letters(i)}", f"{SLUGS[i % len(SLUGS)]}.{i}@exemple.fr"

    for i in range(people):
        given, family, email = person(i)
        lines.append(f"ERP-{i:06d};{given};{family};{email};06 12 {i // 10000:02d} {i // 100 % 100:02d} "
                     f"{i % 100:02d};{i % 90 + 1} rue de la Paix;59000;Lille")  # fmt: skip
    for k in range(duplicates):
        i = k * (people // duplicates)
        given, family, email = person(i)
        lines.append(f";{given};{family};{email.upper()};+33 6 12 {i // 10000:02d} {i // 100 % 100:02d} "
                     f"{i % 100:02d};;;")  # fmt: skip
    return ("\n".join(lines) + "\n").encode(), people + duplicates


@pytest.fixture
def redis_url():
    var = Path(tempfile.mkdtemp(prefix="rl-kill-", dir="/tmp"))
    server = EmbeddedServices(var)
    server.start_redis()
    yield f"unix://{server.redis_socket}?db=0", var
    server.stop_redis()
    shutil.rmtree(var, ignore_errors=True)


class Workers:
    """Celery worker processes on the imports queue, each in its own process group (to be killed whole)."""

    def __init__(self, redis_url: str, var: Path) -> None:
        self.env = process_env(
            DATABASE_URL=test_database_url(), REDIS_URL=redis_url, RELAIS_VAR_DIR=str(var),
            MEDIA_ROOT=str(settings.MEDIA_ROOT), IMPORT_LEASE_SECONDS=str(LEASE_SECONDS), LOG_LEVEL="WARNING",
            SECRET_KEY="worker-kill-test-secret-key-0123456789-0123456789-0123456789",
        )  # fmt: skip
        broker, backend = celery_urls_from_redis_url(redis_url)
        self.client = Celery("relais-test-client", broker=broker, backend=backend)
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        command = [str(Path(sys.executable).parent / "celery"), "-A", "crm", "worker", "-Q", "imports", "-c", "1",
                   "--without-mingle", "--without-gossip", "--without-heartbeat", "-l", "WARNING"]  # fmt: skip
        process = subprocess.Popen(command, env=self.env, cwd=BASE_DIR, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool child at once, as the OOM killer or a lost machine would."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        wait_until(lambda: not _group_alive(process.pid), seconds=10, message="the killed worker's processes gone")

    def send(self, name: str, *args):
        return self.client.send_task(name, args=list(args), queue="imports")

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(5)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def workers(redis_url):
    pool = Workers(*redis_url)
    yield pool
    pool.stop_all()


def queued_job(content: bytes, admin_staff) -> ImportJob:
    job = import_job_create(kind="customers", source="erp", upload=SimpleUploadedFile("clients.csv", content),
                            acting_user=admin_staff)  # fmt: skip
    # Not sent here (the test settings would run it in this process): the test sends it through Redis.
    return import_job_queue(job=job, mapping=MAPPING, dry_run=False, enqueue=False)


def status(job: ImportJob) -> ImportJob:
    job.refresh_from_db()
    return job


def sweep_until_sent(workers: Workers) -> None:
    """Send the beat's sweeper task to a live worker until it re-queues the job (it does once the lease is over)."""
    wait_until(lambda: workers.send("customers.import_jobs_sweep_task").get(timeout=60) >= 1,
               seconds=60, interval=1, message="the sweeper re-queues the job")  # fmt: skip


def assert_imported_exactly_once(job: ImportJob, *, people: int, rows: int) -> None:
    assert job.status == ImportJob.Status.DONE, job.failure
    assert (job.created_rows, job.updated_rows, job.unchanged_rows) == (people, 0, 0)
    assert (job.duplicate_rows, job.error_rows, job.processed_rows, job.total_rows) == (rows - people, 0, rows, rows)
    assert Customer.objects.count() == people
    assert CustomerExternalId.objects.filter(source="erp").count() == people
    assert PostalAddress.objects.count() == people
    for kind in ("email", "mobile"):
        assert ContactPoint.objects.filter(kind=kind).count() == people, kind
    twice = ContactPoint.objects.values("kind", "value").annotate(n=Count("id")).filter(n__gt=1)
    assert list(twice) == []
    # The report lists each re-typed row once (the dead run's report was started again, not added to).
    reported = ImportRowError.objects.filter(job=job, level=ImportRowError.Level.DUPLICATE)
    assert reported.count() == rows - people
    assert reported.values("row_number").distinct().count() == rows - people


def test_a_worker_killed_mid_import_leaves_a_job_that_another_worker_finishes_with_every_row_once(workers, admin_staff):
    people, duplicates = 14_000, 1_000
    content, rows = customer_file(people, duplicates)
    job = queued_job(content, admin_staff)
    first = workers.start()
    workers.send("customers.import_run_task", job.pk)

    # The first 10,000 rows are staged (progress committed), the rest and the writes are still to come.
    wait_until(lambda: status(job).processed_rows >= 10_000, seconds=120, interval=0.05,
               message="the first chunk of rows staged")  # fmt: skip
    workers.kill(first)

    job = status(job)
    assert job.status == ImportJob.Status.RUNNING, "the worker must die mid-import for this test to mean anything"
    assert job.attempts == 1
    assert Customer.objects.count() == 0, "nothing of a run that did not finish is written"

    workers.start()
    wait_until(lambda: status(job).lease_expires_at < timezone.now(), seconds=LEASE_SECONDS * 3,
               message="the dead worker's lease expired")  # fmt: skip
    sweep_until_sent(workers)
    wait_until(lambda: status(job).status == ImportJob.Status.DONE, seconds=180, interval=0.5,
               message="the job done by the second worker")  # fmt: skip

    assert job.attempts == 2
    assert_imported_exactly_once(job, people=people, rows=rows)


def test_a_queued_job_whose_message_was_lost_is_queued_again_by_the_sweeper_and_completes(workers, admin_staff):
    content, rows = customer_file(300, 20)
    job = queued_job(content, admin_staff)  # its message never reached Redis
    ImportJob.objects.filter(pk=job.pk).update(queued_at=timezone.now() - datetime.timedelta(hours=1))
    workers.start()

    # A job queued a moment ago is left alone (its message may still be on its way).
    recent = queued_job(customer_file(5, 1)[0], admin_staff)
    sweep_until_sent(workers)
    wait_until(lambda: status(job).status == ImportJob.Status.DONE, seconds=120, interval=0.5,
               message="the lost job done")  # fmt: skip

    assert_imported_exactly_once(job, people=300, rows=rows)
    assert status(recent).status == ImportJob.Status.QUEUED
