"""The campaign pages of the review app: the real `lurewatch review` (tests/reviewapp.py) over a store linked by the
real crawler.campaigns.link_store, real Chromium (one app and one browser for the module)."""
from __future__ import annotations

import pytest

from conftest import db_rows
from crawler.browser import LAUNCH_ARGS, find_chromium
from crawler.campaigns import link_store
from crawler.store import Store
from reviewapp import Session, login, start_review_app
from rules.engine import FLAG_SCORE, level_for

needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="no Chromium (run `make browser`)")
PAYLOAD = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1" data-xss=1>'
TEMPLATE = ("Customer service agents needed abroad. Free flight, visa and dormitory provided, salary {pay} USDT per "
            "month, no experience needed, typing test only. Departure within {days} days, apply through the {app} "
            "recruiter, slots limited for applicants aged 18 to 35, passport valid six months.")
SUPPORT = ("email", "support@bigboard.example")  # on ads of five sites: generic, links nothing


def save(store, key, score, contacts, *, source, description=None, title=None, language="en", country="KH"):
    ad = {"url": f"http://{source}/ad/{key}", "source": source, "title": title or f"Job {key}", "country": country,
          "description": description or f"Ad {key}: " + " ".join(f"{key}{i}word{i * 7}" for i in range(30))}
    assessment = {"score": score, "level": level_for(score), "flagged": score >= FLAG_SCORE, "language": language,
                  "evidence": [], "summary": f"summary {key}",
                  "contacts": [{"kind": k, "value": v, "raw": v, "field": "contact"} for k, v in contacts]}
    return store.save_ad(ad, assessment)[0]


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    path = tmp_path_factory.mktemp("campaign") / "campaigns.db"
    store = Store(path)
    ids = {
        "a": save(store, "a", 82, [("telegram", "goldenbay_hr"), ("phone", "+85512345678"), SUPPORT], source="s1.test",
                  description=TEMPLATE.format(pay=1500, days=7, app="Telegram"), language="en"),
        "b": save(store, "b", 66, [("telegram", "goldenbay_hr")], source="s2.test", language="th", country="TH"),
        "c": save(store, "c", 30, [("phone", "+85512345678")], source="s3.test", language="vi", country="VN"),
        "d": save(store, "d", 20, [], source="s1.test", description=TEMPLATE.format(pay=1800, days=5, app="WhatsApp")),
        "x1": save(store, "x1", 70, [("telegram", PAYLOAD)], source="s4.test", title=PAYLOAD),
        "x2": save(store, "x2", 55, [("telegram", PAYLOAD)], source="s4.test", title="Payload " + PAYLOAD),
        "p": save(store, "p", 45, [("line", "spadmin99")], source="s5.test"),
        "q": save(store, "q", 25, [("line", "spadmin99")], source="s5.test"),
    }
    for n in range(5):
        ids[f"legit{n}"] = save(store, f"legit{n}", 3, [SUPPORT], source=f"board{n}.test")
    link_store(store)
    store.close()
    campaign = {k: db_rows(path, "select campaign_id from ads where id = ?", [v])[0]["campaign_id"]
                for k, v in ids.items()}
    assert len({campaign[k] for k in "abcd"}) == 1 and campaign["a"] is not None, campaign
    assert campaign["x1"] == campaign["x2"] != campaign["a"] and campaign["legit0"] is None
    return {"path": path, "ids": ids, "campaign": campaign}


@pytest.fixture(scope="module")
def app(linked):
    with start_review_app(linked["path"]) as running:
        yield running


