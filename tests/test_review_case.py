"""The case page of one ad and its verdict form: the real `lurewatch review` (tests/reviewapp.py), real Chromium
through Playwright, a second local server standing in for the recruiters' sites (it must never be contacted)."""
from __future__ import annotations

import re

import pytest

from conftest import db_rows
from crawler.browser import LAUNCH_ARGS, find_chromium
from crawler.localsite import LocalSite, Page
from crawler.lureindex import engine_for_store
from crawler.store import Store
from reviewapp import Session, login, start_review_app
from rules.model import Ad

from output.review.textmarks import Span, highlight, locate, snapshot_text, word_diff

needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="no Chromium (run `make browser`)")

SEED_TEXT_START = "URGENT HIRING: Digital Sales and Marketing Executive in Thailand."
DESCRIPTION = ("URGENT HIRING: Digital Sales and Marketing Executive in Thailand. Good IT skills and basic English "
               "needed. Salary USD 1,200 per month plus commission. Company pays your air ticket and visa, free hostel "
               "and meals. Send CV on Telegram today. 5 years of experience required.")
PAYLOAD = ('<script>window.__xss=1;alert(1)</script><img src=x onerror="window.__xss=1;alert(1)" data-xss=1>'
           '<svg onload="alert(1)" data-xss=1></svg>"><b data-xss=1>bold</b>')
LONG_TOKEN = "x" * 400  # one unbreakable word: the page must still fit the screen


def ev(rule_id, category, text, field, start=-1, end=-1, weight=0.5):
    return {"rule_id": rule_id, "category": category, "weight": weight, "matched_text": text, "field": field,
            "start": start, "end": end, "explanation": f"{category} rule {rule_id}"}


def at(text, part):
    """(start, end) of `part` in `text`."""
    start = text.index(part)
    return start, start + len(part)


def case_ad(hits):
    ad = {"url": hits.url("/job/a"), "source": "board.example", "country": "KH",
          "title": "Chat support Sihanoukville, free flight", "company": "Golden Bay Recruitment",
          "location": "Sihanoukville, Cambodia", "salary_text": "USD 1500 per month", "description": DESCRIPTION,
          "contact": "Telegram @goldenbay_hr or +855 12 345 678"}
    evidence = [
        ev("destination.cambodia_hub", "destination", "Sihanoukville", "title", *at(ad["title"], "Sihanoukville")),
        ev("perks.free_flight", "perks", "free flight", "title", 0, 11),  # stale offsets: found by its text
        ev("employer.vague_agency", "employer_vague", "Recruitment", "company", *at(ad["company"], "Recruitment")),
        ev("destination.compound_country", "destination", "Cambodia", "location", *at(ad["location"], "Cambodia")),
        ev("pay.above_norm", "pay", "USD 1500", "salary", 0, 8),
        ev("urgency.leave_now", "urgency", "URGENT HIRING", "description", *at(DESCRIPTION, "URGENT HIRING")),
        ev("perks.food_housing", "perks", "free hostel and meals", "description", 500, 521),  # stale
        ev("fraud_hint.commission", "fraud_hint", "plus commission", "description", *at(DESCRIPTION, "plus commission")),
        ev("mitigating.experience_required", "mitigating", "5 years of experience", "description",
           *at(DESCRIPTION, "5 years of experience"), weight=-1.1),
        ev("contact.messenger_handle", "contact", "Telegram @goldenbay_hr", "contact", 0, 22),
        ev("similarity.known_lure", "similarity", "seed-en-001 (0.92)", "description"),
    ]
    assessment = {"score": 91, "level": "high", "flagged": True, "fraud_score": 12, "language": "en",
                  "categories": sorted({e["category"] for e in evidence}), "evidence": evidence,
                  "summary": "Compound town, free flight and a chat-app contact.",
                  "nearest_lure": {"id": "seed-en-001", "similarity": 0.92},
                  "contacts": [{"kind": "telegram", "value": "goldenbay_hr", "raw": "Telegram @goldenbay_hr",
                                "field": "contact"},
                               {"kind": "phone", "value": "+85512345678", "raw": "+855 12 345 678", "field": "contact"}]}
    return ad, assessment


