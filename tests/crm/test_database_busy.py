"""When no database connection is free, a page answers 503 with Retry-After (never a 500), and the
service comes back by itself.

The real production server (gunicorn + uvicorn, psycopg's pool of ONE connection, a 1 s pool
timeout) on the test database. A test transaction locks the session table, so a first request holds
the pool's only connection while it waits; a second request then finds no connection within the
timeout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests.support import BASE_DIR, free_port, process_env, stop_process, test_database_url, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _get(url: str, *, accept: str = "text/html") -> tuple[int, object, bytes]:
    request = urllib.request.Request(url, headers={"Cookie": "sessionid=not-a-real-session", "Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
    except (urllib.error.URLError, ConnectionError):
        return 0, {}, b""  # not listening yet


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def server():
    urllib.request.install_opener(urllib.request.build_opener(_NoRedirect()))
    port = free_port()
    env = process_env(
        DATABASE_URL=test_database_url(), DEBUG="false", LOG_LEVEL="CRITICAL",
        SECRET_KEY="busy-test-secret-key-0123456789-0123456789-0123456789", ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false", SESSION_COOKIE_SECURE="false",
        DATABASE_POOL="true", DATABASE_POOL_MIN="1", DATABASE_POOL_MAX="1", DATABASE_POOL_TIMEOUT="1",
    )  # fmt: skip
    command = [str(Path(sys.executable).with_name("gunicorn")), "crm.asgi:application",
               "-k", "uvicorn_worker.UvicornWorker", "-w", "1", "-b", f"127.0.0.1:{port}"]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _get(url + "/account/")[0] == 302, seconds=60, message="server up")
    yield url
    stop_process(process)
    urllib.request.install_opener(urllib.request.build_opener())


def test_no_free_connection_answers_503_with_retry_after_and_recovers(server):
    results: dict[str, tuple] = {}
    with psycopg.connect(test_database_url().replace("postgres://", "postgresql://"), autocommit=False) as locker:
        locker.execute("LOCK TABLE django_session IN ACCESS EXCLUSIVE MODE")
        holder = threading.Thread(target=lambda: results.setdefault("first", _get(server + "/account/")))
        holder.start()
        # The first request now waits on the lock, holding the pool's only connection.
        wait_until(
            lambda: locker.execute(
                "SELECT count(*) FROM pg_locks WHERE relation = 'django_session'::regclass AND NOT granted"
            ).fetchone()[0] >= 1,
            seconds=30, message="the first request waits on the lock",
        )  # fmt: skip
        page = _get(server + "/account/")
        api = _get(server + "/api/v1/customers/", accept="application/json")
        locker.rollback()
    holder.join(30)

    status, headers, body = page
    assert status == 503 and headers["Retry-After"] == "5"
    assert "Relais is busy" in body.decode() and "Traceback" not in body.decode()
    status, headers, body = api
    assert status == 503 and headers["Retry-After"] == "5"
    assert json.loads(body)["error"]["code"] == "unavailable"
    # The request that held the connection finishes once the lock goes (a bogus session: to sign-in),
    # and the next one is served again.
    assert results["first"][0] == 302
    assert _get(server + "/account/")[0] == 302
