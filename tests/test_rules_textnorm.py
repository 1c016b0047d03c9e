"""Normalisation before matching: folding, de-obfuscation, and offsets back into the original text."""
import re

import pytest

from rules.textnorm import fold, fold_pattern, normalise


@pytest.mark.parametrize("raw, folded_contains", [
    ("Contact T e l e g r a m now", "telegram"),
    ("T.e.l.e.g.r.a.m: @desk", "telegram"),
    ("W-h-a-t-s-A-p-p only", "whatsapp"),
    ("whats4pp us", "whatsapp"),
    ("te1egram", "telegram"),
    ("t3l3gr4m", "telegram"),
    ("Tele\u200bgram", "telegram"),          # zero-width space
    ("Тelеgrаm", "telegram"),                # Cyrillic Т, е, а
    ("ｗｈａｔｓａｐｐ", "whatsapp"),           # full-width
    ("𝐓𝐞𝐥𝐞𝐠𝐫𝐚𝐦", "telegram"),               # mathematical bold
    ("Lương cao, việc nhẹ", "luong cao, viec nhe"),
    ("luong cao viec nhe", "luong cao viec nhe"),
    ("Đi làm ở nước ngoài", "di lam o nuoc ngoai"),
    ("包機票 月薪3萬", "包机票 月薪3万"),        # traditional -> simplified
    ("Straße", "strasse"),
])
def test_fold(raw, folded_contains):
    assert folded_contains in fold(raw)


@pytest.mark.parametrize("raw", ["hash e37e9f and id a1b2c3d4", "MP3 player, B2B sales, 4K video", "Call 0917 123 4567"])
def test_fold_leaves_ordinary_tokens(raw):
    assert fold(raw) == raw.lower()


@pytest.mark.parametrize("raw, needle, original", [
    ("Reach us: T e l e g r a m @x", "telegram", "T e l e g r a m"),
    ("x\u200bWhats\u200bApp y", "whatsapp", "Whats\u200bApp"),
    ("Lương cao lắm", "luong cao", "Lương cao"),
    ("Groß ﬁne Telegram", "telegram", "Telegram"),
    ("提供包機票", "包机票", "包機票"),
    ("แอดมินออนไลน์ ตอบแชท", "ตอบแชท", "ตอบแชท"),
])
def test_spans_map_back_to_original(raw, needle, original):
    norm = normalise(raw)
    m = re.search(re.escape(needle), norm.text)
    assert m, norm.text
    start, end = norm.span(m.start(), m.end())
    assert raw[start:end] == original


def test_thai_vowel_marks_are_kept():
    # Thai vowel signs are letters, not accents: stripping them would merge different words
    assert fold("ที่พัก") != fold("ทพก")


def test_fold_pattern_keeps_escapes_and_folds_letters():
    assert fold_pattern(r"\bLương\S+\W 機票") == r"\bluong\S+\W 机票"
