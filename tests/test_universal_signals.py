"""Signals that work in any language, even one without a pack: destinations in every script, pay in any currency
compared with the home market, hub-country dialling codes and emoji perk lists, through Engine.assess."""
import pytest

from rules import Engine
from rules.entities import extract_from_text, hub_country_number


@pytest.fixture(scope="module")
def engine():
    return Engine.load(with_similarity=False)


def _hits(assessment):
    return {e.rule_id: e for e in assessment.evidence}


# Short ads written for these tests in languages that have no pack. (ad, {rule id: matched text})
ADS = [
    ({"title": "캄보디아 고수익 채팅 상담원", "salary": "월 500만원",
      "description": "경력 무관. ✈️ 항공권 ✅ 🏠 숙소 ✅ 🍱 식사 ✅ 연락: +855 96 123 4567"},
     {"destination.compound_country": "캄보디아", "pay.above_norm": "500만원",
      "perks.emoji_list": "✈️ 항공권 ✅ 🏠 숙소 ✅ 🍱 식사 ✅", "contact.hub_country_number": "+855 96 123 4567"}),
    ({"title": "ሥራ በካምቦዲያ - የደንበኞች አገልግሎት", "salary": "ወርሃዊ ደሞዝ 1,500 ዶላር",
      "description": "ልምድ አያስፈልግም። ✈️ ትኬት ✅ 🏠 መኖሪያ ✅ ዋትስአፕ +95 9 765 432 109"},
     {"destination.compound_country": "በካምቦዲያ", "pay.above_norm": "1,500 ዶላር",
      "perks.emoji_list": "✈️ ትኬት ✅ 🏠 መኖሪያ ✅", "contact.hub_country_number": "+95 9 765 432 109"}),
    ({"title": "Оператор чата в Сиануквиле", "salary": "зарплата 2000$ в месяц",
      "description": "Опыт не нужен. ✈️ билет ✅ 🏠 жильё ✅ Пишите: +856 20 5512 3456"},
     {"destination.cambodia_hub": "Сиануквиле", "pay.above_norm": "2000$",
      "perks.emoji_list": "✈️ билет ✅ 🏠 жильё ✅", "contact.hub_country_number": "+856 20 5512 3456"}),
    ({"title": "কম্বোডিয়াতে ডাটা এন্ট্রি", "salary": "বেতন ১ লাখ টাকা মাসিক", "description": "অভিজ্ঞতা লাগবে না"},
     {"destination.compound_country": "কম্বোডিয়াতে", "pay.above_norm": "১ লাখ টাকা"}),
    ({"title": "Kamboçya'da müşteri temsilcisi", "salary": "aylık 2.000 dolar", "description": "Deneyim gerekmez"},
     {"destination.compound_country": "Kamboçya", "pay.above_norm": "2.000 dolar"}),
    ({"title": "وظيفة خدمة عملاء في ميانمار", "salary": "الراتب 2500 دولار شهريا", "description": "بدون خبرة"},
     {"destination.compound_country": "ميانمار", "pay.above_norm": "2500 دولار"}),
]


@pytest.mark.parametrize("ad, expected", ADS, ids=lambda v: v.get("title", "")[:20] if isinstance(v, dict) else "")
def test_short_ads_without_a_pack_carry_evidence(engine, ad, expected):
    a = engine.assess(ad)
    hits = _hits(a)
    for rule_id, quote in expected.items():
        assert rule_id in hits, (rule_id, [(e.rule_id, e.matched_text) for e in a.evidence])
        e = hits[rule_id]
        assert e.matched_text == quote
        assert e.category == rule_id.split(".")[0] and e.explanation
        assert ad[e.field][e.start:e.end] == quote
    assert a.score > engine.assess({"title": "Customer service agent", "description": "Office job"}).score


@pytest.mark.parametrize("ad, language, rule_absent", [
    # a national number's region is a guess, not the recruiter's country code
    ({"description": "ទូរស័ព្ទ 012 345 678 ធ្វើការនៅភ្នំពេញ"}, "km", "contact.hub_country_number"),
    # a Thai number in a Thai ad is domestic
    ({"description": "สนใจติดต่อ +66 81 234 5678 งานแอดมิน"}, "th", "contact.hub_country_number"),
    # Philippine and UAE numbers are not hub-country numbers (recruits' home, ordinary Gulf jobs)
    ({"description": "Call +63 917 123 4567 or +971 50 123 4567"}, None, "contact.hub_country_number"),
])
def test_numbers_that_are_not_hub_evidence(engine, ad, language, rule_absent):
    a = engine.assess(ad)
    assert rule_absent not in _hits(a), [(e.rule_id, e.matched_text) for e in a.evidence]
    if language:
        assert a.language == language


@pytest.mark.parametrize("text, region", [
    ("+855 96 123 4567", "KH"), ("00855 96 123 4567", "KH"), ("wa.me/8562055123456", "LA"),
    ("WhatsApp: +95 9 765 432 109", "MM"), ("tel +66 81 234 5678", "TH"),
])
def test_hub_country_numbers(text, region):
    contacts = [c for c in extract_from_text(text, "contact") if c.value.startswith("+")]
    assert contacts, text
    assert hub_country_number(contacts[0], "en")[0] == region


def test_a_hub_number_alone_is_not_an_off_platform_reach(engine):
    # contact wording or a messenger counts towards the strong combination; a bare phone number does not
    a = engine.assess({"description": "Work abroad, visa arranged, free ticket. Call +855 96 123 4567"})
    assert "contact.hub_country_number" in _hits(a)
    assert engine.features({"description": "Work abroad, visa arranged, free ticket. Call +855 96 123 4567"}
                           ).values["combo"] == 0.0


@pytest.mark.parametrize("text, listed", [
    ("✈️ free ticket ✅ 🏠 room ✅", True),
    ("🏠 ที่พักฟรี\n✈️ ตั๋วฟรี", True),
    ("💵 2000$ 🍱 🛏 ✈️", True),
    ("🏠 room provided\n🍚 meals provided", False),   # housing and food without travel: domestic jobs offer them
    ("✈️ Airline jobs\n\nWe pay well 💰", False),     # a blank line ends the list
    ("✅ experience required ✅ degree", False),
])
def test_emoji_perk_lists(engine, text, listed):
    assert ("perks.emoji_list" in _hits(engine.assess({"description": text}))) is listed
