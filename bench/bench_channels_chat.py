"""Web chat benchmark: the widget API through the production server, and how fast an agent's line reaches
the visitor's browser over server-sent events.

The run creates its own site (key ``bench-chat``) and chats; every row it creates is deleted at the end,
so the dataset stays as generated.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import threading
import time
from urllib.parse import urlparse

from bench import BenchmarkSkipped, Run, benchmark
from bench.bench_foundation import KeepAliveClient, production_server

CHATS = int(os.environ.get("RELAIS_BENCH_CHATS", "200"))
STREAMED = int(os.environ.get("RELAIS_BENCH_CHAT_STREAMED", "50"))
SITE_KEY = "bench-chat"
ORIGIN = "https://shop.bench.example"
AGENT_USERNAME = "bench-chat-agent"


def _setup():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from channels.models import Site
    from crm.roles import AGENT
    from customers.models import ContactPoint

    site, _ = Site.objects.update_or_create(key=SITE_KEY, defaults={"name": "Bench chat", "allowed_origins": ORIGIN,
                                                                     "is_active": True})  # fmt: skip
    agent, _ = get_user_model().objects.update_or_create(
        username=AGENT_USERNAME, defaults={"is_active": True, "first_name": "Bench"}
    )
    agent.groups.set([Group.objects.get(name=AGENT)])
    emails = list(ContactPoint.objects.filter(kind="email").order_by("id").values_list("value", flat=True)[:CHATS])
    if not emails:
        raise BenchmarkSkipped("no customer email in the dataset: load the customers part first")
    return site, agent, emails


def _cleanup(site) -> int:
    from django.db import transaction

    from channels.models import CallbackRequest, ChatMessage, Conversation, Interaction, VisitorLink

    with transaction.atomic():
        ids = list(Conversation.objects.filter(site=site).values_list("id", flat=True))
        Interaction.objects.filter(conversation_id__in=ids).delete()
        ChatMessage.objects.filter(conversation_id__in=ids).delete()
        CallbackRequest.objects.filter(site=site).delete()
        Conversation.objects.filter(id__in=ids).delete()
        VisitorLink.objects.filter(site=site).delete()
    return len(ids)


class _Stream:
    """An ``EventSource``-like reader on one chat's stream: a thread that notes when each ``line`` arrives."""

    def __init__(self, base_url: str, path: str) -> None:
        parsed = urlparse(base_url)
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=70)
        self.connection.request("GET", path, headers={"Accept": "text/event-stream", "Origin": ORIGIN})
        self.response = self.connection.getresponse()
        if self.response.status != 200:
            raise RuntimeError(f"stream answered {self.response.status}: {self.response.read()[:300]!r}")
        self.arrived: dict[int, float] = {}
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        event = None
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith(": connected"):
                    self.ready.set()
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "line":
                    self.arrived[json.loads(line[6:])["id"]] = time.perf_counter()
        except Exception:  # noqa: BLE001 - the connection was closed under the reader: the stream is over
            pass

    def close(self) -> None:
        # Shut the socket down first: closing the buffered response would wait for the reader thread,
        # which sits in a read until the server's next keep-alive (15 s).
        with contextlib.suppress(OSError):
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


@benchmark(
    "channels_chat",
    # Budgets set by this area (the issue gives none for chat): a visitor should never wait on the widget.
    targets={"POST start chat": 150, "POST visitor line": 100, "agent line reaches the widget (SSE)": 100},
    dataset=("staff", "customers"),
)
def channels_chat(run: Run) -> None:
    """The widget API through the production server (gunicorn + 2 uvicorn workers), one keep-alive
    connection with the site's Origin: 200 chats started (each with a known customer's email, a claim
    that links nobody), one visitor line each; then, for 50 of them, the widget's SSE
    stream is open while an agent (in-process service, as the console view calls it) takes the chat and
    answers: the time from the service call to the line arriving on the stream. In-process: ending a chat
    (transcript -> one interaction on the timeline)."""
    from channels.models import Conversation
    from channels.services import chat as chat_services

    os.environ["WIDGET_RATE"] = "1000000/min"  # the bench measures the server, not the rate limit
    site, agent, emails = _setup()
    _cleanup(site)
    headers = {"Content-Type": "application/json", "Accept": "application/json", "Origin": ORIGIN}
    base = f"/api/v1/widget/{SITE_KEY}"
    chats: list[tuple[int, str]] = []
    try:
        with production_server(workers=2) as base_url:
            client = KeepAliveClient(base_url)
            for n in range(CHATS):
                body = json.dumps({"name": f"Visiteur {n}", "email": emails[n % len(emails)],
                                   "message": f"Bonjour, une question sur la commande {n}",
                                   "visitor_id": f"bench-v{n}", "url": f"{ORIGIN}/p/{n}"})  # fmt: skip
                started = time.perf_counter()
                status, _h, content = client.request("POST", f"{base}/chats/", body=body, headers=headers)
                run.record("POST start chat", time.perf_counter() - started)
                if status != 201:
                    run.problem(f"start answered {status}: {content[:300]!r}")
                    return
                data = json.loads(content)
                chats.append((data["id"], data["token"]))
            for chat_id, token in chats:
                started = time.perf_counter()
                status, _h, content = client.request("POST", f"{base}/chats/{chat_id}/messages/",
                                                     body=json.dumps({"body": "Merci !"}),
                                                     headers={**headers, "X-Chat-Token": token})  # fmt: skip
                run.record("POST visitor line", time.perf_counter() - started)
                if status != 201:
                    run.problem(f"post answered {status}: {content[:300]!r}")
                    return
            linked = Conversation.objects.filter(site=site, customer__isnull=False).count()
            run.note(f"{linked} of {len(chats)} chats linked to a customer at start (a typed email is a claim)")

            for chat_id, token in chats[:STREAMED]:
                started = time.perf_counter()
                stream = _Stream(base_url, f"{base}/chats/{chat_id}/stream/?token={token}")
                try:
                    if not stream.ready.wait(10):
                        run.problem("the stream did not connect within 10 s")
                        return
                    run.record("open the widget's stream (GET stream/)", time.perf_counter() - started)
                    conversation = chat_services.chat_take(conversation=Conversation.objects.get(pk=chat_id),
                                                           agent=agent)  # fmt: skip
                    time.sleep(0.05)  # let the "joined" line pass: measure the answer alone
                    started = time.perf_counter()
                    line = chat_services.chat_agent_reply(conversation=conversation, agent=agent,
                                                          body="Je regarde votre commande.")  # fmt: skip
                    deadline = time.perf_counter() + 5
                    while line.pk not in stream.arrived and time.perf_counter() < deadline:
                        time.sleep(0.001)
                    if line.pk not in stream.arrived:
                        run.problem(f"the agent's line never reached chat {chat_id}'s stream")
                        return
                    run.record("agent line reaches the widget (SSE)", stream.arrived[line.pk] - started)
                finally:
                    stream.close()
            client.close()

        for chat_id, _token in chats[:STREAMED]:
            with run.timer("end chat (transcript -> interaction)"):
                chat_services.chat_end(conversation=Conversation.objects.get(pk=chat_id), acting_user=agent)
    finally:
        removed = _cleanup(site)
        run.note(f"{removed} bench chats and their lines and interactions deleted afterwards")
