"""Review app login (issue 13): accounts, sessions, roles, CSRF and anonymous refusal, on the real
`lurewatch review` in a subprocess (tests/reviewapp.py), over HTTP and in Chromium."""
from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
import urllib.parse

import pytest

from conftest import run_cli
from crawler.browser import LAUNCH_ARGS, find_chromium
from crawler.store import Store
from output.review.users import hash_password, verify_password
from reviewapp import DEFAULT_USERS, LUREWATCH, LoginFailed, Session, login, start_review_app

needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="no Chromium (run `make browser`)")
SECRET_TITLE = "CSR Sihanoukville secret-title"


def make_db(path):
    store = Store(path)
    store.save_ad({"url": "http://a.example/1", "source": "a.example", "title": SECRET_TITLE,
                   "description": "Free flight to Sihanoukville."},
                  {"score": 88, "level": "high", "flagged": True, "language": "en", "categories": ["destination"],
                   "summary": "1 hit", "evidence": [{"rule_id": "dest.kh", "category": "destination", "weight": 1.0,
                                                      "matched_text": "Sihanoukville", "field": "description",
                                                      "start": 15, "end": 28, "explanation": "x"}]})
    store.close()
    return path


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db = make_db(tmp_path_factory.mktemp("auth") / "authdb.db")
    with start_review_app(db, {**DEFAULT_USERS, "wendy": ("viewer", "pw-wendy")}) as running:
        yield running


@pytest.fixture(scope="module")
def analyst(app):
    return login(Session(), app.url, "ana", DEFAULT_USERS["ana"][1])


def stored_hashes(db) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("select password_hash from users")]
    finally:
        conn.close()


# -- anonymous ------------------------------------------------------------------------------------------------------
HTML_PATHS = ["/", "/authdb", "/authdb/ads", "/authdb/ads/1", "/authdb/evidence?category=destination",
              "/authdb/unreviewed_high_risk", "/authdb?sql=select+title+from+ads", "/authdb/users",
              "/-/logout", "/-/lurewatch/queue", "/-/lurewatch/ad/1", "/-/lurewatch/mine", "/-/lurewatch/dashboard",
              "/-/static/table.js", "/-/static-plugins/x/y.js", "/-/%6Cogin", "/favicon.png"]
CLOSED_PATHS = ["/-/databases", "/-/actor", "/-/permissions", "/-/login/", "/-/metadata", "/-/databases.json",
                "/-/actor.json"]  # 404 from the host/header guard
DATA_PATHS = ["/.json", "/authdb.json", "/authdb/ads.json", "/authdb/ads/1.json", "/authdb/ads.csv",
              "/authdb/ads?_format=json", "/authdb/unreviewed_high_risk.json", "/authdb.json?sql=select+title+from+ads",
              "/authdb.csv?sql=select+title+from+ads", "/-/lurewatch/whoami", "/authdb/evidence.json?_shape=array",
              "/authdb.db"]


@pytest.mark.parametrize("path", HTML_PATHS)
def test_anonymous_html_is_sent_to_the_login_page(app, path):
    anonymous = Session()
    status, body = anonymous.get(app.url + path, headers={"Accept": "text/html"}, follow=False)
    assert status == 302, body[:300]
    location = anonymous.last_headers["Location"]
    route, _, query = path.partition("?")
    asked = urllib.parse.unquote(route) + ("?" + query if query else "")
    assert location == ("/-/login" if path == "/" else "/-/login?next=" + urllib.parse.quote(asked, safe=""))
    assert SECRET_TITLE not in body and "authdb.db" not in body


@pytest.mark.parametrize("path", CLOSED_PATHS)
def test_anonymous_introspection_is_not_found(app, path):
    """The host/header guard answers before the login gate: Datasette's /-/ pages do not exist for anyone."""
    status, body = Session().get(app.url + path, headers={"Accept": "text/html"}, follow=False)
    assert status == 404 and body == "Not found\n"


def test_json_endpoint_gets_401_even_when_a_browser_asks(app):
    status, _ = Session().get(app.url + "/authdb/ads.json", headers={"Accept": "text/html,*/*"}, follow=False)
    assert status == 401


@pytest.mark.parametrize("path", DATA_PATHS)
def test_anonymous_json_and_csv_get_401(app, path):
    status, body = Session().get(app.url + path)
    assert status == 401, body[:300]
    assert json.loads(body)["error"].startswith("Login required")
    assert SECRET_TITLE not in body


@pytest.mark.parametrize("path", ["/authdb/ads", "/-/lurewatch/ad/1/verdict", "/-/logout", "/authdb/unreviewed_high_risk"])
def test_anonymous_post_is_refused(app, path):
    status, body = Session().post(app.url + path, {"verdict": "lure", "csrftoken": "x"}, follow=False)
    assert status == 401, body[:300]


