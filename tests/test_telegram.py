"""`telegram` spider against a local server that mimics the t.me/s/<channel> web preview."""
from __future__ import annotations

import pytest

from conftest import REPO
from crawler.localsite import LocalSite, Page
from spiders.telegram import channel_name
from test_profiles import ads, scrapy_crawl

PAGES = REPO / "tests/sites/profiles/telegram"


@pytest.fixture
def preview():
    def page(name):
        return Page((PAGES / name).read_text(encoding="utf-8"))

    site = LocalSite({
        "/s/thaijobs_hr": page("thaijobs_hr.html"),
        "/s/thaijobs_hr?before=1204": page("thaijobs_hr_before_1204.html"),
        "/s/thaijobs_hr?before=1201": page("thaijobs_hr_before_1201.html"),
    }).start()
    yield site
    site.stop()


@pytest.mark.parametrize("given, expected", [
    ("thaijobs_hr", "thaijobs_hr"),
    ("@thaijobs_hr", "thaijobs_hr"),
    ("https://t.me/s/thaijobs_hr", "thaijobs_hr"),
    ("t.me/thaijobs_hr/", "thaijobs_hr"),
])
def test_channel_name(given, expected):
    assert channel_name(given) == expected


@pytest.mark.parametrize("bad", ["", "a b", "x", "https://example.org/s/chan"])
def test_channel_name_rejects(bad):
    with pytest.raises(ValueError):
        channel_name(bad)


def test_telegram_crawl_stores_each_post_with_its_permalink(preview, tmp_path):
    db = tmp_path / "ads.db"
    result = scrapy_crawl("telegram", "-a", "channels=thaijobs_hr", "-a", f"base_url={preview.base_url}", db=db)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r["url"]: r for r in ads(db)}
    # 8 posts on 3 pages; 1205 is a photo without text
    assert sorted(rows) == [f"https://t.me/thaijobs_hr/{i}" for i in (1199, 1200, 1201, 1202, 1203, 1204, 1206)]
    assert preview.requests[-2:] == ["/s/thaijobs_hr?before=1204", "/s/thaijobs_hr?before=1201"]
    post = rows["https://t.me/thaijobs_hr/1206"]
    assert post["title"] == "🔥 URGENT HIRING 🔥"
    assert "Customer service (English) in Sihanoukville, Cambodia\nSalary: USD 1,500 - 3,000/month" in post["description"]
    assert post["contact"] == "https://t.me/kh_hr_anna"
    assert post["external_id"] == "thaijobs_hr/1206"
    assert post["source"] == "t.me/thaijobs_hr"
    assert post["posted_at"] == "2024-05-03T10:00:00+00:00"
    assert "'lurewatch/telegram/posts_without_text': 1" in result.stderr


def test_telegram_pagination_stays_within_max_pages(preview, tmp_path):
    db = tmp_path / "ads.db"
    result = scrapy_crawl("telegram", "-a", "channels=thaijobs_hr", "-a", f"base_url={preview.base_url}",
                          "-a", "max_pages=2", db=db)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "/s/thaijobs_hr?before=1201" not in preview.requests
    assert sorted(r["external_id"] for r in ads(db)) == [f"thaijobs_hr/{i}" for i in (1201, 1202, 1203, 1204, 1206)]
