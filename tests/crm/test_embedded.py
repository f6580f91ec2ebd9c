"""The zero-config servers: a fresh var/ boots them, a second start reuses them, a killed run recovers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import redis

from crm.embedded import EmbeddedServices
from tests.support import BASE_DIR, process_env, run_manage, stop_process, wait_until

pytestmark = pytest.mark.slow


def embedded_cli(action: str, var: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "RELAIS_VAR_DIR": str(var)}
    return subprocess.run(
        [sys.executable, "-m", "crm.embedded", action], env=env, cwd=BASE_DIR, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


@pytest.fixture
def var_dir():
    # Short and world-traversable: unix socket paths are limited, and PostgreSQL runs as its own user.
    path = Path(tempfile.mkdtemp(prefix="rl-", dir="/tmp"))
    yield path
    EmbeddedServices(path).stop()
    shutil.rmtree(path, ignore_errors=True)


def answers(services: EmbeddedServices) -> bool:
    with psycopg.connect(host=str(services.pgdata), user="postgres", dbname="relais", connect_timeout=3) as conn:
        database_ok = conn.execute("SELECT 1").fetchone() == (1,)
    redis_ok = redis.Redis(unix_socket_path=str(services.redis_socket), socket_timeout=2).ping()
    return database_ok and redis_ok


def test_it_boots_both_servers_in_a_fresh_var_dir_and_reuses_them(var_dir):
    first = embedded_cli("start", var_dir)
    assert first.returncode == 0, first.stderr
    assert f"host={var_dir}/postgres" in first.stdout
    assert f"unix://{var_dir}/redis/redis.sock" in first.stdout

    services = EmbeddedServices(var_dir)
    pids = services.status()
    assert all(pids.values()), pids
    assert answers(services)

    started = time.monotonic()
    second = embedded_cli("start", var_dir)
    assert second.returncode == 0, second.stderr
    assert services.status() == pids, "a second start must reuse the running servers"
    assert time.monotonic() - started < 10

    stopped = embedded_cli("stop", var_dir)
    assert "redis" in stopped.stdout and "postgres" in stopped.stdout
    assert services.status() == {"postgres": None, "redis": None}


def test_it_recovers_from_a_killed_run(var_dir):
    services = EmbeddedServices(var_dir)
    assert embedded_cli("start", var_dir).returncode == 0
    pids = services.status()
    os.kill(pids["redis"], signal.SIGKILL)
    os.kill(pids["postgres"], signal.SIGKILL)
    wait_until(lambda: services.status() == {"postgres": None, "redis": None}, seconds=10, message="both dead")
    assert services.redis_pidfile.exists(), "a killed Redis leaves its pid file behind"
    assert (services.pgdata / "postmaster.pid").exists(), "a killed PostgreSQL leaves postmaster.pid behind"

    again = embedded_cli("start", var_dir)

    assert again.returncode == 0, again.stderr
    assert "stale Redis pid file" in again.stderr
    new_pids = services.status()
    assert all(new_pids.values()) and new_pids != pids
    assert answers(services)


def test_it_refuses_a_var_dir_whose_socket_path_is_too_long(tmp_path):
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    deep.mkdir(parents=True)
    result = embedded_cli("start", deep)
    assert result.returncode != 0
    assert "RELAIS_VAR_DIR" in result.stderr
    assert not (deep / "postgres").exists(), "nothing may start when the folder cannot hold both servers"


def test_checking_the_project_or_importing_the_settings_starts_no_server(var_dir):
    env = process_env(RELAIS_VAR_DIR=str(var_dir))
    checked = run_manage("check", env=env)
    assert checked.returncode == 0, checked.stderr
    imported = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; settings.DATABASES"],
        env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr

    assert EmbeddedServices(var_dir).status() == {"postgres": None, "redis": None}
    assert not (var_dir / "postgres").exists()


def test_the_first_query_or_a_celery_worker_starts_them(var_dir):
    env = process_env(RELAIS_VAR_DIR=str(var_dir))
    query = "from django.db import connection; connection.ensure_connection(); print(connection.vendor)"
    shell = run_manage("shell", "--no-imports", "-c", query, env=env)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.strip() == "postgresql"
    services = EmbeddedServices(var_dir)
    assert all(services.status().values())

    services.stop()
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "crm", "worker", "-Q", "default", "-c", "1",
         "--without-mingle", "--without-gossip", "-l", "WARNING"],
        env=env, cwd=BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: all(services.status().values()), seconds=60, message="a worker starts both servers")
        assert worker.poll() is None, "the worker keeps running on the servers it started"
    finally:
        stop_process(worker)
