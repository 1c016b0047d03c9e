"""Datasette plugin: login, roles and anonymous refusal for the Lurewatch review app.

- `/-/login` (GET form, POST `username`, `password`, `csrftoken`, `next`) checks the account in the database's
  `users` table (output/review/users.py) and sets Datasette's signed `ds_actor` cookie
  `{"id": name, "role": "analyst" | "viewer"}` that expires after SESSION_SECONDS. A wrong password and an
  unknown user get the same message; MAX_FAILURES failures for one user name lock it for LOCK_SECONDS.
- Every other request needs a valid session (LoginGate, an ASGI wrapper): HTML GETs are redirected to
  `/-/login?next=...`, anything else gets 401. Open without login: the login page and the stylesheet it uses.
  A session whose account was removed or whose role changed counts as none.
- Permissions: `lurewatch-record-verdict` for analysts only; nothing for anonymous; the users table is never
  shown, and no connection of the app may read it (SQLite authorizer); the database file cannot be downloaded.
- `/-/lurewatch/whoami` (JSON): the logged-in account, its role and whether it may record verdicts.
"""
from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from urllib.parse import parse_qsl, quote

from datasette import hookimpl
from datasette.utils import baseconv
from datasette.utils.asgi import Request, Response
from itsdangerous import BadSignature

from output.review.users import TABLE, check_login, deny_users_table, lookup

RECORD_VERDICT = "lurewatch-record-verdict"
LOGIN_PATH = "/-/login"
OPEN_PATHS = {LOGIN_PATH, "/-/static/app.css", "/favicon.ico"}  # what the login page needs
SESSION_SECONDS = 12 * 3600
MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
FAILURE_DELAY = 0.5  # seconds added to each failed login (with the PBKDF2 cost: a slow guesser)
WRONG_LOGIN = "Wrong user name or password."
DATA_SUFFIXES = ("json", "csv", "tsv", "db", "txt")

MAX_TRACKED_NAMES = 10_000  # memory bound for the failure counts (user names sprayed by a guesser)

_failures: dict[str, deque] = defaultdict(lambda: deque(maxlen=MAX_FAILURES))  # user name -> its last failed logins


# -- sessions -------------------------------------------------------------------------------------------------------
def session_cookie(datasette, name: str, role: str, seconds: int = SESSION_SECONDS) -> str:
    """A signed `ds_actor` value, in the format Datasette's own actor_from_request reads (with an expiry)."""
    expires = baseconv.base62.encode(int(time.time()) + seconds)
    return datasette.sign({"a": {"id": name, "role": role}, "e": expires}, "actor")


def cookie_actor(datasette, value: str | None) -> dict | None:
    """The actor in a `ds_actor` cookie value, or None when it is missing, forged, expired or has no expiry."""
    if not value:
        return None
    try:
        decoded = datasette.unsign(value, "actor")
        expires = int(baseconv.base62.decode(decoded["e"]))
        actor = decoded["a"]
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if time.time() > expires or not isinstance(actor, dict) or not isinstance(actor.get("id"), str):
        return None
    return actor


def users_database(datasette):
    """The Lurewatch database (the one file-backed database the app serves), or None."""
    for name, db in datasette.databases.items():
        if name != "_internal" and not db.is_memory:
            return db
    return None


async def account(datasette, name: str) -> tuple[str, str] | None:
    """(role, password hash) of an account, or None."""
    db = users_database(datasette)
    if db is None or not name:
        return None
    return await db.execute_fn(lambda conn: lookup(conn, name))


async def current_actor(datasette, cookies: dict) -> dict | None:
    """The session's actor when its account still exists with the same role; else None."""
    actor = cookie_actor(datasette, cookies.get("ds_actor"))
    if actor is None:
        return None
    found = await account(datasette, actor["id"])
    return actor if found and found[0] == actor.get("role") else None


# -- refusing anonymous requests -------------------------------------------------------------------------------------
def _wants_html(scope) -> bool:
    last = scope.get("path", "").rsplit("/", 1)[-1]
    if scope.get("method") not in ("GET", "HEAD") or ("." in last and last.rsplit(".", 1)[1] in DATA_SUFFIXES):
        return False
    query = dict(parse_qsl((scope.get("query_string") or b"").decode("latin-1")))
    if query.get("_format") in ("json", "csv"):
        return False
    return b"text/html" in dict(scope.get("headers") or []).get(b"accept", b"")


def _without_session_cookie(scope) -> dict:
    """`scope` with the ds_actor cookie taken out (so Datasette shows no stale account on the login page)."""
    headers = []
    for key, value in scope.get("headers") or []:
        if key == b"cookie":
            kept = [c for c in value.split(b";") if c.strip().split(b"=", 1)[0] != b"ds_actor"]
            if not kept:
                continue
            value = b";".join(kept)
        headers.append((key, value))
    return {**scope, "headers": headers}


