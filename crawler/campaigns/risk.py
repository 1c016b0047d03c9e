"""Risk that travels along campaign links: an ad linked to a confirmed lure, or to several ads the engine
flagged, gains `campaign` evidence naming the shared contact (or the near-duplicate text) and a higher score.

Bounded and explained:
- only DIRECT links count (`ad_links` rows of the ad: a shared contact the generic-contact guard let through, or a
  near-duplicate text); a linked ad counts when an analyst confirmed it a lure (its latest verdict is `lure`) or
  the ENGINE flagged it (its own score, never a score raised here: risk does not snowball along a chain) and no
  analyst rejected it (`not_lure`);
- each confirmed lure adds CONFIRMED_POINTS, each other flagged ad FLAGGED_POINTS, at most MAX_BOOST in all, so an
  ad needs some signs of its own (engine score >= FLAG_SCORE - MAX_BOOST) to be flagged by its campaign;
- links to ONE ad alone never flag an ad the engine did not flag (its score stays below FLAG_SCORE), so a
  legitimate ad that happens to share a number with a lure stays clean; ads that share a number with each other
  and nothing flagged gain nothing;
- an ad an analyst rejected (`not_lure`) is never raised (its evidence says so, weight 0).
The level and the flag follow the engine's own thresholds (rules.engine.level_for, FLAG_SCORE).

The engine's score, level and flag of every raised ad are kept in `campaign_risk` (one row per ad with campaign
evidence), so `engine_score` is always recoverable. Re-running replaces this module's evidence, never stacks it:
an ad whose evidence was replaced since (re-assessed by a crawl or rescan: the store deletes every evidence row
then) has the engine's fresh score in `ads.risk_score`, and its campaign_risk row is refreshed from it.

`apply(store, ad_ids)` runs at the end of `crawler.campaigns.link_store` (and after a verdict in the review app or
`lurewatch verdict`); `ad_ids=None` recomputes every linked ad.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from crawler.bulkindex import update_scores
from rules.engine import FLAG_SCORE, level_for

CATEGORY = "campaign"
RULE_CONFIRMED = "campaign.confirmed_lure"  # linked to at least one ad an analyst confirmed a lure
RULE_FLAGGED = "campaign.flagged_ads"  # linked to ads the engine flagged
RULE_REJECTED = "campaign.not_raised"  # links found, but an analyst rejected this ad: score kept
CONFIRMED_POINTS = 20
FLAGGED_POINTS = 10
MAX_BOOST = 30
MIN_ADS_TO_FLAG = 2  # linked flagged/confirmed ads needed before campaign evidence may cross FLAG_SCORE
REJECTED = "not_lure"
CONFIRMED = "lure"
CHUNK = 500  # ids per IN (...) query
APPLY_CHUNK = 500  # ads assessed and written at a time by a run over every ad (and their linked ads read)
APPLY_LINKS = 20_000  # and at most this many links of theirs
EVIDENCE_KEYS = ("rule_id", "category", "weight", "matched_text", "field", "start", "end", "explanation")
KIND_LABELS = {"phone": "phone", "telegram": "Telegram", "whatsapp": "WhatsApp", "line": "LINE", "wechat": "WeChat",
               "zalo": "Zalo", "email": "email", "domain": "domain", "url": "URL", "viber": "Viber", "signal": "Signal",
               "skype": "Skype", "qq": "QQ"}
HANDLE_KINDS = ("telegram",)  # written with a leading @


@dataclass
class RiskReport:
    """What one `apply` did: ads examined, ads with campaign evidence now, ads it raised to flagged, ads whose
    campaign evidence it removed (restoring the engine's score)."""

    examined: int = 0
    with_evidence: int = 0
    flagged_by_campaign: int = 0
    restored: int = 0

    def __str__(self) -> str:
        return (f"campaign risk: {self.with_evidence} ads with campaign evidence, {self.flagged_by_campaign} flagged "
                f"through their campaign, {self.restored} back to the engine's score ({self.examined} examined)")


def describe(kind: str | None, value: str | None) -> str:
    """A contact as an analyst reads it: "Telegram @x", "WhatsApp +85512345678", "near-duplicate text"."""
    if kind == "text" or not kind:
        return "a near-duplicate text"
    label = KIND_LABELS.get(kind, kind)
    value = value or ""
    if kind in HANDLE_KINDS and not value.startswith("@"):
        value = "@" + value
    return f"{label} {value}"


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _marks(part: list[Any]) -> str:
    return ",".join("?" * len(part))


def _has_table(db, name: str) -> bool:
    return db.execute("select 1 from sqlite_master where type = 'table' and name = ?", [name]).fetchone() is not None


def apply(store, ad_ids: Iterable[int] | None = None) -> RiskReport:
    """Add, replace or remove the `campaign` evidence (and raised score) of the ads whose links or linked ads
    may have changed: `ad_ids` (new, changed, re-linked or reviewed ads) and the ads directly linked to them, and
    every raised ad whose evidence a re-assessment replaced since. None: every linked or raised ad. One write
    transaction; an ad whose evidence and score would stay the same is not written."""
    return store.write(lambda: _apply(store.db, None if ad_ids is None else list(ad_ids)))


def refresh_campaigns_of(store, ad_ids: Iterable[int]) -> None:
    """highest_risk and flagged_share of the campaigns of `ad_ids`, whose scores changed without a relink
    (a rescan that kept their contacts and flags)."""
    def work():
        campaigns: set = set()
        for part in _chunks(sorted(ad_ids)):
            campaigns.update(r[0] for r in store.db.execute(
                f"select campaign_id from ads where campaign_id is not null and id in ({_marks(part)})", part))
        _refresh_campaigns(store.db, campaigns)

    store.write(work)


def _apply(db, seeds: list[int] | None) -> RiskReport:
    report = RiskReport()
    if not _has_table(db, "ad_links"):
        return report
    stale_sql = ("select ad_id from campaign_risk r where not exists"  # raised, then re-assessed: evidence dropped
                 " (select 1 from evidence e where e.ad_id = r.ad_id and e.category = ?)")
    if seeds is None:  # every linked or raised ad, in chunks: memory follows the chunk, not the store
        targets = _ids(db, "select ad_id from ad_links union select other_ad_id from ad_links"
                           " union select ad_id from campaign_risk", [])  # the stale ones among them
        chunks = _by_links(db, targets)
    else:
        found = set(seeds)
        for part in _chunks(sorted(found)):
            found.update(r[0] for r in db.execute(
                f"select other_ad_id from ad_links where ad_id in ({_marks(part)})"
                f" union select ad_id from ad_links where other_ad_id in ({_marks(part)})", part + part))
        found.update(r[0] for r in db.execute(stale_sql, [CATEGORY]))
        targets = sorted(found)  # with their linked ads: a large campaign's ads in chunks bounded by links
        chunks = [targets] if len(targets) <= APPLY_CHUNK else _by_links(db, np.asarray(targets, dtype=np.int64))
    report.examined = len(targets)
    campaigns: set = set()
    stamp = _now()
    for part in chunks:
        campaigns |= _apply_to(db, part, report, stamp)
    _refresh_campaigns(db, campaigns)
    return report


def _ids(db, sql: str, params: list) -> np.ndarray:
    """The distinct ids `sql` selects, ascending, as an int array (8 bytes an id)."""
    parts = [np.zeros(0, dtype=np.int64)]
    cursor = db.execute(sql, params)
    while rows := cursor.fetchmany(50_000):
        parts.append(np.array([r[0] for r in rows], dtype=np.int64))
    return np.unique(np.concatenate(parts))


def _by_links(db, targets: np.ndarray):
    """`targets` (ascending) in chunks of at most APPLY_CHUNK ads and APPLY_LINKS links (one ad with more links
    alone): an ad heading large LSH buckets has thousands of linked ads, whose states a chunk reads."""
    degree = np.zeros(int(targets[-1]) + 1 if len(targets) else 0, dtype=np.int64)
    for column in ("ad_id", "other_ad_id"):
        cursor = db.execute(f"select {column}, count(*) from ad_links group by {column}")
        while rows := cursor.fetchmany(50_000):
            ids, counts = np.array(rows, dtype=np.int64).reshape(-1, 2).T
            keep = ids < len(degree)
            degree[ids[keep]] += counts[keep]
    part: list[int] = []
    links = 0
    for ad_id, n in zip(targets.tolist(), degree[targets].tolist()):
        if part and (len(part) >= APPLY_CHUNK or links + n > APPLY_LINKS):
            yield part
            part, links = [], 0
        part.append(ad_id)
        links += n
    if part:
        yield part


def _apply_to(db, targets: list[int], report: RiskReport, stamp: str) -> set:
    """Campaign risk of the ads `targets` (ascending), written; the campaigns whose ads' scores changed. An ad's
    state is read from the store as earlier chunks left it, which gives what one pass over all ads gives: a raised
    ad's engine score and flag stay recoverable from its campaign_risk row."""
    links = _links_of(db, targets)  # ad -> [(other, kind, value, similarity)]
    ads = _ad_states(db, sorted({o for rows in links.values() for o, *_ in rows} | set(targets)))
    writes = _Writes(stamp)
    for ad_id in targets:
        ad = ads.get(ad_id)
        if ad is None:  # an ad that is gone
            writes.forget.append((ad_id,))
            continue
        evidence, score = _assess(ad, links.get(ad_id, []), ads)
        writes.add(ad, evidence, score)
        if evidence:
            report.with_evidence += 1
            report.flagged_by_campaign += int(score >= FLAG_SCORE > ad["engine_score"])
        elif ad["evidence"]:
            report.restored += 1
    writes.run(db)
    return writes.campaigns


def _refresh_campaigns(db, campaign_ids: set) -> None:
    """highest_risk and flagged_share of these campaigns from their ads' scores as raised now (linking wrote
    them from the scores before this run)."""
    if not _has_table(db, "campaigns"):
        return
    for part in _chunks(sorted(campaign_ids, key=str)):
        db.execute(f"update campaigns set highest_risk = (select max(risk_score) from ads where campaign_id ="
                   f" campaigns.id), flagged_share = round((select avg(coalesce(flagged, 0)) from ads"
                   f" where campaign_id = campaigns.id), 4) where id in ({_marks(part)})", part)


def _links_of(db, ad_ids: list[int]) -> dict[int, list[tuple[int, str, str, float]]]:
    """Each of `ad_ids` -> its links (the other ad, kind, value, similarity), in no particular order."""
    out: dict[int, list[tuple[int, str, str, float]]] = {}
    wanted = set(ad_ids)
    for part in _chunks(ad_ids):
        marks = _marks(part)  # each link once (UNION ALL, no sort to find duplicates): the second half has no
        for a, b, kind, value, similarity in db.execute(  # link the first half has
                f"select ad_id, other_ad_id, kind, value, similarity from ad_links where ad_id in ({marks})"
                f" union all select ad_id, other_ad_id, kind, value, similarity from ad_links"
                f" where other_ad_id in ({marks}) and ad_id not in ({marks})", part + part + part):
            if a in wanted:
                out.setdefault(a, []).append((b, kind, value, similarity))
            if b in wanted:
                out.setdefault(b, []).append((a, kind, value, similarity))
    return out


def _ad_states(db, ad_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each ad's engine score and flag, verdict, campaign and current campaign evidence. The engine's score is
    the campaign_risk row's while our evidence stands and the ad still has the score we gave it; else the ads
    row's (a re-assessment replaced the evidence and wrote the engine's score)."""
    states: dict[int, dict[str, Any]] = {}
    for part in _chunks(ad_ids):
        marks = _marks(part)
        ours: dict[int, list[tuple]] = {}
        for row in db.execute(f"select ad_id, rule_id, category, weight, matched_text, field, start, end,"
                              f" explanation from evidence where category = ? and ad_id in ({marks}) order by id",
                              [CATEGORY, *part]):
            ours.setdefault(row[0], []).append(tuple(row[1:]))
        rows = {r[0]: r for r in db.execute(
            f"select ad_id, engine_score, engine_level, engine_flagged, score, campaign_id from campaign_risk"
            f" where ad_id in ({marks})", part)}
        for ad_id, score, level, flagged, status, campaign in db.execute(
                f"select id, risk_score, risk_level, flagged, review_status, campaign_id from ads"
                f" where id in ({marks})", part):
            state = {"id": ad_id, "engine_score": score or 0, "engine_level": level, "engine_flagged": bool(flagged),
                     "review_status": status, "campaign_id": campaign, "score": score or 0, "raised": False,
                     "evidence": ours.get(ad_id, []), "row": rows.get(ad_id)}
            old = rows.get(ad_id)
            if old is not None and ad_id in ours and old[4] == score:
                state.update(engine_score=old[1] or 0, engine_level=old[2], engine_flagged=bool(old[3]), raised=True)
            states[ad_id] = state
    return states


def _assess(ad: dict[str, Any], links: list[tuple[int, str, str, float]], ads: dict[int, dict[str, Any]]):
    """(evidence rows, new score) for one ad; ([], engine score) when nothing linked counts."""
    reasons: dict[tuple[str, str], dict[str, set[int]]] = {}
    counted: set[int] = set()
    confirmed: set[int] = set()
    for other, kind, value, _similarity in links:
        state = ads.get(other)
        if state is None or other == ad["id"]:
            continue
        status = state["review_status"]
        if status == CONFIRMED:
            group = "confirmed"
        elif state["engine_flagged"] and status != REJECTED:
            group = "flagged"
        else:
            continue
        key = ("text", "") if kind == "text" else (kind or "", value or "")
        reasons.setdefault(key, {"confirmed": set(), "flagged": set()})[group].add(other)
        counted.add(other)
        if group == "confirmed":
            confirmed.add(other)
    if not counted:
        return [], ad["engine_score"]
    engine = ad["engine_score"]
    raw = CONFIRMED_POINTS * len(confirmed) + FLAGGED_POINTS * len(counted - confirmed)
    boost = min(MAX_BOOST, raw)
    score = min(100, engine + boost)
    capped = "; 100 is the top" if engine + boost > 100 else ""
    if len(counted) < MIN_ADS_TO_FLAG and engine < FLAG_SCORE and score >= FLAG_SCORE:
        score = FLAG_SCORE - 1
        capped = "; links to one ad alone never flag an ad"
    if ad["review_status"] == REJECTED:
        score = engine
        capped = "; not raised: an analyst rejected this ad (not_lure)"
    added = score - engine
    campaign = f" in campaign {ad['campaign_id']}" if ad.get("campaign_id") not in (None, "") else ""
    rows = []
    for (kind, value), groups in sorted(reasons.items(), key=lambda kv: (-len(kv[1]["confirmed"]) * 2
                                                                          - len(kv[1]["flagged"]), kv[0])):
        parts = []
        if groups["confirmed"]:
            ids = sorted(groups["confirmed"])
            parts.append(("confirmed lure " if len(ids) == 1 else f"{len(ids)} confirmed lures ")
                         + ", ".join(f"#{i}" for i in ids[:5]) + (" ..." if len(ids) > 5 else ""))
        flagged = sorted(groups["flagged"] - groups["confirmed"])
        if flagged:
            parts.append(("1 flagged ad " if len(flagged) == 1 else f"{len(flagged)} flagged ads ")
                         + "(" + ", ".join(f"#{i}" for i in flagged[:5]) + (" ..." if len(flagged) > 5 else "") + ")")
        with_whom = " and ".join(parts)
        if kind == "text":
            what = f"Near-duplicate text of {with_whom}{campaign}"
            matched = "near-duplicate text"
        else:
            what = f"Shares {describe(kind, value)} with {with_whom}{campaign}"
            matched = describe(kind, value)
        share = (CONFIRMED_POINTS * len(groups["confirmed"]) + FLAGGED_POINTS * len(flagged)) / raw
        rows.append({
            "rule_id": (RULE_REJECTED if ad["review_status"] == REJECTED
                        else RULE_CONFIRMED if groups["confirmed"] else RULE_FLAGGED),
            "category": CATEGORY, "weight": round(added * share / 100, 3), "matched_text": matched,
            "field": None, "start": -1, "end": -1,
            "explanation": f"{what}. Campaign risk {'+' if added >= 0 else ''}{added} over the engine's score "
                           f"{engine} (at most +{MAX_BOOST}{capped}).",
        })
    return rows, score


class _Writes:
    """The changes of one run, written with executemany at the end; an ad whose campaign evidence, score and
    campaign_risk row would stay as they are is left alone (a re-run writes nothing)."""

    def __init__(self, stamp: str):
        self.stamp = stamp
        self.drop: list[tuple] = []  # (ad_id,): delete its campaign evidence
        self.evidence: list[tuple] = []
        self.scores: list[tuple] = []  # (score, level, flagged, ad_id)
        self.forget: list[tuple] = []  # (ad_id,): delete its campaign_risk row
        self.rows: list[tuple] = []  # campaign_risk rows
        self.campaigns: set = set()  # campaigns whose ads' scores changed

    def add(self, ad: dict[str, Any], evidence: list[dict[str, Any]], score: int) -> None:
        engine = ad["engine_score"]
        new = [tuple(row[k] for k in EVIDENCE_KEYS) for row in evidence]
        if evidence:
            row = (ad["id"], engine, ad["engine_level"], int(ad["engine_flagged"]), score, ad.get("campaign_id"))
            if new == ad["evidence"] and score == ad["score"] and ad["row"] is not None and \
                    tuple(ad["row"]) == row:
                return  # as it is
            level = level_for(score) if score != engine else (ad["engine_level"] or level_for(score))
            flagged = score >= FLAG_SCORE if score != engine else ad["engine_flagged"]
            self.rows.append((*row, self.stamp))
        else:
            if not ad["evidence"] and ad["row"] is None:
                return  # nothing of ours on this ad
            self.forget.append((ad["id"],))
            score, level, flagged = engine, ad["engine_level"] or level_for(engine), ad["engine_flagged"]
        if ad["evidence"]:
            self.drop.append((ad["id"],))
        self.evidence += [(ad["id"], *values) for values in new]
        if score != ad["score"]:
            self.scores.append((score, level, int(flagged), ad["id"]))
            self.campaigns.add(ad.get("campaign_id"))

    def run(self, db) -> None:
        conn = db.conn
        conn.executemany(f"delete from evidence where ad_id = ? and category = '{CATEGORY}'", self.drop)
        conn.executemany(f"insert into evidence (ad_id, {', '.join(EVIDENCE_KEYS)})"
                         f" values (?{',?' * len(EVIDENCE_KEYS)})", self.evidence)
        update_scores(conn, self.scores)  # the review index's triggers in bulk (crawler/bulkindex.py)
        conn.executemany("delete from campaign_risk where ad_id = ?", self.forget)
        conn.executemany("insert or replace into campaign_risk (ad_id, engine_score, engine_level, engine_flagged,"
                         " score, campaign_id, updated_at) values (?,?,?,?,?,?,?)", self.rows)
        self.campaigns.discard(None)
        self.campaigns.discard("")


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def engine_score(db, ad_id: int) -> int | None:
    """The engine's own score of an ad (before campaign risk), or None for an unknown ad."""
    row = db.execute("select r.engine_score from campaign_risk r where r.ad_id = ? and exists (select 1 from"
                     " evidence e where e.ad_id = r.ad_id and e.category = ?)", [ad_id, CATEGORY]).fetchone()
    if row:
        return row[0]
    row = db.execute("select risk_score from ads where id = ?", [ad_id]).fetchone()
    return None if row is None else row[0]


