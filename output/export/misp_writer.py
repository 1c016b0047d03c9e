"""MISP: one event per export or delivery, built with `pymisp`, and a MISP feed directory.

Per ad, objects from MISP's own templates: `url` (the ad and linked URLs), `domain-ip`, `phone-number`,
`telegram-account`, `email` (contact addresses as `from`) and an `annotation` with score, level, verdict,
first/last seen and the evidence spans. The event is tagged `tlp:<level>` and
`circl:incident-classification="scam"` (the misp-taxonomies release pytaxonomies 2.1.2 ships has no
employment-fraud tag; see README "Export formats").

`write_dir` adds the event to a feed directory a MISP instance can add as a feed: `<event uuid>.json`,
`manifest.json` and `hashes.csv` (PyMISP's `to_feed(with_meta=True)`), each replaced atomically.
"""
from __future__ import annotations

import json
import os
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .base import ExportError, DocumentWriter, register
from .stix_writer import LUREWATCH_NAMESPACE, TLP2_MARKINGS, alert_of

if TYPE_CHECKING:  # pymisp is imported where an event is built: importing it costs ~2 s of CPU (taxonomies, schemas)
    from pymisp import MISPEvent, MISPObject

SCAM_TAG = 'circl:incident-classification="scam"'
MISP_TLP = {level: f"tlp:{level}" for level in TLP2_MARKINGS}  # tlp:clear ... tlp:amber+strict, tlp:red


def _object(template: str, **attributes: Any) -> MISPObject:
    from pymisp import MISPObject

    obj = MISPObject(template, standalone=False)
    for relation, value in attributes.items():
        obj.add_attribute(relation, value=value)
    return obj


def ad_misp_objects(record: dict[str, Any]) -> list[MISPObject]:
    alert = alert_of(record)
    objects: list[MISPObject] = []
    seen: set[tuple[str, str]] = set()
    others: list[str] = []

    def once(key: tuple[str, str]) -> bool:
        if key in seen:
            return False
        seen.add(key)
        return True

    def url(value: str) -> None:
        host = urlsplit(value).hostname if "://" in value else None
        if once(("url", value)):
            objects.append(_object("url", url=value, **({"domain": host} if host else {})))
        if host and once(("domain", host)):
            objects.append(_object("domain-ip", domain=host))

    if record.get("url"):
        url(record["url"])
    for contact in record.get("contacts") or []:
        kind, value = contact.get("kind"), str(contact.get("value") or "")
        if not value:
            continue
        if kind == "url":
            url(value)
        elif kind == "domain":
            if once(("domain", value)):
                objects.append(_object("domain-ip", domain=value))
        elif not once((kind, value)):
            continue
        elif kind == "email":
            objects.append(_object("email", **{"from": value}))
        elif kind == "telegram":
            objects.append(_object("telegram-account", username=value))
        elif kind == "phone" or value.startswith("+"):
            objects.append(_object("phone-number", **{"phone-number": value, "text": f"{kind} contact"}))
        else:  # LINE, WeChat, Zalo, QQ handles: no MISP object template
            others.append(f"{kind} {value}")
    evidence = "\n".join(f"- {e.get('category')}/{e.get('rule_id')} {e.get('field')}[{e.get('start')}:{e.get('end')}]"
                         f" weight {e.get('weight')}: {json.dumps(e.get('matched_text'), ensure_ascii=False)}"
                         for e in record.get("evidence") or [])
    text = (f"Lurewatch alert {alert['id']} v{alert['version']} ({alert['status']})\n"
            f"ad: {record.get('url')}\ntitle: {record.get('title')}\n"
            f"score: {record.get('risk_score')} ({record.get('risk_level')})\n"
            f"verdict: {record.get('review_status') or 'not reviewed'}\n"
            f"first seen: {record.get('first_seen')}; last seen: {record.get('last_seen')}\n"
            + (f"taken down: {record['removed_at']}\n" if record.get("removed_at") else "")
            + (f"other contacts: {'; '.join(others)}\n" if others else "")
            + f"evidence:\n{evidence}")
    for n in record.get("notes") or []:  # only present when the partner set include_notes
        text += f"\nanalyst note ({n.get('reviewer')}, {n.get('verdict')}, {n.get('at')}): {n.get('note')}"
    objects.append(_object("annotation", text=text, type="Executive Summary", format="text"))
    for i, obj in enumerate(objects):  # stable uuids: an update of the same alert keeps them
        obj.uuid = str(uuid.uuid5(LUREWATCH_NAMESPACE, f"misp:{alert['id']}:{i}:{obj.name}"))
        obj.comment = f"ad {record.get('id')}" + (" (alert revoked)" if alert["status"] == "revoked" else "")
        for attribute in obj.attributes:
            if alert["status"] == "revoked":  # MISP has no revocation: no longer an indicator for detection
                attribute.to_ids = False
            attribute.uuid = str(uuid.uuid5(LUREWATCH_NAMESPACE, f"{obj.uuid}:{attribute.object_relation}"))
    return objects


