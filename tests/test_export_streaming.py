"""Streaming exports: records are read in chunks and STIX/MISP documents are spooled, with the same output as the
in-memory renderers (`bundle()`, `build_event()`) that wrote them before. Memory is measured in `make bench`."""
from __future__ import annotations

import json

import pytest

from crawler.store import Store
from export_ads import build_db
from output.export import base, export, iter_records
from output.export import records as export_records
from output.export.misp_writer import build_event, feed_json
from output.export.stix_writer import bundle
from rules import Engine

MORE = [  # ads sharing a domain and contacts, so the bundle keeps only the first of equal observables
    {"url": f"http://board.test/ad/{i}", "source": "board.test", "title": f"Chat support {i} Cambodia",
     "description": ("Customer service in Sihanoukville, Cambodia. Salary $2000 per month, free visa and flight, "
                     f"no experience. Telegram @hr_kh_boss or WhatsApp +855 12 345 67{i % 3}")}
    for i in range(7)
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = build_db(tmp_path_factory.mktemp("streaming") / "ads.db")
    engine, store = Engine.load(), Store(path)
    try:
        for ad in MORE:
            store.save_ad(ad, engine.assess(ad).to_dict())
    finally:
        store.close()
    return path


def old_render(fmt: str, records: list[dict], tlp: str) -> str:
    """What the writers wrote before streaming: the whole document rendered from every record in memory."""
    if fmt == "stix":
        return json.dumps(bundle(records, tlp=tlp), ensure_ascii=False, indent=1) + "\n"
    return feed_json(build_event(records, tlp, "Lurewatch"))[0] + "\n"


@pytest.mark.parametrize("fmt", ["stix", "misp"])
@pytest.mark.parametrize("min_score", [None, 0, 101])  # flagged ads, every ad, none
def test_streamed_document_equals_the_in_memory_one(db, tmp_path, fmt, min_score):
    out = tmp_path / f"out.{fmt}.json"
    selection = base.Selection(min_score=min_score)
    n = export(db, fmt, out, selection, tlp="green")
    records = list(iter_records(db, selection))
    assert n == len(records) and (n > 0) == (min_score != 101)
    assert out.read_text(encoding="utf-8") == old_render(fmt, records, "green")
    assert not list(tmp_path.glob(".*.tmp*")) and [p.name for p in tmp_path.iterdir()] == [out.name]  # spool gone


@pytest.mark.parametrize("fmt", ["stix", "misp"])
def test_document_as_a_webhook_body_is_the_same(db, fmt):
    records = list(iter_records(db, base.Selection(min_score=0)))
    assert base.get_writer(fmt).dumps(records, tlp="red") == old_render(fmt, records, "red")


def test_records_read_in_chunks_keep_order_evidence_and_contacts(db, monkeypatch):
    whole = list(iter_records(db, base.Selection(min_score=0)))
    monkeypatch.setattr(export_records, "RECORD_BATCH", 2)
    chunked = list(iter_records(db, base.Selection(min_score=0)))
    assert chunked == whole and len(whole) == 4 + len(MORE)
    assert [r["risk_score"] for r in whole] == sorted((r["risk_score"] for r in whole), reverse=True)
    assert all(r["evidence"] for r in whole if r["flagged"]) and any(r["contacts"] for r in whole)
