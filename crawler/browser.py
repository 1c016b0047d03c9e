"""Find (and on request install) a Chromium that Playwright can drive.

Order: LUREWATCH_CHROMIUM env var, Playwright's own downloaded Chromium, the
system package (/usr/bin/chromium). `python -m crawler.browser ensure` installs
Debian's `chromium` with apt when none is found (Playwright's download needs
network access we do not have).
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

SYSTEM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

# Flags that keep Chromium quiet on a closed network and runnable as root.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def playwright_chromium() -> str | None:
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright"))
    for pattern in ("chromium-*/chrome-linux*/chrome", "chromium_headless_shell-*/chrome-linux*/headless_shell"):
        hits = sorted(glob.glob(str(root / pattern)))
        if hits:
            return hits[-1]
    return None


def find_chromium() -> str | None:
    """Path of a Chromium executable, or None."""
    env = os.environ.get("LUREWATCH_CHROMIUM")
    if env and os.access(env, os.X_OK):
        return env
    own = playwright_chromium()
    if own:
        return own
    for path in SYSTEM_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def ensure() -> str:
    found = find_chromium()
    if found:
        print(f"chromium: {found}")
        return found
    print("chromium: none found; installing Debian's chromium package with apt-get", file=sys.stderr)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    found = find_chromium()
    if not found:
        sys.exit("chromium: apt-get finished but no chromium executable was found")
    print(f"chromium: {found}")
    return found


if __name__ == "__main__":
    if sys.argv[1:] == ["ensure"]:
        ensure()
    else:
        print(find_chromium() or "not found")
