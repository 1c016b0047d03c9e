"""What every `lurewatch` process pays before it does anything: the imports and the Scrapy components it loads.
Each crawl, export and review test starts such processes, so these costs multiply across the suite."""
from __future__ import annotations

import subprocess
import sys

from scrapy.utils.conf import build_component_list

from crawler.run import build_settings

HEAVY = ("pymisp", "stix2", "scrapy", "playwright", "datasette", "numpy", "aiohttp")


def test_the_cli_imports_no_heavy_library_before_a_command_runs():
    """pymisp alone (through pytaxonomies and jsonschema) cost ~2 s of CPU per process."""
    probe = f"import sys, crawler.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


def test_a_crawl_loads_no_remote_control_endpoint(tmp_path):
    """Scrapy 2.19 enables an HTTP remote-control extension (code execution on a local port, and aiohttp)."""
    settings = build_settings(tmp_path / "ads.db")
    extensions = build_component_list(settings.getwithbase("EXTENSIONS"))
    assert "scrapy.extensions.remote_control.RemoteControl" not in extensions
    assert not settings.getbool("REMOTE_CONTROL_ENABLED")
    assert "crawler.crawlrecord.CrawlRecorder" in extensions  # ours are still there
