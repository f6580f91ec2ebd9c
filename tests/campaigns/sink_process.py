"""An SMTP sink in its own process, for the outbox's reliability tests and benchmarks.

``python -m tests.campaigns.sink_process`` starts aiosmtpd on a free loopback port and a small HTTP
server beside it, then prints one JSON line ``{"smtp": port, "http": port}``. It counts what it
received by ``Message-ID`` (the truth for "exactly once"):

- ``GET /stats`` -> ``{"received": n, "unique": n, "duplicates": {message_id: count, ...}}``
- ``GET /lookup?message_id=<id>`` -> ``{"found": true|false}``: the relay's answer to "did you take this
  message?" (``CAMPAIGNS_SMTP_LOOKUP_URL``), as a provider's message-events API would give.
"""

from __future__ import annotations

import collections
import json
import signal
import socket
import sys
import threading
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller


class CountingHandler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content)
        message_id = (headers.get("Message-ID") or "").strip()
        with self.lock:
            self.counts[message_id] += 1
            self.received += 1
        return "250 OK"


def main() -> int:
    handler = CountingHandler()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()

    class Http(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urlsplit(self.path)
            with handler.lock:
                if url.path == "/lookup":
                    wanted = (parse_qs(url.query).get("message_id") or [""])[0].strip()
                    body = {"found": handler.counts.get(wanted, 0) > 0}
                else:
                    body = {"received": handler.received, "unique": len(handler.counts),
                            "duplicates": {k: v for k, v in handler.counts.items() if v > 1}}  # fmt: skip
            raw = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    http = ThreadingHTTPServer(("127.0.0.1", 0), Http)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=http.shutdown).start())
    print(json.dumps({"smtp": smtp_port, "http": http.server_address[1]}), flush=True)
    try:
        http.serve_forever()
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
