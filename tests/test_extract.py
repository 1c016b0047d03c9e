"""crawler.extract (JobPosting JSON-LD + microdata -> JobAd fields) and crawler.urls (canonical URLs)."""
import json

import pytest

from crawler.extract import extract, extract_jobpostings, salary_text
from crawler.urls import canonical_url, canonicalize, same_site, site_key


def jsonld_page(*blocks, body=""):
    scripts = "".join(f'<script type="application/ld+json">{b if isinstance(b, str) else json.dumps(b)}</script>' for b in blocks)
    return f"<html><head><title>t</title>{scripts}</head><body>{body}</body></html>"


FULL_POSTING = {
    "@context": "https://schema.org",
    "@type": "JobPosting",
    "title": "Customer Service &amp; Chat Support",
    "description": "<p>No experience needed.</p><ul><li>Free visa</li><li>Free food &amp; housing</li></ul>",
    "identifier": {"@type": "PropertyValue", "name": "Board", "value": "J-17"},
    "datePosted": "2026-10-30",
    "hiringOrganization": {"@type": "Organization", "name": "Golden Sky Co", "telephone": "+855 12 345 678"},
    "jobLocation": [
        {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": "Sihanoukville", "addressCountry": "KH"}},
        {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": "Bavet",
                                       "addressCountry": {"@type": "Country", "name": "Cambodia"}}},
    ],
    "baseSalary": {"@type": "MonetaryAmount", "currency": "USD",
                   "value": {"@type": "QuantitativeValue", "minValue": 1500, "maxValue": 3000, "unitText": "MONTH"}},
    "jobBenefits": "Flight ticket paid",
    "applicationContact": {"@type": "ContactPoint", "name": "Ms Lily", "url": "https://t.me/golden_hr"},
}


def test_jsonld_full_posting_maps_every_field():
    [ad] = extract_jobpostings(jsonld_page(FULL_POSTING), "http://board.test/jobs/17")
    assert ad["title"] == "Customer Service & Chat Support"
    assert ad["company"] == "Golden Sky Co"
    assert ad["location"] == "Sihanoukville, KH; Bavet, Cambodia"
    assert ad["country"] == "KH"
    assert ad["salary_text"] == "USD 1,500-3,000 per month"
    assert ad["description"] == "No experience needed.\n\nFree visa\nFree food & housing\n\nBenefits: Flight ticket paid"
    assert ad["contact"] == "Ms Lily; https://t.me/golden_hr; +855 12 345 678"
    assert ad["external_id"] == "J-17"
    assert ad["posted_at"] == "2026-10-30"
    assert "url" not in ad


@pytest.mark.parametrize("wrap", [
    pytest.param(lambda p: p, id="object"),
    pytest.param(lambda p: [{"@type": "Organization", "name": "X"}, p], id="top-level-list"),
    pytest.param(lambda p: {"@context": "https://schema.org", "@graph": [{"@type": "WebSite"}, p]}, id="graph"),
    pytest.param(lambda p: {"@type": "ItemList", "itemListElement": [{"@type": "ListItem", "item": p}]}, id="itemlist"),
    pytest.param(lambda p: dict(p, **{"@type": ["JobPosting", "Thing"]}), id="type-list"),
    pytest.param(lambda p: dict(p, **{"@type": "http://schema.org/JobPosting"}), id="type-iri"),
])
def test_jsonld_shapes(wrap):
    posting = {"@type": "JobPosting", "title": "Data entry", "description": "Typing"}
    ads = extract_jobpostings(jsonld_page(wrap(posting)))
    assert [a["title"] for a in ads] == ["Data entry"]


def test_several_postings_and_bad_block_reported_not_fatal():
    page = jsonld_page("{not json", {"@type": "JobPosting", "title": "A", "url": "/jobs/a"},
                       {"@type": "JobPosting", "title": "B", "url": "/jobs/b"})
    found = extract(page, "http://board.test/list")
    assert [(a["title"], a["url"]) for a in found.postings] == [("A", "http://board.test/jobs/a"), ("B", "http://board.test/jobs/b")]
    assert len(found.errors) == 1 and "JSON-LD block 1" in found.errors[0]


