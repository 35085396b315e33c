"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 (a random port, its own thread) that verifies
every request with ``standardwebhooks`` as a customer's receiver would, and keeps what it received.

It can be down in the two ways receivers are: ``stop()`` closes the port (connections are refused) and
``answer = 503`` keeps it up but failing. ``start()`` on the same port brings it back.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

from tests.mailserver import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: str
    payload: dict | None  # None: the signature did not verify (the request was refused with 400)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def type(self) -> str:
        return self.payload["type"]

    @property
    def issue_id(self) -> int | None:
        return Receiver.issue_of(self.payload)


class Receiver:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.secrets: dict[str, str] = {}  # path -> the endpoint's secret
        self.received: list[Received] = []
        self.failed_attempts = 0  # requests answered with `answer` while it is not 2xx
        self.answer = 200
        self.choke_on: set[int] = set()  # issue ids whose events it answers 500 (a bug of its own)
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server calls
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.take(self, self.path.lstrip("/"), headers, body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self, handler: BaseHTTPRequestHandler, path: str, headers: dict[str, str], body: str) -> None:
        with self.lock:
            if self.answer != 200:
                self.failed_attempts += 1
                status, text = self.answer, "Service Unavailable"
            elif (payload := self.verify(path, headers, body)) and self.issue_of(payload) in self.choke_on:
                self.failed_attempts += 1
                status, text = 500, "Internal Server Error"
            else:
                self.received.append(Received(path, headers, body, payload))
                status, text = (200, "ok") if payload is not None else (400, "bad signature")
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain")
        handler.end_headers()
        handler.wfile.write(text.encode())

    @staticmethod
    def issue_of(payload: dict) -> int | None:
        return ((payload.get("data") or {}).get("issue") or {}).get("id")

    def verify(self, path: str, headers: dict[str, str], body: str) -> dict | None:
        secret = self.secrets.get(path)
        if secret is None:
            return None
        try:
            return Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            return None

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # --- what the tests read ---

    def verified(self, path: str | None = None) -> list[Received]:
        return [item for item in self.received if item.payload is not None and path in (None, item.path)]

    def rejected(self) -> list[Received]:
        return [item for item in self.received if item.payload is None]

    def bodies(self, path: str) -> list[dict]:
        return [json.loads(item.body) for item in self.received if item.path == path]


def serve_and_count(port: int, path: str, secret: str) -> None:
    """Run a verifying receiver in its own process until SIGTERM, then print what it received: requests, distinct
    webhook-ids, and requests whose signature failed. The benchmark uses it so the receiver does not share a
    Python interpreter with the sender."""
    import signal

    receiver = Receiver(port)
    receiver.secrets[path] = secret
    receiver.start()
    print("ready", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    receiver.stop()
    print(len(receiver.received), len({item.webhook_id for item in receiver.received}), len(receiver.rejected()),
          flush=True)


if __name__ == "__main__":
    import sys

    serve_and_count(int(sys.argv[1]), sys.argv[2], sys.argv[3])
