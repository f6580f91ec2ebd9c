"""``make run``: start Relais with its embedded services, demo data and every process, in one command.

Order: embedded PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL are set) -> migrate ->
translations -> demo data (idempotent) -> web, Celery worker and Celery beat under honcho (Procfile).
Ctrl-C stops the three processes, then the embedded servers (``make run`` owns them while it runs).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _prepare() -> None:
    import django
    from django.core.management import call_command

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    django.setup()
    from django.conf import settings
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=0)
    call_command("compile_translations", verbosity=0)
    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)
    call_command("seed_demo", verbosity=1)
    connections.close_all()


def _banner(host: str, port: str) -> str:
    from django.conf import settings

    from crm.demo import DEMO_LOGINS

    logins = "\n".join(
        f"    {role:<11} {username:<11} / {settings.DEMO_PASSWORD}" for username, role, *_ in DEMO_LOGINS
    )
    return (
        f"\n  Relais is starting at http://{host}:{port}/\n\n"
        f"  Demo logins (role, username / password):\n{logins}\n\n"
        f"  API docs: http://{host}:{port}/api/docs/   Health: http://{host}:{port}/health/\n"
        "  Press Ctrl-C to stop everything.\n"
    )


def _production_defaults(host: str, port: str) -> None:
    """`make run` is production mode on this machine: DEBUG off, a generated secret, loopback hosts.

    Plain HTTP on loopback (crm.settings.LOOPBACK_ONLY), static files by WhiteNoise, console logs.
    `make dev` (``--dev``) turns DEBUG on and reloads the web server when code changes.
    """
    from crm import embedded

    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
    os.environ.setdefault("SITE_URL", f"http://{host}:{port}")
    os.environ.setdefault("LOG_FORMAT", "console")
    if not os.environ.get("SECRET_KEY"):
        keyfile = embedded.var_dir() / "secret_key"
        if not keyfile.exists():
            keyfile.parent.mkdir(parents=True, exist_ok=True)
            keyfile.write_text(secrets.token_urlsafe(50))
            keyfile.chmod(0o600)
        os.environ["SECRET_KEY"] = keyfile.read_text().strip()


def _port_is_free(host: str, port: str) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), int(port)))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    started = time.monotonic()
    os.chdir(BASE_DIR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    # The Procfile's commands (gunicorn, celery) live beside this interpreter, in the virtualenv.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    host = os.environ.setdefault("RELAIS_HOST", "127.0.0.1")
    port = os.environ.setdefault("RELAIS_PORT", "8000")
    if "--dev" in argv:
        os.environ["DEBUG"] = "true"
        os.environ.setdefault("GUNICORN_CMD_ARGS", "--reload")  # gunicorn reads extra options from here
    _production_defaults(host, port)
    if not _port_is_free(host, port):
        print(f"relais: port {port} on {host} is taken by another program; choose another: RELAIS_PORT=8001 make run")
        return 1

    from crm import embedded

    use_embedded = not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
    services = embedded.EmbeddedServices() if use_embedded else None
    try:
        _prepare()
        print(_banner(host, port) + f"  (prepared in {time.monotonic() - started:.1f} s)\n", flush=True)
        honcho = subprocess.Popen(  # noqa: S603 - fixed command line
            [sys.executable, "-m", "honcho", "start", "-f", str(BASE_DIR / "Procfile"), "-d", str(BASE_DIR)],
        )
        # Ctrl-C reaches honcho too (same process group); it stops its children. We wait for it.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: honcho.terminate())
        try:
            code = honcho.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
        # honcho exits non-zero when Ctrl-C stopped its processes; that is a normal stop here.
        return 0 if code in (0, 130, -signal.SIGINT) or code < 0 else code
    finally:
        if services is not None:
            stopped = services.stop()
            if stopped:
                print(f"relais: stopped the embedded {' and '.join(stopped)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
