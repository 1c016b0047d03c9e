"""STIX 2.1: one bundle per export or delivery, built with the `stix2` library.

Per ad: an `indicator` whose pattern ORs the ad's URL, domain and contact observables, the observables
themselves (url, domain-name, email-addr, user-account with account_type telegram/whatsapp/..., and
phone-number through the published phone-number SCO extension, declared in the bundle), and a `note`
with score, level, evidence spans, first/last seen and verdict. An ad in a campaign (crawler/campaigns/) adds
the `campaign` (one per campaign, id over "lurewatch:<db instance>:campaign:<id>"), a relationship
`indicates` from the ad's indicator to it (STIX's own relationship between the two; `attributed-to` is for a
threat actor or intrusion set), and `related-to` from the campaign to the observables of its shared contacts.
Lurewatch's `identity` is the producer; every object carries the TLP 2.0 marking chosen with `tlp` (official
TLP 2.0 marking-definition objects).

Ids are UUIDv5 over the alert id (`lurewatch:<db instance>:ad:<id>`; in a one-off export
`lurewatch:url:<ad url>`), so an update keeps its ids and bumps `modified`; a revocation sets `revoked`.
"""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import stix2
from stix2.properties import StringProperty
from w3lib.url import safe_url_string

from .base import ExportError, SpooledDocumentWriter, indented, register
from .contacts import MESSENGERS, for_each_contact

LUREWATCH_NAMESPACE = uuid.UUID("5c6c2e0a-3f1e-5b8e-9a51-6b1f0d6c9e21")  # fixed: ids must never change
PRODUCER_CREATED = "2024-01-01T00:00:00.000Z"

# TLP 2.0 (OASIS cti-stix-common-objects, extension-definition-specifications/tlp-2.0).
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_MARKINGS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# The published phone-number SCO (github.com/muchdogesec/stix2extensions, schemas/scos/phone-number.json).
PHONE_EXTENSION = "extension-definition--14a97ee2-e666-5ada-a6bd-b7177f79e211"
PHONE_EXTENSION_DEFINITION = {
    "type": "extension-definition", "spec_version": "2.1", "id": PHONE_EXTENSION,
    "created_by_ref": "identity--9779a2db-f98c-5f4b-8d08-8ee04e02dbb5",  # dogesec, the publisher
    "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z", "name": "Phone Number",
    "description": "This extension creates a new SCO that can be used to represent phone numbers.",
    "schema": "https://raw.githubusercontent.com/muchdogesec/stix2extensions/main/schemas/scos/phone-number.json",
    "version": "1.0", "extension_types": ["new-sco"],
}
EMAIL = re.compile(r"[A-Za-z0-9_.+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+")  # what STIX validators accept
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"(?=.{{1,253}}$)(?:{_LABEL}\.)*{_LABEL}")


@stix2.v21.CustomObservable("phone-number", [("number", StringProperty(required=True)), ("country", StringProperty())],
                            ["number"], extension_name=PHONE_EXTENSION)
class PhoneNumber:
    """A phone number in E.164 form (`number`)."""


def stix_time(value: str | None) -> str | None:
    """Any ISO 8601 time we store -> the STIX form 2026-01-31T12:00:00.000Z (UTC)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def pattern_string(value: str) -> str:
    """A STIX pattern string literal: quotes and backslashes escaped (ad data is hostile)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def alert_of(record: dict[str, Any]) -> dict[str, Any]:
    """The record's alert, or for a one-off export: version 1, active, created = first seen,
    modified = assessed (or last seen)."""
    alert = dict(record.get("alert") or {})
    alert.setdefault("id", f"lurewatch:url:{record.get('url')}")
    alert.setdefault("version", 1)
    alert.setdefault("status", "active")
    created = stix_time(alert.get("created") or record.get("first_seen")) or PRODUCER_CREATED
    modified = stix_time(alert.get("modified") or record.get("assessed_at") or record.get("last_seen")) or created
    alert["created"], alert["modified"] = created, max(created, modified)
    return alert


