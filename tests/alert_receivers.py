"""Webhook receivers for the alert tests: real HTTP servers on 127.0.0.1 that verify every POST with the
`standardwebhooks` library (as a partner would) and answer what the test tells them (200, 500, 429, 410...)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from standardwebhooks import Webhook, WebhookVerificationError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # a test secret (base64 of 24 bytes)

# (request number from 1, webhook-id) -> (status, extra headers); status 0 answers with a line that is not HTTP
Answer = Callable[[int, str], "tuple[int, dict[str, str]]"]


class Receiver:
    def __init__(self, answer: Answer | None = None, secret: str = SECRET, hold: int | None = None, port: int = 0):
        self.secret = secret
        self.answer = answer or (lambda n, msg_id: (200, {}))
        self.requests: list[dict] = []  # every POST: id, verified, payload (parsed JSON or text), headers, arrived
        self.hold = hold  # hold this request (number from 1) until `release` is set
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no ~40 ms stall per keep-alive response

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secret).verify(body, headers, json_parse=False)
                    verified = True
                except WebhookVerificationError:
                    verified = False
                json_body = headers.get("content-type", "").startswith("application/")
                payload = json.loads(body) if verified and json_body else body.decode("utf-8", "replace")
                with receiver.lock:
                    receiver.requests.append({"id": headers.get("webhook-id"), "verified": verified,
                                              "payload": payload, "headers": headers, "arrived": time.monotonic()})
                    number = len(receiver.requests)
                if receiver.hold == number:
                    receiver.holding.set()
                    receiver.release.wait(60)
                status, extra = receiver.answer(number, headers.get("webhook-id"))
                text = json.dumps({"ok": 200 <= status < 300}).encode()
                if status == 0:  # not HTTP at all: a broken proxy or server
                    self.close_connection = True
                    self.wfile.write(b"SPAM 42\r\n\r\n")
                    return
                try:
                    self.send_response(status)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except OSError:
                    pass  # the sender is gone (killed mid-request)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def alerts(self) -> list[dict]:
        """The `alert` key of each verified jsonl body received, in order of arrival."""
        return [r["payload"]["alert"] for r in self.requests if r["verified"]]