SNAPSHOT_HTML = """<html><head><title>Golden Bay</title><link rel="stylesheet" href="{hits}/style.css">
<script src="{hits}/app.js"></script><script>fetch("{hits}/beacon")</script>
<meta http-equiv="refresh" content="0;url={hits}/refresh"></head>
<body><h1>Apply now: Golden Bay</h1><p>Free flight &amp; visa<img src="{hits}/logo.png"></p>
<iframe src="{hits}/frame"></iframe>{payload}</body></html>"""


@pytest.fixture(scope="module")
def hits():
    """The 'recruiters' server: answers anything, records every request."""
    site = LocalSite(fallback=lambda handler: Page("<html>recruiter</html>"))
    site.start()
    yield site
    site.stop()


@pytest.fixture(scope="module")
def case_db(tmp_path_factory, hits):
    path = tmp_path_factory.mktemp("case") / "casedb.db"
    store = Store(path)
    ad, assessment = case_ad(hits)
    first, _ = store.save_ad({**ad, "description": "URGENT HIRING in Thailand."}, assessment, crawl_id=None)
    store.save_ad(ad, assessment, aliases=[hits.url("/job/a?ref=listing")],
                  snapshot={"url": hits.url("/job/a"), "status": 200, "content_type": "text/html; charset=utf-8",
                            "body": SNAPSHOT_HTML.format(hits=hits.base_url, payload=PAYLOAD).encode()})
    store.mark_removed(first, None, "listing gone")
    shared = {"kind": "telegram", "value": "goldenbay_hr", "raw": "@goldenbay_hr", "field": "contact"}
    others = []
    for n in (1, 2):
        other = {"url": hits.url(f"/job/other{n}"), "source": "board.example", "title": f"Typing job {n} abroad",
                 "description": "Typing job abroad, free flight. Telegram @goldenbay_hr"}
        others.append(store.save_ad(other, {"score": 60 + n, "level": "medium", "flagged": True, "evidence": [],
                                            "contacts": [shared], "summary": ""})[0])
    store.add_review(others[0], "lure", reviewer="lead", note="same recruiter as #1")
    copy = {"url": hits.url("/job/copy"), "source": "other.example", "title": "Typing job 1 abroad",
            "description": "Typing work abroad, free flights. Telegram @goldenbay_hr"}
    copy_assessment = engine_for_store(store).assess(Ad.from_dict(copy)).to_dict()  # the confirmed lure is nearest
    assert copy_assessment["nearest_lure"]["ad_id"] == others[0], copy_assessment["nearest_lure"]
    copy_id = store.save_ad(copy, copy_assessment)[0]
    xss_id = xss_ad(store, hits)
    store.close()
    return {"path": path, "case": first, "others": others, "copy": copy_id, "xss": xss_id}


def xss_ad(store, hits):
    """An ad whose every field (and evidence, contact, URL, snapshot, review note, history) is a script payload."""
    fields = {k: f"{k} {PAYLOAD} {LONG_TOKEN}" for k in ("title", "company", "location", "salary_text",
                                                         "description", "contact", "source", "country")}
    ad = {**fields, "url": "javascript:alert(document.domain)//" + PAYLOAD}
    evidence = [ev(PAYLOAD, PAYLOAD, PAYLOAD, field, *at(fields["title"], PAYLOAD)) for field in ("title",)]
    evidence += [ev("perks." + PAYLOAD, "perks", PAYLOAD, f, -1, -1) for f in ("description", "contact", "salary")]
    ad_id, _ = store.save_ad(ad, {"score": 77, "level": PAYLOAD, "flagged": True, "fraud_score": 1, "evidence": evidence,
                                  "summary": PAYLOAD, "categories": [PAYLOAD], "nearest_lure": {"id": PAYLOAD},
                                  "contacts": [{"kind": PAYLOAD, "value": PAYLOAD, "raw": PAYLOAD, "field": "contact"}]},
                             aliases=[hits.url('/x"><img src=x onerror=alert(1) data-xss=1>'), "javascript:alert(2)"],
                             snapshot={"url": "javascript:alert(3)", "status": 200, "content_type": "text/html",
                                       "body": SNAPSHOT_HTML.format(hits=hits.base_url, payload=PAYLOAD).encode()})
    store.add_review(ad_id, "unsure", reviewer="lead", note=PAYLOAD)
    store.mark_removed(ad_id, None, PAYLOAD)
    return ad_id


