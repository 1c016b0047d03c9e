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


@pytest.mark.parametrize("pattern, text, hit", [
    (r"\bनौकरी\b", "अच्छी नौकरी मिलेगी", "नौकरी"),  # Devanagari vowel signs are part of the word
    (r"\bচাকরি\b", "বিদেশে চাকরি।", "চাকরি"),
    (r"\bவேலை\b", "வெளிநாட்டு வேலை வாய்ப்பு", "வேலை"),
    (r"\bමුදල්\b", "මුදල් ගෙවන්න", "මුදල්"),
    (r"\bمجاني\b", "تذكرة مَجَّانِيّة مجاني", "مجاني"),  # Arabic vowel points are optional: dropped
    (r"\bsha\b", "kazi ya o'sha kuni", None),  # Uzbek o' is a letter: no acronym inside "o'sha"
    (r"\bsha\b", "NHIF and SHA deductions", "SHA"),
    (r"\bo'?sha\b", "o’sha kuni", "o’sha"),
    (r"\bng'?ambo\b", "kazi ng'ambo", "ng'ambo"),
    (r"\bcompany\b", "at the company's cost", "company"),
    (r"\bfree\b", "a 'free' ticket", "free"),
])
def test_word_boundaries_in_every_script(pattern, text, hit):
    norm = normalise(text)
    m = re.search(fold_pattern(pattern), norm.text)
    assert (norm.original_text(m.start(), m.end()) if m else None) == hit


@pytest.mark.parametrize("raw, folded", [
    ("Теlеgrаm", "telegram"),  # Latin word with Cyrillic look-alikes: folded to Latin
    ("WhatsАpp", "whatsapp"),
    ("работа в Камбодже", "работа в камбодже"),  # a Russian word stays Cyrillic (not "pa6ota" fragments)
    ("перелёт", "перелет"),
    ("Τelegram", "telegram"),  # Greek look-alike
])
def test_lookalikes_fold_only_inside_mixed_words(raw, folded):
    assert fold(raw) == folded
    assert re.search(fold_pattern(r"\bработа\b"), fold("Работа в Камбодже"))


def test_folding_tables_file_is_current():
    """rules/textnorm_tables.json spares every process a scan of all characters; it must match this code."""
    import json

    from rules import textnorm

    doc = json.loads(textnorm.TABLES_FILE.read_text(encoding="utf-8"))
    assert doc["digest"] == textnorm._code_digest(), "stale: run `python -m rules.textnorm`"
    one_to_one, special = textnorm._build_tables()
    assert {int(k): v for k, v in doc["one_to_one"].items()} == one_to_one and doc["special"] == special


@pytest.mark.parametrize("pattern, text", [
    (r"\bمجاني\b", "تذكرة مجانى"),          # alef maksura for yeh
    (r"\bاقامة\b", "إقامة مجانية"),          # hamza seat, ta marbuta
    (r"\bنوکری\b", "نوكري في دبي"),          # Urdu keyboard kaf/yeh vs Arabic ones
    (r"\bتنخواہ\b", "تنخواه بہت اچھی"),      # heh goal vs heh
])
def test_arabic_script_letter_variants_fold_to_one_form(pattern, text):
    assert re.search(fold_pattern(pattern), fold(text))


@pytest.mark.parametrize("raw, word", [
    ("❗️Chet eldagi kompaniyaga operatorlar kerak", "chet"),  # emoji + VARIATION SELECTOR-16 before the word
    ("✈️Work abroad", "work"),
    ("☎︎Call us", "call"),                                       # + VARIATION SELECTOR-15
])
def test_emoji_variation_selectors_keep_the_word_edge(raw, word):
    text = normalise(raw).text
    assert re.search(rf"\b{word}\b", text), repr(text)
