"""Review app at scale: the real `lurewatch review` on a 100k-ad and a 1M-ad database (quick: 2k), every default
page, facet, canned query and full-text search timed over HTTP after a login (wall time, median of REPEAT requests).

Databases come from output/benchparts/_reviewdata.py (`lurewatch import` of SEED ads, then bulk copies). Set
LUREWATCH_REVIEW_DBS=DIR to keep them there and reuse them on the next run; LUREWATCH_REVIEW_SIZES=100000,1000000
sets the sizes. LUREWATCH_BENCH_REVIEW_DB_1M=PATH measures that prebuilt database (e.g. one `lurewatch import` of a
million ads) as the 1,000,000-ad one instead of building it (opening it migrates it to the current schema).
"""
from __future__ import annotations

import html
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ._reviewdata import build, grow

TITLE = "Review app at scale: page times"
LUREWATCH = Path(sys.executable).with_name("lurewatch")
SLOW = 1.0  # seconds: the goal is every page under it
PREBUILT_1M = "LUREWATCH_BENCH_REVIEW_DB_1M"
USER, PASSWORD = "ana", "bench-password"  # a reviewer of _reviewdata.py: "my reviews" has rows


def pages(db: str) -> list[tuple[str, str]]:
    """(name, path) of every default page, facet view, canned query and search the analysts use."""
    return [
        ("home", "/"),
        ("database", f"/{db}"),
        ("ads (default facets, sort risk_score desc)", f"/{db}/ads"),
        ("ads, page 2", None),  # the ads page's "next" link
        ("ads filtered risk_level=high", f"/{db}/ads?risk_level=high"),
        ("ads filtered by a category (facet link)", f"/{db}/ads?_category=passport"),
        ("ads filtered review_status=unreviewed (facet link)", f"/{db}/ads?review_status=unreviewed"),
        ("ads full-text search 'casino'", f"/{db}/ads?_search=casino"),
        ("ads full-text search 'customer service'", f"/{db}/ads?_search=customer+service"),
        ("canned: ranked search 'casino'", f"/{db}/search_ads?q=casino"),
        ("evidence (facets category, rule_id, field)", f"/{db}/evidence"),
        ("evidence ?category=passport", f"/{db}/evidence?category=passport"),
        ("ad_categories", f"/{db}/ad_categories"),
        ("contacts (facet kind)", f"/{db}/contacts"),
        ("ad_history (facet event)", f"/{db}/ad_history"),
        ("reviews (facets verdict, reviewer)", f"/{db}/reviews"),
        ("crawls", f"/{db}/crawls"),
        ("canned: unreviewed high risk", f"/{db}/unreviewed_high_risk"),
        ("canned: evidence with its ad", f"/{db}/evidence_with_ads?category="),
        ("canned: evidence with its ad, category=perks", f"/{db}/evidence_with_ads?category=perks"),
        ("canned: shared contacts", f"/{db}/shared_contacts"),
        ("triage queue", "/-/lurewatch/queue"),
        ("my reviews", "/-/lurewatch/mine"),
        ("dashboard (30 days)", "/-/lurewatch/dashboard"),
        ("dashboard (365 days)", "/-/lurewatch/dashboard?days=365"),
        ("case page", "/-/lurewatch/ad/{case_id}"),
        ("contact page", "/-/lurewatch/contact/{contact_id}"),
    ]


