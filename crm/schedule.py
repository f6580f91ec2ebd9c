"""The jobs Celery beat runs by default, written to django-celery-beat's tables after ``migrate``.

Entries are created when missing and otherwise left alone, so an admin's change in the admin (a new
time, a disabled job) survives deployments. Later issues add their jobs to ``DEFAULT_JOBS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    crontab: dict[str, str]
    queue: str = "default"
    description: str = ""


DEFAULT_JOBS = [
    Job(
        name="Clear expired sessions",
        task="crm.clear_expired_sessions_task",
        crontab={"minute": "17", "hour": "3"},
        description="Deletes expired sign-in sessions every night at 03:17 (Europe/Paris).",
    ),
    Job(
        name="Personal data retention",
        task="customers.retention_run_task",
        crontab={"minute": "41", "hour": "2"},
        description="Flags prospects with no contact for RETENTION_PROSPECT_YEARS (and anonymises them when "
        "RETENTION_AUTO_ANONYMISE is on), every night at 02:41 (Europe/Paris).",
    ),
    Job(
        name="Find duplicate customers",
        task="customers.find_duplicates_task",
        crontab={"minute": "23", "hour": "4"},
        description="Proposes likely duplicate customers for review, every night at 04:23 (Europe/Paris).",
    ),
    Job(
        name="Re-queue stalled imports",
        task="customers.import_jobs_sweep_task",
        crontab={"minute": "*"},
        description="Queues again the imports whose worker died (lease expired) or whose message was lost, "
        "every minute.",
        queue="imports",
    ),
    Job(
        name="Read mailboxes",
        task="channels.mailboxes_poll_task",
        crontab={"minute": "*"},
        description="Fetches new messages from every active IMAP mailbox, every minute.",
    ),
    Job(
        name="Flag SLA breaches",
        task="channels.sla_breaches_flag_task",
        crontab={"minute": "*/5"},
        description="Flags open cases whose first response or resolution is overdue, every 5 minutes.",
    ),
    Job(
        name="Send satisfaction surveys",
        task="channels.surveys_send_due_task",
        crontab={"minute": "*/15"},
        description="Sends the satisfaction surveys whose delay after resolution has passed, every 15 minutes.",
    ),
    Job(
        name="Summarise web sessions",
        task="channels.web_sessions_summarise_task",
        crontab={"minute": "*/10"},
        description="Turns finished web sessions of known visitors into one timeline entry each, every 10 minutes.",
        queue="analytics",
    ),
    Job(
        name="Campaign outbox sweeper",
        task="campaigns.outbox_sweep_task",
        crontab={"minute": "*"},
        description="Starts scheduled campaigns, takes back the messages of dead dispatch workers (expired "
        "leases), checks interrupted handovers and wakes campaigns with due messages, every minute.",
    ),
    Job(
        name="Refresh dynamic segments",
        task="campaigns.segment_refresh_due_task",
        crontab={"minute": "*/15"},
        description="Queues a refresh of every dynamic segment older than SEGMENT_REFRESH_MINUTES, every 15 minutes.",
        queue="segments",
    ),
    Job(
        name="Customer scores and recommendations",
        task="analytics.scores_compute_task",
        crontab={"minute": "7", "hour": "5"},
        description="Recomputes every customer's RFM, BG/NBD, CLV, churn risk and responsiveness scores, the "
        "product similarities and the offer clicks, every night at 05:07 (Europe/Paris).",
        queue="analytics",
    ),
]


def schedule_sync(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """Create the default jobs that do not exist yet; return how many were created."""
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    created = 0
    for job in DEFAULT_JOBS:
        if PeriodicTask.objects.using(using).filter(name=job.name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.using(using).get_or_create(**job.crontab, timezone=settings.TIME_ZONE)
        PeriodicTask.objects.using(using).create(
            name=job.name, task=job.task, crontab=crontab, queue=job.queue, description=job.description
        )
        created += 1
    return created