class LoginGate:
    """ASGI middleware: requests without a valid session reach only OPEN_PATHS."""

    def __init__(self, app, datasette):
        self.app = app
        self.datasette = datasette

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if await current_actor(self.datasette, Request(scope, receive).cookies):
            return await self.app(scope, receive, send)
        raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1").partition("?")[0]
        if scope["path"] in OPEN_PATHS and raw in OPEN_PATHS:
            return await self.app(_without_session_cookie(scope), receive, send)
        await self.refuse(scope, send)

    async def refuse(self, scope, send):
        if _wants_html(scope):
            target = scope["path"] + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
            location = LOGIN_PATH if target in ("/", "") else f"{LOGIN_PATH}?next={quote(target, safe='')}"
            headers = [(b"location", location.encode("latin-1")), (b"content-type", b"text/plain; charset=utf-8")]
            status, body = 302, b"Log in first: " + location.encode("latin-1") + b"\n"
        else:
            headers = [(b"content-type", b"application/json; charset=utf-8"), (b"www-authenticate", b"Cookie")]
            status = 401
            body = json.dumps({"ok": False, "status": 401,
                               "error": f"Login required: log in at {LOGIN_PATH} (session cookie ds_actor)"}).encode()
        headers += [(b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@hookimpl(tryfirst=True)  # called first, so wrapped first: the host/header guard stays outermost
def asgi_wrapper(datasette):
    def wrap(app):
        return LoginGate(app, datasette)

    return wrap


# -- permissions ----------------------------------------------------------------------------------------------------
@hookimpl
def prepare_connection(conn):
    conn.set_authorizer(deny_users_table)


@hookimpl
def permission_allowed(actor, action, resource):
    if actor is None:
        return False
    if action == RECORD_VERDICT:
        return actor.get("role") == "analyst"
    if action == "view-database-download":
        return False
    if action == "view-table" and isinstance(resource, tuple) and resource[1:] == (TABLE,):
        return False
    return None


# -- login page and whoami ------------------------------------------------------------------------------------------
def safe_next(target: str | None) -> str:
    """A local path to go to after login (never another site, never the login page itself)."""
    target = (target or "").strip()
    if (not target.startswith("/") or target.startswith(("//", "/\\")) or any(ord(c) < 32 for c in target)
            or target.split("?")[0] == LOGIN_PATH):
        return "/"
    return target


def _locked(name: str) -> int:
    """Seconds until `name` may try again (0: not locked); forgets failures older than LOCK_SECONDS."""
    times = _failures[name]
    now = time.monotonic()
    while times and now - times[0] > LOCK_SECONDS:
        times.popleft()
    if not times:
        _failures.pop(name, None)
        return 0
    return int(LOCK_SECONDS - (now - times[0])) + 1 if len(times) >= MAX_FAILURES else 0


def _forget_old_failures() -> None:
    """Drop names whose last failure is older than LOCK_SECONDS; if still full, the oldest half."""
    now = time.monotonic()
    for name in [n for n, times in _failures.items() if not times or now - times[-1] > LOCK_SECONDS]:
        del _failures[name]
    if len(_failures) >= MAX_TRACKED_NAMES:
        for name in sorted(_failures, key=lambda n: _failures[n][-1])[: MAX_TRACKED_NAMES // 2]:
            del _failures[name]


async def login(request, datasette):
    if request.method in ("GET", "HEAD"):
        return await _login_page(datasette, request, next_url=request.args.get("next", ""))
    if request.method != "POST":
        return Response.text("Method not allowed: GET the login form, POST it.", status=405)
    form = await request.post_vars()
    name, password = form.get("username", "").strip(), form.get("password", "")
    next_url = form.get("next", "")
    if "ds_csrftoken" not in request.cookies:
        # asgi-csrf lets a POST without any cookie through; a login form always has its token cookie
        return Response.text("CSRF check failed: reload the login page and try again.", status=403)
    wait = _locked(name)
    if wait:
        return await _login_page(datasette, request, name, next_url, status=429,
                                 error=f"Too many failed logins for this user name: try again in {wait // 60 + 1} minutes.")
    found = await account(datasette, name) if name else None
    ok = await asyncio.get_running_loop().run_in_executor(None, check_login, password, found[1] if found else None)
    if not ok:
        if len(_failures) >= MAX_TRACKED_NAMES and name not in _failures:
            _forget_old_failures()
        _failures[name].append(time.monotonic())
        await asyncio.sleep(FAILURE_DELAY)
        return await _login_page(datasette, request, name, next_url, status=401, error=WRONG_LOGIN)
    _failures.pop(name, None)
    response = Response.redirect(safe_next(next_url))
    response.set_cookie("ds_actor", session_cookie(datasette, name, found[0]), max_age=SESSION_SECONDS,
                        httponly=True, samesite="lax")
    return response


async def _login_page(datasette, request, username="", next_url="", status=200, error=""):
    html = await datasette.render_template("auth_login.html", {
        "username": username, "next": safe_next(next_url) if next_url else "", "error": error,
        "login_path": LOGIN_PATH}, request=request)
    return Response.html(html, status=status)


async def whoami(request, datasette):
    actor = request.actor or {}
    return Response.json({
        "id": actor.get("id"), "role": actor.get("role"),
        "can_record_verdict": await datasette.permission_allowed(request.actor, RECORD_VERDICT, default=False)})


@hookimpl
def register_routes():
    return [(r"^/-/login$", login), (r"^/-/lurewatch/whoami$", whoami)]
