"""A fake SMS gateway on 127.0.0.1 that counts every message it is handed.

``POST /send`` accepts a message (JSON with ``reference``) and answers its id;
``GET /messages/<reference>`` answers 200 with the id if it has the message, else
404 (the look-up ``HttpGatewayBackend`` reconciles with). Every POST is counted by
reference, so a message handed over twice shows as a duplicate.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeGateway:
    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.idempotency_keys: list[str] = []
        self.lookups = 0
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                reference = str(json.loads(self.rfile.read(length))["reference"])
                with gateway._lock:
                    gateway.received[reference] += 1
                    gateway.idempotency_keys.append(self.headers.get("Idempotency-Key", ""))
                self._answer(200, {"id": f"gw-{reference}"})

            def do_GET(self) -> None:  # noqa: N802
                reference = self.path.rsplit("/", 1)[-1]
                with gateway._lock:
                    gateway.lookups += 1
                    known = reference in gateway.received
                if known:
                    self._answer(200, {"id": f"gw-{reference}"})
                else:
                    self._answer(404, {"error": "unknown"})

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        base = f"http://127.0.0.1:{self.server.server_port}"
        self.send_url = f"{base}/send"
        self.lookup_url = base + "/messages/{message_id}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def total(self) -> int:
        with self._lock:
            return sum(self.received.values())

    def duplicates(self) -> int:
        with self._lock:
            return sum(n - 1 for n in self.received.values() if n > 1)

    def __enter__(self) -> FakeGateway:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
