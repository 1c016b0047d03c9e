"""The contact-kind dispatch of the STIX and MISP writers: what each observable of an ad is, in one table.

    for_each_contact(record, {"url": url, "domain": domain, "email": email, "phone": phone,
                              "number": number, "handle": handle})

calls handler(kind, value) for the ad's own URL first (kind "url"), then for each stored contact with a value,
by its role (`contact_role`). Each writer decides what a role becomes in its format.
"""
from __future__ import annotations

from typing import Any, Callable

MESSENGERS = ("telegram", "whatsapp", "line", "wechat", "zalo", "qq")  # STIX user-account account_type
ROLES = ("url", "domain", "email", "phone", "number", "handle")


def contact_role(kind: str | None, value: str) -> str:
    """url, domain, email and phone contacts are their kind; any other kind's value is a "number" when it
    starts with "+" (a WhatsApp, Zalo... number), else a "handle" (a messenger account or an unknown kind)."""
    if kind in ("url", "domain", "email", "phone"):
        return kind
    return "number" if value.startswith("+") else "handle"


def for_each_contact(record: dict[str, Any], handlers: dict[str, Callable[[Any, str], None]]) -> None:
    """handlers[role](kind, value) for the ad's URL, then each contact with a value, in order."""
    if record.get("url"):
        handlers["url"]("url", record["url"])
    for contact in record.get("contacts") or []:
        kind, value = contact.get("kind"), str(contact.get("value") or "")
        if value:
            handlers[contact_role(kind, value)](kind, value)
