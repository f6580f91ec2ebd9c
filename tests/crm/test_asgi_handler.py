"""The production ASGI application (crm/asgi_handler.py) serves sync pages in one kept thread, and
still streams server-sent events from the event loop."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import Client

from channels import realtime
from crm import roles
from crm.asgi_handler import RelaisASGIHandler, view_is_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _connections_closed_after_each_request():
    # As in production (the pool): each request's connection is given back when the request finishes,
    # so no request thread keeps one open past the test.
    from django.db import connections

    kept = connections.settings["default"]["CONN_MAX_AGE"]
    connections.settings["default"]["CONN_MAX_AGE"] = 0
    yield
    connections.settings["default"]["CONN_MAX_AGE"] = kept


def _scope(path: str, cookie: str) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }  # fmt: skip


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def _get(app, path: str, cookie: str) -> tuple[int, dict, bytes]:
    communicator = ApplicationCommunicator(app, _scope(path, cookie))
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(10)
    body = b""
    while True:
        message = await communicator.receive_output(10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(10)
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, body


def _request_threads() -> set[int]:
    return {t.ident for t in threading.enumerate() if t.name.startswith("relais-request")}


def test_sync_pages_go_through_the_whole_middleware_chain_on_kept_threads(make_staff):
    agent = make_staff(roles.AGENT, first_name="Élodie")
    cookie = _session_cookie(agent)
    app = RelaisASGIHandler()

    async def twenty_pages():
        return [await _get(app, "/account/", cookie) for _ in range(20)]

    before = _request_threads()
    pages = asyncio.run(twenty_pages())
    started = _request_threads() - before
    for status, headers, body in pages:
        assert status == 200
        assert "Élodie" in body.decode()  # the session, the user and the template: the page the agent sees
        assert "content-security-policy" in headers and headers["x-frame-options"] == "DENY"
    # Twenty requests one after another run on kept threads (a thread goes back on the stack a moment
    # after its request ends, so two may take turns), not on twenty threads started and joined.
    assert 1 <= len(started) <= 2


def test_a_signed_out_page_and_an_unknown_path_answer_as_under_wsgi(make_staff):
    app = RelaisASGIHandler()
    status, headers, _body = asyncio.run(_get(app, "/account/", ""))
    assert status == 302 and headers["location"].startswith("/accounts/login/")
    status, _headers, body = asyncio.run(_get(app, "/no-such-page/", ""))
    assert status == 404 and b"Traceback" not in body


def test_the_console_stream_still_streams_events_from_the_event_loop(make_staff):
    agent = make_staff(roles.AGENT)
    cookie = _session_cookie(agent)
    app = RelaisASGIHandler()
    assert not view_is_async("/channels/console/stream/")  # a sync view returning an async generator

    async def listen():
        communicator = ApplicationCommunicator(app, _scope("/channels/console/stream/", cookie))
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(10)
        first = await communicator.receive_output(10)
        # The stream has subscribed once it said "connected"; an event published now reaches it.
        delivered = await asyncio.to_thread(realtime.publish, f"agent:{agent.pk}", "toast", "<p>Appel de Zoé</p>")
        event = await communicator.receive_output(10)
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(10)
        return start, first, delivered, event

    start, first, delivered, event = asyncio.run(listen())
    assert start["status"] == 200
    assert {k.lower(): v for k, v in start["headers"]}[b"content-type"] == b"text/event-stream"
    assert first["body"] == b": connected\n\n"
    assert delivered == 1
    assert event["body"].decode() == "event: toast\ndata: <p>Appel de Zoé</p>\n\n"
