"""Spiders loaded by name from the registry LUREWATCH_SPIDERS (crawler/spiderloader.py), not by importing every
spider module."""
import subprocess
import sys

import pytest
from scrapy.spiderloader import SpiderLoader

from conftest import REPO
from crawler.run import build_settings
from crawler.spiderloader import RegistrySpiderLoader


def test_registry_names_every_spider_scrapy_finds():
    settings = build_settings("unused.db")
    found = SpiderLoader.from_settings(settings)  # Scrapy's own walk of SPIDER_MODULES
    registered = RegistrySpiderLoader.from_settings(settings)
    assert sorted(settings.getdict("LUREWATCH_SPIDERS")) == sorted(found.list())
    for name in found.list():
        assert registered.load(name) is found.load(name)
    assert registered.list() == sorted(found.list())


def test_unknown_spider_is_a_key_error():
    with pytest.raises(KeyError, match="nosuch"):
        RegistrySpiderLoader.from_settings(build_settings("unused.db")).load("nosuch")


def test_loading_one_spider_imports_only_its_modules():
    code = ("import sys; from crawler.run import build_settings; from scrapy.spiderloader import get_spider_loader; "
            "get_spider_loader(build_settings('unused.db')).load('jobposting'); "
            "print(sorted(m for m in sys.modules if m.startswith('spiders.')))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[0] == "['spiders.base', 'spiders.jobposting']"


def test_scrapy_list_from_the_root_lists_every_spider():
    proc = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["feed", "jobposting", "profile", "sitemap", "telegram"]