def stable_id(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(LUREWATCH_NAMESPACE, key)}"


def stix_url(value: str) -> str | None:
    """An http(s) URL as a valid URI (unsafe characters percent-encoded), or None."""
    try:
        safe = safe_url_string(value.strip())
        parts = urlsplit(safe)
    except ValueError:
        return None
    return safe if parts.scheme in ("http", "https") and parts.hostname else None


def observables(record: dict[str, Any]) -> tuple[list[tuple[Any, str]], list[str]]:
    """(SCO, pattern comparison) for the ad's URL, its domain and each contact, first occurrence only;
    and the contacts no observable can carry (shown in the note instead)."""
    found: dict[str, tuple[Any, str]] = {}
    left: list[str] = []

    def add(sco: Any, comparison: str) -> None:
        found.setdefault(sco.id, (sco, comparison))

    def url(value: str) -> None:
        safe = stix_url(value)
        if safe is None:
            left.append(f"url {value}")
            return
        add(stix2.URL(value=safe), f"url:value = {pattern_string(safe)}")
        domain(urlsplit(safe).hostname)

    def domain(value: str) -> None:
        try:
            ascii_name = value.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_name = ""
        if not HOSTNAME.fullmatch(ascii_name):
            left.append(f"domain {value}")
            return
        add(stix2.DomainName(value=value), f"domain-name:value = {pattern_string(value)}")

    def email(kind: str, value: str) -> None:
        if not EMAIL.fullmatch(value):
            left.append(f"email {value}")
            return
        add(stix2.EmailAddress(value=value), f"email-addr:value = {pattern_string(value)}")

    def phone(kind: str, value: str) -> None:
        add(PhoneNumber(number=value), f"phone-number:number = {pattern_string(value)}")

    def account(kind: str, value: str) -> None:
        add(stix2.UserAccount(account_type=kind, account_login=value),
            f"user-account:account_type = {pattern_string(kind)} AND "
            f"user-account:account_login = {pattern_string(value)}")

    def number(kind: str, value: str) -> None:
        if kind not in MESSENGERS:
            left.append(f"{kind} {value}")
            return
        phone(kind, value)
        account(kind, value)  # a WhatsApp/Zalo number is also that messenger's account

    def handle(kind: str, value: str) -> None:
        if kind in MESSENGERS:
            account(kind, value)
        else:
            left.append(f"{kind} {value}")

    for_each_contact(record, {"url": lambda _, value: url(value), "domain": lambda _, value: domain(value),
                              "email": email, "phone": phone, "number": number, "handle": handle})
    return list(found.values()), left


def note_text(record: dict[str, Any], alert: dict[str, Any], left: list[str]) -> str:
    lines = [
        f"Lurewatch assessment of {record.get('url')}",
        f"score: {record.get('risk_score')} ({record.get('risk_level')}); flagged: {bool(record.get('flagged'))}",
        f"verdict: {record.get('review_status') or 'not reviewed'}",
        f"alert: {alert['id']} version {alert['version']} ({alert['status']})",
        f"first seen: {stix_time(record.get('first_seen'))}; last seen: {stix_time(record.get('last_seen'))}",
    ]
    if record.get("removed_at"):
        lines.append(f"taken down: {stix_time(record['removed_at'])}")
    if record.get("campaign_id"):
        lines.append(f"campaign: {record['campaign_id']}")
    if record.get("categories"):
        lines.append("categories: " + ", ".join(record["categories"]))
    lines.append("evidence:")
    for e in record.get("evidence") or []:
        lines.append(f"- {e.get('category')}/{e.get('rule_id')} {e.get('field')}[{e.get('start')}:{e.get('end')}] "
                     f"weight {e.get('weight')}: {json.dumps(e.get('matched_text'), ensure_ascii=False)}")
    if left:
        lines.append("contacts without an observable: " + "; ".join(json.dumps(c, ensure_ascii=False) for c in left))
    for n in record.get("notes") or []:  # only present when the partner set include_notes
        lines.append(f"analyst note ({n.get('reviewer')}, {n.get('verdict')}, {n.get('at')}): {n.get('note')}")
    return "\n".join(lines)


