"""Realistic ads at scale as a JSON Lines file for `lurewatch import` (the scale bench; the 1M-ad review database).

`write_ads_jsonl(path, n)` writes n ads: output/bench.py's `synthetic_ads` (~70% ordinary ads, ~20% fresh lures,
~10% paraphrases of known lures) padded to about 900 characters, spread over SOURCES boards with their own URLs,
site ids and posting dates. Generated in chunks, so memory stays flat at any n; the same (n, seed) gives the
same file.

Example: python -m output.benchparts._scaledata ads-1m.jsonl 1000000
"""
from __future__ import annotations

import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

from output.bench import HELD_OUT_CHARS, synthetic_ads, synthetic_lures

CHUNK = 10_000
SOURCES = ("jobs-kh.example", "careers-ph.example", "kerja-id.example", "vieclam-vn.example", "hiring-my.example",
           "jobboard-th.example", "workabroad.example", "gigs-asia.example", "partner-dump", "jobspy-indeed")


def ads(n: int, seed: int = 7, target_chars: int | None = HELD_OUT_CHARS):
    """The n ads, one dict each, in import-row form (url, source, id, posted_at and the assess fields)."""
    corpus = synthetic_lures(500, seed=seed)
    rng = random.Random(seed)
    first_day = date(2026, 1, 1)
    for start in range(0, n, CHUNK):
        for i, ad in enumerate(synthetic_ads(min(CHUNK, n - start), corpus, seed=seed * 100_003 + start,
                                             target_chars=target_chars), start):
            source = SOURCES[rng.randrange(len(SOURCES))]
            ad.pop("paraphrase_of", None)
            ad.update(id=f"{source.split('.')[0]}-{i:07d}", source=source, url=f"https://{source}/job/{i:07d}"
                      if "." in source else f"https://{source}.example/view/{i:07d}",
                      posted_at=(first_day + timedelta(days=rng.randrange(365))).isoformat())
            yield ad


def write_ads_jsonl(path: str | Path, n: int, seed: int = 7, target_chars: int | None = HELD_OUT_CHARS) -> Path:
    """Write `ads(n, seed)` to `path` as JSON Lines; returns the path."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as fh:
        for ad in ads(n, seed, target_chars):
            fh.write(json.dumps(ad, ensure_ascii=False) + "\n")
    return path


if __name__ == "__main__":
    write_ads_jsonl(sys.argv[1], int(sys.argv[2]))
