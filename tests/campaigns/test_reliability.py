"""The outbox never loses nor doubles a message: real Celery worker processes sending to an SMTP sink
in its own process, killed with SIGKILL mid-send, or with Redis stopped (and wiped) under them.

The sink counts what it received by Message-ID: that count is the truth. The sweeper is the real
task (``campaigns.outbox_sweep_task``) sent every two seconds to the workers, as beat would.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from celery import Celery
from django.db.models import Max, Min
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, Message
from campaigns.services.campaigns import campaign_launch
from channels.models import Interaction
from crm.embedded import EmbeddedServices
from crm.envparse import celery_urls_from_redis_url
from tests.campaigns.outbox_support import audience, campaign, email_template, open_policy
from tests.support import BASE_DIR, process_env, stop_process, test_database_url, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("outbox-stack")]
MESSAGES = 2_000
LEASE_SECONDS = 8


class Stack:
    """A private Redis, the SMTP sink process and dispatch worker processes on the test database."""

    def __init__(self):
        self.var = Path(tempfile.mkdtemp(prefix="rl-", dir="/tmp"))
        self.redis = EmbeddedServices(self.var)
        self.redis.start_redis()
        self.redis_url = f"unix://{self.redis.redis_socket}?db=0"
        self.sink = subprocess.Popen([sys.executable, "-m", "tests.campaigns.sink_process"], cwd=BASE_DIR,
                                     stdout=subprocess.PIPE, text=True)  # fmt: skip
        ports = json.loads(self.sink.stdout.readline())
        self.stats_url = f"http://127.0.0.1:{ports['http']}/stats"
        self.env = process_env(
            DATABASE_URL=test_database_url(), REDIS_URL=self.redis_url, RELAIS_VAR_DIR=str(self.var),
            DEBUG="false", SECRET_KEY="outbox-test-secret-key-0123456789-0123456789-0123456789",
            ALLOWED_HOSTS="127.0.0.1", LOG_LEVEL="ERROR", EMAIL_URL=f"smtp://127.0.0.1:{ports['smtp']}",
            CAMPAIGNS_SMTP_LOOKUP_URL=f"http://127.0.0.1:{ports['http']}/lookup",
            CAMPAIGNS_LEASE_SECONDS=str(LEASE_SECONDS), CAMPAIGNS_BATCH_SIZE="50",
        )  # fmt: skip
        self.workers: dict[str, subprocess.Popen] = {}
        broker, _backend = celery_urls_from_redis_url(self.redis_url)
        self.client = Celery("outbox-test-client", broker=broker, set_as_current=False)
        self.client.conf.broker_transport_options = {"socket_connect_timeout": 1}
        self.client.conf.broker_connection_retry = False
        self.last_sweep = 0.0

    def start_worker(self, name: str) -> None:
        command = [str(Path(sys.executable).parent / "celery"), "-A", "crm", "worker", "-Q", "sends,default",
                   "--pool", "solo", "--without-mingle", "--without-gossip", "-l", "ERROR",
                   "-n", f"{name}@%h"]  # fmt: skip
        self.workers[name] = subprocess.Popen(command, env=self.env, cwd=BASE_DIR, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)  # fmt: skip

    def kill_worker(self, name: str) -> None:
        os.kill(self.workers[name].pid, signal.SIGKILL)
        self.workers[name].wait(10)

    def stats(self) -> dict:
        with urllib.request.urlopen(self.stats_url, timeout=5) as response:  # noqa: S310 - loopback
            return json.loads(response.read())

    def sweep(self) -> None:
        """What beat does every minute, every two seconds here (and nothing while Redis is away)."""
        if time.monotonic() - self.last_sweep < 2:
            return
        self.last_sweep = time.monotonic()
        # While Redis is stopped, beat's tick would be lost the same way.
        with contextlib.suppress(Exception):
            self.client.send_task("campaigns.outbox_sweep_task", queue="default", retry=False)

    def close(self) -> None:
        for process in self.workers.values():
            stop_process(process, seconds=10)
        stop_process(self.sink)
        self.redis.stop_redis()
        shutil.rmtree(self.var, ignore_errors=True)


@pytest.fixture
def stack():
    running = Stack()
    yield running
    running.close()


def scheduled_campaign(marketer) -> Campaign:
    """A 2,000-recipient email campaign, launched to start in a second (no task is sent at launch: the
    sweeper starts it, so the workers are the only senders)."""
    open_policy()
    segment, _customers = audience(MESSAGES)
    start = timezone.now() + datetime.timedelta(seconds=1)
    camp = campaign(segment, email_template(), user=marketer, scheduled_at=start)
    counts = campaign_launch(campaign=camp, acting_user=marketer)
    assert counts["now"] == MESSAGES
    return camp


def wait_for_the_end(stack: Stack, camp: Campaign, *, seconds: float) -> dict:
    def finished():
        stack.sweep()
        done = Message.objects.filter(campaign=camp).exclude(status__in=["planned", "claimed", "sending"]).count()
        return done == MESSAGES and Campaign.objects.get(pk=camp.pk).status == CampaignStatus.COMPLETED

    wait_until(finished, seconds=seconds, interval=0.5, message="every message settled and the campaign completed")
    return stack.stats()


def wait_for_sink(stack: Stack, at_least: int) -> int:
    def reached():
        stack.sweep()
        received = stack.stats()["received"]
        return received if received >= at_least else 0

    return wait_until(reached, seconds=180, interval=0.05, message=f"{at_least} emails at the sink")


def assert_exactly_once(stats: dict, camp: Campaign) -> None:
    assert stats["duplicates"] == {}, f"{len(stats['duplicates'])} messages doubled"
    assert stats["unique"] == MESSAGES and stats["received"] == MESSAGES
    statuses = collections.Counter(Message.objects.filter(campaign=camp).values_list("status", flat=True))
    assert statuses == {"sent": MESSAGES}
    assert Interaction.objects.filter(metadata__campaign_id=camp.pk, direction="outbound").count() == MESSAGES
    span = Message.objects.filter(campaign=camp).aggregate(first=Min("sent_at"), last=Max("sent_at"))
    seconds = (span["last"] - span["first"]).total_seconds()
    print(f"\n{MESSAGES} emails, first to last sent in {seconds:.1f} s ({MESSAGES / seconds:.0f}/s with the outages)")


def test_killing_workers_mid_send_loses_nothing_and_doubles_nothing(marketer, stack):
    camp = scheduled_campaign(marketer)
    stack.start_worker("w1")
    stack.start_worker("w2")
    kills = sorted(random.sample(range(150, MESSAGES - 300), 3))
    for number, threshold in enumerate(kills):
        wait_for_sink(stack, threshold)
        victim = "w1" if number % 2 == 0 else "w2"
        stack.kill_worker(victim)
        stack.start_worker(victim)

    stats = wait_for_the_end(stack, camp, seconds=300)

    assert_exactly_once(stats, camp)


def test_redis_stopped_and_wiped_mid_send_loses_nothing_and_doubles_nothing(marketer, stack):
    camp = scheduled_campaign(marketer)
    stack.start_worker("w1")
    stack.start_worker("w2")
    wait_for_sink(stack, MESSAGES // 3)
    stack.redis.stop_redis()
    time.sleep(3)
    stack.redis.start_redis()  # empty: every queued task is gone

    stats = wait_for_the_end(stack, camp, seconds=300)

    assert_exactly_once(stats, camp)