def test_jsonld_with_comments_and_cdata_like_wrapping():
    block = '<!--\n// posting\n{"@type": "JobPosting", "title": "Typist", "description": "x"}\n-->'
    assert [a["title"] for a in extract_jobpostings(jsonld_page(block))] == ["Typist"]


MICRODATA = """
<div itemscope itemtype="https://schema.org/JobPosting">
  <h1 itemprop="title">Chat Support Agent</h1>
  <meta itemprop="identifier" content="M-9">
  <time itemprop="datePosted" datetime="2026-02-03">3 Feb</time>
  <div itemprop="hiringOrganization" itemscope itemtype="https://schema.org/Organization"><span itemprop="name">KK Digital</span></div>
  <div itemprop="jobLocation" itemscope itemtype="https://schema.org/Place">
    <div itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">
      <span itemprop="addressLocality">Myawaddy</span> <span itemprop="addressCountry">MM</span></div></div>
  <div itemprop="baseSalary" itemscope itemtype="https://schema.org/MonetaryAmount">
    <meta itemprop="currency" content="THB">
    <span itemprop="value" itemscope itemtype="https://schema.org/QuantitativeValue">
      <span itemprop="minValue">40000</span>-<span itemprop="maxValue">60000</span><meta itemprop="unitText" content="MONTH"></span></div>
  <div itemprop="description"><p>Line one</p><p>Line <b>two</b></p></div>
</div>"""


def test_microdata_posting():
    [ad] = extract_jobpostings(f"<html><body>{MICRODATA}</body></html>", "http://board.test/")
    assert ad == {
        "title": "Chat Support Agent", "company": "KK Digital", "location": "Myawaddy, MM", "country": "MM",
        "salary_text": "THB 40,000-60,000 per month", "description": "Line one\n\nLine two",
        "external_id": "M-9", "posted_at": "2026-02-03",
    }


def test_jsonld_and_microdata_on_one_page():
    page = jsonld_page({"@type": "JobPosting", "title": "From JSON-LD", "description": "a"}, body=MICRODATA)
    assert sorted(a["title"] for a in extract_jobpostings(page)) == ["Chat Support Agent", "From JSON-LD"]


@pytest.mark.parametrize("page", [
    "", "   ", "<html><body>No structured data</body></html>",
    jsonld_page({"@type": "Organization", "name": "Not a job"}),
    jsonld_page({"@type": "JobPosting"}),  # neither title nor description
    '<?xml version="1.0" encoding="utf-8"?><html><body>x</body></html>',
])
def test_pages_without_postings(page):
    assert extract_jobpostings(page) == []


@pytest.mark.parametrize("value, expected", [
    ({"@type": "MonetaryAmount", "currency": "USD", "value": 2000}, "USD 2,000"),
    ({"@type": "MonetaryAmount", "currency": "USD", "value": {"value": 2500.5, "unitText": "HOUR"}}, "USD 2,500.50 per hour"),
    ({"currency": "MYR", "value": {"minValue": "3000", "maxValue": "3000", "unitText": "MONTH"}}, "MYR 3,000 per month"),
    ({"currency": "USD", "minValue": 800, "maxValue": 1200, "unitText": "WEEK"}, "USD 800-1,200 per week"),
    ("$3000/month", "$3000/month"),
    (1800, "1,800"),
    (None, ""),
])
def test_salary_text(value, expected):
    assert salary_text(value) == expected


@pytest.mark.parametrize("url, expected", [
    ("HTTP://Board.Test:80/jobs/1?utm_source=x&b=2&a=1#apply", "http://board.test/jobs/1?a=1&b=2"),
    ("https://board.test:443", "https://board.test/"),
    ("https://board.test/j?ref=home&fbclid=abc&gclid=z&UTM_Medium=m", "https://board.test/j"),
    ("http://127.0.0.1:8001/a b", "http://127.0.0.1:8001/a%20b"),
    ("http://board.test/job?id=7&empty=", "http://board.test/job?empty=&id=7"),
    ("mailto:hr@board.test", "mailto:hr@board.test"),
])
def test_canonicalize(url, expected):
    assert canonicalize(url) == expected


