"""A real local HTTP server speaking the generic JSON SMS API, run in a thread for the tests.

``POST /messages`` with ``Authorization: Bearer <token>`` and ``{"to", "from", "text"}`` answers
201 ``{"id": "fake-000001", "status": "queued"}``. It keeps every request it received (headers and
JSON body) and every message it took (``sent``), and can be told to fail the next requests
(``fail_next(status, body, times)``) or to be slow (``delay`` for every request, ``slow_next(seconds,
times)`` for the next ones), so the adapter's error handling and retries are tested over a real socket.

Like a real provider, it takes the message before it answers: a slow answer arrives after the SMS
went. It honours the ``Idempotency-Key`` header: a request repeating the key of a message it took
answers that message's id and sends nothing new.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ReceivedRequest:
    path: str
    headers: dict
    body: dict | None
    raw: bytes


@dataclass
class FakeSmsServer:
    token: str = "test-sms-token"
    received: list[ReceivedRequest] = field(default_factory=list)
    failures: list[tuple[int, bytes]] = field(default_factory=list)
    delay: float = 0.0
    sent: list[dict] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    _by_key: dict = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _counter: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/messages"

    def fail_next(self, status: int, body: dict | str, *, times: int = 1) -> None:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
        self.failures.extend([(status, raw)] * times)

    def slow_next(self, seconds: float, *, times: int = 1) -> None:
        self.delays.extend([seconds] * times)

    def start(self) -> FakeSmsServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output quiet
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                key = self.headers.get("Idempotency-Key") or ""
                with fake._lock:
                    fake.received.append(ReceivedRequest(self.path, dict(self.headers.items()), body, raw))
                    failure = fake.failures.pop(0) if fake.failures else None
                    delay = fake.delays.pop(0) if fake.delays else fake.delay
                    fake._counter += 1
                    number = fake._counter
                    answer = self._decide(body, failure, number, key)
                if delay:
                    time.sleep(delay)
                return self._answer(*answer)

            def _decide(self, body, failure, number: int, key: str) -> tuple[int, bytes]:
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return 401, json.dumps({"error": {"message": "Invalid API token"}}).encode()
                if failure is not None:
                    return failure
                if not isinstance(body, dict) or not {"to", "from", "text"} <= body.keys():
                    return 400, json.dumps({"error": "to, from and text are required"}).encode()
                if key and key in fake._by_key:
                    return 201, json.dumps({"id": fake._by_key[key], "status": "queued"}).encode()
                message_id = f"fake-{number:06d}"
                fake.sent.append({"id": message_id, **body})
                if key:
                    fake._by_key[key] = message_id
                return 201, json.dumps({"id": message_id, "status": "queued"}).encode()

            def _answer(self, status: int, raw: bytes):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting (its timeout): the message was taken all the same

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
