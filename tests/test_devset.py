"""Invariants of the labelled dev set (rules/devset): schema, labels, variety, and a template-level split."""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from urllib.parse import urlparse

import pytest
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from rules.evaluate import DEVSET_DIR, load_dataset

REQUIRED_LANGS = {"en", "en-ph", "en-my", "en-in", "en-ke", "zh-hans", "zh-hant", "th", "vi", "id", "ms", "tl",
                  "pt", "my", "km", "hi-latn", "sw-en"}
# languages added for the language packs (t10, t11): lures on both sides of the split too
PACK_LANGS = {"ko", "ja", "ar", "ur", "bn", "hi", "ne", "si", "ta", "lo", "mn", "ru", "kk", "am", "ti", "om", "so",
              "lg", "yo", "ha", "uz", "ky", "tg", "tr", "fr", "es", "te", "ml", "pa", "ceb", "ig"}
# t15 (short real-style posts) names its short lures by shape and its short negatives by kind
T15_LURE_KINDS = {"lure_short_social", "lure_short_classified", "lure_real_rebuilt"}
LURE_KINDS = {"lure_blatant", "lure_subtle", "lure_short"} | T15_LURE_KINDS
NEG_KINDS = {"neg_bpo_domestic", "neg_overseas_legit", "neg_in_region_legit", "neg_remote_support",
             "neg_messaging_product", "neg_fraud_ordinary", "neg_generic", "neg_warning", "neg_short_honest_abroad",
             "neg_short_honest_local", "neg_short_other"}
SUBTLE_KINDS = {"lure_subtle", "lure_short"} | T15_LURE_KINDS  # short posts carry only 2-3 signals
MIXED_FRAUD_KINDS = {"neg_short_other"}  # a warning post (fraud 0) or an ordinary scam (fraud 1)
TEXT_FIELDS = ("title", "company", "location", "salary", "description", "contact")
FIELDS = ("id", "url", *TEXT_FIELDS, "label", "lang", "kind", "fraud", "subtle", "template", "split")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    out = []
    for path in sorted(DEVSET_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
    return out


def test_devset_loads_through_the_evaluator():
    examples = load_dataset(DEVSET_DIR)
    assert len(examples) >= 350
    assert {e.split for e in examples} == {"train", "test"}


def test_every_row_has_the_schema(rows):
    for r in rows:
        assert set(FIELDS) <= set(r), r["id"]
        assert all(isinstance(r[f], str) for f in TEXT_FIELDS), r["id"]
        assert r["description"], r["id"]  # chat-group posts have no title, as in real feeds
        assert r["label"] in (0, 1) and r["fraud"] in (0, 1) and r["subtle"] in (0, 1), r["id"]
        assert r["split"] in ("train", "test"), r["id"]
        assert r["id"].startswith(r["template"] + "-"), r["id"]


def test_ids_unique_and_urls_fake(rows):
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        host = urlparse(r["url"]).hostname or ""
        assert host == "example" or host.endswith(".example") or re.search(r"(^|\.)example\.(com|org|net)$", host), r["url"]


def test_labels_agree_with_kinds(rows):
    for r in rows:
        assert r["kind"] in LURE_KINDS | NEG_KINDS, r["id"]
        assert r["label"] == (1 if r["kind"] in LURE_KINDS else 0), r["id"]
        assert r["subtle"] == (1 if r["kind"] in SUBTLE_KINDS else 0), r["id"]
        if r["kind"] in MIXED_FRAUD_KINDS:
            assert r["fraud"] in (0, 1), r["id"]
        else:
            assert r["fraud"] == (1 if r["kind"] == "neg_fraud_ordinary" else 0), r["id"]


def test_size_and_mix(rows):
    templates = {r["template"] for r in rows}
    lures = [r for r in rows if r["label"]]
    assert len(rows) >= 350 and len(templates) >= 150
    assert 0.35 <= len(lures) / len(rows) <= 0.6
    short_kinds = {"lure_short", "lure_short_social", "lure_short_classified", "lure_real_rebuilt"}
    written = [r for r in lures if r["kind"] not in short_kinds]
    assert 0.3 <= sum(r["subtle"] for r in written) / len(written) <= 0.6  # ~half of written ads are subtle
    assert sum(r["kind"] == "lure_short" for r in lures) >= 150  # and short real-style posts besides
    assert sum(r["kind"] == "lure_real_rebuilt" for r in lures) >= 250  # posts like those quoted in reporting
    assert {r["kind"] for r in rows} == LURE_KINDS | NEG_KINDS


def test_template_has_one_language_kind_and_split(rows):
    by_template = defaultdict(set)
    for r in rows:
        by_template[r["template"]].add((r["lang"], r["kind"], r["split"]))
    crossing = {t: v for t, v in by_template.items() if len(v) > 1}
    assert not crossing


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_language_and_kind_on_both_sides(rows, split):
    side = [r for r in rows if r["split"] == split]
    assert REQUIRED_LANGS | PACK_LANGS <= {r["lang"] for r in side if r["label"]}, "every language needs lures here"
    assert PACK_LANGS <= {r["lang"] for r in side if not r["label"]}
    assert LURE_KINDS | NEG_KINDS <= {r["kind"] for r in side}
    assert {r["lang"] for r in side if not r["label"]} >= REQUIRED_LANGS - {"en-my", "hi-latn"}


def test_subtle_lures_in_test_for_most_languages(rows):
    langs = {r["lang"] for r in rows if r["split"] == "test" and r["subtle"]}
    assert len(langs) >= 15


def test_split_is_about_sixty_forty_by_template(rows):
    split_of = {r["template"]: r["split"] for r in rows}
    share = Counter(split_of.values())["test"] / len(split_of)
    assert 0.3 <= share <= 0.5


def test_no_test_ad_is_a_near_copy_of_a_train_ad(rows):
    """Variants share a template; different templates must not be copies across the split (leakage)."""
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    scores = cdist([r["description"] for r in test], [r["description"] for r in train], scorer=fuzz.ratio)
    leaks = [(test[i]["id"], train[int(j)]["id"]) for i, row in enumerate(scores) if (j := row.argmax()) is not None
             and row[j] >= 85]
    assert not leaks


@pytest.mark.parametrize("currency", [
    r"USD|US\$|\$\d", r"USDT", r"RMB|元|万", r"THB|บาท", r"VND|triệu", r"PHP|Php", r"\bRp\b|IDR", r"\bRM ?\d|MYR",
    r"INR|\bRs\b|lakh|LPA|LPM", r"KES", r"R\$|BRL",
])
def test_pay_currencies_vary(rows, currency):
    assert any(re.search(currency, r["salary"]) for r in rows if r["label"])


@pytest.mark.parametrize("obfuscation", [
    r"T\.e\.l\.e", r"tele ?gram|tele gram|tele grama", r"纸飞机|飞机|飛機", r"green app|aplikasi hijau", r"wa\.me/",
    r"(?i)\b(zero|nine|five|kosong|sifuri|mais)\b",
])
def test_subtle_lures_hide_contacts(rows, obfuscation):
    assert any(re.search(obfuscation, r["contact"], re.IGNORECASE) for r in rows if r["subtle"])


@pytest.mark.parametrize("hidden", [r"neighbou?ring country", r"Southeast Asia|South-East Asia|South East Asia",
                                    r"driver", r"东南亚|東南亞", r"ประเทศเพื่อนบ้าน", r"Đông Nam Á"])
def test_subtle_lures_hide_the_destination(rows, hidden):
    assert any(re.search(hidden, r["location"] + " " + r["description"], re.IGNORECASE) for r in rows if r["subtle"])
