"""The data of the review app's campaign pages (one campaign, and the list), read from a Lurewatch database.

A campaign is a group of linked ads (crawler/campaigns/: `campaigns`, `ad_links`, `ads.campaign_id`). Functions
take an open sqlite3 connection (Datasette's read connection through `Database.execute_fn`) and return plain dicts
for templates/campaign*.html; every string that came from an ad is escaped by Jinja or by output/review/svggraph.py.
"""
from __future__ import annotations

import json
import sqlite3
from collections import Counter
from typing import Any

from crawler.campaigns.risk import CATEGORY as RISK_CATEGORY, describe

AD_COLUMNS = ("id", "title", "source", "country", "language", "risk_score", "risk_level", "flagged", "review_status",
              "first_seen", "last_seen", "removed_at")
LIST_LIMIT = 500  # campaigns on the list page, largest risk first
MAX_ADS = 500  # ads of one campaign shown (and drawn); the page says when there are more


def _rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict[str, Any]]:
    cur = conn.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _json_list(value) -> list:
    try:
        out = json.loads(value) if isinstance(value, str) and value else []
    except ValueError:
        return []
    return out if isinstance(out, list) else []


def has_campaigns(conn: sqlite3.Connection) -> bool:
    """The database has the campaign tables (a database from before campaign linking has not)."""
    names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    return {"campaigns", "ad_links"} <= names


def campaign_of(conn: sqlite3.Connection, ad: dict[str, Any]) -> dict[str, Any] | None:
    """{id, ads} of the ad's campaign for its case page, or None (no campaign, or no campaign tables)."""
    campaign_id = _int(ad.get("campaign_id"))
    if campaign_id is None or not has_campaigns(conn):
        return None
    found = _rows(conn, "select id, ads, status from campaigns where id = ?", [campaign_id])
    return found[0] if found else {"id": campaign_id, "ads": None, "status": None}


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def list_campaigns(conn: sqlite3.Connection, limit: int = LIST_LIMIT) -> dict[str, Any]:
    """The campaigns, riskiest and largest first, with their summary columns decoded."""
    if not has_campaigns(conn):
        return {"campaigns": [], "total": 0, "limit": limit, "ready": False}
    total = conn.execute("select count(*) from campaigns").fetchone()[0]
    rows = _rows(conn, "select * from campaigns order by (status = 'active') desc, highest_risk desc, ads desc, id"
                       " limit ?", [limit])
    return {"campaigns": [_decoded(r) for r in rows], "total": total, "limit": limit, "ready": True}


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("sources", "countries", "languages", "contacts"):
        out[key] = _json_list(row.get(key))
    out["contacts"] = [c for c in out["contacts"] if isinstance(c, dict)]
    for c in out["contacts"]:
        c["label"] = describe(c.get("kind"), str(c.get("value") or ""))
    return out


def build_campaign(conn: sqlite3.Connection, campaign_id: int) -> dict[str, Any] | None:
    """Everything the campaign page shows, or None when there is no such campaign."""
    if not has_campaigns(conn):
        return None
    found = _rows(conn, "select * from campaigns where id = ?", [campaign_id])
    if not found:
        return None
    campaign = _decoded(found[0])
    total = conn.execute("select count(*) from ads where campaign_id = ?", [campaign_id]).fetchone()[0]
    ads = _rows(conn, f"select {', '.join(AD_COLUMNS)} from ads where campaign_id = ?"
                      " order by risk_score desc, id limit ?", [campaign_id, MAX_ADS])
    ids = [a["id"] for a in ads]
    links = ad_links(conn, ids)
    return {
        "campaign": campaign,
        "ads": ads,
        "ads_total": total,
        "ads_cut": total > len(ads),
        "sites": _tally(ads, "source"),
        "countries": _tally(ads, "country"),
        "languages": _tally(ads, "language"),
        "timeline": timeline(conn, ads),
        "links": links,
        "link_kinds": sorted(Counter(link["kind"] for link in links).items()),
        "raised": raised_ads(conn, ids),
        "generic": generic_contacts(conn, ids),
    }


def _tally(ads: list[dict[str, Any]], key: str) -> list[tuple[str, int]]:
    """(value, ads) for one column, most ads first; a missing value shows as "?"."""
    counts = Counter((a.get(key) or "?") for a in ads)
    return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))


def ad_links(conn: sqlite3.Connection, ad_ids: list[int]) -> list[dict[str, Any]]:
    """The links among these ads: {ad_id, other_ad_id, kind, value, similarity}."""
    if not ad_ids:
        return []
    wanted = set(ad_ids)
    out = []
    for start in range(0, len(ad_ids), 400):
        part = ad_ids[start:start + 400]
        marks = ",".join("?" * len(part))
        for row in _rows(conn, "select ad_id, other_ad_id, kind, value, similarity from ad_links"
                               f" where ad_id in ({marks}) order by ad_id, other_ad_id, kind, value", part):
            if row["other_ad_id"] in wanted:
                out.append(row)
    return out


def timeline(conn: sqlite3.Connection, ads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """First seen and taken down events of the campaign's ads, oldest first."""
    events = []
    for a in ads:
        if a.get("first_seen"):
            events.append({"at": a["first_seen"], "event": "new", "ad": a})
        if a.get("removed_at"):
            events.append({"at": a["removed_at"], "event": "removed", "ad": a})
    return sorted(events, key=lambda e: (str(e["at"]), e["event"] != "new", e["ad"]["id"]))


def raised_ads(conn: sqlite3.Connection, ad_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{ad id: {engine_score, score}} of the ads whose score the campaign raised (crawler/campaigns/risk.py)."""
    names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    if "campaign_risk" not in names or not ad_ids:
        return {}
    out = {}
    for start in range(0, len(ad_ids), 400):
        part = ad_ids[start:start + 400]
        marks = ",".join("?" * len(part))
        for row in _rows(conn, "select ad_id, engine_score, score from campaign_risk r where ad_id in"
                               f" ({marks}) and score != engine_score and exists (select 1 from evidence e"
                               " where e.ad_id = r.ad_id and e.category = ?)", [*part, RISK_CATEGORY]):
            out[row["ad_id"]] = row
    return out


def generic_contacts(conn: sqlite3.Connection, ad_ids: list[int]) -> list[dict[str, Any]]:
    """Contacts of these ads that the generic-contact guard refused to link on (shared too widely)."""
    names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    if "generic_contacts" not in names or not ad_ids:
        return []
    part = ad_ids[:400]
    marks = ",".join("?" * len(part))
    rows = _rows(conn, "select distinct g.kind, g.value, g.sources, g.ads from generic_contacts g join contacts c"
                       f" on c.kind = g.kind and c.value = g.value where c.ad_id in ({marks})"
                       " order by g.ads desc, g.kind, g.value", part)
    for row in rows:
        row["label"] = describe(row["kind"], row["value"])
    return rows
