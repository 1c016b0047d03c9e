"""Spider arguments and the spider list: misspelt `-a` arguments are refused, the base class is not a spider,
and what shipped profiles tell users to type exists."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import REPO, run_cli
from crawler.localsite import LocalSite, Page
from spiders.profiles_schema import profile_files
from test_profiles import ads, scrapy_crawl


@pytest.mark.parametrize("spider, args, unknown, accepted", [
    ("jobposting", ["-a", "url={site}"], "-a url=... (did you mean 'urls'?)", "-a urls=, -a max_pages="),
    ("jobposting", ["-a", "urls={site}", "-a", "maxpages=3"], "-a maxpages=... (did you mean 'max_pages'?)",
     "-a max_pages="),
    ("profile", ["-a", "name=demo_classifieds", "-a", "urls={site}", "-a", "start_url={site}"], "-a start_url=",
     "-a name=, -a profile=, -a urls=, -a max_pages="),
    ("telegram", ["-a", "chanels=thaijobs_hr", "-a", "base_url={site}"], "-a chanels=... (did you mean 'channels'?)",
     "-a channels="),
])
def test_unknown_spider_argument_is_refused_naming_the_accepted_ones(spider, args, unknown, accepted, tmp_path):
    with LocalSite({"/": Page("<html><body>jobs</body></html>")}) as site:
        result = scrapy_crawl(spider, *[a.replace("{site}", site.url("/")) for a in args], db=tmp_path / "ads.db",
                              timeout=120)
        requested = list(site.requests)
    assert result.returncode != 0
    assert f"unknown argument {unknown}" in result.stderr, result.stderr[-2000:]
    assert accepted in result.stderr
    assert requested == []  # refused before crawling


def test_scrapy_list_shows_only_crawlable_spiders(tmp_path):
    listed = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0, listed.stderr
    names = listed.stdout.split()
    assert "lurewatch-base" not in names
    assert {"feed", "jobposting", "profile", "sitemap", "telegram"} <= set(names)
    crawled = scrapy_crawl("lurewatch-base", "-a", "urls=http://127.0.0.1:9/", db=tmp_path / "ads.db", timeout=120)
    assert crawled.returncode != 0
    assert "Spider not found: lurewatch-base" in crawled.stderr
    assert not (tmp_path / "ads.db").exists() or ads(tmp_path / "ads.db") == []


def test_options_named_in_shipped_profiles_exist():
    """A profile's comments show how to run it: every --option they name is a real `lurewatch crawl` option."""
    crawl_help = run_cli("crawl", "--help").stdout
    known = set(re.findall(r"(--[a-z][a-z-]+)", crawl_help))
    for path in profile_files():
        comments = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                             if line.lstrip().startswith("#"))
        named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", comments))
        assert named <= known, f"{path.name} names options that do not exist: {sorted(named - known)}"
