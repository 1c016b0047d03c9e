"""MISP: one event per export or delivery, built with `pymisp`, and a MISP feed directory.

Per ad, objects from MISP's own templates: `url` (the ad and linked URLs), `domain-ip`, `phone-number`,
`telegram-account`, `email` (contact addresses as `from`) and an `annotation` with score, level, verdict,
first/last seen and the evidence spans. The event is tagged `tlp:<level>` and
`circl:incident-classification="scam"` (the misp-taxonomies release pytaxonomies 2.1.2 ships has no
employment-fraud tag; see README "Export formats").

An ad in a campaign (crawler/campaigns/) has the tag `lurewatch:campaign="<id>"` on every attribute of its
objects, and the id in its annotation: a tag, not an event per campaign, because an event here is one export or
one partner delivery of alerts about single ads; the tag finds a campaign's attributes across those events.

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

from .base import ExportError, SpooledDocumentWriter, indented, register
from .contacts import for_each_contact
from .stix_writer import LUREWATCH_NAMESPACE, TLP2_MARKINGS, alert_of

if TYPE_CHECKING:  # pymisp is imported where an event is built: importing it costs ~2 s of CPU (taxonomies, schemas)
    from pymisp import MISPEvent, MISPObject

SCAM_TAG = 'circl:incident-classification="scam"'
CAMPAIGN_TAG_NAMESPACE = "lurewatch:campaign"
MISP_TLP = {level: f"tlp:{level}" for level in TLP2_MARKINGS}  # tlp:clear ... tlp:amber+strict, tlp:red


def campaign_tag(campaign_id: Any) -> str:
    """The tag on every attribute of a campaign's ads: search it in MISP to see the campaign across events."""
    return f'{CAMPAIGN_TAG_NAMESPACE}="{int(campaign_id)}"'


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

    def domain(kind: str, value: str) -> None:
        if once(("domain", value)):
            objects.append(_object("domain-ip", domain=value))

    def email(kind: str, value: str) -> None:
        if once((kind, value)):
            objects.append(_object("email", **{"from": value}))

    def phone(kind: str, value: str) -> None:
        if once((kind, value)):
            objects.append(_object("phone-number", **{"phone-number": value, "text": f"{kind} contact"}))

    def handle(kind: str, value: str) -> None:
        if not once((kind, value)):
            return
        if kind == "telegram":
            objects.append(_object("telegram-account", username=value))
        else:  # LINE, WeChat, Zalo, QQ handles: no MISP object template
            others.append(f"{kind} {value}")

    def number(kind: str, value: str) -> None:  # a telegram "+..." stays an account
        (handle if kind == "telegram" else phone)(kind, value)

    for_each_contact(record, {"url": lambda _, value: url(value), "domain": domain, "email": email, "phone": phone,
                              "number": number, "handle": handle})
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
    if record.get("campaign_id") is not None:
        text += f"\ncampaign: {record['campaign_id']} ({campaign_tag(record['campaign_id'])})"
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
            if record.get("campaign_id") is not None:
                attribute.add_tag(campaign_tag(record["campaign_id"]))
    return objects


DEFAULT_STAMP = "2024-01-01T00:00:00.000Z"  # an event without alerts


def event_shell(tlp: str, producer: str, event_uuid: str, n_records: int, revoked: int,
                latest_modified: str | None) -> MISPEvent:
    """The event without its objects: info, date and timestamps (of the latest alert change), org and tags."""
    if tlp not in MISP_TLP:
        raise ExportError(f"unknown TLP level {tlp!r} (known: {', '.join(MISP_TLP)})")
    from pymisp import MISPEvent, MISPOrganisation

    event = MISPEvent()
    event.uuid = event_uuid
    event.info = f"{producer}: {n_records} fake job ad alert(s)" + (f", {revoked} revoked" if revoked else "")
    stamp = latest_modified or DEFAULT_STAMP
    event.set_date(stamp[:10])
    event.timestamp = int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    event.publish_timestamp = event.timestamp
    event.published, event.analysis, event.threat_level_id = True, 2, 2
    org = MISPOrganisation()
    org.name, org.uuid = producer, str(uuid.uuid5(LUREWATCH_NAMESPACE, f"producer:{producer}"))
    event.Orgc = org
    event.add_tag(MISP_TLP[tlp])
    event.add_tag(SCAM_TAG)
    return event


