"""The `campaigns` rows: what a campaign's ads and links add up to (written by crawler/campaigns/linking.py)."""
from __future__ import annotations

import json
from collections import defaultdict


def write_campaign_rows(db, ids: list[int], stamp: str) -> None:
    """campaigns rows of the campaign `ids` from their ads (ads.campaign_id set already) and contact links."""
    instance = (db.execute("SELECT value FROM meta WHERE key = 'instance_id'").fetchall() or [("local",)])[0][0]
    contacts: dict[int, list] = defaultdict(list)
    for lo in range(0, len(ids), 500):
        part = ids[lo: lo + 500]
        marks = ",".join("?" * len(part))
        for cid, kind, value, n in db.execute(
                "SELECT a.campaign_id, l.kind, l.value, count(DISTINCT l.ad) FROM"
                " (SELECT ad_id AS ad, kind, value FROM ad_links WHERE kind != 'text'"
                "  UNION ALL SELECT other_ad_id, kind, value FROM ad_links WHERE kind != 'text') l"
                f" JOIN ads a ON a.id = l.ad WHERE a.campaign_id IN ({marks}) GROUP BY 1, 2, 3", part).fetchall():
            contacts[int(cid)].append({"kind": kind, "value": value, "ads": n})
        rows = db.execute(
            "SELECT campaign_id, count(*), json_group_array(DISTINCT source), json_group_array(DISTINCT country),"
            " json_group_array(DISTINCT language), min(first_seen), max(last_seen), max(risk_score),"
            " avg(coalesce(flagged, 0)), sum(removed_at IS NULL) FROM ads"
            f" WHERE campaign_id IN ({marks}) GROUP BY campaign_id", part).fetchall()
        db.conn.executemany(
            "INSERT OR REPLACE INTO campaigns (id, key, ads, sources, countries, languages, first_seen, last_seen,"
            " highest_risk, flagged_share, contacts, status, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(int(cid), f"lurewatch:{instance}:campaign:{int(cid)}", n, _sorted_json(srcs), _sorted_json(cs),
              _sorted_json(langs), first, last, risk, round(share or 0.0, 4),
              json.dumps(sorted(contacts.get(int(cid), []), key=lambda c: (-c["ads"], c["kind"], c["value"]))),
              "active" if live else "removed", stamp)
             for cid, n, srcs, cs, langs, first, last, risk, share, live in rows])


def _sorted_json(raw: str | None) -> str:
    return json.dumps(sorted(v for v in json.loads(raw or "[]") if v))