class App:
    """`lurewatch review` on `db` in a subprocess with a logged-in urllib session."""

    def __init__(self, db: Path):
        from output.review.users import add_user

        add_user(db, USER, "analyst", PASSWORD, replace=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([str(LUREWATCH), "review", "--db", str(db), "--port", str(port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        deadline = time.monotonic() + 120
        while True:
            try:
                page = self.get("/-/login")[1]
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"lurewatch review did not start on {db}") from None
                time.sleep(0.2)
        token = html.unescape(re.search(r'name="csrftoken" value="([^"]+)"', page).group(1))
        self.post("/-/login", {"username": USER, "password": PASSWORD, "csrftoken": token})
        if not any(c.name == "ds_actor" for c in jar):
            raise RuntimeError("bench login failed")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.url + path, timeout=120) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def post(self, path: str, data: dict) -> None:
        req = urllib.request.Request(self.url + path, data=urllib.parse.urlencode(data).encode(), method="POST")
        try:
            self.opener.open(req, timeout=60).read()
        except urllib.error.HTTPError:
            pass

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def measure(db: Path, repeat: int) -> list[dict]:
    """[{name, path, median, status, timed_out}] for every page of `pages`, on a freshly started app."""
    import sqlite3

    conn = sqlite3.connect(db)
    case_id = conn.execute("SELECT id FROM ads WHERE risk_level = 'high' ORDER BY id LIMIT 1").fetchone()[0]
    contact_id = conn.execute("SELECT min(id) FROM contacts").fetchone()[0] or 1
    conn.close()
    app = App(db)
    rows = []
    try:
        next_path = None
        for name, path in pages(db.stem):
            path = next_path if path is None else path.format(case_id=case_id, contact_id=contact_id)
            if path is None:
                continue
            times, status, body = [], 0, ""
            for _ in range(repeat):
                start = time.perf_counter()
                status, body = app.get(path)
                times.append(time.perf_counter() - start)
            found = re.search(r'class="facets-timed-out">These facets timed out: ([^<]*)<', body)
            timed_out = [f.strip() for f in html.unescape(found.group(1)).split(",")] if found else []
            if name.startswith("ads (default"):
                found = re.search(r'href="([^"]*_next=[^"]+)"', body)
                next_path = html.unescape(found.group(1)) if found else None
                if next_path and next_path.startswith("http"):
                    next_path = urllib.parse.urlsplit(next_path)._replace(scheme="", netloc="").geturl()
            rows.append({"name": name, "path": path, "median": statistics.median(times), "max": max(times),
                         "status": status, "timed_out": timed_out})
    finally:
        app.stop()
    return rows


def run(quick: bool) -> str:
    sizes = [1_000] if quick else [int(s) for s in os.environ.get("LUREWATCH_REVIEW_SIZES",
                                                                   "100000,1000000").split(",")]
    seed = 100 if quick else int(os.environ.get("LUREWATCH_REVIEW_SEED", 20_000))
    repeat = 1 if quick else 3
    keep = os.environ.get("LUREWATCH_REVIEW_DBS")
    with tempfile.TemporaryDirectory(prefix="lurewatch-review-") as tmp:
        folder = Path(keep) if keep and not quick else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        results, built, prebuilt = [], {}, {}
        previous = None
        for n in sizes:
            db = folder / f"review-{n}.db"
            if n == 1_000_000 and os.environ.get(PREBUILT_1M) and not quick:
                db = Path(os.environ[PREBUILT_1M])
                prebuilt[n] = describe_prebuilt(db)
            start = time.perf_counter()
            built[n] = None  # reused from LUREWATCH_REVIEW_DBS
            if not db.exists():
                if previous:  # grow a copy of the smaller database
                    _copy(previous, db)
                    grow(db, n)
                else:
                    build(db, n, seed, folder)
                built[n] = time.perf_counter() - start
            results.append((n, measure(db, repeat)))
            previous = db
    return render(results, built, seed, repeat, prebuilt)


def describe_prebuilt(db: Path) -> str:
    """How a prebuilt database was made, from its own records: its ads and what its import runs stored."""
    import sqlite3

    if not db.is_file():
        raise RuntimeError(f"{PREBUILT_1M}: no database at {db}")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ads = conn.execute("SELECT count(*) FROM ads").fetchone()[0]
        runs, imported = conn.execute("SELECT count(*), coalesce(sum(items), 0) FROM crawls WHERE spider = 'import'"
                                      ).fetchone()
    finally:
        conn.close()
    return (f"prebuilt {db.name} ({PREBUILT_1M}): {ads:,} ads, {imported:,} of them stored by {runs} "
            f"`lurewatch import` run{'s' if runs != 1 else ''}, {db.stat().st_size / 1e9:.1f} GB")


def _copy(src: Path, dst: Path) -> None:
    import sqlite3

    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def render(results, built, seed: int, repeat: int, prebuilt: dict | None = None) -> str:
    from output.bench import machine_info

    sizes = [n for n, _ in results]
    lines = [f"The real `lurewatch review` (logged in) on databases of {', '.join(f'{n:,}' for n in sizes)} ads: "
             f"{seed:,} ads imported with `lurewatch import` (`_scaledata.py`: ~900-character ads, 10 sources), the "
             "rest bulk copies of them through crawler.store (own URL, site id, first-seen day, evidence, contacts, "
             "history; ~2% reviewed) - importing a million ads takes ~25 min of engine time on this machine, so "
             f"`output/benchparts/_reviewdata.py` copies instead. Median wall time of {repeat} requests per page, "
             f"the first request included; **bold** = over {SLOW:.0f} s.", "",
             "| page | " + " | ".join(f"{n:,} ads, s" for n in sizes) + " |",
             "|---|" + "---:|" * len(sizes)]
    by_name = {}
    for n, rows in results:
        for row in rows:
            by_name.setdefault(row["name"], {})[n] = row
    for name, per_size in by_name.items():
        cells = []
        for n in sizes:
            row = per_size.get(n)
            if not row:
                cells.append("-")
                continue
            text = f"{row['median']:.2f}"
            if row["median"] > SLOW:
                text = f"**{text}**"
            if row["status"] != 200:
                text += f" (HTTP {row['status']})"
            if row["timed_out"]:
                text += f" (facets timed out: {', '.join(row['timed_out'])})"
            cells.append(text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    for n, rows in results:
        slow = [r["name"] for r in rows if r["median"] > SLOW]
        timed_out = sorted({f for r in rows for f in r["timed_out"]})
        errors = [f"{r['name']} (HTTP {r['status']})" for r in rows if r["status"] != 200]
        made = (prebuilt or {}).get(n) or ("reused" if built[n] is None else f"built in {built[n]:.0f} s")
        lines.append(f"- {n:,} ads ({made}): {len(rows) - len(slow)} of {len(rows)} pages under "
                     f"{SLOW:.0f} s" + (f"; over: {', '.join(slow)}" if slow else "")
                     + f"; facet time-outs: {', '.join(timed_out) if timed_out else 'none'}"
                     + (f"; errors: {', '.join(errors)}" if errors else "") + ".")
    lines += ["", f"Machine: {machine_info('not pinned')}"]
    return "\n".join(lines)
