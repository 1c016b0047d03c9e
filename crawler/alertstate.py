"""Partner alerts in the store: alert versions, per-partner cursors and the `deliveries` log.

  alerts          one row per alerted ad: stable id "lurewatch:<db instance uuid>:ad:<ad id>", version (>= 1),
                  status active | revoked, created / modified, `state` (what a partner sees change) and `seq`
                  (a database-wide change counter: every new alert or new version takes the next number)
  alert_partners  per partner: `cursor` (every alert with seq <= cursor is delivered or not for this partner),
                  `config_hash` (a changed filter or format list resets the cursor), disabled_at / disabled_reason
  deliveries      one row per (partner, alert version, format): pending -> delivered | failed | gone | superseded,
                  with the attempts, the receiver's response and the `delivery_id` (the webhook-id, or the file's
                  delivery id) that a retry or a later run reuses

An alert's version goes up when its ad's score, level, flag, verdict, take-down, text, country, language or campaign
changes; a `not_lure` verdict makes it `revoked`. Delivery is at-least-once: a row is `pending` before anything
is sent and `delivered` only after the receiver acknowledged it, so a run killed in between sends that alert
again (same delivery id) and never one already acknowledged. No secret is ever written here.

Used through `Store.alerts` (crawler/store.py owns the connection and the write transactions).
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from .store import Store

ALERT_TABLES = {
    "alerts": {"id": str, "ad_id": int, "version": int, "status": str, "created": str, "modified": str,
               "state": str, "seq": int},
    "alert_partners": {"name": str, "cursor": int, "config_hash": str, "disabled_at": str, "disabled_reason": str,
                       "last_run": str},
    "deliveries": {"id": int, "partner": str, "ad_id": int, "alert_id": str, "version": int, "format": str,
                   "delivery_id": str, "target": str, "created": str, "at": str, "attempts": int, "status": str,
                   "response": str},
}
ALERT_PRIMARY_KEYS = {"alerts": "id", "alert_partners": "name"}
DELIVERY_STATUSES = ("pending", "delivered", "failed", "gone", "superseded")
REVOKING_VERDICT = "not_lure"
STATE_COLUMNS = ("risk_score", "risk_level", "flagged", "review_status", "removed_at", "content_hash", "country", "language",
                 "campaign_id")


def stamp() -> str:
    """UTC time as 2026-01-31T12:00:00.123Z (the alert timestamp form)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def migrate(db) -> None:
    """Indexes and this database's instance id (meta `instance_id`, the middle of every alert id)."""
    db["alerts"].create_index(["ad_id"], unique=True, if_not_exists=True)
    db["alerts"].create_index(["seq"], if_not_exists=True)
    db["deliveries"].create_index(["partner", "alert_id", "format", "version"], if_not_exists=True)
    db["deliveries"].create_index(["partner", "status"], if_not_exists=True)
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("INSERT OR IGNORE INTO meta VALUES ('instance_id', ?)", [str(uuid.uuid4())])


def alert_state(ad: dict[str, Any]) -> str:
    """What a partner sees change, as JSON: a different value is a new version."""
    state = {k: ad.get(k) for k in STATE_COLUMNS}
    state["removed_at"] = bool(ad.get("removed_at"))  # taken down or not; not when it was noticed
    return json.dumps(state, sort_keys=True)


