"""End-to-end crawls of fixture sites served by real HTTP servers; each crawl runs `lurewatch crawl` in a subprocess."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import pytest

from conftest import LUREWATCH, REPO, SITES, run_cli, serve_site, db_rows, stored_body
from crawler.localsite import LocalSite, Page

BOARD = SITES / "unseen_board"
EXPECTED_TITLES = {
    "Customer Service Representative (English) - Sihanoukville",
    "Data Entry Clerk",
    "Online Marketing Assistant",
    "Chat Support Agent",
    "Warehouse Assistant",
    "Accountant (sitemap only)",
    "Game Tester",
    "Translator Chinese-English",
    "客服专员（柬埔寨西港）",
    "客服人員（緬甸妙瓦底）",
    "พนักงานบริการลูกค้า ประจำกัมพูชา",
}


rows = db_rows


def ad_by_title(db, title):
    [ad] = rows(db, "SELECT * FROM ads WHERE title = ?", [title])
    return ad


def page_requests(site):
    """Paths requested other than robots.txt and sitemaps."""
    return [p for p in site.requests if not re.search(r"^/robots\.txt|^/sitemap", p)]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """The unseen board, crawled once from its home page."""
    site = serve_site("unseen_board")
    db = str(tmp_path_factory.mktemp("crawl") / "ads.db")
    proc = run_cli("crawl", site.url("/"), "--db", db)
    yield site, db, proc
    site.stop()


def test_crawl_succeeds_with_summary(crawled):
    site, db, proc = crawled
    assert proc.returncode == 0, proc.stderr
    # 12 items: the featured copy of ad 101 is recognised as the same ad (unchanged)
    assert re.search(r"crawl 1: \d+ pages, 12 ads \(11 new, 0 changed, 1 unchanged\), .*\d+ flagged, errors: none", proc.stderr), proc.stderr
    [crawl] = rows(db, "SELECT * FROM crawls")
    assert crawl["status"] == "finished" and crawl["new_ads"] == 11


def test_every_ad_stored_exactly_once(crawled):
    _, db, _ = crawled
    titles = [r["title"] for r in rows(db, "SELECT title FROM ads")]
    assert sorted(titles) == sorted(EXPECTED_TITLES)


def test_robots_disallow_is_never_requested(crawled):
    site, db, _ = crawled
    assert "/robots.txt" in site.requests
    assert not [p for p in site.requests if p.startswith("/private/")]
    assert not rows(db, "SELECT id FROM ads WHERE title LIKE 'PRIVATE%'")


def test_sitemap_index_followed(crawled):
    site, db, _ = crawled
    assert "/sitemap_index.xml" in site.requests and "/sitemap-jobs.xml" in site.requests
    assert "/jobs/106.html" in site.requests  # linked from nowhere but the sitemap
    assert ad_by_title(db, "Accountant (sitemap only)")["external_id"] == "MCH-106"


def test_pagination_and_link_hygiene(crawled):
    site, _, _ = crawled
    requested = page_requests(site)
    assert "/jobs/page/2.html" in requested and "/jobs/104.html" in requested
    assert "/static/brochure.pdf" not in requested
    assert len(requested) == len(set(requested)), "a page was fetched twice"
    # the same ad listed with tracking parameters is fetched once, under its clean URL
    assert [p for p in requested if p.startswith("/jobs/102.html")] == ["/jobs/102.html"]


def test_ad_behind_redirect_keeps_redirect_url_as_alias(crawled):
    site, db, _ = crawled
    ad = ad_by_title(db, "Online Marketing Assistant")
    assert ad["url"] == site.url("/jobs/103.html")
    urls = {r["url"] for r in rows(db, "SELECT url FROM ad_urls WHERE ad_id = ?", [ad["id"]])}
    assert site.url("/go/103") in urls


def test_ad_listed_twice_is_one_ad(crawled):
    site, db, _ = crawled
    ad = ad_by_title(db, "Customer Service Representative (English) - Sihanoukville")
    urls = {r["url"] for r in rows(db, "SELECT url FROM ad_urls WHERE ad_id = ?", [ad["id"]])}
    both = {site.url("/jobs/101.html"), site.url("/featured/101")}
    assert both <= urls
    # neither page declares rel=canonical, so the key is whichever URL the crawl reached first
    assert ad["url"] in both


def test_several_postings_on_one_page(crawled):
    site, db, _ = crawled
    urls = sorted(r["url"] for r in rows(db, "SELECT url FROM ads WHERE url LIKE '%multi.html%'"))
    assert urls == [site.url("/jobs/multi.html#job-MCH-201"), site.url("/jobs/multi.html#job-MCH-202")]
    assert ad_by_title(db, "Game Tester")["location"] == "Remote"


def test_fields_text_and_fetch_metadata_intact(crawled):
    site, db, _ = crawled
    ad = ad_by_title(db, "Customer Service Representative (English) - Sihanoukville")
    assert ad["company"] == "Golden Sky Technology Co., Ltd"
    assert ad["location"] == "Sihanoukville, Preah Sihanouk, KH" and ad["country"] == "KH"
    assert ad["salary_text"] == "USD 1,500-3,000 per month"
    assert ad["description"].startswith("No experience needed! Salary $1,500–$3,000 per month.")
    assert "Free flight ticket & visa" in ad["description"] and "Telegram @golden_hr_team" in ad["description"]
    assert ad["contact"] == "https://t.me/golden_hr_team"
    assert ad["external_id"] == "MCH-101" and ad["posted_at"] == "2026-10-30"
    assert ad["source"] == f"127.0.0.1:{site.port}" and ad["spider"] == "jobposting"
    assert ad["etag"] == '"ad101-v1"' and ad["last_modified"] == "Mon, 02 Nov 2026 10:00:00 GMT"
    assert ad["risk_level"] is not None  # assessed on the way in
    [snap] = rows(db, "SELECT s.* FROM snapshots s JOIN snapshot_bodies b ON b.sha1 = s.sha1 WHERE s.ad_id = ?",
                  [ad["id"]])
    assert snap["status"] == 200 and snap["url"] in (site.url("/jobs/101.html"), site.url("/featured/101"))
    assert b"MCH-101" in stored_body(db, snap["sha1"])


@pytest.mark.parametrize("path, codec", [("/jobs/gbk.html", "gbk"), ("/jobs/big5.html", "big5"), ("/jobs/tis620.html", "tis-620")])
def test_legacy_charset_declared_only_in_meta(crawled, path, codec):
    site, db, _ = crawled
    page = site.pages[path]
    assert "charset" not in page.content_type
    with pytest.raises(UnicodeDecodeError):
        page.body.decode("utf-8")  # really served in the legacy charset
    source = (BOARD / path.lstrip("/")).read_text(encoding="utf-8")
    title = re.search(r'itemprop="title">([^<]+)<', source).group(1)
    description = re.search(r'itemprop="description"><p>([^<]+)</p>', source).group(1)
    [ad] = rows(db, "SELECT * FROM ads WHERE url = ?", [site.url(path)])
    assert ad["title"] == title
    assert ad["description"] == description
    assert title.encode(codec).decode(codec) == title  # round-trips in that codec


def test_recrawl_updates_without_duplicates(tmp_path):
    site = serve_site("unseen_board")
    try:
        db = str(tmp_path / "ads.db")
        first = run_cli("crawl", site.url("/"), "--db", db)
        assert first.returncode == 0, first.stderr
        before = {r["id"]: r for r in rows(db, "SELECT * FROM ads")}
        page = site.pages["/jobs/105.html"]
        site.pages["/jobs/105.html"] = Page(page.body.replace("Social security included.", "Social security and bonus included."))
        second = run_cli("crawl", site.url("/"), "--db", db)
        assert second.returncode == 0, second.stderr
        after = {r["id"]: r for r in rows(db, "SELECT * FROM ads")}
        assert after.keys() == before.keys()
        changed = [i for i in after if after[i]["content_hash"] != before[i]["content_hash"]]
        assert [after[i]["title"] for i in changed] == ["Warehouse Assistant"]
        assert all(after[i]["last_seen"] >= before[i]["last_seen"] for i in after)
        assert "bonus" in after[changed[0]]["description"]
        crawls = rows(db, "SELECT * FROM crawls ORDER BY id")
        assert [(c["new_ads"], c["changed_ads"]) for c in crawls] == [(11, 0), (0, 1)]
        events = rows(db, "SELECT ad_id, event FROM ad_history WHERE event != 'new'")
        assert events == [{"ad_id": changed[0], "event": "changed"}]
    finally:
        site.stop()


def test_max_pages_bounds_the_crawl(tmp_path):
    site = serve_site("unseen_board")
    try:
        db = str(tmp_path / "ads.db")
        proc = run_cli("crawl", site.url("/jobs/"), "--db", db, "--max-pages", "3")
        assert proc.returncode == 0, proc.stderr
        assert len(page_requests(site)) == 3
        assert "stopped at max_pages=3" in proc.stderr
        assert 1 <= len(rows(db, "SELECT id FROM ads")) <= 3
    finally:
        site.stop()


def test_scrapy_crawl_from_repo_root(tmp_path):
    site = serve_site("unseen_board")
    try:
        db = tmp_path / "ads.db"
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "jobposting", "-a", f"urls={site.url('/jobs/page/2.html')}",
             "-a", "max_pages=20", "-s", f"LUREWATCH_DB={db}", "-s", "LOG_LEVEL=WARNING"],
            cwd=REPO, capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr
        titles = {r["title"] for r in rows(str(db), "SELECT title FROM ads")}
        assert {"Chat Support Agent", "Warehouse Assistant", "客服专员（柬埔寨西港）"} <= titles
    finally:
        site.stop()


def test_no_ads_found_is_reported_not_a_failure(tmp_path):
    with LocalSite({"/": Page("<html><body><p>Just a blog</p></body></html>")}) as site:
        proc = run_cli("crawl", site.url("/"), "--db", str(tmp_path / "ads.db"))
    assert proc.returncode == 0, proc.stderr
    assert "no ads found" in proc.stderr


def test_nothing_fetched_exits_3(tmp_path):
    with LocalSite({}) as site:  # every path is a 404
        proc = run_cli("crawl", site.url("/jobs/"), "--db", str(tmp_path / "ads.db"))
    assert proc.returncode == 3, proc.stderr
    assert f"nothing fetched: {site.url('/jobs/')}: http_404" in proc.stderr


def closed_port_url():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


@pytest.mark.parametrize("url, kind", [
    pytest.param(None, "connection_refused", id="connection-refused"),
    pytest.param("http://lurewatch-test.invalid/jobs", "dns", id="dns"),  # .invalid never resolves (RFC 2606)
])
def test_unreachable_host_exits_4(tmp_path, url, kind):
    url = url or closed_port_url()
    db = str(tmp_path / "ads.db")
    proc = run_cli("crawl", url, "--db", db, "-s", "RETRY_TIMES=1")
    assert proc.returncode == 4, proc.stderr
    assert f"unreachable host: {url}: {kind}" in proc.stderr
    [crawl] = rows(db, "SELECT * FROM crawls")
    assert crawl["status"] == "failed" and "unreachable host" in crawl["message"]
    assert json.loads(crawl["errors"]) == {kind: 1}  # the start URL, once (not per retry)


def test_one_unreachable_site_among_good_ones_is_not_a_failure(tmp_path):
    with LocalSite({"/": Page("<html><body>No ads here</body></html>")}) as site:
        proc = run_cli("crawl", site.url("/"), closed_port_url(), "--db", str(tmp_path / "ads.db"), "-s", "RETRY_TIMES=0")
    # issue 11: a crawl with failed requests is partial (exit 7, a warning), no longer exit 0; still not a failure
    assert proc.returncode == 7, proc.stderr
    assert "connection_refused=1" in proc.stderr and "\npartial: " in proc.stderr


@pytest.mark.parametrize("make_db", [
    pytest.param(lambda tmp: tmp / "missing-dir" / "ads.db", id="missing-directory"),
    pytest.param(lambda tmp: (tmp / "file").write_text("x") and tmp / "file" / "ads.db", id="parent-is-a-file"),
    pytest.param(lambda tmp: (tmp / "ads.db").write_bytes(b"not a database " * 100) and tmp / "ads.db", id="not-sqlite"),
])
def test_unwritable_db_exits_5_before_crawling(tmp_path, make_db):
    db = make_db(tmp_path)
    original = db.read_bytes() if db.is_file() else None
    with LocalSite({"/": Page("<html></html>")}) as site:
        proc = run_cli("crawl", site.url("/"), "--db", str(db))
        assert site.requests == []  # checked before crawling
    assert proc.returncode == 5, proc.stderr
    assert "database" in proc.stderr and str(db.parent) in proc.stderr
    if original is not None:
        assert db.read_bytes() == original  # nothing lost


# -- LurewatchSpider.make_ad on real responses (no crawl needed) ---------------------------------
def make_response(url, body, request_url=None, redirect_urls=(), headers=None):
    from scrapy.http import HtmlResponse, Request

    request = Request(request_url or url, meta={"redirect_urls": list(redirect_urls)} if redirect_urls else {})
    return HtmlResponse(url, body=body.encode("utf-8"), encoding="utf-8", request=request, headers=headers or {})


def test_make_ad_identity_from_redirect_and_canonical():
    from spiders.jobposting import JobPostingSpider

    spider = JobPostingSpider(urls="http://board.test/")
    response = make_response(
        "http://board.test/jobs/7?utm_source=mail&b=1#top",
        '<html><head><link rel="Canonical" href="/jobs/seven"></head><body></body></html>',
        request_url="http://board.test/go/7", redirect_urls=["http://board.test/go/7"],
        headers={"ETag": '"e7"', "Content-Type": "text/html"})
    ad = spider.make_ad(response, {"title": "Typist", "external_id": "7", "not_a_field": "x"})
    assert ad["url"] == "http://board.test/jobs/seven"
    assert set(ad["aliases"]) == {"http://board.test/go/7", "http://board.test/jobs/7?utm_source=mail&b=1#top",
                                  "http://board.test/jobs/7?b=1"}
    assert (ad["source"], ad["spider"], ad["etag"], ad["external_id"]) == ("board.test", "jobposting", '"e7"', "7")
    assert ad["snapshot"]["status"] == 200 and ad["snapshot"]["body"].startswith(b"<html>")
    assert "not_a_field" not in ad


def test_make_ad_with_its_own_url_takes_no_page_aliases():
    from spiders.jobposting import JobPostingSpider

    spider = JobPostingSpider(urls="http://board.test/")
    response = make_response("http://board.test/list", "<html></html>")
    ad = spider.make_ad(response, {"title": "A", "url": "http://board.test/list#job-1"})
    assert ad["url"] == "http://board.test/list#job-1" and ad["aliases"] == []


@pytest.mark.parametrize("kwargs, error", [
    ({"urls": "ftp://board.test/"}, "not an http(s) URL: ftp://board.test/"),
    ({"urls": "http://board.test/", "max_pages": "0"}, "max_pages must be at least 1"),
    ({"urls": "http://board.test/", "max_pages": "lots"}, "max_pages must be a whole number"),
    ({}, "no start URLs"),
])
def test_spider_arguments_are_checked(kwargs, error):
    from spiders.jobposting import JobPostingSpider

    with pytest.raises(ValueError, match=re.escape(error)):
        JobPostingSpider(**kwargs)


def test_trusted_hosts_are_the_start_url_hosts():
    from spiders.jobposting import JobPostingSpider

    spider = JobPostingSpider(urls="http://127.0.0.1:8001/jobs, https://Board.test/")
    assert spider.trusted_hosts == {"http://127.0.0.1:8001", "https://board.test"}


# -- contacts kept from every place an ad carries them ----------------------------------------

CONTACT_PROFILE = """\
name: contact_board
start_urls: [http://127.0.0.1:1/]
listing:
  link: {css: 'a.ad::attr(href)'}
detail:
  title: {css: 'h1'}
  description: {css: 'div.body'}
  contact: {css: 'p.contact'}
"""
CONTACT_DETAIL = """<html><head><script type="application/ld+json">
{"@type": "JobPosting", "title": "Chat support", "description": "x",
 "applicationContact": {"@type": "ContactPoint", "description": "WeChat ID: kk_hr2026", "email": "hr@kkpark.example"}}
</script></head><body><h1>Chat support (Myawaddy)</h1>
<div class="body"><p>Free visa. Questions? <a href="https://wa.me/959791234567">Ask us here</a> or Zalo: 0912 345 678.</p></div>
<p class="contact">Message our recruiter: <a href="https://t.me/kk_recruit_01">click here</a></p></body></html>"""


def test_profile_crawl_stores_contacts_from_text_links_and_markup(tmp_path):
    profile = tmp_path / "contact_board.yaml"
    profile.write_text(CONTACT_PROFILE, encoding="utf-8")
    pages = {"/": Page('<html><body><a class="ad" href="/ad/1.html">Chat support</a></body></html>'),
             "/ad/1.html": Page(CONTACT_DETAIL)}
    db = str(tmp_path / "ads.db")
    with LocalSite(pages) as site:
        proc = run_cli("crawl", "--profile", str(profile), site.url("/"), "--db", db, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    [ad] = rows(db, "SELECT * FROM ads")
    assert ad["contact"] == ("Message our recruiter: click here; https://t.me/kk_recruit_01; https://wa.me/959791234567; "
                             "hr@kkpark.example; WeChat ID: kk_hr2026")
    stored = {(r["kind"], r["value"], r["field"]) for r in rows(db, "SELECT kind, value, field FROM contacts")}
    assert {("telegram", "kk_recruit_01", "contact"), ("whatsapp", "+959791234567", "contact"),
            ("wechat", "kk_hr2026", "contact"), ("email", "hr@kkpark.example", "contact"),
            ("zalo", "+84912345678", "description")} <= stored


# -- the summary line: once from `scrapy crawl`, once from `lurewatch crawl` -----------------

SUMMARY = re.compile(r"^crawl \d+: \d+ pages, \d+ ads \(.*errors: .*$", re.M)


@pytest.mark.parametrize("runner", ["scrapy", "lurewatch"])
def test_summary_line_printed_exactly_once(tmp_path, runner):
    site = serve_site("unseen_board")
    db = str(tmp_path / "ads.db")
    try:
        if runner == "scrapy":
            proc = subprocess.run(
                [sys.executable, "-m", "scrapy", "crawl", "jobposting", "-a", f"urls={site.url('/jobs/page/2.html')}",
                 "-a", "max_pages=5", "-s", f"LUREWATCH_DB={db}", "-s", "LOG_LEVEL=WARNING"],
                cwd=REPO, capture_output=True, text=True, timeout=240)
        else:
            proc = run_cli("crawl", site.url("/jobs/page/2.html"), "--max-pages", "5", "--db", db)
    finally:
        site.stop()
    assert proc.returncode == 0, proc.stderr
    lines = SUMMARY.findall(proc.stderr)
    assert len(lines) == 1, proc.stderr
    [crawl] = rows(db, "SELECT * FROM crawls")
    assert lines[0].startswith(f"crawl {crawl['id']}: 5 pages, {crawl['new_ads']} ads ({crawl['new_ads']} new, "), lines[0]


def test_crawl_help_lists_every_exit_code_and_one_example_a_line():
    import crawler.run as run

    env = dict(os.environ, COLUMNS="80")  # a narrow terminal: click must not rewrap the examples
    proc = subprocess.run([str(LUREWATCH), "crawl", "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    codes = sorted(v for k, v in vars(run).items() if k.startswith("EXIT_"))
    listed = {int(m.group(1)) for line in lines if (m := re.match(r"^\s+(\d)  \S", line))}
    assert listed == set(codes), proc.stdout
    examples = [line.strip() for line in lines if line.strip().startswith("lurewatch crawl")]
    assert examples == ["lurewatch crawl https://jobs.example.org/ --db ads.db --max-pages 200",
                        "lurewatch crawl --profile jobsdb_hk --db ads.db",
                        "lurewatch crawl https://jobs.example.org/ --db ads.db --job-dir jobs/example"], proc.stdout


# -- live progress on a terminal -------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]")


def run_in_terminal(*args: str, timeout: int = 240) -> tuple[int, str]:
    """`lurewatch ARGS` with stdin/stdout/stderr on a pseudo-terminal (200 columns); (exit code, what it printed)."""
    import fcntl
    import pty
    import struct
    import termios
    import time

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    env = dict(os.environ, COLUMNS="200", LINES="50", TERM="xterm-256color", PYTHONUNBUFFERED="1")
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([str(LUREWATCH), *args], cwd=REPO, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return proc.wait(timeout=30), ANSI.sub("", out.decode("utf-8", "replace")).replace("\r", "\n")


def test_progress_on_a_terminal_shows_total_eta_and_not_modified(tmp_path):
    from crawler.demo import DemoBoard

    db = str(tmp_path / "ads.db")
    with DemoBoard(port=0) as board:
        first = run_cli("crawl", board.url, "--db", db)
        assert first.returncode == 0, first.stderr
        code, printed = run_in_terminal("crawl", board.url, "--db", db)
    assert code == 0, printed
    frames = re.findall(r"pages (\d+)/(\d+) \(max 500\)  ads \d+ \(new \d+\)  not modified (\d+)  flagged \d+  errors \d+"
                        r"[^\n]*ETA", printed)
    assert frames, printed
    done, known, not_modified = map(int, frames[-1])
    assert done == known > 50  # the last frame: every known page fetched
    summary = re.search(r"crawl 2: .* (\d+) not modified \(304\)", printed)
    assert summary and not_modified == int(summary.group(1)) == 50, printed
    assert all(int(d) <= int(k) for d, k, _ in frames)