@pytest.fixture(scope="module")
def app(case_db):
    with start_review_app(case_db["path"]) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if find_chromium() is None:
        pytest.skip("no Chromium (run `make browser`)")

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_as(browser, app):
    """page_as(user) -> a logged-in page on a 1366 x 768 laptop screen; the dialogs it opened in `.dialogs`."""
    contexts = []

    def make(user):
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        login(page, app.url, user, app.users[user][1])
        return page

    yield make
    for context in contexts:
        context.close()


def open_case(page, app, ad_id):
    response = page.goto(f"{app.url}/-/lurewatch/ad/{ad_id}", wait_until="networkidle")
    assert response.status == 200, page.content()[:500]
    return page


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def marks(page, field, kind):
    return page.locator(f".field-{field} mark.hl-{kind}").all_inner_texts()


@pytest.mark.browser
@needs_chromium
def test_case_page_shows_score_evidence_and_highlights_in_every_field(page_as, app, case_db):
    page = open_case(page_as("ana"), app, case_db["case"])
    head = page.locator("#score").inner_text()
    assert "91" in head and "high" in head and "Compound town, free flight and a chat-app contact." in head
    assert "Fraud score: 12/100" in head and "unreviewed" in head
    assert marks(page, "title", "lure") == ["Sihanoukville", "free flight"]
    assert marks(page, "company", "lure") == ["Recruitment"]
    assert marks(page, "location", "lure") == ["Cambodia"]
    assert marks(page, "salary", "lure") == ["USD 1500"]
    assert marks(page, "description", "lure") == ["URGENT HIRING", "free hostel and meals"]
    assert marks(page, "description", "fraud") == ["plus commission"]
    assert marks(page, "description", "mitigating") == ["5 years of experience"]
    assert marks(page, "contact", "lure") == ["Telegram @goldenbay_hr"]
    assert page.locator(".field-title mark").first.get_attribute("title") == "destination: destination.cambodia_hub"
    colours = {kind: page.locator(f".field-description mark.hl-{kind}").first.evaluate(
        "el => getComputedStyle(el).backgroundColor") for kind in ("lure", "mitigating", "fraud")}
    assert len(set(colours.values())) == 3, colours
    groups = page.locator("#evidence .ev-group")
    headings = [h.split()[0] for h in groups.locator("h3").all_inner_texts()]
    assert headings[0] in ("perks", "destination") and headings[-1] == "mitigating" and "similarity" in headings
    assert "reassuring" in page.locator("#evidence .kind-mitigating h3").inner_text()
    assert "perks.food_housing" in page.locator("#evidence .kind-lure", has_text="perks").inner_text()
    assert fits_the_screen(page)


@pytest.mark.browser
@needs_chromium
def test_nearest_known_lure_side_by_side_with_differences(page_as, app, case_db):
    page = open_case(page_as("vic"), app, case_db["case"])
    section = page.locator("#nearest")
    assert "seed-en-001" in section.inner_text() and "92% similar" in section.inner_text()
    assert page.locator(".side-lure").inner_text().startswith(SEED_TEXT_START)
    assert page.locator(".side-ad .diff").all_inner_texts() == ["Chat support Sihanoukville, free flight",
                                                                "5 years of experience required."]
    assert page.locator(".side-lure .diff").count() == 0