@pytest.mark.parametrize("page, href, expected", [
    ("http://board.test/jobs/1?utm_source=x", "/jobs/one", "http://board.test/jobs/one"),
    ("http://board.test/jobs/1", "https://www.board.test/jobs/one", "https://www.board.test/jobs/one"),
    ("http://board.test/jobs/1", "http://evil.test/jobs/one", "http://board.test/jobs/1"),  # other site: ignored
    ("http://board.test/jobs/1#x", None, "http://board.test/jobs/1"),
    ("http://board.test/jobs/1", "  ", "http://board.test/jobs/1"),
])
def test_canonical_url(page, href, expected):
    assert canonical_url(page, href) == expected


@pytest.mark.parametrize("a, b, expected", [
    ("http://board.test/x", "https://www.board.test/y", True),
    ("http://jobs.board.test/", "http://board.test/", True),
    ("http://board.test/", "http://board.test.evil/", False),
    ("http://board.test/", "http://otherboard.test/", False),
    ("http://127.0.0.1:8001/", "http://127.0.0.1:8001/a", True),
    ("http://127.0.0.1:8001/", "http://127.0.0.1:8002/", False),
    ("http://board.test/", "mailto:x@board.test", False),
])
def test_same_site(a, b, expected):
    assert same_site(a, b) is expected


def test_site_key_keeps_non_default_port():
    assert site_key("http://127.0.0.1:8001/x") == "127.0.0.1:8001"
    assert site_key("https://www.Board.test/") == "board.test"


# -- contacts: every place a JobPosting can carry them ------------------------------------------

@pytest.mark.parametrize("extra, contact", [
    pytest.param({"applicationContact": {"@type": "ContactPoint", "description": "Message HR on Telegram @gb_hr_ph"}},
                 "Message HR on Telegram @gb_hr_ph", id="contactpoint-description"),
    pytest.param({"applicationContact": [{"@type": "ContactPoint", "name": "Ms Lily", "telephone": "tel:+855-12-345-678"},
                                         {"@type": "ContactPoint", "email": "mailto:hr@gb.example?subject=CV"}]},
                 "Ms Lily; +855-12-345-678; hr@gb.example", id="list-of-contactpoints"),
    pytest.param({"applicationContact": "WhatsApp +66 81 234 5678"}, "WhatsApp +66 81 234 5678", id="plain-string"),
    pytest.param({"hiringOrganization": {"@type": "Organization", "name": "GB",
                                         "contactPoint": [{"@type": "ContactPoint", "description": "LINE @spadmin99"},
                                                          {"@type": "ContactPoint", "url": "https://wa.me/66912340001"}]}},
                 "LINE @spadmin99; https://wa.me/66912340001", id="organization-contactpoints"),
    pytest.param({"hiringOrganization": [{"@type": "Organization", "name": "GB", "email": "jobs@gb.example"}]},
                 "jobs@gb.example", id="organization-list"),
    pytest.param({"description": '<p>Chat with <a href="https://t.me/kk_hr">our HR</a>, <a href="tel:+66812345678">call us</a>'
                                 ' or see <a href="https://gb.example/about">about us</a>.</p>'},
                 "https://t.me/kk_hr; +66812345678", id="links-hidden-in-description"),
    pytest.param({"jobBenefits": '<a href="whatsapp://send?phone=+639171234567">Ask on WhatsApp</a>'},
                 "https://wa.me/639171234567", id="app-link-in-a-section"),
    pytest.param({"description": 'Telegram: <a href="https://t.me/kk_hr">t.me/kk_hr</a>'}, None, id="link-already-shown"),
])
def test_contacts_from_every_place(extra, contact):
    posting = {"@type": "JobPosting", "title": "Chat support", "description": "Typing job", **extra}
    [ad] = extract_jobpostings(jsonld_page(posting), "http://board.test/jobs/1")
    assert ad.get("contact") == contact


