"""The Celery application: queues per workload, reliable delivery (acks late, requeue on worker loss)."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("relais")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "segments", "sends", "analytics", "webhooks", "imports")]
app.autodiscover_tasks()
