"""One linking run over a Store: full (every ad) or incremental (new/changed ads and what they touch).

Both write the same result for the same store (tests/test_campaigns_link.py checks it):
  1. signatures: each ad's template text is shingled only when its text changed (campaign_ad_state.text_hash)
  2. contact links: every pair of ads sharing a non-generic contact value
  3. text links: every pair sharing an LSH band whose estimated Jaccard reaches the threshold
  4. groups: connected components; ids kept (groups.assign_ids); ads.campaign_id and campaigns rows updated
An incremental run touches the ads given, the holders of their contact values (old and new), their text
neighbours, and the campaigns of all those: its cost follows them, not the size of the store.
A full run streams each step from SQL (fullrun.py), so its memory does not grow with the store.
Everything happens in one write transaction (Store.write), so concurrent runs and crawls serialise.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import time
from collections import defaultdict
from itertools import groupby
from typing import Callable, Iterable

from crawler.store import now

from . import fullrun
from .groups import assign_ids, components
from .rows import write_campaign_rows
from .links import (LINK_KINDS, MAX_BUCKET, PAIR_BUCKET, SUSPICIOUS_SQL, Holders, board_host, contact_key, contact_pairs,
                    is_generic)
from .report import LinkReport, LinkSettings
from .text import TEXT_VERSION, as_array, band_keys, jaccard, signatures, template_text

BATCH = 2000  # ads read and shingled at a time
CHUNK = 500  # ids per IN (...) query
# an incremental run holds the campaigns it touches in memory (their ads and links); a campaign bigger than this is
# regrouped instead by the bounded whole-store pass of a full run (fullrun.regroup: 17 bytes per ad)
CLOSURE_LIMIT = 50_000
HOLDER_ROWS = 5_000  # holders of one contact value read at a time
KIND_MARKS = ",".join("?" * len(LINK_KINDS))
HOLDER_COLUMNS = f"c.ad_id, c.kind, c.value, a.source, a.url, {SUSPICIOUS_SQL}"
Progress = Callable[[int, int, str], None] | None


def pending(store, settings: LinkSettings, *, scan: bool = True) -> list[int] | None:
    """None when a full run is due (never linked, or linked with other settings or another template-text
    version); else the ads taken down or back since the last run (their campaign's status may change) and, with
    `scan`, every ad new or changed since (its text hash differs: one pass over the ads table)."""
    def work():
        db = store.db
        last = db.execute("SELECT value FROM meta WHERE key = 'campaign_settings'").fetchone()
        if last is None or last[0] != settings_key(settings):
            return None
        since = db.execute("SELECT value FROM meta WHERE key = 'campaign_linked_at'").fetchone()
        ids = {r[0] for r in db.execute("SELECT ad_id FROM ad_history WHERE at >= ? AND event IN ('removed', 'reappeared')",
                                        [since[0] if since else ""])}
        if scan:
            ids |= {r[0] for r in db.execute(
                "SELECT a.id FROM ads a LEFT JOIN campaign_ad_state s ON s.ad_id = a.id"
                " WHERE s.ad_id IS NULL OR s.text_hash IS NOT a.content_hash || ':' || ?", [TEXT_VERSION])}
        return sorted(ids)

    return store.retrying(work)


def settings_key(settings: LinkSettings) -> str:
    return json.dumps({**dataclasses.asdict(settings), "text": TEXT_VERSION}, sort_keys=True)


def run(store, *, ad_ids, progress: Progress, settings: LinkSettings, apply_risk: bool = True,
        closure_limit: int = CLOSURE_LIMIT, defer_regroup: bool = False) -> LinkReport:
    started = time.monotonic()
    if ad_ids is None:
        report = store.write(lambda: _Run(store.db, settings, progress).full())
    else:
        ids = sorted({int(a) for a in ad_ids})
        report = store.write(lambda: _Run(store.db, settings, progress, closure_limit=closure_limit,
                                          defer_regroup=defer_regroup).incremental(ids))
    if apply_risk and importlib.util.find_spec(f"{__package__}.risk") is not None:  # campaign risk (risk.py)
        from . import risk

        # None: every ad (a full run, or an incremental one that regrouped the whole store)
        risk.apply(store, None if ad_ids is None or report.regrouped_all else report.touched_ads)
    report.seconds = time.monotonic() - started
    return report


def regroup_store(store, settings: LinkSettings) -> LinkReport:
    """Every campaign regrouped from the stored links in bounded memory (a full run's regroup, without linking)."""
    return store.write(lambda: _Run(store.db, settings, None).regroup_all())


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for lo in range(0, len(items), size):
        yield items[lo: lo + size]


class _Run:
    def __init__(self, db, settings: LinkSettings, progress: Progress, *, closure_limit: int = CLOSURE_LIMIT,
                 defer_regroup: bool = False):
        self.db = db
        self.settings = settings
        self.progress = progress or (lambda done, total, what: None)
        self.report = LinkReport()
        self.stamp = now()
        self.closure_limit = closure_limit
        self.defer_regroup = defer_regroup  # a campaign over the limit: leave its regroup to the caller (regroup_all)

    def regroup_all(self) -> LinkReport:
        """Every campaign from the stored links, in bounded memory (what a full run does after linking)."""
        fullrun.regroup(self)
        self.report.regrouped_all = True
        return self.finish()

    def q(self, sql: str, params: Iterable = ()) -> list[tuple]:
        return self.db.execute(sql, list(params)).fetchall()

    def q_in(self, sql: str, ids: list, params: Iterable = ()) -> list[tuple]:
        """`sql` with one `{ids}` placeholder run over `ids` in chunks; rows of every chunk."""
        rows: list[tuple] = []
        for part in _chunks(ids):
            rows += self.q(sql.format(ids=",".join("?" * len(part))), [*params, *part])
        return rows

    # -- signatures --------------------------------------------------------------------------
    def refresh_signatures(self, ids: list[int] | None) -> None:
        """Shingle the ads (all, or `ids`) whose text changed since the last run; their band keys follow."""
        total = self.q("SELECT count(*) FROM ads")[0][0] if ids is None else len(ids)
        fresh = ids is None  # a full run rewrites every band key (fullrun.write_bands)
        done = 0
        for batch in self._ads_with_text_hash(ids):
            stale = [r for r in batch if r[5] != f"{r[4]}:{TEXT_VERSION}"]
            if stale:
                sigs = signatures([template_text(r[1], r[2], r[3]) for r in stale])
                stale_ids = [r[0] for r in stale]
                if not fresh:  # the old signatures' band keys go
                    old = self.q_in("SELECT ad_id, signature FROM campaign_ad_state WHERE ad_id IN ({ids})"
                                    " AND signature IS NOT NULL", stale_ids)
                    self.write_bands("DELETE FROM campaign_bands WHERE band_key = ? AND ad_id = ?", old)
                self.db.conn.executemany(
                    "INSERT INTO campaign_ad_state (ad_id, text_hash, signature) VALUES (?,?,?) ON CONFLICT(ad_id)"
                    " DO UPDATE SET text_hash = excluded.text_hash, signature = excluded.signature",
                    [(r[0], f"{r[4]}:{TEXT_VERSION}", s) for r, s in zip(stale, sigs)])
                if not fresh:
                    self.write_bands("INSERT OR IGNORE INTO campaign_bands (band_key, ad_id) VALUES (?, ?)",
                                     [(a, s) for a, s in zip(stale_ids, sigs) if s is not None])
            done += len(batch)
            self.progress(done, total, "shingling")
        return fresh

    def _ads_with_text_hash(self, ids: list[int] | None) -> Iterable[list[tuple]]:
        """Batches of (id, title, description, company, content_hash, last text_hash) of the ads (all: by id
        ranges, so the store's size never sits in memory)."""
        columns = "a.id, a.title, a.description, a.company, a.content_hash, s.text_hash"
        joined = "ads a LEFT JOIN campaign_ad_state s ON s.ad_id = a.id"
        if ids is not None:
            for part in _chunks(ids):
                yield self.q(f"SELECT {columns} FROM {joined} WHERE a.id IN ({','.join('?' * len(part))})", part)
            return
        last = -1
        while batch := self.q(f"SELECT {columns} FROM {joined} WHERE a.id > ? ORDER BY a.id LIMIT {BATCH}", [last]):
            yield batch
            last = batch[-1][0]

    def write_bands(self, sql: str, rows: list[tuple[int, bytes]]) -> None:
        """Run `sql` (band_key, ad_id) over the band keys of (ad_id, signature) rows."""
        if rows:
            keys = band_keys(as_array([r[1] for r in rows]))
            self.db.conn.executemany(sql, [(k, r[0]) for r, ks in zip(rows, keys.tolist()) for k in ks])

    # -- contacts ----------------------------------------------------------------------------
    def holders_of(self, rows: Iterable[tuple]) -> tuple[dict, dict]:
        """({key: Holders}, {ad: sorted keys}) from HOLDER_COLUMNS rows."""
        holders: dict[tuple[str, str], Holders] = {}
        per_ad: dict[int, set] = defaultdict(set)
        for ad_id, kind, value, source, url, suspicious in rows:
            key = contact_key(kind, value, board_host(url))
            if key is None:
                continue
            h = holders.get(key)
            if h is None:
                h = holders[key] = Holders(set(), set(), set())
            h.ads.add(ad_id)
            h.sources.add(source or "")
            if not suspicious:
                h.clean.add(ad_id)
            per_ad[ad_id].add(key)
        return holders, per_ad

    def all_contact_keys(self) -> None:
        """Each ad's contact keys to campaign_ad_state (one pass over the contacts in ad order)."""
        self.db.execute("UPDATE campaign_ad_state SET contact_keys = '[]'")
        cursor = self.db.execute(f"SELECT {HOLDER_COLUMNS} FROM contacts c JOIN ads a ON a.id = c.ad_id"
                                 f" WHERE c.kind IN ({KIND_MARKS}) ORDER BY c.ad_id", LINK_KINDS)
        batch: list[tuple] = []
        for _, rows in groupby(cursor, key=lambda r: r[0]):  # whole ads per batch
            batch.extend(rows)
            if len(batch) >= 20_000:
                _, per_ad = self.holders_of(batch)
                self.store_contact_keys(per_ad, sorted(per_ad))
                batch = []
        _, per_ad = self.holders_of(batch)
        self.store_contact_keys(per_ad, sorted(per_ad))

    def write_links(self, rows: list[tuple]) -> None:
        self.db.conn.executemany(
            "INSERT INTO ad_links (ad_id, other_ad_id, kind, value, similarity, created_at) VALUES (?,?,?,?,?,?)",
            [(*r, self.stamp) for r in rows])
        self.report.links_added += len(rows)
        self.report.links_by_kind.update(r[2] for r in rows)

    def store_contact_keys(self, per_ad: dict[int, set], ids: Iterable[int]) -> None:
        self.db.conn.executemany("UPDATE campaign_ad_state SET contact_keys = ? WHERE ad_id = ?",
                                 [(json.dumps(sorted(per_ad.get(a, ()))), a) for a in ids])

    # -- full --------------------------------------------------------------------------------
    def full(self) -> LinkReport:
        """Every link and campaign afresh, in bounded memory (fullrun.py)."""
        self.report.mode = "full"
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('campaign_settings', ?)", [settings_key(self.settings)])
        self.refresh_signatures(None)
        self.report.ads_seen = self.q("SELECT count(*) FROM ads")[0][0]
        self.progress(0, 1, "contacts")
        self.all_contact_keys()
        self.db.execute("DELETE FROM ad_links")
        self.db.execute("DELETE FROM generic_contacts")
        fullrun.contact_links(self, HOLDER_COLUMNS)
        self.progress(0, 1, "text")
        fullrun.write_bands(self.db)
        fullrun.text_links(self)
        self.progress(0, 1, "grouping")
        fullrun.regroup(self)
        return self.finish()

    # -- incremental -------------------------------------------------------------------------
    def incremental(self, ids: list[int]) -> LinkReport:
        self.report.mode = "incremental"
        ids = [r[0] for r in self.q_in("SELECT id FROM ads WHERE id IN ({ids})", ids)]
        self.report.ads_seen = len(ids)
        if not ids:
            return self.finish()
        # rows missing from campaign_ad_state get one first (their text is shingled)
        self.refresh_signatures(ids)
        old_keys: set = set()
        for (raw,) in self.q_in("SELECT contact_keys FROM campaign_ad_state WHERE ad_id IN ({ids})", ids):
            old_keys |= {tuple(k) for k in json.loads(raw or "[]")}
        _, per_ad = self.holders_of(self.q_in(
            f"SELECT {HOLDER_COLUMNS} FROM contacts c JOIN ads a ON a.id = c.ad_id"
            f" WHERE c.kind IN ({KIND_MARKS}) AND c.ad_id IN ({{ids}})", ids, LINK_KINDS))
        new_keys = set().union(*per_ad.values()) if per_ad else set()
        self.store_contact_keys(per_ad, ids)
        affected: set[int] = set(ids)
        for a, b in self._links_touching(ids):  # links of the ads' old text and contacts: decided again
            affected.update((a, b))
        self.q_in("DELETE FROM ad_links WHERE ad_id IN ({ids})", ids)
        self.q_in("DELETE FROM ad_links WHERE other_ad_id IN ({ids})", ids)
        links: list[tuple] = []
        for key in sorted(old_keys | new_keys):
            links += self.relink_value(key, affected)
        links += self.text_links(ids)
        self.write_links(links)
        affected.update(x for r in links for x in r[:2])
        closed = self.closure(affected, self.closure_limit)
        if closed is None:  # a campaign too big to hold in memory
            self.report.touched_ads = sorted(affected)
            if self.defer_regroup:
                self.report.regroup_deferred = True
                return self.finish()
            return self.regroup_all()
        nodes, edges = closed
        self.regroup(nodes, edges)
        self.report.touched_ads = sorted(nodes)
        return self.finish()

    def _links_touching(self, ids: list[int]) -> list[tuple[int, int]]:
        return (self.q_in("SELECT ad_id, other_ad_id FROM ad_links WHERE ad_id IN ({ids})", ids)
                + self.q_in("SELECT ad_id, other_ad_id FROM ad_links WHERE other_ad_id IN ({ids})", ids))

    def relink_value(self, key: tuple[str, str], affected: set[int]) -> list[tuple]:
        """Links of one contact value, decided afresh from all its holders (the guard may change its mind)."""
        kind, value = key
        if kind == "phone":
            cursor = self.db.execute(f"SELECT {HOLDER_COLUMNS} FROM contacts c JOIN ads a ON a.id = c.ad_id"
                                     f" WHERE c.value = ? AND c.kind IN ({KIND_MARKS})", [value, *LINK_KINDS])
        else:
            cursor = self.db.execute(f"SELECT {HOLDER_COLUMNS} FROM contacts c JOIN ads a"
                                     " ON a.id = c.ad_id WHERE c.kind = ? AND c.value = ?", [kind, value])
        h = Holders(set(), set(), set())
        # read in batches: a value shared by 10^5 ads held every row (URLs included) at once (788 MB at 1M ads)
        while rows := cursor.fetchmany(HOLDER_ROWS):
            part = self.holders_of(rows)[0].get(key)
            if part is not None:
                h.ads |= part.ads
                h.sources |= part.sources
                h.clean |= part.clean
        for a, b in self.q("SELECT ad_id, other_ad_id FROM ad_links WHERE kind = ? AND value = ?", key):
            affected.update((a, b))
        self.db.execute("DELETE FROM ad_links WHERE kind = ? AND value = ?", key)
        self.db.execute("DELETE FROM generic_contacts WHERE kind = ? AND value = ?", key)
        if len(h.ads) < 2:
            return []
        if is_generic(h, self.settings):
            self.db.execute("INSERT INTO generic_contacts (kind, value, sources, ads) VALUES (?,?,?,?)",
                            [*key, len(h.sources), len(h.ads)])
            return []
        affected.update(h.ads)
        return list(contact_pairs(key, h.ads))

    def text_links(self, ids: list[int]) -> list[tuple]:
        """Text links of the ads `ids` with the stored ads sharing a band (PAIR_BUCKET: all of a small bucket,
        the first ad of a large one, or all of it when the ad is its first)."""
        mine = self.q_in("SELECT ad_id, signature FROM campaign_ad_state WHERE ad_id IN ({ids})"
                         " AND signature IS NOT NULL", ids)
        found: dict[tuple[int, int], float] = {}
        for part in _chunks(mine, 100):
            keys = band_keys(as_array([r[1] for r in part]))
            flat = sorted(set(keys.ravel().tolist()))
            sizes = dict(self.q_in("SELECT band_key, count(*) FROM campaign_bands WHERE band_key IN ({ids})"
                                   " GROUP BY band_key", flat))
            usable = [k for k in flat if 2 <= sizes.get(k, 0) <= MAX_BUCKET]
            bucket: dict[int, list[int]] = defaultdict(list)
            for k, ad in self.q_in("SELECT band_key, ad_id FROM campaign_bands WHERE band_key IN ({ids})"
                                   " ORDER BY band_key, ad_id", usable):
                bucket[k].append(ad)
            for (ad, sig), ad_keys in zip(part, keys.tolist()):
                others: set[int] = set()
                for k in ad_keys:
                    members = bucket.get(k, ())
                    if len(members) <= PAIR_BUCKET or members[0] == ad:
                        others.update(members)
                    else:
                        others.add(members[0])
                others.discard(ad)
                if not others:
                    continue
                rows = self.q_in("SELECT ad_id, signature FROM campaign_ad_state WHERE ad_id IN ({ids})", sorted(others))
                est = jaccard(as_array([sig])[0], as_array([r[1] for r in rows]))
                for (other, _), e in zip(rows, est.tolist()):
                    if e >= self.settings.text_threshold:
                        found.setdefault((min(ad, other), max(ad, other)), e)
        return [(a, b, "text", None, round(e, 4)) for (a, b), e in sorted(found.items())]

    def closure(self, start: set[int], limit: int | None = None) -> tuple[set[int], list[tuple[int, int]]] | None:
        """Every ad connected to `start` by links, and the links among them; None once more than `limit` ads."""
        nodes, frontier, edges = set(start), sorted(start), set()
        while frontier:
            if limit is not None and len(nodes) > limit:
                return None
            found = self._links_touching(frontier)
            edges.update(found)
            frontier = sorted({x for e in found for x in e} - nodes)
            nodes.update(frontier)
        return nodes, sorted(edges)

    # -- groups and campaign rows --------------------------------------------------------------
    def regroup(self, nodes: Iterable[int], edges: list[tuple[int, int]]) -> None:
        """Campaigns of the ads `nodes` (closed under links) from their `edges` (a full run: fullrun.regroup)."""
        nodes = sorted(set(nodes))
        groups = components(edges)
        old = dict(self.q_in("SELECT id, campaign_id FROM ads WHERE campaign_id IS NOT NULL AND id IN ({ids})", nodes))
        old = {a: int(c) for a, c in old.items()}
        next_id = self.next_campaign_id()
        ids, next_id = assign_ids(groups, old, next_id)
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('campaign_next_id', ?)", [str(next_id)])
        new = {a: cid for group, cid in zip(groups, ids) for a in group}
        changes = [(new.get(a), a) for a in (set(old) | set(new)) if old.get(a) != new.get(a)]
        self.db.conn.executemany("UPDATE ads SET campaign_id = ? WHERE id = ?", sorted(changes, key=lambda c: c[1]))
        gone = set(old.values()) - set(ids)
        self.q_in("DELETE FROM campaigns WHERE id IN ({ids})", sorted(gone))
        write_campaign_rows(self.db, sorted(ids), self.stamp)
        self.report.campaigns_touched = len(ids)

    def next_campaign_id(self) -> int:
        row = self.q("SELECT value FROM meta WHERE key = 'campaign_next_id'")
        top = self.q("SELECT max(id) FROM campaigns")[0][0] or 0
        return max(int(row[0][0]) if row else 1, top + 1)

    def finish(self) -> LinkReport:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('campaign_linked_at', ?)", [self.stamp])
        r = self.report
        r.campaigns = self.q("SELECT count(*) FROM campaigns")[0][0]
        r.ads_linked = self.q("SELECT count(*) FROM ads WHERE campaign_id IS NOT NULL")[0][0]
        r.generic_skipped = self.q("SELECT count(*) FROM generic_contacts")[0][0]
        return r
