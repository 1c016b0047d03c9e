"""Campaign linking: ads linked by a shared contact or a near-duplicate text, grouped into campaigns.

    link_store(store)                  full rebuild of ad_links, campaigns, ads.campaign_id, generic_contacts
    link_store(store, ad_ids=[...])    incremental: only those new or changed ads and what they touch
    relink_rescanned(store, relink, rescored)   after a rescan: in chunks, never a full run

Tables: crawler/campaigns/schema.py. Links and the generic-contact guard: links.py; the template text and its
MinHash signature: text.py; groups and stable ids: groups.py; the run itself: linking.py (a full run's
bounded-memory steps: fullrun.py).
"""
from __future__ import annotations

from .report import LinkReport, LinkSettings

__all__ = ["LinkReport", "LinkSettings", "link_changed", "link_pending", "link_store", "relink_rescanned"]

RELINK_CHUNK = 2000  # ads per incremental run after a rescan: memory follows the chunk, not the store


def link_store(store, *, ad_ids=None, progress=None, settings: LinkSettings | None = None,
               apply_risk: bool = True, closure_limit: int | None = None, defer_regroup: bool = False) -> LinkReport:
    """Link the ads of `store` and group them into campaigns (ad_ids=None: every ad; else only those
    new or changed ads). `progress(done, total, what)` is called as the run goes. `apply_risk=False` leaves the
    campaign risk of the ads touched (report.touched_ads) to the caller's one `risk.apply` over several runs.
    An incremental run touching a campaign of more than `closure_limit` ads (default linking.CLOSURE_LIMIT)
    regroups the whole store in bounded memory instead, or with `defer_regroup` leaves that to the caller."""
    from .linking import CLOSURE_LIMIT, run

    return run(store, ad_ids=ad_ids, progress=progress, settings=settings or LinkSettings(), apply_risk=apply_risk,
               closure_limit=CLOSURE_LIMIT if closure_limit is None else closure_limit, defer_regroup=defer_regroup)


def link_pending(store, *, progress=None, settings: LinkSettings | None = None) -> LinkReport:
    """Link the ads new or changed (text, take-down) since the last run, found by one pass over the ads; a
    full run when the store was never linked or was linked with other settings."""
    return link_changed(store, (), progress=progress, settings=settings, scan=True)


def link_changed(store, ad_ids, *, progress=None, settings: LinkSettings | None = None,
                 scan: bool = False) -> LinkReport:
    """Link `ad_ids` (the ads a crawl stored new or changed, the ads whose contacts or risk a rescan changed)
    and the ads taken down or back since the last run, without reading the rest of the store; a full run
    when the store was never linked or was linked with other settings. `scan`: also every ad whose text
    changed since the last run (link_pending)."""
    from .linking import pending

    settings = settings or LinkSettings()
    ids = pending(store, settings, scan=scan)
    if ids is not None:
        ids = sorted(set(ids) | {int(a) for a in ad_ids})
        if len(ids) > max(1000, store.count("ads") // 5):
            ids = None  # a rescan with a new ruleset changes most scores: one full run is cheaper
    return link_store(store, ad_ids=ids, progress=progress, settings=settings)


def relink_rescanned(store, relink, rescored, *, settings: LinkSettings | None = None,
                     chunk: int = RELINK_CHUNK, closure_limit: int | None = None) -> LinkReport | None:
    """After a rescan: link again the ads `relink` (contacts or flag changed: their links may change) in
    incremental runs of `chunk` ads, and give the ads `rescored` (only their score changed: same links) their
    campaign risk and campaign rows again. Never a full run, so memory follows the chunk and the campaigns
    touched, not the store; a campaign of more than `closure_limit` ads is not held: when a chunk touches one,
    every campaign is regrouped once at the end from the stored links in bounded memory (a full run's regroup)
    and campaign risk applied to every ad. None when the store was never linked with these settings (nothing to
    update; `lurewatch campaigns` links it in full)."""
    import time

    from . import risk
    from .linking import pending, regroup_store

    settings = settings or LinkSettings()
    started = time.monotonic()
    gone = pending(store, settings, scan=False)  # ads taken down or back since the last run
    if gone is None:
        return None
    total = LinkReport(mode="incremental")
    touched: set[int] = set()
    deferred = False  # a chunk touched a campaign too big to hold: one bounded regroup of every campaign at the end
    for lo in range(0, max(len(relink), 1 if gone else 0), chunk):
        part = [int(a) for a in relink[lo: lo + chunk]] + (list(gone) if lo == 0 else [])
        report = link_store(store, ad_ids=part, settings=settings, apply_risk=False, closure_limit=closure_limit,
                            defer_regroup=True)
        deferred = deferred or report.regroup_deferred
        touched.update(report.touched_ads)
        total.ads_seen += report.ads_seen
        total.links_added += report.links_added
        total.links_by_kind.update(report.links_by_kind)
        total.campaigns_touched += report.campaigns_touched
        total.campaigns, total.ads_linked, total.generic_skipped = (report.campaigns, report.ads_linked,
                                                                    report.generic_skipped)
    if deferred:
        report = regroup_store(store, settings)
        total.campaigns, total.ads_linked, total.campaigns_touched = (report.campaigns, report.ads_linked,
                                                                      report.campaigns_touched)
        total.regrouped_all = True
    # campaign risk once over every ad touched (risk.apply reads them and their linked ads in bounded chunks):
    # per relink chunk, a store whose campaigns span most ads was read whole each time; after a whole-store
    # regroup, every ad (None)
    seeds = None if deferred else sorted(touched | {int(a) for a in rescored})
    if seeds is None or seeds:
        risk.apply(store, seeds)
    for lo in range(0, len(rescored), chunk):
        risk.refresh_campaigns_of(store, [int(a) for a in rescored[lo: lo + chunk]])
    if not (relink or gone):  # nothing linked again: the totals of the store as it is
        total.campaigns = store.count("campaigns")
        total.ads_linked = store.db.execute("SELECT count(*) FROM ads WHERE campaign_id IS NOT NULL").fetchone()[0]
        total.generic_skipped = store.count("generic_contacts")
    total.seconds = time.monotonic() - started
    return total
