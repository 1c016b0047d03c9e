"""POST one alert to a Standard Webhooks endpoint, signed with the `standardwebhooks` library.

Headers `webhook-id` (the same on every retry and in a later run: receivers dedupe on it), `webhook-timestamp`
and `webhook-signature` (v1, HMAC-SHA256 over "id.timestamp.body"). 2xx acknowledges; 410 Gone means the
receiver wants no more (the partner is disabled); 408, 429, 5xx and network errors are retried with exponential
backoff (429 waits what its Retry-After says); any other answer fails at once. Redirects are not followed.
"""
from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable

from standardwebhooks import Webhook as Signer

from .partners import Webhook

MAX_WAIT = 300.0  # seconds: a longer Retry-After or backoff ends this run's attempts (the next run tries again)
RETRY_STATUSES = {408, 429, 500, 502, 503, 504}
USER_AGENT = "Lurewatch-alerts/1 (+https://github.com/lurewatch/lurewatch)"


@dataclass
class Outcome:
    status: str  # delivered | failed | gone
    response: str  # the receiver's status and the start of its answer, or the network error
    attempts: int


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is the receiver's answer, not a place to send the alert to


_OPENER = urllib.request.build_opener(_NoRedirect)


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number of seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def post(hook: Webhook, secret: str, msg_id: str, body: bytes, content_type: str,
         say: Callable[[str], None] = lambda line: None, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Deliver `body` under `msg_id`, retrying as above. Never raises for the receiver's or the network's errors."""
    signer = Signer(secret)
    attempts = 0
    response = ""
    while True:
        attempts += 1
        now = datetime.now(timezone.utc)
        headers = {"content-type": content_type, "user-agent": USER_AGENT, "webhook-id": msg_id,
                   "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": signer.sign(msg_id, now, body)}
        request = urllib.request.Request(hook.url, data=body, headers=headers, method="POST")
        code, wait_header = None, None
        try:
            with _OPENER.open(request, timeout=hook.timeout) as answer:
                code, text = answer.status, answer.read(400).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            code, wait_header = exc.code, exc.headers.get("Retry-After")
            try:
                text = exc.read(400).decode("utf-8", "replace")
            except OSError:
                text = ""
        except (urllib.error.URLError, socket.timeout, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            text = f"network error: {str(reason) or type(exc).__name__}"
        response = f"{code} {text.strip()}"[:300] if code is not None else text[:300]
        if code is not None and 200 <= code < 300:
            return Outcome("delivered", response, attempts)
        if code == 410:
            return Outcome("gone", response, attempts)
        if code is not None and code not in RETRY_STATUSES:
            return Outcome("failed", response, attempts)
        if attempts > hook.retries:
            return Outcome("failed", response, attempts)
        wait = retry_after(wait_header) if code == 429 else None
        why = "Retry-After" if wait is not None else "backoff"
        if wait is None:
            wait = hook.backoff * 2 ** (attempts - 1)
        if wait > MAX_WAIT:
            return Outcome("failed", f"{response} (asked to wait {wait:.0f}s: next run)", attempts)
        say(f"{response.splitlines()[0][:80]}; retry {attempts}/{hook.retries} in {wait:g}s ({why})")
        sleep(wait)
