"""AutoThrottle that also learns from 304 Not Modified.

Scrapy's AutoThrottle only lowers a slot's delay on 200 responses (small error pages would make a broken site look
fast). A recrawl of an unchanged board is answered almost only with 304s to our conditional requests, so the delay
stayed where the first pages left it and the recrawl ended slower than the first crawl. A 304 is the server's
normal, cheap answer to a conditional request: its latency is as honest as a 200's, so it moves the delay both ways.
Politeness bounds are unchanged: never below DOWNLOAD_DELAY, never above AUTOTHROTTLE_MAX_DELAY, and concurrency
stays CONCURRENT_REQUESTS(_PER_DOMAIN).

Stats: lurewatch/throttle/lowered_on_304 (delays a 304 lowered), lurewatch/throttle/delay_ms (the largest slot
delay at the end of the crawl). Enabled with AUTOTHROTTLE_ENABLED, in place of scrapy's AutoThrottle (settings.py).
"""
from __future__ import annotations

from scrapy import signals
from scrapy.extensions.throttle import AutoThrottle


class LurewatchAutoThrottle(AutoThrottle):
    def __init__(self, crawler):
        super().__init__(crawler)  # NotConfigured when AUTOTHROTTLE_ENABLED is off
        self.stats = crawler.stats
        self.delays: dict[str, float] = {}  # slot key -> its delay after the last response
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    def _adjust_delay(self, slot, latency: float, response) -> None:
        if response.status != 304:
            super()._adjust_delay(slot, latency, response)
            return
        target = latency / self.target_concurrency
        new_delay = max(target, (slot.delay + target) / 2.0)
        new_delay = min(max(self.mindelay, new_delay), self.maxdelay)
        if new_delay < slot.delay:
            self.stats.inc_value("lurewatch/throttle/lowered_on_304")
        slot.delay = new_delay

    def _response_downloaded(self, response, request, spider) -> None:
        super()._response_downloaded(response, request, spider)
        key, slot = self._get_slot(request, spider)
        if slot is not None:
            self.delays[key] = slot.delay

    def _spider_closed(self, spider, reason=None) -> None:
        if self.delays:
            self.stats.set_value("lurewatch/throttle/delay_ms", round(max(self.delays.values()) * 1000, 1))