def build_event(records: list[dict[str, Any]], tlp: str = "amber", producer: str = "Lurewatch",
                event_key: str | None = None) -> MISPEvent:
    """One MISP event holding every record's objects. `event_key` (a delivery id) fixes the event uuid;
    without it the uuid follows the alert versions, so the same export gives the same event."""
    if tlp not in MISP_TLP:
        raise ExportError(f"unknown TLP level {tlp!r} (known: {', '.join(MISP_TLP)})")
    from pymisp import MISPEvent, MISPOrganisation

    alerts = [alert_of(r) for r in records]
    key = event_key or "|".join(sorted(f"{a['id']}@{a['version']}:{a['status']}" for a in alerts))
    event = MISPEvent()
    event.uuid = str(uuid.uuid5(LUREWATCH_NAMESPACE, f"misp-event:{tlp}|{producer}|{key}"))
    revoked = sum(a["status"] == "revoked" for a in alerts)
    event.info = f"{producer}: {len(records)} fake job ad alert(s)" + (f", {revoked} revoked" if revoked else "")
    stamps = sorted(a["modified"] for a in alerts) or ["2024-01-01T00:00:00.000Z"]
    event.set_date(stamps[-1][:10])
    event.timestamp = int(datetime.fromisoformat(stamps[-1].replace("Z", "+00:00")).timestamp())
    event.publish_timestamp = event.timestamp
    event.published, event.analysis, event.threat_level_id = True, 2, 2
    org = MISPOrganisation()
    org.name, org.uuid = producer, str(uuid.uuid5(LUREWATCH_NAMESPACE, f"producer:{producer}"))
    event.Orgc = org
    event.add_tag(MISP_TLP[tlp])
    event.add_tag(SCAM_TAG)
    for record in records:
        for obj in ad_misp_objects(record):
            event.add_object(obj)
    for obj in event.objects:
        obj.timestamp = event.timestamp
        for attribute in obj.attributes:
            attribute.timestamp = event.timestamp
    return event


def feed_json(event: MISPEvent) -> tuple[str, dict[str, Any], list[str]]:
    """The feed event file's text, its manifest entry and its hashes.csv lines (PyMISP feed helpers)."""
    feed = event.to_feed(with_meta=True)
    inner = feed.get("Event", feed)  # PyMISP wraps it in {"Event": ...}
    manifest, hashes = inner.pop("_manifest"), inner.pop("_hashes")
    return json.dumps({"Event": inner}, ensure_ascii=False, indent=1), manifest, [f"{h},{event.uuid}" for h in hashes]


def _replace(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@register
class MispWriter(DocumentWriter):
    name = "misp"
    suffix = ".json"
    description = "MISP event (url, domain-ip, phone-number, telegram-account, email, annotation objects)"

    def render(self, records: list[dict[str, Any]], *, tlp: str, producer: str) -> None:
        event = build_event(records, tlp, producer)
        self.stream.write(feed_json(event)[0] + "\n")

    @classmethod
    def write_dir(cls, records: list[dict[str, Any]], out_dir: Path, delivery_id: str, **options: Any) -> list[Path]:
        """Add one event to the MISP feed directory `out_dir`: the event file, then manifest.json and
        hashes.csv (this event's lines replaced), each written atomically."""
        out_dir = Path(out_dir)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            event = build_event(records, options.get("tlp") or "amber", options.get("producer") or "Lurewatch",
                                event_key=delivery_id)
            text, entry, hashes = feed_json(event)
            event_file = out_dir / f"{event.uuid}.json"
            _replace(event_file, text + "\n")
            manifest_file, hashes_file = out_dir / "manifest.json", out_dir / "hashes.csv"
            manifest = json.loads(manifest_file.read_text(encoding="utf-8")) if manifest_file.is_file() else {}
            manifest.update(entry)
            _replace(manifest_file, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
            old = hashes_file.read_text(encoding="utf-8").splitlines() if hashes_file.is_file() else []
            lines = [line for line in old if line and not line.endswith(f",{event.uuid}")] + hashes
            _replace(hashes_file, "".join(f"{line}\n" for line in lines))
        except OSError as exc:
            raise ExportError(f"{out_dir}: cannot write the MISP feed: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise ExportError(f"{out_dir}/manifest.json: not a MISP feed manifest: {exc}") from None
        return [event_file, manifest_file, hashes_file]
