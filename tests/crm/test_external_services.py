"""With DATABASE_URL and REDIS_URL set, Relais uses those servers and starts nothing of its own.

These run against the PostgreSQL (>= 15) and Redis that this kind of machine runs on 127.0.0.1; on a
machine without them they are skipped, and the reason is printed.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid

import psycopg
import pytest
import redis

from tests.support import BASE_DIR, process_env, run_manage

pytestmark = pytest.mark.slow


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def external_database():
    if not _answers(5432):
        pytest.skip("no PostgreSQL answers on 127.0.0.1:5432 on this machine")
    if not _answers(6379):
        pytest.skip("no Redis answers on 127.0.0.1:6379 on this machine")
    name = f"relais_ext_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_it_migrates_and_serves_on_external_servers(external_database, tmp_path):
    env = process_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{external_database}",
        REDIS_URL="redis://127.0.0.1:6379/14",
        RELAIS_VAR_DIR=str(tmp_path / "var"),
    )
    migrated = run_manage("migrate", "--noinput", env=env, timeout=300)
    assert migrated.returncode == 0, migrated.stderr

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{external_database}") as conn:
        extensions = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
        roles = {row[0] for row in conn.execute("SELECT name FROM auth_group")}
    assert {"pg_trgm", "unaccent", "btree_gin"} <= extensions
    assert {"Agent", "Supervisor", "Marketer", "Admin"} <= roles

    script = (
        "from django.test import Client; from django.core.cache import cache;"
        "cache.set('relais-ext-probe', 'ok'); print(cache.get('relais-ext-probe'));"
        "print(Client(HTTP_HOST='127.0.0.1').get('/accounts/login/').status_code)"
    )
    command = [sys.executable, "manage.py", "shell", "--no-imports", "-c", script]
    result = subprocess.run(command, env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", "200"]
    assert redis.Redis.from_url("redis://127.0.0.1:6379/14").get("relais:1:relais-ext-probe") is not None
    assert not (tmp_path / "var" / "postgres").exists(), "no embedded PostgreSQL may start when DATABASE_URL is set"
    assert not (tmp_path / "var" / "redis").exists(), "no embedded Redis may start when REDIS_URL is set"