@pytest.mark.parametrize("cookie", ["garbage", "eyJhIjp7ImlkIjoiYW5hIiwicm9sZSI6ImFuYWx5c3QifX0.forged"])
def test_forged_session_cookie_is_refused(app, cookie):
    status, _ = Session().get(app.url + "/authdb/ads.json", headers={"Cookie": f"ds_actor={cookie}"})
    assert status == 401


@pytest.mark.parametrize("path", ["/-/login", "/-/static/app.css"])
def test_login_page_and_its_stylesheet_are_open(app, path):
    status, body = Session().get(app.url + path)
    assert status == 200 and body


@pytest.mark.parametrize("method, status", [("HEAD", 200), ("PUT", 405), ("DELETE", 405)])
def test_login_page_other_methods(app, method, status):
    session = Session()
    session.get(app.url + "/-/login")  # the CSRF cookie, so asgi-csrf lets PUT/DELETE through to the view
    token = session.cookie("ds_csrftoken")
    assert session.request(method, app.url + "/-/login", headers={"x-csrftoken": token}, follow=False)[0] == status
    assert session.cookie("ds_actor") is None


def test_login_page_has_the_form(app):
    status, page = Session().get(app.url + "/-/login")
    assert status == 200
    assert re.search(r'<form[^>]+action="/-/login" method="post"', page)
    for field in ('name="username"', 'name="password"', 'type="password"', 'name="csrftoken" value="'):
        assert field in page
    assert SECRET_TITLE not in page


