"""`telegram`: job ads posted in public Telegram channels, read from the web preview t.me/s/<channel>.

    scrapy crawl telegram -a channels=thaijobs_hr,another_channel -a max_pages=10
    scrapy crawl telegram -a channels=thaijobs_hr -a base_url=http://127.0.0.1:8000   # a local mirror/fixture

Each post (`.tgme_widget_message`) with text is an ad candidate; its URL is the post permalink
https://t.me/<channel>/<id> (from `data-post`), whatever base_url the pages were fetched from. Older posts
are reached through the preview's "load more" link (`?before=<id>`), newest first, within max_pages (pages
in all) and `max_pages_per_channel`.
"""
from __future__ import annotations

import re

from scrapy.http import Response

from .base import LurewatchSpider, _split
from .profiles_schema import node_text

PERMALINK_BASE = "https://t.me"
CHANNEL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,63}$")
TITLE_CHARS = 120


def channel_name(value: str) -> str:
    """'thaijobs_hr', '@thaijobs_hr', 't.me/s/thaijobs_hr' or a full URL -> 'thaijobs_hr'."""
    value = value.strip().rstrip("/")
    value = re.sub(r"^(https?://)?(www\.)?(t|telegram)\.me/(s/)?", "", value).lstrip("@")
    if not CHANNEL_RE.match(value):
        raise ValueError(f"not a Telegram channel name: {value!r}")
    return value


class TelegramSpider(LurewatchSpider):
    name = "telegram"

    def __init__(self, *args, channels=None, channel=None, base_url: str = PERMALINK_BASE,
                 max_pages_per_channel: int | str = 20, **kwargs):
        names = [channel_name(c) for c in _split(channels) + _split(channel)]
        if not names:
            raise ValueError("which channels? use -a channels=name1,name2")
        self.channels = list(dict.fromkeys(names))
        self.base_url = base_url.rstrip("/")
        kwargs.setdefault("urls", [f"{self.base_url}/s/{c}" for c in self.channels])
        super().__init__(*args, **kwargs)
        self.max_pages_per_channel = int(max_pages_per_channel)
        if self.max_pages_per_channel < 1:
            raise ValueError("max_pages_per_channel must be at least 1")
        self.pages_per_channel: dict[str, int] = {}
        self.crawl_args.update(channels=self.channels, base_url=self.base_url)

    def source_of(self, url: str) -> str:
        channel = url.split("/s/", 1)[-1].split("?", 1)[0].split("/", 1)[0] if "/s/" in url else ""
        return f"t.me/{channel}" if channel else super().source_of(url)

    def parse(self, response: Response, channel: str | None = None):
        """One preview page: every post with text becomes an ad; then the "load more" page."""
        self.note_page(response)
        channel = channel or response.url.split("/s/", 1)[-1].split("?", 1)[0].split("/", 1)[0]
        self.pages_per_channel[channel] = self.pages_per_channel.get(channel, 0) + 1
        posts = response.css(".tgme_widget_message[data-post]")
        if not posts:
            self.stat("telegram/pages_without_posts")
            self.logger.warning("%s: no posts (.tgme_widget_message) on this page; is the channel public?", response.url)
        ids = []
        for post in posts:
            data_post = post.attrib["data-post"].strip()
            ident = data_post.rsplit("/", 1)[-1]
            if ident.isdigit():
                ids.append(int(ident))
            ad = self.post_ad(response, post, data_post)
            if ad is not None:
                yield ad
        more = response.css("a.tme_messages_more[data-before]::attr(data-before)").get()
        if more and more.isdigit() and (not ids or int(more) <= min(ids)):
            if self.pages_per_channel[channel] >= self.max_pages_per_channel:
                self.stat("telegram/channel_page_limit")
                self.note_incomplete(response.url, "max_pages_per_channel")
                return
            request = self.request_page(f"{self.base_url}/s/{channel}?before={more}", callback=self.parse,
                                        cb_kwargs={"channel": channel})
            if request is not None:
                self.stat("telegram/more_pages")
                yield request

    def post_ad(self, response: Response, post, data_post: str):
        self.stat("telegram/posts")
        text_el = post.css(".tgme_widget_message_text")
        text = node_text(text_el[0]) if text_el else ""
        if not text.strip():
            self.stat("telegram/posts_without_text")
            return None
        links = [h for h in text_el.css("a::attr(href)").getall() if h.startswith(("https://t.me/", "http://t.me/", "tg:",
                                                                                   "https://wa.me/", "mailto:", "tel:"))]
        first_line = text.strip().splitlines()[0]
        title = first_line if len(first_line) <= TITLE_CHARS else first_line[: TITLE_CHARS - 1].rstrip() + "…"
        channel = data_post.split("/", 1)[0]
        ad = self.make_ad(response, {
            "url": f"{PERMALINK_BASE}/{data_post}",
            "external_id": data_post,
            "title": title,
            "description": text,
            "contact": " ".join(dict.fromkeys(links)),
            "company": (post.css(".tgme_widget_message_owner_name ::text").get() or "").strip(),
            "posted_at": post.css(".tgme_widget_message_date time::attr(datetime)").get() or "",
            "source": f"t.me/{channel}",
        })
        # the snapshot is the post itself, not the whole page of 20 posts
        ad["snapshot"] = {**ad["snapshot"], "body": post.get().encode("utf-8")}
        self.stat("telegram/ads")
        return ad
