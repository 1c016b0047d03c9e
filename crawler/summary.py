"""`CrawlSummary` (EXTENSIONS in settings): the crawl's summary line on stderr when the spider closes.

`scrapy crawl NAME` then ends with the same line as `lurewatch crawl` (`crawler.run.summary_line`).
The lurewatch CLI prints the line itself after judging the crawl, so `run_crawl` switches this
extension off (LUREWATCH_SUMMARY=False) and the line is printed exactly once either way.
"""
from __future__ import annotations

import sys

from scrapy import signals
from scrapy.exceptions import NotConfigured


class CrawlSummary:
    def __init__(self, crawler):
        self.stats = crawler.stats
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("LUREWATCH_SUMMARY", True):
            raise NotConfigured("the lurewatch CLI prints the summary line itself")
        return cls(crawler)

    def spider_closed(self, spider, reason):
        from .run import summary_line

        line = summary_line(self.stats.get_stats(), self.stats.get_value("lurewatch/crawl_id"))
        print(line, file=sys.stderr, flush=True)
