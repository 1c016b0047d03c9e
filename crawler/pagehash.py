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
from typing import Any, Callable

PAGE_ADS_COLUMNS = {"url": str, "ad_id": int, "sha1": str, "ads": int}
PAGE_ADS_KEY = ("url", "ad_id")


SHA1_META = "lurewatch_body_sha1"  # request meta: the body's sha1 once computed (hashed once per response)


def body_sha1(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()


def response_sha1(response, meta: dict | None = None) -> str:
    """The response body's sha1, computed once per response: kept in its request's `meta` (the downloader
    middleware passes it; the spider's response.meta is the same dict) for the spider and the store."""
    if meta is None:
        meta = response.meta if response.request is not None else {}
    sha1 = meta.get(SHA1_META)
    if sha1 is None:
        sha1 = meta[SHA1_META] = body_sha1(response.body)
    return sha1


def page_record(url: str, sha1: str, ads: int) -> dict[str, Any]:
    """What an item carries (`page`) so its page can be skipped next time."""
    return {"url": url, "sha1": sha1, "ads": ads}


def record_page_ad(conn, page: dict[str, Any], ad_id: int) -> None:
    """Inside the write transaction: ad `ad_id` came from `page`; rows of an older body of the page go."""
    conn.execute("DELETE FROM page_ads WHERE url = ? AND sha1 != ?", [page["url"], page["sha1"]])
    conn.execute("INSERT OR REPLACE INTO page_ads (url, ad_id, sha1, ads) VALUES (?, ?, ?, ?)",
                 [page["url"], ad_id, page["sha1"], page["ads"]])


def unchanged_page_ads(conn, url: str, sha1_of_body: Callable[[], str]) -> list[int] | None:
    """The ad ids page `url` gave at its last fetch when the body (whose sha1 `sha1_of_body()` gives, asked only
    when the page has rows) is that fetch's body, else None."""
    rows = conn.execute("SELECT p.ad_id, p.sha1, p.ads FROM page_ads p JOIN ads a ON a.id = p.ad_id WHERE p.url = ?",
                        [url]).fetchall()
    if not rows or len(rows) != rows[0][2]:
        return None
    sha1 = sha1_of_body()
    if any(row[1] != sha1 or row[2] != rows[0][2] for row in rows):
        return None
    return [row[0] for row in rows]