@pytest.fixture(scope="module")
def page(app):
    from playwright.sync_api import sync_playwright

    if find_chromium() is None:
        pytest.skip("no Chromium (run `make browser`)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        tab = context.new_page()
        tab.dialogs, tab.requested = [], []
        tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
        tab.on("request", lambda request: tab.requested.append(request.url))
        login(tab, app.url, "vic", "pw2")
        yield tab
        browser.close()


def open_page(page, app, path):
    response = page.goto(app.url + path, wait_until="networkidle")
    assert response.status == 200, page.content()[:500]
    return page


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.browser
@needs_chromium
def test_campaign_page_shows_ads_sites_languages_countries_timeline_and_contacts(page, app, linked):
    ids, cid = linked["ids"], linked["campaign"]["a"]
    open_page(page, app, f"/-/lurewatch/campaign/{cid}")
    assert page.locator("h1").inner_text() == f"Campaign #{cid}: 4 linked ads"
    rows = page.locator("#ads tbody tr")
    assert [int(r) for r in rows.evaluate_all("rows => rows.map(r => r.dataset.adId)")] == \
        [ids["a"], ids["b"], ids["c"], ids["d"]]  # riskiest first (a and b raised by each other)
    assert {a.get_attribute("href") for a in page.locator("#ads tbody a").all()} == \
        {f"/-/lurewatch/ad/{ids[k]}" for k in "abcd"}
    assert "engine 30, raised by the campaign" in rows.nth(2).inner_text()
    assert page.locator("#sites li .name").all_inner_texts() == ["s1.test", "s2.test", "s3.test"]
    assert page.locator("#countries li").all_inner_texts() == ["KH 2", "TH 1", "VN 1"]
    assert sorted(page.locator("#languages .name").all_inner_texts()) == ["en", "th", "vi"]
    events = page.locator("#timeline li").all_inner_texts()
    assert len(events) == 4 and all("seen first" in e for e in events)
    contacts = page.locator("#contacts table code").all_inner_texts()
    assert sorted(contacts) == ["Telegram @goldenbay_hr", "phone +85512345678"]
    assert "email support@bigboard.example" in page.locator("#contacts .generic").inner_text()
    assert "in 6 ads on 6 sites" in page.locator("#contacts .generic").inner_text()
    assert fits_the_screen(page)


@pytest.mark.browser
@needs_chromium
def test_contact_graph_draws_ads_and_contacts_and_links_to_case_pages(page, app, linked):
    ids, cid = linked["ids"], linked["campaign"]["a"]
    open_page(page, app, f"/-/lurewatch/campaign/{cid}")
    graph = page.locator("#graph svg.contact-graph")
    assert sorted(graph.locator("a.node-ad").evaluate_all("n => n.map(x => x.dataset.node)")) == \
        sorted(f"ad-{ids[k]}" for k in "abcd")
    assert sorted(graph.locator("g.node-contact text").evaluate_all("t => t.map(x => x.textContent)")) == \
        ["Telegram @goldenbay_hr", "phone +85512345678"]
    edges = graph.locator("line.edge").evaluate_all("e => e.map(x => [x.dataset.from, x.dataset.to, x.classList[1]])")
    assert sorted(edges) == sorted([
        [f"ad-{ids['a']}", "contact-telegram:goldenbay_hr", "edge-contact"],
        [f"ad-{ids['b']}", "contact-telegram:goldenbay_hr", "edge-contact"],
        [f"ad-{ids['a']}", "contact-phone:+85512345678", "edge-contact"],
        [f"ad-{ids['c']}", "contact-phone:+85512345678", "edge-contact"],
        [f"ad-{ids['a']}", f"ad-{ids['d']}", "edge-text"],
    ])
    box = graph.bounding_box()
    for node in graph.locator("circle, rect").all():  # every node inside the drawing
        b = node.bounding_box()
        assert box["x"] <= b["x"] and b["x"] + b["width"] <= box["x"] + box["width"] + 1
    graph.locator(f"a.node-ad[data-node='ad-{ids['c']}']").click()
    page.wait_for_url(f"**/-/lurewatch/ad/{ids['c']}")
    link = page.locator("#score a.campaign-link")
    assert link.inner_text() == f"#{cid} (4 linked ads)"
    assert "Shares phone +85512345678 with 1 flagged ad" in page.locator("#evidence .ev-group", has_text="campaign").inner_text()
    link.click()
    page.wait_for_url(f"**/-/lurewatch/campaign/{cid}")


@pytest.mark.browser
@needs_chromium
def test_campaign_list_links_every_campaign_from_the_menu(page, app, linked):
    open_page(page, app, "/-/lurewatch/queue")
    page.locator("details.nav-menu summary").click()
    page.locator("details.nav-menu a", has_text="Campaigns").click()
    page.wait_for_url("**/-/lurewatch/campaigns")
    ids = sorted(int(i) for i in page.locator("#campaigns tbody tr").evaluate_all("r => r.map(x => x.dataset.campaignId)"))
    assert ids == sorted({c for c in linked["campaign"].values() if c is not None})
    first = page.locator("#campaigns tbody tr").first
    assert first.get_attribute("data-campaign-id") == str(linked["campaign"]["a"])  # highest risk first
    assert "s1.test, s2.test, s3.test" in first.inner_text() and "Telegram @goldenbay_hr" in first.inner_text()
    assert fits_the_screen(page)


@pytest.mark.browser
@needs_chromium
def test_payloads_stay_inert_and_nothing_is_loaded_from_elsewhere(page, app, linked):
    cid = linked["campaign"]["x1"]
    page.requested.clear()
    for path in (f"/-/lurewatch/campaign/{cid}", "/-/lurewatch/campaigns"):
        open_page(page, app, path)
        assert page.dialogs == [] and page.evaluate("window.__xss") is None
        assert page.locator("[data-xss], img[onerror], script:not([src]):has-text('__xss')").count() == 0
        assert fits_the_screen(page)
    open_page(page, app, f"/-/lurewatch/campaign/{cid}")
    assert PAYLOAD in page.locator("#ads tbody").inner_text()
    assert f"Telegram @{PAYLOAD}"[:30] in page.locator("g.node-contact title").first.text_content()
    assert page.requested and all(url.startswith(app.url + "/") for url in page.requested), page.requested


def test_anonymous_is_sent_to_login_and_unknown_campaign_is_404(app, linked):
    anonymous = Session()
    for path in ("/-/lurewatch/campaigns", f"/-/lurewatch/campaign/{linked['campaign']['a']}"):
        status, _ = anonymous.get(app.url + path, headers={"Accept": "text/html"}, follow=False)
        assert status == 302 and "/-/login?next=" in anonymous.last_headers["Location"]
    session = login(Session(), app.url, "vic", "pw2")
    assert session.get(app.url + "/-/lurewatch/campaign/999999")[0] == 404


def test_a_verdict_in_the_review_app_raises_the_linked_ad(app, linked):
    ids = linked["ids"]
    session = login(Session(), app.url, "ana", "pw1")
    case = f"{app.url}/-/lurewatch/ad/{ids['p']}"
    status, _ = session.post(case + "/verdict", {"verdict": "lure", "csrftoken": session.csrftoken(case)})
    assert status == 200
    [row] = db_rows(linked["path"], "select risk_score, flagged from ads where id = ?", [ids["q"]])
    assert row == {"risk_score": 45, "flagged": 0}  # 25 + 20 for one confirmed lure: raised, not flagged
    status, body = session.get(f"{app.url}/-/lurewatch/ad/{ids['q']}")
    assert f"Shares LINE spadmin99 with confirmed lure #{ids['p']}" in body
