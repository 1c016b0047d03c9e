"""Campaign linking (crawler/campaigns) over a large store: time and peak memory of a full run, of an
incremental run after new ads, and how well the groups match the planted campaigns.

The store is a synthetic board world, seeded (`world(n)`): boards with their own support address and a
free-mail address on some of their ads; legitimate agencies whose hotline and email are on many ads (a heavy
tail: a few on hundreds, across several boards); one-off employers; and scam campaigns (also a heavy tail)
that keep a handle and change the wording, keep a template (reworded, numbers, names, emoji changed) and
rotate numbers, or both. Texts come from output/bench.py's pools plus per-ad details. Each ad carries the
contacts the engine would store (phones already E.164) and a flag (lures 80% flagged, legitimate ads 3%).
Truth: a scam campaign is one group, so is an agency (one recruiter; linking its ads by their shared template
is right, linking them to anyone else is not); a one-off employer's ad is on its own. Precision counts linked
pairs of the same recruiter; recall counts the pairs of each planted scam campaign that were linked.

Runs are timed in a child process pinned to one core; peak RSS is the child's ru_maxrss.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

TITLE = "Campaign linking: full and incremental runs over a large store"
ROOT = Path(__file__).resolve().parent.parent.parent
FULL_ADS, NEW_ADS = 100_000, 1_000
DUTIES = (["prepare", "review", "update", "coordinate", "monitor", "support", "deliver", "process", "analyse",
           "maintain", "schedule", "audit", "train", "inspect", "negotiate", "document", "plan", "test"],
          ["monthly reports", "client accounts", "inventory records", "shipping documents", "patient charts",
           "payroll data", "site safety checks", "purchase orders", "marketing campaigns", "store displays",
           "lesson plans", "supplier contracts", "quality samples", "customer tickets", "budget forecasts",
           "network equipment", "vehicle logs", "event bookings", "tax filings", "warehouse stock counts",
           "new hire onboarding", "product listings", "lab results", "maintenance requests", "sales leads"],
          ["for the regional team", "with the finance department", "under the branch manager",
           "across three sites", "using our ERP system", "in line with company policy", "every week",
           "for key accounts", "with external auditors", "during night shifts"])
NAMES = ["Anna", "Mr Lee", "Ms Chen", "Sophia", "Kevin", "Mia", "Jack", "Linda", "Tony", "Grace", "Ms Wang"]
EMOJI = ["🔥", "💰", "✈️", "✅", "🌟", "📲", "👉", ""]


def _phone(rng: random.Random) -> str:
    cc = rng.choice(["+855", "+66", "+63", "+84", "+95", "+856", "+60", "+62"])
    return cc + str(rng.randint(10**8, 10**9 - 1))


def _handle(rng: random.Random) -> str:
    from output.bench import SYLLABLES

    return "".join(rng.choice(SYLLABLES) for _ in range(3)) + str(rng.randint(10, 9999))


def _word(rng: random.Random) -> str:
    from output.bench import SYLLABLES

    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))


def _details(rng: random.Random, k: int) -> list[str]:
    """`k` sentences particular to one ad or template (duties, a site, a product, people): what makes real ads
    differ even when they share stock phrases (EMSCAD: the median ad's nearest other ad is at Jaccard 0.23)."""
    w = lambda: _word(rng)  # noqa: E731
    frames = [
        lambda: f"You will {rng.choice(DUTIES[0])} {rng.choice(DUTIES[1])} {rng.choice(DUTIES[2])}.",
        lambda: f"{w().title()} {w()} is near {w()} {w()} and the {w()} {w()}.",
        lambda: f"Work with {w()} {w()} on {rng.choice(DUTIES[1])} for {w()} {w()}.",
        lambda: f"{w().title()} and {w()} {w()} skills, {w()} {w()} a plus.",
        lambda: f"{w().title()} {w()} {w()} {w()} {rng.choice(DUTIES[2])}.",
        lambda: f"Bring {w()} {w()} and {w()} to the {w()} {w()} interview.",
    ]
    return [rng.choice(frames)() for _ in range(k)]


def _legit_text(rng: random.Random, title: str, location: str, blurb: str) -> str:
    from output.bench import LEGIT

    body = [s.replace("{title}", title).replace("{location}", location).replace("{n}", str(rng.randint(1, 9)))
            for s in rng.sample(LEGIT["body"], rng.randint(1, 3))]
    parts = body + _details(rng, rng.randint(3, 6))
    rng.shuffle(parts)
    return " ".join(([blurb] if blurb else []) + parts)


def _reword(rng: random.Random, template: str) -> str:
    """A reworded copy: clauses dropped or swapped (output.bench.paraphrase), numbers, a name and emoji changed."""
    import re

    from output.bench import paraphrase

    text = paraphrase(rng, template)
    text = re.sub(r"\d+", lambda m: str(rng.randint(1, 9)) * len(m.group()), text)
    return f"{rng.choice(EMOJI)} {text} Ask for {rng.choice(NAMES)}. {rng.choice(EMOJI)}"


def world(n: int, seed: int = 15) -> list[dict]:
    """`n` ads (dicts: ad columns, `contacts` [(kind, value)], `flagged`, `truth` campaign number or None)."""
    from output.bench import LEGIT, lure_text

    rng = random.Random(seed)
    boards = [f"jobs{k}.board{k % 7}.example" for k in range(max(3, n // 2500))]
    free_mail = {b: f"{b.split('.')[0]}.desk@gmail.com" for b in boards}
    ads: list[dict] = []

    def add(source, title, text, contacts, flagged, truth, language="en"):
        if rng.random() < 0.2:
            contacts = contacts + [("email", f"support@{source}")]  # the board's own address: never links
        if rng.random() < 0.15:
            contacts = contacts + [("email", free_mail[source])]  # the board's free-mail desk: generic
        if rng.random() < 0.05:
            contacts = contacts + [("domain", rng.choice(["facebook.com", "bit.ly", "forms.gle"]))]
        contact = "; ".join(v for _, v in contacts)
        ads.append({"url": f"https://{source}/job/{len(ads)}", "source": source, "title": title,
                    "description": f"{text}\n{contact}", "contact": contact, "company": "", "language": language,
                    "country": rng.choice(["KH", "TH", "PH", "MM", "MY", ""]), "contacts": contacts,
                    "flagged": flagged, "truth": truth})

    campaign = 0  # scam campaigns 1, 2, ...; agencies -1, -2, ...
    agency = 0
    while len(ads) < n:
        roll = rng.random()
        if roll < 0.25:  # a scam campaign
            campaign += 1
            size = min(80, 2 + int(rng.paretovariate(1.4) * 2) - 2)
            where = rng.sample(boards, min(len(boards), rng.randint(1, 6)))
            mode = rng.choice(["handle", "template", "mixed"])
            template, language = lure_text(rng)
            template += " " + " ".join(_details(rng, rng.randint(2, 4)))
            handle, kind = _handle(rng), rng.choice(["telegram", "whatsapp", "line", "wechat"])
            phones = [_phone(rng) for _ in range(3)]
            for _ in range(min(size, n - len(ads))):
                text = _reword(rng, template) if mode == "template" or mode == "mixed" and rng.random() < 0.6 \
                    else lure_text(rng, language)[0] + " " + " ".join(_details(rng, rng.randint(2, 4)))
                if mode == "handle" or mode == "mixed" and rng.random() < 0.5:
                    contacts = [(kind, handle)]
                elif mode == "mixed":
                    contacts = [("phone", rng.choice(phones))]
                else:
                    contacts = [("phone", _phone(rng))]  # a rotated number: only the text links it
                add(rng.choice(where), text[:60], text, contacts, rng.random() < 0.8, campaign, language)
        elif roll < 0.45:  # a legitimate agency: hotline and email on every ad
            size = min(400, 2 + int(rng.paretovariate(1.1) * 3) - 3)
            where = rng.sample(boards, min(len(boards), rng.randint(1, 8)))
            name = f"{rng.choice(LEGIT['company']).split()[0]} Staffing {rng.randint(1, 999)}"
            hotline, email = _phone(rng), f"jobs@{name.split()[0].lower()}{rng.randint(1, 999)}.example"
            blurb = f"{name}: {' '.join(_word(rng) for _ in range(8))}."
            agency -= 1
            for _ in range(min(size, n - len(ads))):
                title = rng.choice(LEGIT["title"])
                add(rng.choice(where), title, _legit_text(rng, title, rng.choice(LEGIT["location"]), blurb),
                    [("phone", hotline), ("email", email)], rng.random() < 0.03, agency)
        else:  # a one-off employer
            title = rng.choice(LEGIT["title"])
            add(rng.choice(boards), title, _legit_text(rng, title, rng.choice(LEGIT["location"]), ""),
                [("phone", _phone(rng))] if rng.random() < 0.7 else [], rng.random() < 0.03, None)
    return ads[:n]


def build_store(path: Path, ads: list[dict], batch: int = 2000) -> None:
    """Store `ads` through Store.save_ads (assessments carry their contacts and flag)."""
    from crawler.store import Store

    store = Store(path)
    try:
        for lo in range(0, len(ads), batch):
            store.save_ads([({k: ad[k] for k in ("url", "source", "title", "description", "contact", "company",
                                                 "language", "country")},
                             {"score": 80 if ad["flagged"] else 10, "level": "high" if ad["flagged"] else "low",
                              "flagged": ad["flagged"], "language": ad["language"], "evidence": [],
                              "contacts": [{"kind": k, "value": v, "raw": v, "field": "contact"}
                                           for k, v in ad["contacts"]]})
                            for ad in ads[lo: lo + batch]])
    finally:
        store.close()


CHILD = """
import json, os, resource, sys, time
os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}) if hasattr(os, "sched_setaffinity") else None
from crawler.store import Store
from crawler.campaigns import LinkSettings, link_changed, link_store
args = json.loads(sys.argv[1])
store = Store(args["db"])
settings = LinkSettings(**args.get("settings", {}))
wall, cpu = time.perf_counter(), time.process_time()
if args["mode"] == "full":
    report = link_store(store, settings=settings)
else:
    report = link_changed(store, (), settings=settings)
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "report": str(report),
                  "links": dict(report.links_by_kind), "campaigns": report.campaigns, "linked": report.ads_linked}))
"""


def link_in_child(db: Path, mode: str, settings: dict | None = None) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps({"db": str(db), "mode": mode,
                                                                     "settings": settings or {}})],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    if proc.returncode:
        raise RuntimeError(f"linking failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def pairwise(db: Path, ads: list[dict]) -> tuple[float, float, int]:
    """(precision, recall, merged) of ads.campaign_id against the plant: precision over every linked pair (same
    recruiter), recall over the pairs of planted scam campaigns, merged = predicted groups holding ads of two
    or more recruiters."""
    import sqlite3

    conn = sqlite3.connect(db)
    index = {ad["url"]: i for i, ad in enumerate(ads)}
    predicted = {index[u] + 1: c for u, c in conn.execute("SELECT url, campaign_id FROM ads") if c is not None}
    conn.close()
    pairs = lambda counts: sum(k * (k - 1) // 2 for k in counts.values())  # noqa: E731
    pred = Counter(predicted.values())
    truth = {i + 1: ad["truth"] for i, ad in enumerate(ads) if ad["truth"] is not None}
    both = Counter((c, truth[i]) for i, c in predicted.items() if i in truth)
    scam_truth = Counter(t for t in truth.values() if t > 0)
    tp, p = pairs(both), pairs(pred)
    scam_tp, t = pairs(Counter({k: v for k, v in both.items() if k[1] > 0})), pairs(scam_truth)
    merged = sum(1 for c, k in Counter(c for c, _ in both).items() if k > 1 or k == 1 and pred[c] > both_size(both, c))
    return (tp / p if p else 1.0), (scam_tp / t if t else 1.0), merged


def both_size(both: Counter, campaign) -> int:
    return sum(v for (c, _), v in both.items() if c == campaign)


def run(quick: bool) -> str:
    n, new = (3000, 200) if quick else (FULL_ADS, NEW_ADS)
    started = time.perf_counter()
    ads = world(n + new)
    kinds = Counter(k for ad in ads for k, _ in ad["contacts"])
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "campaigns.db"
        build_store(db, ads[:n])
        built = time.perf_counter() - started
        full = link_in_child(db, "full")
        precision, recall, merged = pairwise(db, ads[:n])
        build_store(db, ads[n:])
        incremental = link_in_child(db, "incremental")
        precision_inc, recall_inc, _ = pairwise(db, ads)
        sweep = guard_sweep(Path(tmp), 2000 if quick else 20_000)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"{n:,} stored ads ({sum(1 for a in ads[:n] if a['truth'])} in {len({a['truth'] for a in ads[:n]} - {None}):,} "
        f"planted campaigns; contacts {', '.join(f'{k} {v:,}' for k, v in kinds.most_common())}); store built in "
        f"{built:.0f} s. Load average {load:.1f} on a shared machine: compare rows of one run.",
        "",
        "| run | ads | wall s | CPU s | peak RSS MB | links | campaigns | ads linked |",
        "|---|---|---|---|---|---|---|---|",
        f"| full | {n:,} | {full['wall']:.1f} | {full['cpu']:.1f} | {full['rss_mb']:.0f} | "
        f"{sum(full['links'].values()):,} | {full['campaigns']:,} | {full['linked']:,} |",
        f"| incremental, {new:,} new ads | {new:,} | {incremental['wall']:.1f} | {incremental['cpu']:.1f} | "
        f"{incremental['rss_mb']:.0f} | {sum(incremental['links'].values()):,} | {incremental['campaigns']:,} | "
        f"{incremental['linked']:,} |",
        "",
        f"Links by kind (full run): {', '.join(f'{k} {v:,}' for k, v in sorted(full['links'].items()))}.",
        f"Pairwise against the plant: precision {precision:.3f}, recall {recall:.3f} after the full run "
        f"({merged} predicted campaigns join two planted ones); {precision_inc:.3f} / {recall_inc:.3f} after the "
        "incremental run. Target: full run <= 60 s on one core, <= 500 MB RSS.",
        "",
        sweep,
    ]
    return "\n".join(lines)


def guard_sweep(tmp: Path, n: int) -> str:
    """Precision / recall of full runs on an n-ad world with the guard and text thresholds varied."""
    ads = world(n, seed=16)
    db = tmp / "sweep.db"
    build_store(db, ads)
    rows = ["| generic sources | generic ads | clean holders | text threshold | precision | recall | generic values |",
            "|---|---|---|---|---|---|---|"]
    for settings in ({}, {"generic_ads": 20}, {"generic_ads": 80}, {"generic_ads": 10_000, "generic_sources": 10_000},
                     {"generic_sources": 2}, {"generic_sources": 8}, {"generic_clean_ads": 1_000},
                     {"generic_clean_ads": 2}, {"text_threshold": 0.4}, {"text_threshold": 0.6}):
        result = link_in_child(db, "full", settings)
        precision, recall, _ = pairwise(db, ads)
        import sqlite3

        conn = sqlite3.connect(db)
        generic = conn.execute("SELECT count(*) FROM generic_contacts").fetchone()[0]
        conn.close()
        from crawler.campaigns import LinkSettings

        s = LinkSettings(**settings)
        rows.append(f"| {s.generic_sources} | {s.generic_ads} | {s.generic_clean_ads} | {s.text_threshold} | "
                    f"{precision:.3f} | {recall:.3f} | {generic:,} |")
        del result
    return (f"Guard and text threshold on a {n:,}-ad world (another seed), full runs; the first row is the "
            "default:\n\n" + "\n".join(rows))