def stamp_objects(objects: list[MISPObject], timestamp: int) -> None:
    for obj in objects:
        obj.timestamp = timestamp
        for attribute in obj.attributes:
            attribute.timestamp = timestamp


def version_key(alert: dict[str, Any]) -> str:
    return f"{alert['id']}@{alert['version']}:{alert['status']}"


def build_event(records: list[dict[str, Any]], tlp: str = "amber", producer: str = "Lurewatch",
                event_key: str | None = None) -> MISPEvent:
    """One MISP event holding every record's objects. `event_key` (a delivery id) fixes the event uuid;
    without it the uuid follows the alert versions, so the same export gives the same event."""
    alerts = [alert_of(r) for r in records]
    key = event_key or "|".join(sorted(version_key(a) for a in alerts))
    event = event_shell(tlp, producer, str(uuid.uuid5(LUREWATCH_NAMESPACE, f"misp-event:{tlp}|{producer}|{key}")),
                        len(records), sum(a["status"] == "revoked" for a in alerts),
                        max((a["modified"] for a in alerts), default=None))
    for record in records:
        for obj in ad_misp_objects(record):
            event.add_object(obj)
    stamp_objects(event.objects, event.timestamp)
    return event


def object_feed(obj: MISPObject) -> dict[str, Any]:
    """The object as MISPEvent.to_feed writes it (without distribution)."""
    feed = obj._to_feed(with_distribution=False)
    feed["Attribute"] = [attribute._to_feed(with_distribution=False) for attribute in obj.attributes]
    return feed


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


STAMP_PLACEHOLDER = 4102444800  # 2100-01-01: objects are spooled before the event's timestamp is known


@register
class MispWriter(SpooledDocumentWriter):
    """The event of `build_event`, byte for byte, written in constant memory: each record's objects are spooled
    as they are built; the event's uuid, info and timestamp (also every object's) are known at the end."""

    name = "misp"
    suffix = ".json"
    description = "MISP event (url, domain-ip, phone-number, telegram-account, email, annotation objects)"
    separator = ",\n   "  # objects sit three levels deep: {"Event": {"Object": [...]}}

    def start(self) -> None:
        if self.tlp not in MISP_TLP:
            raise ExportError(f"unknown TLP level {self.tlp!r} (known: {', '.join(MISP_TLP)})")
        self.n_records, self.revoked, self.latest = 0, 0, None

    def write(self, record: dict[str, Any]) -> None:
        alert = alert_of(record)
        self.index.add_version(version_key(alert))
        self.n_records += 1
        self.revoked += alert["status"] == "revoked"
        self.latest = alert["modified"] if self.latest is None else max(self.latest, alert["modified"])
        objects = ad_misp_objects(record)
        stamp_objects(objects, STAMP_PLACEHOLDER)
        for obj in objects:
            self.add_part(indented(json.dumps(object_feed(obj), ensure_ascii=False, indent=1), 3))

    def write_document(self) -> None:
        key = self.index.uuid5_of_sorted(LUREWATCH_NAMESPACE, f"misp-event:{self.tlp}|{self.producer}|")
        event = event_shell(self.tlp, self.producer, str(key), self.n_records, self.revoked, self.latest)
        feed = event.to_feed(with_meta=True)
        inner = feed.get("Event", feed)
        inner.pop("_manifest", None)
        inner.pop("_hashes", None)
        if not self.parts:
            self.stream.write(json.dumps({"Event": inner}, ensure_ascii=False, indent=1) + "\n")
            return
        sentinel = f"lurewatch-objects-{uuid.uuid4()}"
        inner["Object"] = [sentinel]
        stamp = int(datetime.fromisoformat((self.latest or DEFAULT_STAMP).replace("Z", "+00:00")).timestamp())
        placeholder, stamp = f'"timestamp": "{STAMP_PLACEHOLDER}"', f'"timestamp": "{stamp}"'
        self.splice(json.dumps({"Event": inner}, ensure_ascii=False, indent=1), sentinel,
                    lambda line: line.replace(placeholder, stamp))
        self.stream.write("\n")

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