def tlp_marking(level: str) -> stix2.MarkingDefinition:
    if level not in TLP2_MARKINGS:
        raise ExportError(f"unknown TLP level {level!r} (known: {', '.join(TLP2_MARKINGS)})")
    return stix2.MarkingDefinition(
        id=TLP2_MARKINGS[level], created="2022-10-01T00:00:00.000Z", name=f"TLP:{level.upper()}",
        extensions={TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}})


def producer_identity(name: str) -> stix2.Identity:
    return stix2.Identity(id=stable_id("identity", f"producer:{name}"), name=name, identity_class="organization",
                          created=PRODUCER_CREATED, modified=PRODUCER_CREATED)


def ad_objects(record: dict[str, Any], identity: str, marking: str) -> list[Any]:
    """The indicator, note and observables of one ad."""
    alert = alert_of(record)
    common = {"created_by_ref": identity, "object_marking_refs": [marking], "created": alert["created"],
              "modified": alert["modified"], "revoked": alert["status"] == "revoked"}
    scos, left = observables(record)
    if not scos:
        raise ExportError(f"ad {record.get('id')}: no URL or contact to build a STIX pattern from")
    pattern = " OR ".join(f"[{comparison}]" for _, comparison in scos)
    indicator = stix2.Indicator(
        id=stable_id("indicator", alert["id"]), name=f"Lurewatch: {record.get('title') or record.get('url')}",
        description=record.get("summary") or f"Job ad scored {record.get('risk_score')} by Lurewatch", indicator_types=["malicious-activity"], pattern=pattern,
        pattern_type="stix", valid_from=alert["created"], confidence=int(record.get("risk_score") or 0),
        labels=list(record.get("categories") or []) or None, **common)
    note = stix2.Note(
        id=stable_id("note", alert["id"]), abstract=f"score {record.get('risk_score')} ({record.get('risk_level')})",
        content=note_text(record, alert, left), object_refs=[indicator.id, *(sco.id for sco, _ in scos)], **common)
    return [indicator, note, *(sco for sco, _ in scos)]


def campaign_objects(record: dict[str, Any], indicator_id: str, identity: str, marking: str) -> list[Any]:
    """The ad's campaign (crawler/campaigns/) as a STIX `campaign`, the `indicates` relationship from the ad's
    indicator to it, and `related-to` relationships from it to the observables of its shared contacts."""
    found = record.get("campaign")
    if not found:
        return []
    alert = alert_of(record)
    created = stix_time(found.get("first_seen")) or PRODUCER_CREATED
    modified = max(created, stix_time(found.get("updated_at")) or stix_time(found.get("last_seen")) or created)
    common = {"created_by_ref": identity, "object_marking_refs": [marking]}
    contacts = found.get("contacts") or []
    shown = ", ".join(f"{c.get('kind')} {c.get('value')}" for c in contacts[:10])
    campaign = stix2.Campaign(
        id=stable_id("campaign", found["ref"]), name=f"Lurewatch campaign {found['id']}",
        description=(f"{found.get('ads')} job ads linked by shared contacts or near-duplicate text (Lurewatch "
                     f"{found['ref']}, status {found.get('status')})" + (f"; shared contacts: {shown}" if shown else "")),
        first_seen=stix_time(found.get("first_seen")), last_seen=stix_time(found.get("last_seen")),
        created=created, modified=modified, **common)
    out: list[Any] = [campaign, stix2.Relationship(
        id=stable_id("relationship", f"{indicator_id}|indicates|{campaign.id}"), relationship_type="indicates",
        source_ref=indicator_id, target_ref=campaign.id, created=alert["created"], modified=alert["modified"],
        revoked=alert["status"] == "revoked", **common)]
    for sco, _ in observables({"contacts": contacts})[0]:
        out.append(sco)
        out.append(stix2.Relationship(
            id=stable_id("relationship", f"{campaign.id}|related-to|{sco.id}"), relationship_type="related-to",
            source_ref=campaign.id, target_ref=sco.id, created=created, modified=modified,
            description="a contact the campaign's ads share", **common))
    return out


