"""`feed`: job ads from RSS 2.0 and Atom feeds.

    scrapy crawl feed -a urls=https://board.example/jobs.rss,https://other.example/atom.xml
    scrapy crawl feed -a urls=... -a follow=false        # entries only, never fetch the linked pages

Each entry is an ad candidate. When the entry links to a page on the feed's own site, that page is
fetched: a schema.org JobPosting there (or the fields of `-a profile=NAME`'s detail selectors) gives the
ad, filled in from the entry; otherwise (no markup, fetch failed, page budget spent) the entry's own
title and summary are the ad. Entries without a link get the URL `<feed URL>#<entry id>`.
"""
from __future__ import annotations

from urllib.parse import urljoin

from lxml import etree
from scrapy.http import Response

from crawler.extract import extract_jobpostings
from crawler.urls import canonicalize, host_of, site_key

from .base import LurewatchSpider
from .profiles_schema import load_profile

ATOM = "{http://www.w3.org/2005/Atom}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)


def _text(el) -> str:
    return "".join(el.itertext()).strip() if el is not None else ""


def parse_feed(body: bytes, feed_url: str) -> tuple[str, list[dict]] | None:
    """('rss' | 'atom', entries) from a feed document, or None when it is not a feed.

    Entry keys: title, link, id, summary, published, author (missing ones are "").
    """
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root is None:
        return None
    tag = etree.QName(root).localname.lower()
    entries = []
    if tag == "rss" or tag == "rdf":
        for item in root.iter("item", "{http://purl.org/rss/1.0/}item"):
            get = lambda name: _text(item.find(name))  # noqa: E731
            guid = item.find("guid")
            link = get("link") or get("{http://purl.org/rss/1.0/}link")
            if not link and guid is not None and guid.get("isPermaLink", "true").lower() == "true":
                link = _text(guid)
            entries.append({
                "title": get("title") or get("{http://purl.org/rss/1.0/}title"),
                "link": urljoin(feed_url, link) if link else "",
                "id": _text(guid) if guid is not None else "",
                "summary": get("{http://purl.org/rss/1.0/modules/content/}encoded") or get("description")
                or get("{http://purl.org/rss/1.0/}description"),
                "published": get("pubDate") or get("{http://purl.org/dc/elements/1.1/}date"),
                "author": get("author") or get("{http://purl.org/dc/elements/1.1/}creator"),
            })
        return "rss", entries
    if tag == "feed" and root.tag.startswith(ATOM):
        for entry in root.iter(f"{ATOM}entry"):
            link = ""
            for el in entry.findall(f"{ATOM}link"):
                if el.get("rel", "alternate") == "alternate" and el.get("href"):
                    link = el.get("href")
                    break
            content = entry.find(f"{ATOM}content")
            entries.append({
                "title": _text(entry.find(f"{ATOM}title")),
                "link": urljoin(feed_url, link) if link else "",
                "id": _text(entry.find(f"{ATOM}id")),
                "summary": _text(content) or _text(entry.find(f"{ATOM}summary")),
                "published": _text(entry.find(f"{ATOM}published")) or _text(entry.find(f"{ATOM}updated")),
                "author": _text(entry.find(f"{ATOM}author/{ATOM}name")),
            })
        return "atom", entries
    return None


class FeedSpider(LurewatchSpider):
    name = "feed"

    def __init__(self, *args, follow: str | bool = True, profile: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.follow_links = str(follow).strip().lower() not in ("0", "false", "no", "off")
        self.profile = load_profile(profile) if profile else None
        self.feed_hosts = {host_of(u) for u in self.start_urls}
        self.crawl_args.update(follow=self.follow_links, profile=self.profile.name if self.profile else None)

    def parse(self, response: Response):
        """A feed: one ad candidate per entry."""
        self.note_page(response)
        parsed = parse_feed(response.body, response.url)
        if parsed is None:
            self.page_error(response.url, "not_a_feed")
            self.logger.warning("%s: not an RSS or Atom feed", response.url)
            return
        kind, entries = parsed
        self.stat(f"feed/{kind}")
        if not entries:
            self.logger.warning("%s: %s feed with no entries", response.url, kind)
        for entry in entries:
            self.stat("feed/entries")
            if not (entry["title"] or entry["summary"]):
                self.stat("feed/empty_entries")
                continue
            link = entry["link"]
            if link and self.follow_links and host_of(link) in self.feed_hosts:
                request = self.request_page(link, callback=self.parse_entry_page, cb_kwargs={"entry": entry})
                if request is not None:
                    yield request.replace(errback=self.entry_page_failed)
                    continue
            elif link and self.follow_links:
                self.stat("feed/offsite_links")
            yield self.entry_ad(response, entry)

    def entry_fields(self, entry: dict, feed_url: str) -> dict:
        url = entry["link"] or f"{feed_url}#{entry['id'] or entry['title']}"
        return {
            "url": canonicalize(url) if entry["link"] else url,
            "title": entry["title"],
            "description": entry["summary"],
            "posted_at": entry["published"],
            "external_id": entry["id"],
            "company": entry["author"],
        }

    def entry_ad(self, response: Response, entry: dict):
        self.stat("feed/ads_from_entry")
        return self.make_ad(response, self.entry_fields(entry, response.url))

    def entry_page_failed(self, failure):
        """The linked page could not be fetched: the entry alone is the ad."""
        self.on_error(failure)
        entry = failure.request.cb_kwargs["entry"]
        ad = self.make_ad_without_page(entry, failure.request.url)
        return [ad]

    def make_ad_without_page(self, entry: dict, url: str):
        from crawler.items import JobAd

        fields = self.entry_fields(entry, url)
        ad = JobAd({k: v for k, v in fields.items() if v})
        ad["aliases"] = []
        ad["source"] = site_key(fields["url"])
        ad["spider"] = self.name
        self.stat("feed/ads_from_entry")
        return ad

    def parse_entry_page(self, response: Response, entry: dict):
        """The entry's page: JobPosting (or profile fields) when present, else the entry's own text."""
        self.note_page(response)
        fields: dict = {}
        if hasattr(response, "text"):
            postings = extract_jobpostings(response.text, response.url)
            if postings:
                fields = dict(postings[0])
                fields.pop("url", None)
            if self.profile is not None and self.profile.detail:
                for key, value in self.profile.detail_fields(response.text, response.url).items():
                    fields.setdefault(key, value)
        if not (fields.get("title") or fields.get("description")):
            yield self.entry_ad(response, entry)
            return
        self.stat("feed/ads_from_page")
        for key, value in self.entry_fields(entry, response.url).items():
            if key != "url" and value and not fields.get(key):
                fields[key] = value
        yield self.make_ad(response, fields)
