"""`alerts send`: give every partner what is new or changed since its last delivery.

1. Alert versions are brought up to date (Store.alerts.refresh): a new alert for every ad some selected partner
   wants, a new version for every alert whose ad changed, `revoked` for a not_lure verdict.
2. Per partner, in file order, per format: the due alerts (past its cursor, not acknowledged at that version)
   are delivered to its directory (one file per delivery, via the format's `Writer.write_dir`) or POSTed one by
   one to its webhook (output/alerts/webhook.py). Each is a `pending` deliveries row before it is sent.
3. When everything due was delivered, the partner's cursor moves on. The first alert a partner cannot take
   stops that partner (the rest wait for the next run); the other partners go on. A 410 disables it.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from crawler.alertstate import AlertState, stamp
from crawler.store import Store
from output.export import ExportError, get_writer, iter_ad_records
from output.export.jsonl_writer import dumps_line

from .partners import Partner, Partners, PartnersError
from .webhook import post

PRODUCER = "Lurewatch"
BATCH = 1000  # alerts per directory delivery (one file each)
MESSAGE_NAMESPACE = uuid.UUID("7f0c8a52-4d3e-5b8f-9a51-3c1f2d0e6b7a")
CONTENT_TYPES = {"jsonl": "application/json", "stix": "application/stix+json;version=2.1",
                 "misp": "application/json", "csv": "text/csv; charset=utf-8"}

Say = Callable[[str], None]


@dataclass
class PartnerResult:
    name: str
    status: str  # ok | failed | disabled
    delivered: int = 0
    due: int = 0
    message: str = ""


def send_alerts(db_path: str | Path, partners: Partners, only: str | None = None,
                say: Say = lambda line: None) -> list[PartnerResult]:
    """Deliver to the partners (or only the one named); a result per partner, in file order."""
    selected = partners.select(only)
    if not Path(db_path).is_file():
        raise PartnersError(f"database not found: {db_path}")
    store = Store(db_path)
    try:
        state = store.alerts
        wheres = [p.where() for p in selected]
        changed = state.refresh(" OR ".join(f"({w})" for w, _ in wheres), [x for _, ps in wheres for x in ps])
        say(f"{changed} alert(s) new or changed since the last run")
        results = []
        for partner in selected:
            try:
                results.append(_send_partner(state, Path(db_path), partner, say))
            except Exception as exc:  # one partner's trouble never stops the others
                say(f"{partner.name}: failed: {exc}")
                results.append(PartnerResult(partner.name, "failed", message=str(exc)))
        return results
    finally:
        store.close()


def _send_partner(state: AlertState, db_path: Path, partner: Partner, say: Say) -> PartnerResult:
    row = state.prepare_partner(partner.name, partner.config_hash())
    if row.get("disabled_at"):
        message = (f"disabled since {row['disabled_at']} ({row['disabled_reason']}); "
                   f"`lurewatch alerts enable {partner.name}` to send again")
        say(f"{partner.name}: {message}")
        return PartnerResult(partner.name, "disabled", message=message)
    start_seq = state.max_seq()
    result = PartnerResult(partner.name, "ok")
    undelivered: list[int] = []
    for fmt in partner.formats:
        due = state.due(partner.name, fmt, row["cursor"] or 0, *partner.where())
        result.due += len(due)
        if not due:
            continue
        say(f"{partner.name}: {len(due)} alert(s) due as {fmt} -> {partner.target}")
        try:
            writer = get_writer(fmt)
            secret = partner.secret() if partner.webhook else None
        except (ExportError, PartnersError) as exc:
            result.status, result.message = "failed", str(exc)
            undelivered += [a["seq"] for a in due]
            say(f"{partner.name}: failed: {exc}")
            continue
        records = _records(state, db_path, partner, due)
        if partner.webhook:
            sent, left, message, gone = _to_webhook(state, partner, fmt, writer, secret, due, records, say)
        else:
            sent, left, message, gone = _to_dir(state, partner, fmt, writer, due, records, say)
        result.delivered += sent
        undelivered += left
        if left:
            result.status, result.message = "failed", message
        if gone:  # the cursor stays: the formats not tried yet still wait
            state.disable(partner.name, message)
            result.message = f"{message}; disabled until `lurewatch alerts enable {partner.name}`"
            say(f"{partner.name}: {result.message}")
            return result
    cursor = min(undelivered) - 1 if undelivered else start_seq
    if cursor > (row["cursor"] or 0):
        state.advance_cursor(partner.name, cursor)
    say(f"{partner.name}: {result.delivered} of {result.due} delivered" + (f"; {result.message}" if result.message else ""))
    return result


def _records(state: AlertState, db_path: Path, partner: Partner, due: list[dict]) -> dict[int, dict[str, Any]]:
    """The export record of each due alert's ad with its `alert` key (and `notes` only if the partner wants them)."""
    ads = {r["id"]: r for r in iter_ad_records(db_path, [a["ad_id"] for a in due])}
    notes = state.notes(ads) if partner.include_notes else {}
    out = {}
    for alert in due:
        record = dict(ads[alert["ad_id"]])
        record["alert"] = {k: alert[k] for k in ("id", "version", "status", "created", "modified")}
        if partner.include_notes:
            record["notes"] = notes.get(alert["ad_id"], [])
        out[alert["ad_id"]] = record
    return out


