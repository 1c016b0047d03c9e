"""Campaign tables in the store (crawler/store.py creates them with the others; SCHEMA_VERSION 5).

  ad_links           one row per (ad_id < other_ad_id, kind, value): why two ads are linked. kind is a contact
                     kind (phone, telegram, whatsapp, line, wechat, zalo, qq, email, domain) with its normalised
                     value and similarity 1.0, or `text` (value NULL, similarity = estimated Jaccard of shingles)
  campaigns          the connected groups of linked ads (>= 2 ads): stable id, sources, countries, languages,
                     first / last seen, highest risk, share flagged, shared contacts, active | removed
  generic_contacts   contact values the guard refused to link on (shared by too many sources or ads)
  campaign_ad_state  what linking saw of each ad last time: its text hash, MinHash signature and contact keys,
                     so an incremental run neither re-shingles the store nor forgets a contact an ad dropped
  campaign_bands     the LSH band keys of every signature (indexed): an incremental run looks up only the
                     buckets of its new ads

ads.campaign_id holds the campaigns.id of every ad in a group of two or more, NULL otherwise.
"""
from __future__ import annotations

CAMPAIGN_TABLES = {
    "ad_links": {"id": int, "ad_id": int, "other_ad_id": int, "kind": str, "value": str, "similarity": float,
                 "created_at": str},
    "campaigns": {"id": int, "key": str, "ads": int, "sources": str, "countries": str, "languages": str,
                  "first_seen": str, "last_seen": str, "highest_risk": int, "flagged_share": float,
                  "contacts": str, "status": str, "updated_at": str},
    "generic_contacts": {"kind": str, "value": str, "sources": int, "ads": int},
    "campaign_ad_state": {"ad_id": int, "text_hash": str, "signature": bytes, "contact_keys": str},
    "campaign_bands": {"band_key": int, "ad_id": int},
}
CAMPAIGN_PRIMARY_KEYS = {"generic_contacts": ("kind", "value"), "campaign_ad_state": "ad_id",
                         "campaign_bands": None}
CAMPAIGN_INDEXES = (
    ("ad_links", ["ad_id"]), ("ad_links", ["other_ad_id"]), ("ad_links", ["kind", "value"]),
    ("campaign_bands", ["band_key"]), ("campaign_bands", ["ad_id"]), ("ads", ["campaign_id"]),
)


def migrate(db) -> None:
    """Indexes of the campaign tables (the tables themselves come from CAMPAIGN_TABLES)."""
    for table, columns in CAMPAIGN_INDEXES:
        db[table].create_index(columns, if_not_exists=True)
    db["campaigns"].create_index(["key"], unique=True, if_not_exists=True)
