"""The demo board (real HTTP on 127.0.0.1) and `lurewatch demo` end to end in a subprocess."""
from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
import yaml

from conftest import db_rows
from crawler.demo import BoardDataError, DemoBoard, load_ads

REPO = Path(__file__).resolve().parent.parent
LUREWATCH = Path(sys.executable).with_name("lurewatch")
ADS = load_ads()
LANGS = {"en", "en-PH", "en-KE", "en-IN", "zh-Hans", "zh-Hant", "th", "vi", "id", "ms", "tl", "pt"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, str]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode("utf-8", "replace")


# -- board data -------------------------------------------------------------------

def test_board_has_enough_ads_mixed_lures_and_languages():
    labels = Counter(ad.label for ad in ADS)
    assert len(ADS) >= 48
    assert 0.35 <= labels["lure"] / len(ADS) <= 0.45
    assert LANGS <= {ad.lang for ad in ADS}
    assert len({ad.id for ad in ADS}) == len(ADS)
    lure_langs = {ad.lang for ad in ADS if ad.label == "lure"}
    assert {"zh-Hans", "zh-Hant", "th", "vi", "id", "ms", "tl", "pt"} <= lure_langs


@pytest.mark.parametrize("ad_id, why", [
    ("nurse-singapore-licensed-agency", "relocation via licensed agency"),
    ("ngo-programme-officer-phnom-penh", "NGO in Phnom Penh"),
    ("th-nurse-mae-sot-hospital", "hospital in Mae Sot"),
    ("call-centre-quezon-city", "domestic call centre"),
    ("messaging-backend-engineer", "engineer job naming Telegram"),
    ("remote-support-specialist", "remote support"),
])
def test_hard_negatives_present(ad_id, why):
    ad = next(a for a in ADS if a.id == ad_id)
    assert ad.label == "legit", why


@pytest.mark.parametrize("text", ["T.e.l.e.g.r.a.m", "green app", "wa.me/", "neighbouring country", "USDT",
                                  "placement fee", "passport", "typing test", "tourist visa"])
def test_lures_use_the_tricks(text):
    assert any(text.lower() in (a.description + a.contact + a.location + a.salary_text).lower()
               for a in ADS if a.label == "lure"), text


@pytest.mark.parametrize("snippet, message", [
    ("ads: {}", "expected a mapping with an 'ads' list"),
    ("ads:\n  - id: a\n    label: lure\n    lang: en\n    title: t\n    posted: 2026-01-01\n", "ad 'a' is missing 'description'"),
    ("ads:\n  - {id: a, label: maybe, lang: en, title: t, description: d, posted: 2026-01-01}\n", "label must be one of"),
    ("ads:\n  - {id: a, label: lure, lang: en, title: t, description: d, posted: 2026-01-01}\n"
     "  - {id: a, label: lure, lang: en, title: t, description: d, posted: 2026-01-01}\n", "already used at line 2"),
    ("ads:\n  - {id: a, label: lure, lang: en, title: t, description: d, posted: 2026-01-01, pay: 5}\n", "unknown field"),
    ("ads:\n  - {id: a, label: lure, lang: en, title: t, description: d, posted: 2026-01-01,\n"
     "     salary: {currency: USD, min: 1, max: 2, unit: FORTNIGHT}}\n", "salary unit"),
    ("ads: [\n", "invalid YAML"),
])
def test_bad_board_data_names_file_and_line(tmp_path, snippet, message):
    path = tmp_path / "ads.yaml"
    path.write_text(snippet, encoding="utf-8")
    with pytest.raises(BoardDataError) as err:
        load_ads(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


# -- board over HTTP -----------------------------------------------------------------

@pytest.fixture(scope="module")
def board():
    with DemoBoard(port=0) as b:
        yield b


def test_robots_and_sitemap_list_every_ad(board):
    status, _, robots = fetch(board.site.url("/robots.txt"))
    assert status == 200 and f"Sitemap: {board.site.url('/sitemap.xml')}" in robots
    _, headers, sitemap = fetch(board.site.url("/sitemap.xml"))
    locs = re.findall(r"<loc>(.*?)</loc>", sitemap)
    assert sorted(locs) == sorted(board.ad_url(ad) for ad in ADS)
    assert headers["Content-Type"].startswith("application/xml")


def test_listing_pagination_reaches_every_ad(board):
    url, seen, pages = board.site.url("/jobs/"), [], 0
    while url:
        status, _, page = fetch(url)
        assert status == 200
        pages += 1
        seen += re.findall(r'<li class="job"><a href="(/jobs/[^"]+/)"', page)
        nxt = re.search(r'<a rel="next" class="next" href="([^"]+)"', page)
        url = board.site.url(nxt.group(1)) if nxt else None
    assert pages == board.pages > 1
    assert sorted(seen) == sorted(ad.path for ad in ADS)
    assert fetch(board.site.url(f"/jobs/?page={board.pages + 1}"))[0] == 404


@pytest.mark.parametrize("ad", [ADS[0], ADS[5], next(a for a in ADS if a.lang == "zh-Hant")], ids=lambda a: a.id)
def test_detail_page_carries_jobposting_without_label(board, ad):
    status, headers, page = fetch(board.ad_url(ad))
    assert status == 200
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert data["@type"] == "JobPosting"
    assert data["title"] == ad.title
    assert data["identifier"]["value"] == ad.id
    assert data["url"] == board.ad_url(ad)
    if ad.company:
        assert data["hiringOrganization"]["name"] == ad.company
    assert "label" not in page and ad.label not in re.sub(r"<[^>]+>", " ", page).split()
    assert fetch(board.ad_url(ad), {"If-None-Match": headers["ETag"]})[0] == 304


def test_unknown_ad_is_404(board):
    assert fetch(board.site.url("/jobs/no-such-ad/"))[0] == 404


# -- `lurewatch demo` end to end ------------------------------------------------------

def run_demo(db: Path, board_port: int) -> subprocess.CompletedProcess:
    return subprocess.run([str(LUREWATCH), "demo", "--no-serve", "--db", str(db), "--board-port", str(board_port)],
                          cwd=REPO, capture_output=True, text=True, timeout=240)


def table_counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("ads", "ad_urls", "evidence", "contacts", "ad_history")}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    port = free_port()
    first = run_demo(db, port)
    counts_first = table_counts(db) if db.exists() else {}
    second = run_demo(db, port)
    return {"db": db, "first": first, "second": second, "counts_first": counts_first,
            "counts_second": table_counts(db) if db.exists() else {}}