def _options(partner: Partner) -> dict[str, Any]:
    return {"tlp": partner.tlp, "producer": PRODUCER, "alerts": True}


def message_id(partner: str, fmt: str, alert: dict) -> str:
    """The webhook-id of one alert version for one partner and format: the same in every run."""
    return "msg_" + uuid.uuid5(MESSAGE_NAMESPACE, f"{partner}|{fmt}|{alert['id']}|{alert['version']}").hex


def _to_webhook(state, partner, fmt, writer, secret, due, records, say) -> tuple[int, list[int], str, bool]:
    """POST each due alert; stops at the first one the receiver does not take. (sent, undelivered seqs, why, 410)"""
    sent = 0
    for i, alert in enumerate(due):
        record = records[alert["ad_id"]]
        try:
            if fmt == "jsonl":
                body = dumps_line({"type": "lurewatch.alert", "alert": record})
            else:
                body = writer.dumps([record], **_options(partner))
        except ExportError as exc:
            return sent, [a["seq"] for a in due[i:]], str(exc), False
        [row] = state.begin(partner.name, fmt, partner.target, [alert], lambda a: message_id(partner.name, fmt, a))
        outcome = post(partner.webhook, secret, row["delivery_id"], body.encode("utf-8"), CONTENT_TYPES[fmt],
                       say=lambda line: say(f"{partner.name}: {alert['id']} v{alert['version']}: {line}"))
        state.finish([row["row"]], outcome.status, outcome.response, outcome.attempts)
        if outcome.status != "delivered":
            why = f"{alert['id']} v{alert['version']}: {outcome.response} after {outcome.attempts} attempt(s)"
            return sent, [a["seq"] for a in due[i:]], why, outcome.status == "gone"
        sent += 1
        if sent % 10 == 0 or sent == len(due):
            say(f"{partner.name}: {sent}/{len(due)} delivered")
    return sent, [], "", False


def _to_dir(state, partner, fmt, writer, due, records, say) -> tuple[int, list[int], str, bool]:
    """One file (or feed event) per batch of due alerts; an unfinished delivery is written again under its id."""
    sent, done = 0, set()
    for start in range(0, len(due), BATCH):
        batch = due[start:start + BATCH]
        fresh = f"{partner.name}-{fmt}-{stamp().replace('-', '').replace(':', '').replace('.', '')}"
        rows = state.begin(partner.name, fmt, partner.target, batch, lambda a: fresh)
        groups: dict[str, list[dict]] = {}
        for row in rows:
            groups.setdefault(row["delivery_id"], []).append(row)
        for delivery_id, group in groups.items():
            try:
                files = writer.write_dir([records[r["ad_id"]] for r in group], partner.dir, delivery_id,
                                         **_options(partner))
            except (ExportError, OSError) as exc:
                state.finish([r["row"] for r in group], "failed", str(exc), 1)
                return sent, [a["seq"] for a in due if a["seq"] not in done], str(exc), False
            state.finish([r["row"] for r in group], "delivered", "wrote " + ", ".join(f.name for f in files), 1)
            sent += len(group)
            done.update(r["seq"] for r in group)
            say(f"{partner.name}: {sent}/{len(due)} delivered ({', '.join(f.name for f in files)})")
    return sent, [], "", False
