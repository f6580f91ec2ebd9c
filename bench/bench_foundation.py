"""Foundation benchmarks: a logged-in page through the production server, and ``make run``'s start time.

``production_server()`` and ``KeepAliveClient`` are reusable by later benchmarks that measure pages or
API calls through the real server (gunicorn + uvicorn workers, DEBUG off).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse

from bench import BenchmarkSkipped, Run, benchmark
from bench.run import BASE_DIR, PRODUCTION_ENV, RESULTS_DIR

BENCH_ADMIN_USERNAME = "bench.admin"
BENCH_ADMIN_PASSWORD = "bench-admin-password-not-secret"
REQUESTS_PER_PAGE = 500
WARMUP_REQUESTS = 20
STATIC_BASELINE = "admin/css/base.css"


# -- The production server ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for_http_200(url: str, *, timeout: float, process: subprocess.Popen | None = None) -> float:
    """Poll ``url`` until it answers 200; return the seconds waited. Fails if ``process`` exits first."""
    started = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL we built
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException):
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process exited with status {process.returncode} before {url} answered")
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s")
        time.sleep(0.1)


_collected = False


def collect_static() -> None:
    """Run collectstatic once per process: production settings serve hashed names from a manifest."""
    global _collected
    if not _collected:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=BASE_DIR, env={**os.environ, **PRODUCTION_ENV}, check=True,
        )  # fmt: skip
        _collected = True


def static_url(name: str) -> str:
    """The hashed URL collectstatic gave ``name``."""
    manifest = json.loads((BASE_DIR / "staticfiles" / "staticfiles.json").read_text())
    return "/static/" + manifest["paths"][name]


@contextmanager
def production_server(*, workers: int = 2) -> Iterator[str]:
    """Run ``gunicorn crm.asgi:application`` with uvicorn workers on a free port; yield its base URL.

    The server gets the benchmark's environment (production settings, the same ``DATABASE_URL``) and
    logs to a file under bench/results/, whose tail is printed if it does not start.
    """
    collect_static()
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn), "crm.asgi:application", "-k", "uvicorn_worker.UvicornWorker",
        "-w", str(workers), "-b", f"127.0.0.1:{port}",
    ]  # fmt: skip
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    log_path = RESULTS_DIR / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env={**os.environ, **PRODUCTION_ENV, "DATABASE_POOL": "true"},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        try:
            waited = wait_for_http_200(base_url + "/accounts/login/", timeout=90, process=process)
        except (RuntimeError, TimeoutError):
            print(log_path.read_text()[-3000:], file=sys.stderr)
            raise
        print(f"  server: gunicorn, {workers} uvicorn workers, {base_url}, ready in {waited:.1f} s", flush=True)
        yield base_url
    finally:
        stop_process_group(process, signal.SIGTERM, timeout=30)


def stop_process_group(process: subprocess.Popen, sig: int, *, timeout: float) -> bool:
    """Send ``sig`` to the process group ``process`` leads; SIGKILL it after ``timeout``.

    Returns True when it exited on ``sig`` alone.
    """
    if process.poll() is not None:
        return True
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        return False
    except ProcessLookupError:
        return True


class KeepAliveClient:
    """One keep-alive HTTP/1.1 connection with its own cookies, like one browser tab.

    Production cookies are ``Secure``; a client library's cookie jar would not send them over the
    loopback's plain HTTP (TLS ends at the proxy in production), so this client keeps cookies itself.
    """

    def __init__(self, base_url: str) -> None:
        parsed = urlparse(base_url)
        self.host, self.port = parsed.hostname, parsed.port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def request(self, method: str, path: str, *, body: str | None = None, headers: dict | None = None):
        """Send one request; return ``(status, headers, body bytes)``. Reconnects once if dropped."""
        all_headers = {"Accept": "text/html,*/*", "Accept-Encoding": "gzip", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=all_headers)
                response = self.connection.getresponse()
                content = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, content

    def login(self, username: str, password: str) -> None:
        """Sign in through the real login form (CSRF token included); fail loudly if it is refused."""
        status, _headers, page = self.request("GET", "/accounts/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not match:
            raise RuntimeError(f"GET /accounts/login/ answered {status} without a CSRF token")
        form = {"csrfmiddlewaretoken": match.group(1).decode(), "username": username, "password": password}
        status, headers, _page = self.request(
            "POST", "/accounts/login/", body=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Origin": f"http://{self.host}:{self.port}", "Referer": f"http://{self.host}:{self.port}/accounts/login/"},
        )  # fmt: skip
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login as {username} answered {status} (to {headers.get('Location')}), no session")

    def close(self) -> None:
        self.connection.close()


def database_sessions() -> int:
    """Sessions ever opened on this database (PostgreSQL 14+ counts them in pg_stat_database)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def bench_admin_ensure() -> None:
    """Create (or reset) the staff account the page benchmarks sign in with: role Admin."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from crm.roles import ADMIN

    user, _created = get_user_model().objects.update_or_create(
        username=BENCH_ADMIN_USERNAME,
        defaults={"first_name": "Bench", "last_name": "Admin", "email": "bench.admin@bench.relais.example",
                  "is_staff": True, "is_active": True, "language": "en"},
    )  # fmt: skip
    user.set_password(BENCH_ADMIN_PASSWORD)
    user.save(update_fields=["password"])
    user.groups.set([Group.objects.get(name=ADMIN)])


# -- (a) Request overhead of a logged-in staff page ---------------------------------------------


@benchmark(
    "request_overhead",
    # 100 ms is the limit under which a response feels instantaneous (Nielsen's 0.1 s); a page that
    # reads a handful of rows must leave most of it to the network and the browser. Static files are
    # the floor: the server and the client alone.
    # /account/ is the signed-in floor: what every staff page pays before its own work (12 ms, issue 11).
    targets={"GET / (home)": 100, "GET /account/": 12, "GET static file (baseline)": 10},
    dataset=("staff",),
)
def request_overhead(run: Run) -> None:
    """Latency of logged-in staff pages through the production server (gunicorn, 2 uvicorn workers,
    DEBUG off, WhiteNoise), one client on one keep-alive connection, requests one after another;
    a hashed static file served by WhiteNoise is the baseline."""
    bench_admin_ensure()
    collect_static()
    static_path = static_url(STATIC_BASELINE)
    operations = {"GET / (home)": "/", "GET /account/": "/account/", "GET static file (baseline)": static_path}
    with production_server(workers=2) as base_url:
        client = KeepAliveClient(base_url)
        started = time.perf_counter()
        client.login(BENCH_ADMIN_USERNAME, BENCH_ADMIN_PASSWORD)
        login_ms = (time.perf_counter() - started) * 1000
        run.note(f"login through the form (GET + POST, PBKDF2 check) took {login_ms:.0f} ms")
        sizes = {}
        for _ in range(WARMUP_REQUESTS):
            for operation, path in operations.items():
                status, _headers, body = client.request("GET", path)
                if status != 200:
                    raise RuntimeError(f"{operation} answered {status} during warm-up")
                sizes[operation] = len(body)
        sessions_before = database_sessions()
        # Interleaved, so that any drift of the machine during the run weighs on every operation alike.
        for _ in range(REQUESTS_PER_PAGE):
            for operation, path in operations.items():
                begin = time.perf_counter()
                status, _headers, _body = client.request("GET", path)
                run.record(operation, time.perf_counter() - begin)
                if status != 200:
                    raise RuntimeError(f"{operation} answered {status}")
        client.close()
        sessions = database_sessions() - sessions_before
    run.note(
        f"PostgreSQL sessions opened during the {REQUESTS_PER_PAGE * 2} measured page requests: {sessions} "
        "(pg_stat_database.sessions; 0 means the workers reused their connections)"
    )
    run.note(
        f"{REQUESTS_PER_PAGE} measured requests per operation after {WARMUP_REQUESTS} warm-up ones, signed in as "
        f"an Admin (the role whose home page runs the most queries); response sizes: "
        + ", ".join(f"{op} {size:,} B" for op, size in sizes.items())
    )
    run.note(f"static file: `{static_path}` (gzip accepted)")


# -- (b) make run, cold and warm ----------------------------------------------------------------

MAKE_RUN_PORT = 8000
MAKE_RUN_READY_URL = f"http://127.0.0.1:{MAKE_RUN_PORT}/accounts/login/"
# Variables of this process that would point the clone at the bench's database or virtualenv.
INHERITED_ONLY_HERE = {
    "DATABASE_URL", "REDIS_URL", "RELAIS_VAR_DIR", "RELAIS_REDIS_DB", "DJANGO_SETTINGS_MODULE",
    "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", *PRODUCTION_ENV,
}  # fmt: skip


def _clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in INHERITED_ONLY_HERE}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep) if part != venv_bin)
    return env


def _processes_under(path: Path) -> list[str]:
    """``pid command`` of every process whose command line mentions ``path``."""
    found = subprocess.run(["pgrep", "-a", "-f", str(path)], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if line.strip()]


def _time_make_run(run: Run, clone: Path, label: str, *, timeout: float) -> None:
    log_path = RESULTS_DIR / f"make_run-{label}.log"
    print(f"  make run ({label}) in {clone}; log: {log_path.relative_to(BASE_DIR)}", flush=True)
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            ["make", "run"], cwd=clone, env=_clean_env(), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for_http_200(MAKE_RUN_READY_URL, timeout=timeout, process=process)
    except (RuntimeError, TimeoutError) as exc:
        log_text = log_path.read_text(errors="replace")
        print(log_text[-3000:], file=sys.stderr)
        stop_process_group(process, signal.SIGINT, timeout=60)
        errors = re.findall(r"\b\w+(?:Error|Exception): .+", log_text)
        cause = f"; the log's last error: {errors[-1].strip()}" if errors else ""
        raise RuntimeError(f"make run ({label}): {exc}{cause} (log: {log_path.relative_to(BASE_DIR)})") from exc
    run.record(f"make run, {label} (start → login page 200)", time.perf_counter() - started)
    print(f"  {label}: ready after {time.perf_counter() - started:.1f} s", flush=True)
    prepared = re.search(r"prepared in ([\d.]+) s", log_path.read_text(errors="replace"))
    if prepared:
        run.note(f"{label} run: crm.run reported itself ready to start the processes after {prepared.group(1)} s")

    # What Ctrl-C in the terminal does: SIGINT to the whole foreground process group.
    stopping = time.perf_counter()
    if not stop_process_group(process, signal.SIGINT, timeout=90):
        run.problem(f"make run ({label}) did not exit within 90 s of Ctrl-C (SIGINT); it was killed")
    run.record(f"stop after Ctrl-C, {label}", time.perf_counter() - stopping)
    left = _processes_under(clone)
    if left:
        run.problem(f"processes left running after Ctrl-C of make run ({label}): " + "; ".join(left))
    else:
        run.note(f"after Ctrl-C of the {label} run, no process mentioning the clone's path was left (pgrep -f)")
    if port_answers(MAKE_RUN_PORT):
        run.problem(f"port {MAKE_RUN_PORT} still answers after Ctrl-C of make run ({label})")


@benchmark(
    "make_run",
    # A newcomer's first `make run` builds the virtualenv and installs everything: minutes are
    # acceptable once. Every later start should feel immediate.
    targets={
        "make run, cold (start → login page 200)": ("max", 300_000),
        "make run, warm (start → login page 200)": ("max", 20_000),
        "stop after Ctrl-C, warm": ("max", 15_000),
    },
    # About 1.5 minutes here (a minute of it pip installing), so it stays in the default run; it
    # skips itself when port 8000 is taken.
    how_to_run="`make bench-run-time` or `python -m bench --only make_run`",
)
def make_run(run: Run) -> None:
    """Time from `make run` to the login page answering 200 in a fresh clone of the repository:
    cold (creates the virtualenv, installs the requirements, starts the embedded PostgreSQL and
    Redis, migrates, loads the demo data) and warm (the same clone again); and the time `make run`
    takes to exit after Ctrl-C, with no process left behind."""
    if port_answers(MAKE_RUN_PORT):
        raise BenchmarkSkipped(f"something already listens on 127.0.0.1:{MAKE_RUN_PORT}; make run needs that port")
    if not (BASE_DIR / "Makefile").exists():
        raise BenchmarkSkipped("there is no Makefile in the repository yet")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    clone = Path(tempfile.mkdtemp(prefix="relais-bench-clone-", dir="/tmp"))
    try:
        subprocess.run(["git", "clone", "-q", str(BASE_DIR), str(clone)], check=True)
        if not (clone / "Makefile").exists():
            raise BenchmarkSkipped("the Makefile is not committed (the benchmark clones the committed tree)")
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True)
        run.note(f"clone of commit {commit.stdout.strip()} in a fresh /tmp folder (its own var/ and .venv/)")
        _time_make_run(run, clone, "cold", timeout=1200)
        _time_make_run(run, clone, "warm", timeout=300)
    finally:
        for line in _processes_under(clone):
            pid = int(line.split()[0])
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        time.sleep(1)
        shutil.rmtree(clone, ignore_errors=True)