class AlertState:
    """Alert rows, partner cursors and deliveries of one Store."""

    def __init__(self, store: "Store"):
        self.store = store
        self.db = store.db

    def instance_id(self) -> str:
        row = self.store.retrying(lambda: self.db.execute(
            "SELECT value FROM meta WHERE key = 'instance_id'").fetchone())
        return row[0]

    def alert_id(self, ad_id: int) -> str:
        return f"lurewatch:{self.instance_id()}:ad:{ad_id}"

    # -- alert versions --------------------------------------------------------------------
    def refresh(self, wanted: str, params: Iterable[Any] = ()) -> int:
        """Give every ad matching the SQL condition `wanted` (over `ads`) an alert, unless its latest verdict is
        not_lure, and a new version to every alert whose ad changed. Returns how many alerts are new or changed."""
        def work() -> int:
            prefix = f"lurewatch:{self.instance_id()}:ad:"
            cols = ", ".join(f"a.{c}" for c in STATE_COLUMNS)
            rows = self.db.execute(
                f"SELECT a.id, {cols}, al.id, al.version, al.state FROM ads a LEFT JOIN alerts al ON al.ad_id = a.id"
                f" WHERE al.id IS NOT NULL OR (coalesce(a.review_status, '') != ? AND ({wanted})) ORDER BY a.id",
                [REVOKING_VERDICT, *params]).fetchall()
            seq = self.db.execute("SELECT coalesce(max(seq), 0) FROM alerts").fetchone()[0]
            changed = 0
            for row in rows:
                ad = dict(zip(("id", *STATE_COLUMNS), row[:1 + len(STATE_COLUMNS)]))
                alert_id, version, old_state = row[1 + len(STATE_COLUMNS):]
                state = alert_state(ad)
                if state == old_state:
                    continue
                seq += 1
                changed += 1
                status = "revoked" if ad["review_status"] == REVOKING_VERDICT else "active"
                at = stamp()
                if alert_id is None:
                    self.db["alerts"].insert({"id": f"{prefix}{ad['id']}", "ad_id": ad["id"], "version": 1,
                                              "status": status, "created": at, "modified": at, "state": state,
                                              "seq": seq})
                else:
                    self.db["alerts"].update(alert_id, {"version": version + 1, "status": status, "modified": at,
                                                        "state": state, "seq": seq})
            return changed

        return self.store.write(work)

    def max_seq(self) -> int:
        return self.store.retrying(lambda: self.db.execute("SELECT coalesce(max(seq), 0) FROM alerts").fetchone()[0])

    # -- partners --------------------------------------------------------------------------
    def partner(self, name: str) -> dict[str, Any] | None:
        rows = self.store.retrying(lambda: list(self.db["alert_partners"].rows_where("name = ?", [name])))
        return rows[0] if rows else None

    def prepare_partner(self, name: str, config_hash: str) -> dict[str, Any]:
        """The partner's row (created with cursor 0); a changed filter/format list starts its cursor again
        (its deliveries still keep it from receiving an acknowledged version twice)."""
        def work():
            rows = list(self.db["alert_partners"].rows_where("name = ?", [name]))
            if not rows:
                row = {"name": name, "cursor": 0, "config_hash": config_hash}
                self.db["alert_partners"].insert(row)
                return self.db["alert_partners"].get(name)
            if rows[0]["config_hash"] != config_hash:
                self.db["alert_partners"].update(name, {"cursor": 0, "config_hash": config_hash})
            return self.db["alert_partners"].get(name)

        return self.store.write(work)

    def advance_cursor(self, name: str, cursor: int) -> None:
        self.store.write(lambda: self.db["alert_partners"].update(
            name, {"cursor": cursor, "last_run": stamp()}))

    def disable(self, name: str, reason: str) -> None:
        self.store.write(lambda: self.db["alert_partners"].update(
            name, {"disabled_at": stamp(), "disabled_reason": reason}))

    def enable(self, name: str) -> bool:
        """Clear a partner's disabled mark; False when it was not disabled."""
        def work() -> bool:
            row = self.db.execute("SELECT disabled_at FROM alert_partners WHERE name = ?", [name]).fetchone()
            if not row or not row[0]:
                return False
            self.db["alert_partners"].update(name, {"disabled_at": None, "disabled_reason": None})
            return True

        return self.store.write(work)

    # -- what to send ----------------------------------------------------------------------
    def due(self, partner: str, fmt: str, cursor: int, matches: str, params: Iterable[Any] = ()) -> list[dict]:
        """Alerts past `cursor` that `partner` has not acknowledged in `fmt` at their current version, oldest
        change first: new active alerts whose ad matches the partner's filter (SQL over `ads`), and every new
        version (update or revocation) of an alert this partner was ever sent."""
        def work() -> list[dict]:
            rows = self.db.execute(
                "SELECT al.id, al.ad_id, al.version, al.status, al.created, al.modified, al.seq,"
                f" ({matches}) AS matches,"
                " (SELECT max(d.version) FROM deliveries d WHERE d.partner = ? AND d.format = ? AND d.alert_id = al.id"
                "   AND d.status = 'delivered') AS acked,"
                " (SELECT count(*) FROM deliveries d WHERE d.partner = ? AND d.format = ? AND d.alert_id = al.id"
                "   AND d.status != 'superseded') AS tried"
                " FROM alerts al JOIN ads a ON a.id = al.ad_id WHERE al.seq > ? ORDER BY al.seq",
                [*params, partner, fmt, partner, fmt, cursor]).fetchall()
            out = []
            for (alert_id, ad_id, version, status, created, modified, seq, matches_, acked, tried) in rows:
                if acked is not None and acked >= version:
                    continue
                if acked is None and not tried and (status != "active" or not matches_):
                    continue
                out.append({"id": alert_id, "ad_id": ad_id, "version": version, "status": status,
                            "created": created, "modified": modified, "seq": seq})
            return out

        return self.store.retrying(work)

    def begin(self, partner: str, fmt: str, target: str, alerts: list[dict], new_delivery_id) -> list[dict]:
        """A `pending` deliveries row for each alert (reusing an unacknowledged row of the same version, and its
        delivery id); older unacknowledged versions become `superseded`. Returns the rows."""
        def work() -> list[dict]:
            rows = []
            at = stamp()
            for alert in alerts:
                self.db.execute(
                    "UPDATE deliveries SET status = 'superseded' WHERE partner = ? AND format = ? AND alert_id = ?"
                    " AND version < ? AND status IN ('pending', 'failed')",
                    [partner, fmt, alert["id"], alert["version"]])
                old = self.db.execute(
                    "SELECT id, delivery_id FROM deliveries WHERE partner = ? AND format = ? AND alert_id = ?"
                    " AND version = ? AND status IN ('pending', 'failed') ORDER BY id DESC LIMIT 1",
                    [partner, fmt, alert["id"], alert["version"]]).fetchone()
                if old:
                    self.db["deliveries"].update(old[0], {"status": "pending", "target": target, "at": at})
                    rows.append({"row": old[0], "delivery_id": old[1], **alert})
                    continue
                delivery_id = new_delivery_id(alert)
                row_id = self.db["deliveries"].insert({
                    "partner": partner, "ad_id": alert["ad_id"], "alert_id": alert["id"], "version": alert["version"],
                    "format": fmt, "delivery_id": delivery_id, "target": target, "created": at, "at": at,
                    "attempts": 0, "status": "pending", "response": ""}).last_pk
                rows.append({"row": row_id, "delivery_id": delivery_id, **alert})
            return rows

        return self.store.write(work)

    def finish(self, rows: list[int], status: str, response: str, attempts: int) -> None:
        """Record the outcome of delivery rows (ids from `begin`)."""
        if status not in DELIVERY_STATUSES:
            raise ValueError(f"unknown delivery status {status!r}")

        def work():
            at = stamp()
            for row in rows:
                self.db.execute("UPDATE deliveries SET status = ?, response = ?, at = ?,"
                                " attempts = coalesce(attempts, 0) + ? WHERE id = ?",
                                [status, response[:500], at, attempts, row])

        self.store.write(work)

    def notes(self, ad_ids: Iterable[int]) -> dict[int, list[dict]]:
        """Analyst notes per ad ({reviewer, verdict, note, at}, oldest first): only for include_notes partners."""
        ids = list(ad_ids)
        out: dict[int, list[dict]] = {i: [] for i in ids}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            marks = ",".join("?" * len(part))
            for ad_id, reviewer, verdict, note, at in self.store.retrying(lambda: self.db.execute(
                    f"SELECT ad_id, reviewer, verdict, note, at FROM reviews WHERE ad_id IN ({marks}) ORDER BY id",
                    part).fetchall()):
                out[ad_id].append({"reviewer": reviewer, "verdict": verdict, "note": note, "at": at})
        return out

    # -- status ----------------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        """Per partner that has a row or a delivery: cursor, disabled mark, deliveries by status, the last one."""
        def work() -> list[dict[str, Any]]:
            names = [r[0] for r in self.db.execute(
                "SELECT name FROM alert_partners UNION SELECT DISTINCT partner FROM deliveries ORDER BY 1")]
            out = []
            for name in names:
                part = self.db.execute("SELECT cursor, disabled_at, disabled_reason, last_run FROM alert_partners"
                                       " WHERE name = ?", [name]).fetchone() or (0, None, None, None)
                counts = dict(self.db.execute("SELECT status, count(*) FROM deliveries WHERE partner = ?"
                                              " GROUP BY status", [name]).fetchall())
                last = self.db.execute("SELECT at, status, response FROM deliveries WHERE partner = ?"
                                       " ORDER BY at DESC, id DESC LIMIT 1", [name]).fetchone()
                out.append({"name": name, "cursor": part[0] or 0, "disabled_at": part[1], "disabled_reason": part[2],
                            "last_run": part[3], "counts": {s: counts.get(s, 0) for s in DELIVERY_STATUSES},
                            "last": dict(zip(("at", "status", "response"), last)) if last else None})
            return out

        return self.store.retrying(work)
