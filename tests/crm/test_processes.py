"""The real processes: production web server, Celery worker and beat on a private Redis.

One stack for this module, on the test database (tests run in file order; the last one stops the
worker): /health/ must say 200 with everything up, 503 naming Redis when Redis stops, and 200
again once Redis is back, without restarting anything else.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from celery import Celery

from crm.embedded import EmbeddedServices
from crm.envparse import celery_urls_from_redis_url
from tests.support import BASE_DIR, free_port, http_get, process_env, stop_process, test_database_url, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("process-stack")]


@pytest.fixture(scope="module")
def stack(django_db_setup):
    var = Path(tempfile.mkdtemp(prefix="rl-", dir="/tmp"))
    redis_server = EmbeddedServices(var)
    redis_server.start_redis()
    redis_url = f"unix://{redis_server.redis_socket}?db=0"
    port = free_port()
    env = process_env(
        DATABASE_URL=test_database_url(),
        REDIS_URL=redis_url,
        RELAIS_VAR_DIR=str(var),
        DEBUG="false",
        SECRET_KEY="stack-test-secret-key-0123456789-0123456789-0123456789",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        HEALTH_WORKER_TIMEOUT_SECONDS="3",
        LOG_LEVEL="WARNING",
    )
    bin_dir = Path(sys.executable).parent
    commands = {
        "web": [str(bin_dir / "gunicorn"), "crm.asgi:application", "-k", "uvicorn_worker.UvicornWorker",
                "-w", "1", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "2"],
        "worker": [str(bin_dir / "celery"), "-A", "crm", "worker", "-Q", "default", "-c", "1",
                   "--without-mingle", "--without-gossip", "-l", "WARNING"],
        "beat": [str(bin_dir / "celery"), "-A", "crm", "beat", "-l", "WARNING", "-s", str(var / "beat-schedule")],
    }  # fmt: skip
    processes = {
        name: subprocess.Popen(command, env=env, cwd=BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for name, command in commands.items()
    }
    yield {"url": f"http://127.0.0.1:{port}", "redis": redis_server, "redis_url": redis_url, "procs": processes}
    for process in processes.values():
        stop_process(process)
    redis_server.stop_redis()
    shutil.rmtree(var, ignore_errors=True)


def health(stack) -> tuple[int, dict]:
    status, body = http_get(stack["url"] + "/health/", timeout=15)
    return status, (json.loads(body) if body.startswith(b"{") else {})


def test_a_task_makes_a_round_trip_through_a_real_worker(stack):
    broker, backend = celery_urls_from_redis_url(stack["redis_url"])
    client = Celery("relais-test-client", broker=broker, backend=backend)
    result = client.send_task("crm.ping_task", queue="default")
    assert result.get(timeout=60) == "pong"


def test_health_goes_503_naming_redis_when_redis_stops_and_recovers(stack):
    status, report = wait_until(lambda: (h := health(stack))[0] == 200 and h, seconds=60, message="health 200")
    assert report["status"] == "ok"
    assert set(report["checks"]) == {"database", "redis", "worker", "beat"}

    stack["redis"].stop_redis()
    status, report = health(stack)
    assert status == 503
    assert "redis" in report["failing"]
    assert report["checks"]["database"]["ok"] is True

    stack["redis"].start_redis()
    status, report = wait_until(lambda: (h := health(stack))[0] == 200 and h, seconds=60, message="health back")
    assert report["failing"] == []


def test_health_names_the_worker_when_no_worker_runs(stack):
    wait_until(lambda: health(stack)[0] == 200, seconds=60, message="health 200")
    stop_process(stack["procs"]["worker"])
    status, report = health(stack)
    assert status == 503
    assert report["failing"] == ["worker"]