# -- login, session, logout -----------------------------------------------------------------------------------------
def test_login_sets_a_signed_expiring_http_only_cookie(app):
    session = Session()
    token = session.csrftoken(app.url + "/-/login")
    status, _ = session.post(app.url + "/-/login", {"username": "ana", "password": "pw1", "csrftoken": token,
                                                   "next": "/authdb/ads"}, follow=False)
    assert status == 302
    assert session.last_headers["Location"] == "/authdb/ads"
    cookie = next(c for c in session.last_headers.get_all("Set-Cookie") if c.startswith("ds_actor="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=43200" in cookie
    status, body = session.get(app.url + "/authdb/ads.json?_shape=array")
    assert status == 200 and [r["title"] for r in json.loads(body)] == [SECRET_TITLE]


@pytest.mark.parametrize("user, role, can_record", [("ana", "analyst", True), ("vic", "viewer", False)])
def test_whoami_names_the_account_and_the_verdict_permission(app, user, role, can_record):
    session = login(Session(), app.url, user, DEFAULT_USERS[user][1])
    status, body = session.get(app.url + "/-/lurewatch/whoami")
    assert status == 200
    assert json.loads(body) == {"id": user, "role": role, "can_record_verdict": can_record}


@pytest.mark.parametrize("user, password", [("wendy", "wrong"), ("nobody", "pw-wendy"), ("wendy", ""),
                                            ("", "pw-wendy"), ("WENDY", "pw-wendy"), ("wendy", "pw1")])
def test_wrong_login_is_refused_with_one_message(app, user, password):
    session = Session()
    token = session.csrftoken(app.url + "/-/login")
    status, page = session.post(app.url + "/-/login", {"username": user, "password": password, "csrftoken": token},
                                follow=False)
    assert status == 401
    assert "Wrong user name or password." in page
    assert session.cookie("ds_actor") is None
    with pytest.raises(LoginFailed):
        login(Session(), app.url, user, password)


@pytest.mark.parametrize("target, location", [
    ("/authdb/evidence?category=destination", "/authdb/evidence?category=destination"),
    ("//evil.example/x", "/"), ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("/-/login", "/"), ("", "/"),
])
def test_login_goes_back_only_to_a_local_page(app, target, location):
    session = Session()
    token = session.csrftoken(app.url + "/-/login")
    session.post(app.url + "/-/login", {"username": "vic", "password": "pw2", "csrftoken": token, "next": target},
                 follow=False)
    assert session.last_headers["Location"] == location


def test_logout_ends_the_session(app):
    session = login(Session(), app.url, "vic", "pw2")
    assert session.get(app.url + "/authdb/ads.json")[0] == 200
    token = session.csrftoken(app.url + "/authdb")  # the page's "Log out" form
    status, _ = session.post(app.url + "/-/logout", {"csrftoken": token}, follow=False)
    assert status == 302
    assert session.get(app.url + "/authdb/ads.json")[0] == 401


# -- CSRF -----------------------------------------------------------------------------------------------------------
def test_login_post_without_csrf_token_is_refused(app):
    session = Session()
    session.get(app.url + "/-/login")  # has the token cookie, posts no token
    status, _ = session.post(app.url + "/-/login", {"username": "ana", "password": "pw1"}, follow=False)
    assert status == 403
    assert session.cookie("ds_actor") is None


def test_login_post_without_any_cookie_is_refused(app):
    """asgi-csrf lets a POST without cookies through; the login view refuses it (login CSRF)."""
    status, body = Session().post(app.url + "/-/login", {"username": "ana", "password": "pw1", "csrftoken": "x"},
                                  follow=False)
    assert status == 403 and "CSRF" in body


def test_logged_in_post_without_csrf_token_is_refused(app):
    session = login(Session(), app.url, "vic", "pw2")
    status, _ = session.post(app.url + "/-/logout", {}, follow=False)
    assert status == 403
    assert session.get(app.url + "/authdb/ads.json")[0] == 200  # still logged in


# -- password hashes are never readable -----------------------------------------------------------------------------
HASH_PATHS = [
    "/authdb/users", "/authdb/users.json", "/authdb/users.csv", "/authdb/users/ana", "/authdb/users/ana.json",
    "/authdb.json?sql=" + urllib.parse.quote("select * from users"),
    "/authdb.csv?sql=" + urllib.parse.quote("select name, password_hash from users"),
    "/authdb?sql=" + urllib.parse.quote("select group_concat(password_hash, ' ') from users"),
    "/authdb.json?sql=" + urllib.parse.quote("with u as (select * from users) select * from u"),
    "/authdb.json?sql=" + urllib.parse.quote("select (select password_hash from users limit 1) as h from ads"),
    "/authdb.json?sql=" + urllib.parse.quote("select count(*) from users where password_hash like 'pbkdf2%'"),
    "/authdb.json?sql=" + urllib.parse.quote("select title from ads where exists (select 1 from users where role = 'analyst')"),
    "/authdb.db", "/authdb", "/authdb.json", "/", "/.json", "/-/metadata.json",
]


@pytest.mark.parametrize("path", HASH_PATHS)
def test_no_page_or_query_reveals_a_password_hash(app, analyst, path):
    status, body = analyst.get(app.url + path)
    assert "pbkdf2_sha256$" not in body
    hashes = stored_hashes(app.db_path)
    assert len(hashes) == 3
    for stored in hashes:
        assert stored.rsplit("$", 1)[1] not in body and stored.split("$")[2] not in body
    if "sql=" in path and ".csv" in path:
        assert body.strip() == ""
    elif "sql=" in path:  # the query ran into the authorizer
        assert "access to users." in body and "is prohibited" in body


def test_users_table_is_not_listed(app, analyst):
    status, body = analyst.get(app.url + "/authdb.json")
    assert status == 200
    assert "users" not in {t["name"] for t in json.loads(body)["tables"]}
    assert "ads" in {t["name"] for t in json.loads(body)["tables"]}


# -- accounts removed or changed while logged in --------------------------------------------------------------------
def test_removed_or_changed_account_loses_its_session(tmp_path):
    db = make_db(tmp_path / "changes.db")
    users = {"ana": ("analyst", "pw1"), "vic": ("viewer", "pw2"), "keep": ("viewer", "pw3")}
    with start_review_app(db, users) as running:
        gone = login(Session(), running.url, "vic", "pw2")
        promoted = login(Session(), running.url, "ana", "pw1")
        kept = login(Session(), running.url, "keep", "pw3")
        assert run_cli("users", "remove", "vic", "--db", str(db)).returncode == 0
        changed = subprocess.run([str(LUREWATCH), "users", "add", "ana", "--role", "viewer", "--replace", "--db", str(db)],
                                 input="new-password\n", capture_output=True, text=True, timeout=60)
        assert changed.returncode == 0, changed.stderr
        assert gone.get(running.url + "/authdb/ads.json")[0] == 401
        assert promoted.get(running.url + "/-/lurewatch/whoami")[0] == 401
        assert kept.get(running.url + "/-/lurewatch/whoami")[0] == 200
        status, page = promoted.get(running.url + "/-/login")
        assert status == 200 and "logged in as" not in page and "Log out" not in page  # no stale account shown
        with pytest.raises(LoginFailed):
            login(Session(), running.url, "ana", "pw1")
        assert json.loads(login(Session(), running.url, "ana", "new-password")
                          .get(running.url + "/-/lurewatch/whoami")[1])["role"] == "viewer"


def test_repeated_failures_lock_that_user_name(tmp_path):
    db = make_db(tmp_path / "locks.db")
    with start_review_app(db) as running:
        for _ in range(5):
            with pytest.raises(LoginFailed):
                login(Session(), running.url, "ana", "guess")
        session = Session()
        token = session.csrftoken(running.url + "/-/login")
        status, page = session.post(running.url + "/-/login", {"username": "ana", "password": "pw1", "csrftoken": token},
                                    follow=False)
        assert status == 429 and "Too many failed logins" in page
        assert session.cookie("ds_actor") is None
        login(Session(), running.url, "vic", "pw2")  # other accounts are not locked


# -- sessions and hashes (library) ----------------------------------------------------------------------------------
def load_plugin():
    import importlib.util

    from output.review import PLUGINS_DIR

    spec = importlib.util.spec_from_file_location("lurewatch_auth_for_test", PLUGINS_DIR / "lurewatch_auth.py")
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    return plugin


def test_session_cookie_expires_and_must_be_signed():
    from datasette.app import Datasette

    plugin = load_plugin()
    ds, other = Datasette(memory=True), Datasette(memory=True)
    assert plugin.cookie_actor(ds, plugin.session_cookie(ds, "ana", "analyst")) == {"id": "ana", "role": "analyst"}
    assert plugin.cookie_actor(ds, plugin.session_cookie(ds, "ana", "analyst", seconds=-1)) is None
    assert plugin.cookie_actor(ds, plugin.session_cookie(other, "ana", "analyst")) is None
    assert plugin.cookie_actor(ds, ds.sign({"a": {"id": "ana", "role": "analyst"}}, "actor")) is None  # no expiry


def test_failure_counts_stay_bounded():
    plugin = load_plugin()
    plugin.MAX_TRACKED_NAMES = 4
    now = time.monotonic()
    for i, age in enumerate([plugin.LOCK_SECONDS + 5, 10, 20, 30]):
        plugin._failures[f"name{i}"].append(now - age)
    plugin._forget_old_failures()
    assert sorted(plugin._failures) == ["name1", "name2", "name3"]  # the expired one went
    plugin._failures["name4"].append(now)
    plugin._forget_old_failures()
    assert sorted(plugin._failures) == ["name1", "name4"]  # still full: the oldest half went
    for _ in range(plugin.MAX_FAILURES + 3):
        plugin._failures["name4"].append(now)
    assert len(plugin._failures["name4"]) == plugin.MAX_FAILURES and plugin._locked("name4") > 0


def test_hash_format_is_datasette_auth_passwords():
    stored = hash_password("correct horse", salt="abc", iterations=1000)
    algorithm, iterations, salt, digest = stored.split("$")
    assert (algorithm, iterations, salt) == ("pbkdf2_sha256", "1000", "abc")
    import base64
    import hashlib

    assert base64.b64decode(digest) == hashlib.pbkdf2_hmac("sha256", b"correct horse", b"abc", 1000)
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsE", stored)
    assert not verify_password("x", "md5$1$a$b") and not verify_password("x", "garbage")
    assert hash_password("same") != hash_password("same")  # salted


def test_review_refuses_a_database_without_accounts(tmp_path):
    db = make_db(tmp_path / "noaccounts.db")
    result = subprocess.run([str(LUREWATCH), "review", "--db", str(db), "--port", "0"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "no review accounts yet" in result.stderr
    assert f"lurewatch users add NAME --role analyst --db {db}" in result.stderr


# -- in Chromium ------------------------------------------------------------------------------------------------------
@pytest.mark.browser
@needs_chromium
def test_login_in_chromium_returns_to_the_page_asked_for(app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.goto(app.url + "/authdb/ads/1")
            assert urllib.parse.urlsplit(page.url).path == "/-/login"
            assert SECRET_TITLE not in page.content()
            page.fill("input[name=username]", "ana")
            page.fill("input[name=password]", "wrong")
            with page.expect_navigation():
                page.click("input[type=submit]")
            assert "Wrong user name or password." in page.inner_text("body")
            assert page.input_value("input[name=username]") == "ana"
            page.fill("input[name=password]", "pw1")
            with page.expect_navigation():
                page.click("input[type=submit]")
            assert page.url == app.url + "/authdb/ads/1"
            assert SECRET_TITLE in page.content()
            assert "ana" in page.inner_text(".actor")
            page.click("details.nav-menu summary")
            with page.expect_navigation():
                page.click("text=Log out")
            page.goto(app.url + "/authdb/ads/1")
            assert urllib.parse.urlsplit(page.url).path == "/-/login"
            login(page, app.url, "vic", "pw2")
            page.goto(app.url + "/-/lurewatch/whoami")
            assert json.loads(page.inner_text("body"))["role"] == "viewer"
        finally:
            browser.close()