@pytest.mark.browser
@needs_chromium
def test_a_confirmed_lure_links_to_its_case_page(page_as, app, case_db):
    page = open_case(page_as("vic"), app, case_db["copy"])
    link = page.locator("#nearest a", has_text=f"Confirmed lure #{case_db['others'][0]}")
    assert link.get_attribute("href") == f"/-/lurewatch/ad/{case_db['others'][0]}"
    assert page.locator(".side-lure").inner_text() == "Typing job 1 abroad\nTyping job abroad, free flight. Telegram @goldenbay_hr"
    assert page.locator(".side-ad .diff").all_inner_texts() == ["work", "flights."]
    link.click()
    assert page.locator("#score h1").inner_text() == f"#{case_db['others'][0]} Typing job 1 abroad"


@pytest.mark.browser
@needs_chromium
def test_contacts_link_to_the_ads_sharing_them(page_as, app, case_db):
    page = open_case(page_as("vic"), app, case_db["case"])
    rows = page.locator("#contacts tbody tr")
    assert [r.split("\t")[0] for r in rows.all_inner_texts()] == ["telegram", "phone"]
    telegram = rows.nth(0).locator("a.contact-link")
    assert telegram.inner_text() == "3 other ads"  # the two typing jobs and the reworded copy
    assert rows.nth(1).locator("a.contact-link").inner_text() == "no other ad"
    telegram.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "telegram goldenbay_hr"
    ids = {case_db["case"], *case_db["others"], case_db["copy"]}
    assert {a.get_attribute("href") for a in page.locator("#contact-ads tbody a").all()} == \
        {f"/-/lurewatch/ad/{i}" for i in ids}


@pytest.mark.browser
@needs_chromium
def test_history_is_a_timeline(page_as, app, case_db):
    page = open_case(page_as("vic"), app, case_db["case"])
    events = page.locator("#history .timeline li").all_inner_texts()
    assert [re.split(r"\s+", e)[1] for e in events] == ["new", "changed", "removed"]
    assert "changed: description" in events[1] and "listing gone" in events[2]
    assert "Removed from its site" in page.locator("#score").inner_text()


@pytest.mark.browser
@needs_chromium
def test_snapshot_is_text_and_urls_are_not_links(page_as, app, case_db, hits):
    page = open_case(page_as("vic"), app, case_db["case"])
    text = page.locator(".snapshot-text").inner_text()
    assert "Apply now: Golden Bay" in text and "Free flight & visa" in text and "fetch(" not in text
    assert page.locator(".snapshot-source").is_hidden()
    page.click(".toggle-source")
    assert '<script src="' + hits.base_url + '/app.js"></script>' in page.locator(".snapshot-source").inner_text()
    assert page.locator("#snapshot iframe, #snapshot img, #snapshot script, #snapshot link").count() == 0
    urls = [i.input_value() for i in page.locator("#urls input[readonly]").all()]
    assert urls == [hits.url("/job/a"), hits.url("/job/a?ref=listing")]
    assert "shows them your IP address" in page.locator(".opsec-warning").inner_text()
    hrefs = [a.get_attribute("href") or "" for a in page.locator("a[href]").all()]
    assert not [h for h in hrefs if hits.base_url in h or str(hits.port) in h], hrefs
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#urls .copy-button").first.click()
    page.wait_for_function("url => navigator.clipboard.readText().then(text => text === url)", arg=hits.url("/job/a"))


@pytest.mark.browser
@needs_chromium
def test_verdict_recorded_and_visible(page_as, app, case_db):
    page = open_case(page_as("ana"), app, case_db["case"])
    page.check("#verdict input[value=not_lure]")
    page.fill("#verdict textarea[name=note]", "Licensed agency, checked by phone")
    with page.expect_navigation():
        page.click("#verdict button[type=submit]")
    assert page.url.endswith(f"/-/lurewatch/ad/{case_db['case']}#verdict")
    assert page.locator(".review-status").inner_text() == "not_lure"
    assert "not_lure by ana: Licensed agency, checked by phone" in page.locator(".verdict-history li").first.inner_text()
    assert "Verdict recorded: Not a lure." in page.content()
    rows = db_rows(case_db["path"], "select reviewer, verdict, note from reviews where ad_id = ?", [case_db["case"]])
    assert rows == [{"reviewer": "ana", "verdict": "not_lure", "note": "Licensed agency, checked by phone"}]
    assert db_rows(case_db["path"], "select review_status from ads where id = ?", [case_db["case"]]) == \
        [{"review_status": "not_lure"}]


