"""Spider loading by name without importing every spider module (SPIDER_LOADER_CLASS in crawler/settings.py).

Scrapy's SpiderLoader imports every module under SPIDER_MODULES when a crawler process starts (0.5 s of a 6-7 s
recrawl: the feed and profile spiders pull in the detection engine and the profile schema). LUREWATCH_SPIDERS, in
crawler/settings.py, is the one registry of our spiders: name -> "module.Class". A registered name imports only its
module. Anything else (a name not registered, `scrapy list`, find_by_request) walks SPIDER_MODULES as Scrapy does,
so a spider module nobody registered still works; tests/test_spider_loader.py checks the registry against that walk.
"""
from __future__ import annotations

from collections import defaultdict

from scrapy.spiderloader import SpiderLoader
from scrapy.utils.misc import load_object


class RegistrySpiderLoader(SpiderLoader):
    def __init__(self, settings):
        self.registry: dict[str, str] = dict(settings.getdict("LUREWATCH_SPIDERS"))
        self._walked = False
        self.spider_modules = settings.getlist("SPIDER_MODULES")
        self.warn_only = settings.getbool("SPIDER_LOADER_WARN_ONLY")
        self._spiders = {}
        self._found = defaultdict(list)

    def _walk(self) -> None:
        """Scrapy's own discovery: every module under SPIDER_MODULES (once)."""
        if not self._walked:
            self._walked = True
            self._load_all_spiders()

    def load(self, spider_name: str):
        if spider_name in self._spiders:
            return self._spiders[spider_name]
        path = self.registry.get(spider_name)
        if path is not None:
            cls = load_object(path)
            if getattr(cls, "name", None) != spider_name:
                raise KeyError(f"LUREWATCH_SPIDERS: {spider_name!r} -> {path} is the spider named {cls.name!r}")
            self._spiders[spider_name] = cls
            return cls
        self._walk()
        return super().load(spider_name)

    def list(self) -> list[str]:
        self._walk()
        return sorted(set(self._spiders) | set(self.registry))

    def find_by_request(self, request) -> list[str]:
        self._walk()
        return super().find_by_request(request)
