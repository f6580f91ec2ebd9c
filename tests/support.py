"""Helpers for tests that start real processes: free ports, waiting, the test database's URL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, seconds: float, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} not reached within {seconds} s (last value: {last!r})")


def http_get(url: str, *, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


def test_database_url() -> str:
    """URL of the test database this xdist worker uses, for processes a test starts."""
    from django.db import connection

    params = connection.settings_dict
    host = params["HOST"] or params.get("OPTIONS", {}).get("host", "")
    port = params["PORT"] or params.get("OPTIONS", {}).get("port", 5432)
    user = params["USER"] or "postgres"
    password = f":{params['PASSWORD']}" if params["PASSWORD"] else ""
    if str(host).startswith("/"):
        return f"postgres://{user}{password}@/{params['NAME']}?host={host}&port={port}"
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


test_database_url.__test__ = False  # not a test, despite its name


def process_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["DJANGO_SETTINGS_MODULE"] = "crm.settings"
    env.update(overrides)
    return env


def run_manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def stop_process(process: subprocess.Popen, *, seconds: float = 15) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class SmtpSink:
    """An aiosmtpd handler that keeps every envelope it receives (the ``smtp_sink`` fixture's server)."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self):
        """The received messages, parsed with the standard library's modern email policy."""
        from email import message_from_bytes, policy

        return [message_from_bytes(e.original_content, policy=policy.default) for e in self.envelopes]


def browser_context_close(context, *, settle_ms: int = 500) -> None:
    """Close a Playwright context whose pages may be tracked (track.js): leaving a page sends a last
    beacon that the live server writes to the database. Leave each page first and give that beacon
    time to land, so it does not race the test database's flush at teardown (a deadlock seen there)."""
    for page in context.pages:
        try:
            page.goto("about:blank")
        except Exception:  # noqa: BLE001 - a page already gone has nothing to send
            continue
    if context.pages:
        context.pages[0].wait_for_timeout(settle_ms)
    context.close()