def reviews_of(case_db, ad_id):
    return db_rows(case_db["path"], "select verdict from reviews where ad_id = ?", [ad_id])


def test_post_without_csrf_token_is_refused(app, case_db):
    session = login(Session(), app.url, "ana", "pw1")
    url = f"{app.url}/-/lurewatch/ad/{case_db['others'][1]}/verdict"
    assert session.post(url, {"verdict": "lure", "note": "no token"}, follow=False)[0] == 403
    assert session.post(url, {"verdict": "lure", "csrftoken": "forged"}, follow=False)[0] == 403
    assert reviews_of(case_db, case_db["others"][1]) == []
    token = session.csrftoken(f"{app.url}/-/lurewatch/ad/{case_db['others'][1]}")
    status, body = session.post(url, {"verdict": "banana", "csrftoken": token}, follow=False)
    assert status == 400 and "unknown verdict 'banana'" in body
    assert reviews_of(case_db, case_db["others"][1]) == []


@pytest.mark.browser
@needs_chromium
def test_viewer_has_no_form_and_cannot_post(page_as, app, case_db):
    page = open_case(page_as("vic"), app, case_db["others"][1])
    assert page.locator("form.verdict-form").count() == 0
    assert "can read cases but not record verdicts" in page.locator("#verdict").inner_text()
    session = login(Session(), app.url, "vic", "pw2")
    token = session.csrftoken(f"{app.url}/-/lurewatch/ad/{case_db['others'][1]}")  # the log-out form's token
    status, body = session.post(f"{app.url}/-/lurewatch/ad/{case_db['others'][1]}/verdict",
                                {"verdict": "lure", "csrftoken": token}, follow=False)
    assert status == 403, body[:300]
    assert reviews_of(case_db, case_db["others"][1]) == []


def test_anonymous_is_sent_to_login(app, case_db):
    session = Session()
    status, _ = session.get(f"{app.url}/-/lurewatch/ad/{case_db['case']}", follow=False)
    assert status in (302, 401, 403)
    status, _ = session.post(f"{app.url}/-/lurewatch/ad/{case_db['case']}/verdict", {"verdict": "lure"}, follow=False)
    assert status in (401, 403)
    assert reviews_of(case_db, case_db["case"]) in ([], [{"verdict": "not_lure"}])


def test_unknown_ad_is_404(app, case_db):
    session = login(Session(), app.url, "ana", "pw1")
    assert session.get(f"{app.url}/-/lurewatch/ad/999999")[0] == 404
    assert session.get(f"{app.url}/-/lurewatch/contact/999999")[0] == 404
    token = session.csrftoken(f"{app.url}/-/lurewatch/ad/{case_db['case']}")
    assert session.post(f"{app.url}/-/lurewatch/ad/999999/verdict", {"verdict": "lure", "csrftoken": token})[0] == 404
    assert db_rows(case_db["path"], "select count(*) as n from reviews where ad_id = 999999") == [{"n": 0}]


