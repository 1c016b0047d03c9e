"""Hash-first skipping: which ads each page gave at its last fetch, keyed by the page body's sha1.

A page fetched again in full (a server without ETag/Last-Modified, so no 304) whose body has the sha1 of its
last fetch gives the same ads again: ConditionalRequestMiddleware marks them seen, as a 304 does, and the
spider skips extraction and assessment (counter lurewatch/unchanged_by_hash, pages). Table `page_ads`: one
row per (page URL, ad) of the page's last fetch, with that fetch's sha1 and how many ads the page gave. A page
is skipped only when every row has the body's sha1 and there are as many rows as ads (a crawl killed between
two of a page's ads leaves too few rows: the page is extracted again).
Written by Store.add_many for the ads whose item carries `page` = {url, sha1, ads} (crawler/adwriter.py's
transaction); read by crawler/middlewares.py.
"""
from __future__ import annotations

import hashlib
from typing import Any

PAGE_ADS_COLUMNS = {"url": str, "ad_id": int, "sha1": str, "ads": int}
PAGE_ADS_KEY = ("url", "ad_id")


def body_sha1(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()


def page_record(url: str, body: bytes, ads: int) -> dict[str, Any]:
    """What an item carries (`page`) so its page can be skipped next time."""
    return {"url": url, "sha1": body_sha1(body), "ads": ads}


def record_page_ad(conn, page: dict[str, Any], ad_id: int) -> None:
    """Inside the write transaction: ad `ad_id` came from `page`; rows of an older body of the page go."""
    conn.execute("DELETE FROM page_ads WHERE url = ? AND sha1 != ?", [page["url"], page["sha1"]])
    conn.execute("INSERT OR REPLACE INTO page_ads (url, ad_id, sha1, ads) VALUES (?, ?, ?, ?)",
                 [page["url"], ad_id, page["sha1"], page["ads"]])


def unchanged_page_ads(conn, url: str, body: bytes) -> list[int] | None:
    """The ad ids page `url` gave at its last fetch when `body` is that fetch's body, else None."""
    rows = conn.execute("SELECT p.ad_id, p.sha1, p.ads FROM page_ads p JOIN ads a ON a.id = p.ad_id WHERE p.url = ?",
                        [url]).fetchall()
    if not rows or len(rows) != rows[0][2]:
        return None
    sha1 = body_sha1(body)
    if any(row[1] != sha1 or row[2] != rows[0][2] for row in rows):
        return None
    return [row[0] for row in rows]
