"""A warning post quotes the bait it warns against: inside the quotes the lure's words are reported speech, not an
offer, when the words around the quotes warn (rules/quoted.py, rules/engine.py `_quoted_bait`; issue 12, stop 14).
The posts below were written for this test, not taken from the dev set."""
from __future__ import annotations

import pytest

from rules.engine import Engine
from rules.quoted import quoted_spans

# One warning word outside the quotes (a scam named, an authority, a caution), the whole bait inside them.
QUOTING_WARNINGS = {
    "en": 'My cousin believed the message "chat support in Sihanoukville, $1,800 a month, free flight ticket, no '
          'experience, Telegram @hr_kh" and it was a scam.',
    "es": "A mi vecino le escribieron «atención al cliente en Camboya, 1.800 dólares, pasaje gratis, sin "
          "experiencia, solo con visa de turista». Era una estafa.",
    "id": "Adik saya dapat pesan 'admin CS di Kamboja, gaji 25 juta, tiket pesawat gratis, tanpa pengalaman, pakai "
          "visa turis'. Ternyata penipuan.",
    "ru": "Моему брату написали: «оператор чата в Мьянме, 2000 долларов, бесплатный билет, без опыта, по "
          "туристической визе». Это были мошенники.",
    "zh-hans": "我表弟收到消息「柬埔寨客服，月薪两万，包机票，无需经验，旅游签证过去」，结果是诈骗。",
}

# Lures that put words in quotes and use a warning word themselves: the denial cancels it, so nothing is shielded
QUOTING_LURES = {
    "en": 'Hiring "Customer Service" in Sihanoukville, $1,500/month, free ticket and housing, no experience. '
          '100% legit, not a scam. Telegram @kh_hr88',
    "tl": "HIRING 'Chat Support' sa Cambodia, ₱80,000 kada buwan, libre ticket at tirahan. Hindi po ito scam, "
          "legit po. Telegram @kuya_hr",
}


@pytest.fixture(scope="module")
def engine():
    return Engine.load()


@pytest.mark.parametrize("text, quoted", [
    ('they wrote "free ticket, $1,500" to him', ['"free ticket, $1,500"']),
    ("le ofrecieron 'digitadora en Camboya, visa de turista'. Cuidado", ["'digitadora en Camboya, visa de turista'"]),
    ("«оператор, 2000 долларов» — обман", ["«оператор, 2000 долларов»"]),
    ("消息「柬埔寨客服，月薪两万」是骗局", ["「柬埔寨客服，月薪两万」"]),
    ("don't go o'sha it's fine, N'ebe ahụ", []),  # apostrophes inside words open no quotation
    ("the students' books aren't 'free ticket'", ["'free ticket'"]),
])
def test_quotations_are_found_in_each_style(text, quoted):
    assert [text[a:b] for a, b in quoted_spans(text)] == quoted


@pytest.mark.parametrize("lang", sorted(QUOTING_WARNINGS))
def test_bait_quoted_inside_a_warning_does_not_flag(engine, lang):
    assessment = engine.assess({"description": QUOTING_WARNINGS[lang]})
    ids = [e.rule_id for e in assessment.evidence]
    assert any(e.category == "warning" for e in assessment.evidence), ids
    assert not assessment.flagged, (lang, assessment.score, ids)
    assert not any(e.category in ("perks", "bait_role", "visa", "pay") for e in assessment.evidence), ids


@pytest.mark.parametrize("lang", sorted(QUOTING_LURES))
def test_a_lure_with_quotes_and_a_denial_still_flags(engine, lang):
    assessment = engine.assess({"description": QUOTING_LURES[lang]})
    assert assessment.flagged, (lang, assessment.score, [e.rule_id for e in assessment.evidence])
    assert "bait.customer_service" in {e.rule_id for e in assessment.evidence}
