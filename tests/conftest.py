"""Fixtures shared by the whole suite: staff in each role, a browser on Debian's Chromium."""

from __future__ import annotations

import os
import zlib

import factory.random
import pytest

from crm import roles
from tests.factories import UserFactory

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_configure(config):
    """Compile the translation catalogues once (the xdist controller only), before any worker starts.

    Done here rather than by a `manage.py` call before pytest: that call would start the embedded
    servers in another process, and this session would then leave them running when it ends.
    """
    if hasattr(config, "workerinput"):
        return
    from crm import embedded
    from crm.management.commands.compile_translations import compile_translations

    compile_translations()
    # The embedded servers start on the first test that needs them (in whichever xdist worker), not
    # here: collecting tests starts nothing. Remember whether they were already running.
    config.relais_embedded_was_running = all(embedded.EmbeddedServices().status().values())


def pytest_unconfigure(config):
    """Stop the embedded servers if this test session started them (the xdist controller only)."""
    if hasattr(config, "workerinput"):
        return
    from crm import embedded

    if embedded.started_by_this_process or not getattr(config, "relais_embedded_was_running", True):
        embedded.EmbeddedServices().stop()


@pytest.fixture(autouse=True)
def _language_reset():
    """Each test starts in the default language: a French request must not leave French to the next test."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fake_data_seeded_per_test(request):
    """Faker and factory_boy draw the same values each time a test runs, alone or in the suite.

    The seed is the test's id, so a failure with generated names reproduces with ``pytest <node id>``
    (``Sequence`` counters still depend on what ran before: they only make values unique).
    """
    factory.random.reseed_random(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture
def client():
    """Django's test client, asking for English (the default language is French) unless a test says."""
    from django.test import Client

    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def make_staff(db):
    def make(role: str | None = None, **fields):
        return UserFactory(role=role, **fields)

    return make


@pytest.fixture
def agent(make_staff):
    return make_staff(roles.AGENT, username="agent.test")


@pytest.fixture
def supervisor(make_staff):
    return make_staff(roles.SUPERVISOR, username="supervisor.test")


@pytest.fixture
def marketer(make_staff):
    return make_staff(roles.MARKETER, username="marketer.test")


@pytest.fixture
def admin_staff(make_staff):
    return make_staff(roles.ADMIN, username="admin.test", is_staff=True)


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server (aiosmtpd) on a loopback port; Django's SMTP backend points at it for the test."""
    from aiosmtpd.controller import Controller

    from tests.support import SmtpSink, free_port

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    controller.stop()