def bundle(records: list[dict[str, Any]], tlp: str = "amber", producer: str = "Lurewatch") -> dict[str, Any]:
    """The STIX bundle of `records` as a JSON-ready dict; the same records give the same bundle."""
    identity, marking = producer_identity(producer), tlp_marking(tlp)
    objects: dict[str, Any] = {marking.id: marking, identity.id: identity,
                               PHONE_EXTENSION: stix2.ExtensionDefinition(**PHONE_EXTENSION_DEFINITION)}
    versions = []
    for record in records:
        alert = alert_of(record)
        versions.append(f"{alert['id']}@{alert['version']}:{alert['status']}")
        for obj in ad_objects(record, identity.id, marking.id):
            objects.setdefault(obj.id, obj)
        for obj in campaign_objects(record, stable_id("indicator", alert["id"]), identity.id, marking.id):
            objects.setdefault(obj.id, obj)
    if not any(o.type == "phone-number" for o in objects.values()):
        del objects[PHONE_EXTENSION]
    bundle_id = stable_id("bundle", f"{tlp}|{producer}|" + "|".join(sorted(versions)))
    return json.loads(stix2.Bundle(objects=list(objects.values()), id=bundle_id).serialize())


def stix_dict(obj: Any) -> dict[str, Any]:
    return json.loads(obj.serialize())


@register
class StixWriter(SpooledDocumentWriter):
    """The bundle of `bundle()`, byte for byte, written in constant memory: objects are spooled as they are
    built (the first of equal ids kept), the bundle id and the phone extension's definition are known at the end."""

    name = "stix"
    suffix = ".json"
    description = "STIX 2.1 bundle: indicator, note and observables per ad, TLP 2.0 marking"
    separator = ",\n  "  # objects sit two levels deep: {"objects": [...]}

    def start(self) -> None:
        self.identity, self.marking = producer_identity(self.producer), tlp_marking(self.tlp)
        self.phones = False
        for fixed in (self.marking.id, self.identity.id, PHONE_EXTENSION):
            self.index.first(fixed)

    def write(self, record: dict[str, Any]) -> None:
        alert = alert_of(record)
        self.index.add_version(f"{alert['id']}@{alert['version']}:{alert['status']}")
        objects = [*ad_objects(record, self.identity.id, self.marking.id),
                   *campaign_objects(record, stable_id("indicator", alert["id"]), self.identity.id, self.marking.id)]
        for obj in objects:
            if self.index.first(obj.id):
                self.phones = self.phones or obj.type == "phone-number"
                self.add_part(indented(json.dumps(stix_dict(obj), ensure_ascii=False, indent=1), 2))

    def write_document(self) -> None:
        head = [self.marking, self.identity]
        if self.phones:
            head.append(stix2.ExtensionDefinition(**PHONE_EXTENSION_DEFINITION))
        bundle_id = f"bundle--{self.index.uuid5_of_sorted(LUREWATCH_NAMESPACE, f'{self.tlp}|{self.producer}|')}"
        frame = json.loads(stix2.Bundle(objects=head, id=bundle_id).serialize())
        if not self.parts:
            json.dump(frame, self.stream, ensure_ascii=False, indent=1)
        else:
            sentinel = f"lurewatch-objects-{uuid.uuid4()}"
            frame["objects"].append(sentinel)
            self.splice(json.dumps(frame, ensure_ascii=False, indent=1), sentinel)
        self.stream.write("\n")