def test_microdata_application_contact():
    body = ('<div itemscope itemtype="https://schema.org/JobPosting"><h1 itemprop="title">Typist</h1>'
            '<div itemprop="applicationContact" itemscope itemtype="https://schema.org/ContactPoint">'
            '<span itemprop="description">微信 jmm_hr2026</span><span itemprop="telephone">+855 12 345 678</span></div></div>')
    [ad] = extract_jobpostings(f"<html><body>{body}</body></html>", "http://board.test/")
    assert ad["contact"] == "+855 12 345 678; 微信 jmm_hr2026"
def test_block_nested_too_deep_is_an_error_and_the_good_posting_is_kept():
    deep = "[" * 100_000 + "]" * 100_000
    found = extract(jsonld_page(deep, {"@type": "JobPosting", "title": "Good", "description": "kept"}))
    assert found.postings == [{"title": "Good", "description": "kept"}]
    assert found.errors == ["JSON-LD block 1: nested deeper than 100 levels"]


def test_crawl_keeps_the_good_posting_next_to_a_deeply_nested_block(tmp_path):
    """A page served on 127.0.0.1 with a 100,000-deep JSON-LD block and a good one, crawled by the CLI."""
    from conftest import db_rows, run_cli
    from crawler.localsite import LocalSite, Page

    good = {"@context": "https://schema.org", "@type": "JobPosting", "title": "Chat support, Bavet",
            "description": "Free flight and housing, no experience needed.",
            "hiringOrganization": {"@type": "Organization", "name": "Deep Nest Co"}}
    deep_list = "[" * 100_000 + "]" * 100_000
    deep_object = '{"@type": "JobPosting", "title": ' + '{"a": ' * 5_000 + '"x"' + "}" * 5_000 + "}"
    site = LocalSite()
    site.pages["/"] = Page('<html><body><a href="/ad/1">ad</a></body></html>')
    site.pages["/ad/1"] = Page(jsonld_page(deep_list, good, deep_object))
    site.start()
    try:
        db = tmp_path / "ads.db"
        proc = run_cli("crawl", site.url("/"), "--db", str(db), "--no-progress", "-s", "AUTOTHROTTLE_ENABLED=False")
    finally:
        site.stop()
    # issue 11: the two unreadable blocks leave the board incomplete, so the crawl is partial: exit 7 (was 0)
    assert proc.returncode == 7, proc.stderr[-3000:]
    assert "RecursionError" not in proc.stderr
    rows = db_rows(db, "select title, company, description, url from ads")
    assert rows == [{"title": good["title"], "company": "Deep Nest Co", "description": good["description"],
                     "url": site.url("/ad/1")}]
    assert "extract=2" in proc.stderr


def test_crawl_counts_fields_cut_before_assessment(tmp_path):
    """LUREWATCH_MAX_FIELD_CHARS caps the text the engine reads; the crawl stats count the cut fields."""
    from conftest import db_rows, run_cli
    from crawler.localsite import LocalSite, Page

    posting = {"@type": "JobPosting", "title": "Chat support, Bavet",
               "description": "Free flight and housing, no experience needed. " + "Teamwork matters. " * 50}
    site = LocalSite()
    site.pages["/"] = Page(jsonld_page(posting))
    site.start()
    try:
        db = tmp_path / "ads.db"
        proc = run_cli("crawl", site.url("/"), "--db", str(db), "--no-progress", "-s", "AUTOTHROTTLE_ENABLED=False",
                       "-s", "LUREWATCH_MAX_FIELD_CHARS=200", "-s", "LOG_LEVEL=INFO")
    finally:
        site.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "'lurewatch/assess/truncated_fields': 1" in proc.stderr
    [ad] = db_rows(db, "select description, summary from ads")
    # stored as assessed: the first 200 characters, then a visible marker (issue 11)
    assert ad["description"] == posting["description"][:200] + "\n\n[... cut at 200 characters]"
    assert "'lurewatch/ads/text_truncated': 1" in proc.stderr
    assert "Only the first 200 characters of description were assessed." in ad["summary"]
