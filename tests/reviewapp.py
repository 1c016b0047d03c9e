"""Test helper for every review-app test: the real `lurewatch review` in a subprocess, with accounts, and a login
for Playwright pages and HTTP sessions.

    from reviewapp import Session, login, start_review_app

    app = start_review_app(db_path)                   # accounts ana (analyst, "pw1") and vic (viewer, "pw2")
    try:
        session = Session()                           # urllib with a cookie jar (requests/httpx sessions work too)
        login(session, app.url, "ana", "pw1")
        status, body = session.get(app.url + "/-/lurewatch/whoami")
        login(page, app.url, "vic", "pw2")            # a Playwright page
    finally:
        app.stop()

`start_review_app` also works as a context manager (`with start_review_app(db) as app:`).
Anonymous requests: HTML GETs (Accept: text/html) get 302 to /-/login?next=..., anything else 401. Five wrong
passwords for one user name lock that name for 15 minutes in that app process: test wrong logins with a user
name of their own.
"""
from __future__ import annotations

import html
import http.cookiejar
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LUREWATCH = Path(sys.executable).with_name("lurewatch")
DEFAULT_USERS = {"ana": ("analyst", "pw1"), "vic": ("viewer", "pw2")}
LOGIN_PATH = "/-/login"


class LoginFailed(AssertionError):
    """The login form did not give a session."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReviewApp:
    """A running `lurewatch review`: `.url` (http://127.0.0.1:PORT, no trailing slash), `.db_url` (the database's
    pages), `.db_path`, `.proc`, `.users` ({name: (role, password)}), `.stop()`."""

    def __init__(self, proc: subprocess.Popen, url: str, db_path: Path, users: dict):
        self.proc, self.url, self.db_path, self.users = proc, url, Path(db_path), users
        self.db_name = self.db_path.stem
        self.db_url = f"{url}/{self.db_name}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)

    def __enter__(self) -> "ReviewApp":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def add_accounts(db_path, users: dict) -> None:
    """Create (or reset) the accounts {name: (role, password)} in the database, through the library."""
    from output.review.users import add_user

    for name, (role, password) in users.items():
        add_user(db_path, name, role, password, replace=True)


def start_review_app(db_path, users: dict | None = None, *args: str, log=None, prefix=(), timeout: float = 60) -> ReviewApp:
    """`lurewatch review --db DB --port FREE ARGS` in a subprocess, once it answers. `users` ({name: (role,
    password)}, default DEFAULT_USERS) are created first; pass {} for a database that already has its accounts
    (e.g. a read-only one). `log`: a file for the app's output (default: a pipe, read on failure); `prefix`:
    a command to run it under."""
    users = DEFAULT_USERS if users is None else users
    if users:
        add_accounts(db_path, users)
    port = free_port()
    out = subprocess.PIPE if log is None else log
    proc = subprocess.Popen([*prefix, str(LUREWATCH), "review", "--db", str(db_path), "--port", str(port), *args],
                            cwd=REPO, stdout=out, stderr=subprocess.STDOUT if log is None else log, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            raise RuntimeError(f"lurewatch review exited {proc.returncode}: {output}")
        try:
            urllib.request.urlopen(url + LOGIN_PATH, timeout=2).read()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("lurewatch review did not start listening") from None
            time.sleep(0.1)
    return ReviewApp(proc, url, db_path, dict(users))


# -- HTTP sessions --------------------------------------------------------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Session:
    """A urllib cookie session. `get`/`post` return (status, body text); `last_headers` are the last response's
    headers. Redirects are followed unless `follow=False` (then the 3xx status is returned)."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        cookies = urllib.request.HTTPCookieProcessor(self.jar)
        self.opener = urllib.request.build_opener(cookies)
        self.opener_no_redirect = urllib.request.build_opener(cookies, _NoRedirect)
        self.last_headers = None

    def request(self, method: str, url: str, data: dict | None = None, headers: dict | None = None,
                follow: bool = True) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        opener = self.opener if follow else self.opener_no_redirect
        try:
            with opener.open(req, timeout=30) as resp:
                self.last_headers = resp.headers
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            self.last_headers = exc.headers
            return exc.code, exc.read().decode("utf-8", "replace")

    def get(self, url: str, headers: dict | None = None, follow: bool = True) -> tuple[int, str]:
        return self.request("GET", url, headers=headers, follow=follow)

    def post(self, url: str, data: dict, headers: dict | None = None, follow: bool = True) -> tuple[int, str]:
        return self.request("POST", url, data=data, headers=headers, follow=follow)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def csrftoken(self, url: str) -> str:
        """The CSRF token of the form on the page at `url` (the page sets the matching cookie)."""
        status, page = self.get(url)
        match = re.search(r'name="csrftoken" value="([^"]+)"', page)
        if not match:
            raise AssertionError(f"{url}: {status}, no csrftoken in the page: {page[:500]}")
        return html.unescape(match.group(1))


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def login(page_or_session, url: str, user: str, password: str):
    """Log in through the real login form at `url`'s /-/login. Works for a Playwright page, a `Session` above,
    a requests.Session or an httpx.Client. Raises LoginFailed when no session cookie results. Returns the
    page/session."""
    login_url = _origin(url) + LOGIN_PATH
    target = page_or_session
    if hasattr(target, "goto") and hasattr(target, "fill"):  # Playwright page (sync API)
        target.goto(login_url)
        target.fill("input[name=username]", user)
        target.fill("input[name=password]", password)
        with target.expect_navigation():
            target.click("input[type=submit]")
        if not any(c["name"] == "ds_actor" for c in target.context.cookies(login_url)):
            raise LoginFailed(f"login as {user!r} failed: {target.url}")
        return target
    if isinstance(target, Session):
        token = target.csrftoken(login_url)
        status, body = target.post(login_url, {"username": user, "password": password, "csrftoken": token},
                                   follow=False)
        if status != 302 or not target.cookie("ds_actor"):
            raise LoginFailed(f"login as {user!r} failed: {status} {body[:300]}")
        return target
    # requests.Session / httpx.Client: .get/.post and a .cookies jar
    page = target.get(login_url)
    match = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    if not match:
        raise LoginFailed(f"{login_url}: {page.status_code}, no csrftoken in the page")
    data = {"username": user, "password": password, "csrftoken": html.unescape(match.group(1))}
    try:
        resp = target.post(login_url, data=data, allow_redirects=False)  # requests
    except TypeError:
        resp = target.post(login_url, data=data, follow_redirects=False)  # httpx
    if resp.status_code != 302 or not target.cookies.get("ds_actor"):
        raise LoginFailed(f"login as {user!r} failed: {resp.status_code} {resp.text[:300]}")
    return target
