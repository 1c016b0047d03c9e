"""A real Lurewatch database for the STIX and MISP export tests: ads assessed by the engine and stored by the
Store, one of them with hostile text and contacts (quotes, backslashes, pattern brackets, bidi controls)."""
from __future__ import annotations

from pathlib import Path

from crawler.store import Store
from rules import Engine

LURE = {"url": "http://jobs.test/ad/1?ref='];--\\x", "source": "jobs.test",
        "title": "Customer service 'CSR' \\ Cambodia \u202eevil",
        "description": ("Urgent hiring! Customer service staff for online casino in Sihanoukville, Cambodia. Salary "
                        "$1500-3000 per month, free flight ticket, free visa and accommodation provided. No experience "
                        "needed, only typing skills. Passport required. Contact HR on Telegram: @hr_kh_boss or WhatsApp "
                        "+855 12 345 678, email hr.asia@jobmail.example, apply at https://apply.example/form?x='1' now."),
        "contact": "Telegram @hr_kh_boss"}
PHONE_LURE = {"url": "http://jobs.test/ad/2", "source": "jobs.test", "title": "Chat support Myanmar",
              "description": ("Chat support in Myawaddy, Myanmar. Salary 1200 USDT, free visa and flight, food and "
                              "housing. No experience needed. Call now: Phone +63 917 123 4567")}
ACCOUNTANT = {"url": "http://jobs.test/ad/3", "source": "jobs.test", "title": "Accountant",
              "description": "Accounts payable, Leeds. 3 years experience."}
# Contacts the extractor would never produce, as a hostile or buggy source might store them.
HOSTILE_CONTACTS = [
    {"kind": "domain", "value": "x'\\y].test", "raw": "x'\\y].test", "field": "description"},
    {"kind": "line", "value": "a'b\\c' OR '1'='1", "raw": "line: a'b", "field": "description"},
    {"kind": "url", "value": "http://h.test/p\\q'r]\u202e", "raw": "h.test", "field": "description"},
    {"kind": "email", "value": "o'brien\\@x.test", "raw": "o'brien", "field": "description"},
]
HOSTILE = {"url": "http://jobs.test/ad/4", "source": "jobs.test", "title": "Typist ']\" OR 1=1",
           "description": "Typist in Cambodia, free flight and visa."}


def build_db(path: Path) -> Path:
    engine = Engine.load()
    store = Store(path)
    try:
        for ad in (LURE, PHONE_LURE, ACCOUNTANT):
            store.save_ad(ad, engine.assess(ad).to_dict())
        hostile = engine.assess(LURE).to_dict()
        hostile["contacts"] = HOSTILE_CONTACTS + hostile["contacts"]
        store.save_ad(HOSTILE, hostile)
    finally:
        store.close()
    return path