@pytest.mark.parametrize("user", ["ana", "vic"])
@pytest.mark.browser
@needs_chromium
def test_xss_payloads_stay_inert(page_as, app, case_db, user):
    page = page_as(user)
    open_case(page, app, case_db["xss"])
    contact = page.locator("a.contact-link").first.get_attribute("href")
    for _ in range(2):
        assert page.dialogs == []
        assert page.evaluate("window.__xss") is None
        assert page.locator("[data-xss], svg[onload], img[onerror], #snapshot iframe").count() == 0
        assert page.locator("a[href^='javascript:' i]").count() == 0
        assert fits_the_screen(page)
        assert page.locator("h1").bounding_box()["width"] > 600  # long values wrap, not squeeze the heading
        page.goto(app.url + contact, wait_until="networkidle")
    assert PAYLOAD in page.locator("h1").inner_text()
    open_case(page, app, case_db["xss"])
    assert page.locator("#score h1").inner_text().startswith(f"#{case_db['xss']} title <script>window.__xss=1;")
    assert PAYLOAD in page.locator(".verdict-history").inner_text()
    assert "javascript:alert(document.domain)//" + PAYLOAD in \
        [i.input_value() for i in page.locator("#urls input[readonly]").all()]


@pytest.mark.browser
@needs_chromium
def test_case_pages_contact_no_other_host(page_as, app, case_db, hits):
    page = page_as("ana")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    hits.requests.clear()
    for ad_id in (case_db["xss"], case_db["copy"], case_db["case"]):
        open_case(page, app, ad_id)
        if page.locator(".toggle-source").count():
            page.click(".toggle-source")
        page.wait_for_load_state("networkidle")
    page.goto(app.url + page.locator("a.contact-link").first.get_attribute("href"), wait_until="networkidle")
    assert requested and all(url.startswith(app.url + "/") for url in requested), requested
    assert hits.requests == []


# -- the text helpers (output/review/textmarks.py) ------------------------------------------------------------------
@pytest.mark.parametrize("start, end, found", [(9, 20, (9, 20)), (0, 4, (9, 20)), (-1, -1, (9, 20)), (30, 99, (9, 20))])
def test_locate_uses_offsets_or_falls_back_to_the_text(start, end, found):
    assert locate("Call us. Free flight to Bavet", start, end, "free flight") == found
    assert locate("Call us.", start, end, "free flight") is None


def test_locate_after_text_whose_case_folding_is_longer():
    """"ß" case-folds to "ss": a position found in the case-folded text would be one character off."""
    import importlib.util

    from output.review import PLUGINS_DIR

    spec = importlib.util.spec_from_file_location("lurewatch_review", PLUGINS_DIR / "lurewatch_review.py")
    stock_pages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stock_pages)
    text = "Straße frei. Free flight"
    for find in (locate, stock_pages._locate):  # the case page and the stock ads page
        assert find(text, -1, -1, "free flight") == (13, 24)
    assert text[13:24] == "Free flight"


def test_overlapping_hits_are_all_marked_and_text_escaped():
    text = "Free flight <b>to</b> Bavet"
    html = str(highlight(text, [Span(0, 11, "mitigating", "m: a"), Span(5, 11, "lure", "perks: b"),
                                Span(22, 27, "lure", 'x"><script>')]))
    assert html == ('<mark class="hl-mitigating" title="m: a">Free </mark>'
                    '<mark class="hl-lure" title="m: a; perks: b">flight</mark> &lt;b&gt;to&lt;/b&gt; '
                    '<mark class="hl-lure" title="x&#34;&gt;&lt;script&gt;">Bavet</mark>')


def test_word_diff_marks_only_the_words_that_differ():
    ad, lure = word_diff("Free flight to <Bavet>, chat job.", "free flight to Sihanoukville, chat job")
    assert str(ad) == 'Free flight to <span class="diff">&lt;Bavet&gt;,</span> chat job.'
    assert str(lure) == 'free flight to <span class="diff">Sihanoukville,</span> chat job'


def test_snapshot_text_decodes_and_drops_scripts():
    body = ("<html><head><meta charset='iso-8859-1'><script>alert(1)</script><style>p{}</style></head>"
            "<body><header><a href=/>Board</a></header><h1>Caf\xe9 job</h1><p>Free&nbsp;flight &lt;now&gt;</p>"
            "</body></html>").encode("latin-1")
    source, text = snapshot_text(body, "text/html")
    assert "<script>alert(1)</script>" in source and "Caf\xe9" in source
    assert text == "Board\n\nCaf\xe9 job\n\nFree\xa0flight <now>"
