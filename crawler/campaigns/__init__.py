"""Campaign linking: ads linked by a shared contact or a near-duplicate text, grouped into campaigns.

    link_store(store)                  full rebuild of ad_links, campaigns, ads.campaign_id, generic_contacts
    link_store(store, ad_ids=[...])    incremental: only those new or changed ads and what they touch

Tables: crawler/campaigns/schema.py. Links and the generic-contact guard: links.py; the template text and its
MinHash signature: text.py; groups and stable ids: groups.py; the run itself: linking.py.
"""
from __future__ import annotations

from .report import LinkReport, LinkSettings

__all__ = ["LinkReport", "LinkSettings", "link_changed", "link_pending", "link_store"]


def link_store(store, *, ad_ids=None, progress=None, settings: LinkSettings | None = None) -> LinkReport:
    """Link the ads of `store` and group them into campaigns (ad_ids=None: every ad; else only those
    new or changed ads). `progress(done, total, what)` is called as the run goes."""
    from .linking import run

    return run(store, ad_ids=ad_ids, progress=progress, settings=settings or LinkSettings())


def link_pending(store, *, progress=None, settings: LinkSettings | None = None) -> LinkReport:
    """Link the ads new or changed (text, take-down) since the last run; a full run when the store was never
    linked or was linked with other settings."""
    return link_changed(store, (), progress=progress, settings=settings)


def link_changed(store, ad_ids, *, progress=None, settings: LinkSettings | None = None) -> LinkReport:
    """Link `ad_ids` (e.g. ads whose contacts a rescan changed) and every ad `link_pending` would: what the
    end of a crawl and of a rescan run."""
    from .linking import pending

    settings = settings or LinkSettings()
    ids = pending(store, settings)
    if ids is not None:
        ids = sorted(set(ids) | {int(a) for a in ad_ids})
    return link_store(store, ad_ids=ids, progress=progress, settings=settings)
