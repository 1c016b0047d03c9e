"""A minimal spider for middleware tests: fetches the given URLs, follows links when asked, records
each response in stats (probe/status/<code>) and yields nothing. Run with `scrapy runspider`.

    scrapy runspider tests/sites/probe_spider.py -a urls=URL1,URL2 -a follow=1
"""
import scrapy
from scrapy.exceptions import IgnoreRequest


class ProbeSpider(scrapy.Spider):
    name = "probe"

    def __init__(self, urls="", follow="0", trusted="", **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [u for u in urls.split(",") if u]
        self.follow = follow == "1"
        self.trusted_hosts = {h for h in trusted.split(",") if h}

    async def start(self):
        for url in self.start_urls:
            yield scrapy.Request(url, errback=self.failed)

    def parse(self, response):
        self.crawler.stats.inc_value(f"probe/status/{response.status}")
        self.crawler.stats.inc_value("probe/parsed")
        if self.follow and hasattr(response, "css"):
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href, errback=self.failed)

    def failed(self, failure):
        kind = "ignored" if failure.check(IgnoreRequest) else type(failure.value).__name__
        self.crawler.stats.inc_value(f"probe/failed/{kind}")

    def closed(self, reason):
        path = self.settings.get("PROBE_STATS_FILE")
        if path:
            import json

            with open(path, "w") as f:
                json.dump({"finish_reason": reason, **{k: v for k, v in self.crawler.stats.get_stats().items()
                                                       if isinstance(v, (int, float, str))}}, f)
