"""/health/ in-process: every part named, beat's heartbeat aged, one JSON shape for load balancers."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from crm.beat import BEAT_TICK_KEY, RelaisDatabaseScheduler
from crm.redis import redis_client


@pytest.fixture
def beat_ticked():
    redis_client().set(BEAT_TICK_KEY, repr(time.time()))
    yield
    redis_client().delete(BEAT_TICK_KEY)


def test_it_answers_200_when_every_part_answers(client, db, beat_ticked):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert all(check["ok"] for check in body["checks"].values())
    assert response["Cache-Control"].startswith("max-age=0")


def test_it_names_beat_when_its_heartbeat_is_stale(client, db, settings):
    redis_client().set(BEAT_TICK_KEY, repr(time.time() - settings.BEAT_STALE_AFTER_SECONDS - 5))
    try:
        response = client.get(reverse("health"))
    finally:
        redis_client().delete(BEAT_TICK_KEY)
    assert response.status_code == 503
    assert response.json()["failing"] == ["beat"]
    assert "last tick" in response.json()["checks"]["beat"]["detail"]


def test_it_names_beat_when_beat_never_ticked(client, db):
    redis_client().delete(BEAT_TICK_KEY)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["checks"]["beat"]["detail"] == "RuntimeError: beat has never ticked"


def test_the_beat_scheduler_records_its_ticks(transactional_db):
    from crm.celery import app

    redis_client().delete(BEAT_TICK_KEY)
    scheduler = RelaisDatabaseScheduler(app=app, lazy=True)
    scheduler.setup_schedule()
    scheduler.tick()
    tick = float(redis_client().get(BEAT_TICK_KEY))
    assert abs(tick - time.time()) < 5
    redis_client().delete(BEAT_TICK_KEY)


def test_it_refuses_other_methods(client, db):
    assert client.post(reverse("health")).status_code == 405
