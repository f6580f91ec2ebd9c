"""The Celery application: queues per workload, reliable delivery (acks late, requeue on worker loss)."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("relais")
app.config_from_object("django.conf:settings", namespace="CELERY")
QUEUES = ("default", "segments", "sends", "analytics", "webhooks", "imports")
# One direct exchange per queue: a task routed to "sends" must land in "sends" only.
app.conf.task_queues = [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES]
app.autodiscover_tasks()
