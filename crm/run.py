"""``make run``: start Relais with its embedded services, demo data and every process, in one command.

Order: embedded PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL are set) -> migrate ->
translations -> demo data (idempotent) -> web, Celery worker and Celery beat under honcho (Procfile).
Ctrl-C stops the three processes, then the embedded servers (``make run`` owns them while it runs).
"""

from __future__ import annotations

import os
import signal
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


def main() -> int:
    started = time.monotonic()
    os.chdir(BASE_DIR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    # The Procfile's commands (gunicorn, celery) live beside this interpreter, in the virtualenv.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    host = os.environ.setdefault("RELAIS_HOST", "127.0.0.1")
    port = os.environ.setdefault("RELAIS_PORT", "8000")

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