def stored_by_demo_id(db: Path) -> dict[str, list[dict]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        out: dict[str, list[dict]] = {}
        for row in conn.execute("select * from ads"):
            m = re.search(r"/jobs/([^/]+)/$", row["url"])
            out.setdefault(m.group(1) if m else row["url"], []).append(dict(row))
        return out
    finally:
        conn.close()


@pytest.mark.slow
def test_demo_exits_zero_and_stores_every_ad_once(demo_db):
    first = demo_db["first"]
    assert first.returncode == 0, first.stderr[-3000:]
    stored = stored_by_demo_id(demo_db["db"])
    assert sorted(stored) == sorted(ad.id for ad in ADS)
    assert all(len(rows) == 1 for rows in stored.values())
    assert "Ground truth of the demo board" in first.stdout
    assert re.search(r"Flagged ads: \d+ of 50", first.stdout)


@pytest.mark.slow
def test_demo_twice_adds_no_rows(demo_db):
    assert demo_db["second"].returncode == 0, demo_db["second"].stderr[-3000:]
    assert demo_db["counts_first"]["ads"] == len(ADS)
    assert demo_db["counts_second"] == demo_db["counts_first"]


@pytest.mark.slow
@pytest.mark.parametrize("ad", ADS, ids=lambda a: f"{a.label}-{a.id}")
def test_demo_verdict_matches_label(demo_db, ad):
    """Lures flagged, legitimate ads not. Depends on the detection engine: a failure names the ad."""
    rows = stored_by_demo_id(demo_db["db"]).get(ad.id)
    assert rows, f"{ad.id} was not stored"
    row = rows[0]
    expected = ad.label == "lure"
    assert bool(row["flagged"]) == expected, (
        f"{ad.id} ({ad.label}) flagged={row['flagged']} score={row['risk_score']} summary={row['summary']}")


LOGIN_LINE = re.compile(r"^Review app login: http://127\.0\.0\.1:\d+/-/login  user: demo  password: (\S+)  ")


@pytest.mark.slow
def test_demo_prints_a_working_demo_login_last(demo_db):
    """Each run gives the analyst account `demo` a new random password and prints it as the last line."""
    from output.review.users import verify_password

    first, second = (LOGIN_LINE.match(demo_db[run].stdout.strip().splitlines()[-1]) for run in ("first", "second"))
    assert first and second, demo_db["second"].stdout[-500:]
    [(role, stored)] = [(r["role"], r["password_hash"]) for r in db_rows(demo_db["db"], "select * from users")]
    assert role == "analyst"
    assert verify_password(second.group(1), stored)
    assert first.group(1) != second.group(1) and not verify_password(first.group(1), stored)


# -- contacts stored from the demo crawl ------------------------------------------------

def stored_contacts(db: Path) -> set[tuple[str, str, str]]:
    """(demo ad id, kind, value) of every stored contact."""
    return {(re.search(r"/jobs/([^/]+)/$", r["url"]).group(1), r["kind"], r["value"])
            for r in db_rows(db, "select ads.url, contacts.kind, contacts.value from contacts join ads on ads.id = contacts.ad_id")}


@pytest.mark.slow
@pytest.mark.parametrize("ad_id, kind, value", [
    ("cs-rep-cambodia-1500", "telegram", "goldenbay_hr_ph"),
    ("zh-overseas-kefu-xigang", "telegram", "dingsheng_hr888"),
    ("casino-hotel-receptionist-bavet", "telegram", "royalcrown_hr"),
    ("chat-support-neighbouring-usdt", "telegram", "vertex_talent"),  # written T.e.l.e.g.r.a.m only: vertex_talent
    ("sales-care-bangkok-kenya", "whatsapp", "+66912340001"),
    ("pt-atendente-chat-asia", "whatsapp", "+85512345678"),
    ("crypto-cs-myawaddy", "whatsapp", "+95912345678"),
    ("th-admin-online-neighbour", "line", "spadmin99"),
    ("graphic-designer-typing-test", "line", "spadmin99"),
    ("zh-bocai-tuiguang-jinsanjiao", "wechat", "jmm_hr2026"),
    ("vi-cskh-campuchia", "zalo", "+84912345678"),
    ("customer-happiness-sea", "email", "talent@orchidlane-ventures.example"),
])
def test_demo_stores_the_contacts_of_lures(demo_db, ad_id, kind, value):
    """The board writes contacts as applicationContact descriptions; the crawl must store them."""
    assert (ad_id, kind, value) in stored_contacts(demo_db["db"])


@pytest.mark.slow
def test_demo_legit_ads_have_no_messenger_contacts(demo_db):
    legit = {ad.id for ad in ADS if ad.label == "legit"}
    messengers = {c for c in stored_contacts(demo_db["db"]) if c[0] in legit and c[1] not in ("email", "url", "domain")}
    assert messengers == set()


@pytest.mark.slow
def test_shared_contacts_query_links_the_lures(demo_db):
    """The review app's canned query "Contacts shared by several ads", run on the stored demo database."""
    meta = yaml.safe_load((REPO / "output" / "review" / "metadata.yaml").read_text(encoding="utf-8"))
    [query] = [q for db in meta["databases"].values() for name, q in db.get("queries", {}).items()
               if name == "shared_contacts"]
    demo_ids = {r["id"]: re.search(r"/jobs/([^/]+)/$", r["url"]).group(1) for r in db_rows(demo_db["db"], "select id, url from ads")}
    shared = {(r["kind"], r["value"], frozenset(demo_ids[int(i)] for i in str(r["ad_ids"]).split(",")))
              for r in db_rows(demo_db["db"], query["sql"])}
    assert shared == {
        ("telegram", "goldenbay_hr_ph", frozenset({"cs-rep-cambodia-1500", "tl-csr-abroad-placement-fee"})),
        ("telegram", "dingsheng_hr888", frozenset({"zh-overseas-kefu-xigang", "zh-hant-online-kefu"})),
        ("whatsapp", "+85512345678", frozenset({"pt-atendente-chat-asia", "id-cs-operator-kamboja"})),
        ("whatsapp", "+971501234567", frozenset({"digital-marketing-exec-thailand-in", "data-encoder-dubai-transit"})),
        ("line", "spadmin99", frozenset({"th-admin-online-neighbour", "graphic-designer-typing-test"})),
        ("wechat", "jmm_hr2026", frozenset({"zh-bocai-tuiguang-jinsanjiao", "zh-hant-online-kefu"})),
    }
    assert all(ad.label == "lure" for ad in ADS if any(ad.id in ids for _, _, ids in shared))


@pytest.mark.slow
def test_demo_links_lures_of_one_recruiter_into_campaigns_and_says_so(demo_db):
    """The crawl's campaign linking groups the lures that share a recruiter's contact; the summary prints them."""
    out = demo_db["first"].stdout
    assert re.search(r"Campaigns: [1-9]\d* groups of linked ads", out), out[-2000:]
    demo_ids = {r["id"]: re.search(r"/jobs/([^/]+)/$", r["url"]).group(1)
                for r in db_rows(demo_db["db"], "select id, url from ads")}
    groups: dict[int, set] = {}
    for r in db_rows(demo_db["db"], "select id, campaign_id from ads where campaign_id is not null"):
        groups.setdefault(r["campaign_id"], set()).add(demo_ids[r["id"]])
    assert {"cs-rep-cambodia-1500", "tl-csr-abroad-placement-fee"} in groups.values()
    assert {"zh-bocai-tuiguang-jinsanjiao", "zh-hant-online-kefu", "zh-overseas-kefu-xigang"} in groups.values()
    labels = {ad.id: ad.label for ad in ADS}
    assert all(labels[i] == "lure" for ids in groups.values() for i in ids)
    assert all(len(ids) >= 2 for ids in groups.values())
    [campaign] = [c for c, ids in groups.items() if "cs-rep-cambodia-1500" in ids]
    table = out[out.index("Campaigns:"):]
    assert re.search(rf"│ +#{campaign} │ +2 │ Telegram", table) and "@goldenbay_hr_ph" in table
    assert "cs-rep-cambodia-1500" in table and "/-/lurewatch/campaigns" in table
