"""The shared frontier's ADDONS entry, apart from crawler/frontier_scrapy.py: a crawl without LUREWATCH_FRONTIER
does not import scrapy-redis and the frontier (0.1-0.2 s of every crawl's start-up)."""
from __future__ import annotations


class FrontierAddon:
    """ADDONS entry: with LUREWATCH_FRONTIER set, switch the scheduler, robots.txt and politeness to Redis."""

    def update_settings(self, settings):
        url = settings.get("LUREWATCH_FRONTIER")
        if not url:
            return
        from . import frontier as fr
        from .frontier_scrapy import (FrontierExtension, FrontierRobotsTxtMiddleware, LurewatchRobotsTxtMiddleware,
                                      RedisItemPipeline, SharedPolitenessMiddleware)

        fr.check_url(url)
        if settings.get("JOBDIR"):
            raise ValueError("a crawl uses either a job directory (--job-dir) or a shared frontier (--frontier)")
        settings.set("SCHEDULER", "crawler.frontier_scrapy.FrontierScheduler", priority="cmdline")
        try:
            settings.replace_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", LurewatchRobotsTxtMiddleware,
                                                        FrontierRobotsTxtMiddleware)
        except KeyError:
            pass  # robots.txt middleware switched off in these settings: nothing to share
        settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", SharedPolitenessMiddleware, 950)
        settings.set_in_component_priority_dict("EXTENSIONS", FrontierExtension, 350)  # before CrawlRecorder
        if settings.get("LUREWATCH_SINK") == "redis":
            settings.set_in_component_priority_dict("ITEM_PIPELINES", RedisItemPipeline, 300)
