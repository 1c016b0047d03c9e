"""Place names in every script (rules/places.py, rules/places/*.yaml): the generated CLDR file is current, every
pattern passes the engine's checks, boundaries are right per script, and bad data names its file and line."""
import subprocess
import sys
from pathlib import Path

import pytest

from rules import Engine, load_ruleset
from rules.ruleset import RulesetError, _backtracking_problem, _check_pattern
from rules.textnorm import fold
from rules.places import (COUNTRIES_FILE, PlacesError, generate_countries, load_places, place_patterns,
                          render_countries)

ROOT = Path(__file__).resolve().parents[1]


def test_countries_file_equals_a_fresh_generation():
    fresh = render_countries(generate_countries())
    assert COUNTRIES_FILE.read_text(encoding="utf-8") == fresh, "run: python -m rules.places --write"


def test_generator_cli_prints_the_same_document():
    out = subprocess.run([sys.executable, "-m", "rules.places"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == COUNTRIES_FILE.read_text(encoding="utf-8")


def _folded(names):
    return {fold(n) for n in names}


def test_cldr_names_cover_many_scripts_and_leave_out_ordinary_words():
    # compared folded: one spelling per folded form is kept (緬甸 and 缅甸 are one name)
    names = {c["code"]: {fold(n) for n in c["names"]} for c in generate_countries()["countries"]}
    assert _folded({"캄보디아", "カンボジア", "Камбоджа", "كمبوديا", "कम्बोडिया", "কম্বোডিয়া", "ካምቦዲያ", "කාම්බෝජය",
            "கம்போடியா", "柬埔寨"}) <= names["KH"]
    assert _folded({"미얀마", "ميانمار", "Мьянма", "缅甸"}) <= names["MM"]
    assert _folded({"라오스", "ラオス", "老挝"}) <= names["LA"]
    assert _folded({"태국", "泰国", "Таиланд"}) <= names["TH"]
    folded = set().union(*names.values())
    for word in ("kamboj", "siem", "laws", "lao", "ไทย", "ລາວ", "タイ", "ma kame"):
        assert fold(word) not in folded, word


def test_every_place_pattern_passes_the_engine_checks():
    patterns = place_patterns()
    assert set(patterns) >= {"destination.compound_country", "destination.cambodia_hub", "destination.myanmar_hub",
                             "destination.laos_zone", "destination.thailand", "destination.thai_border_town"}
    for concept, pairs in patterns.items():
        for pat, where in pairs:
            problem, folded = _check_pattern(pat)
            assert problem is None and _backtracking_problem(pat) is None, (concept, where, problem)


def test_shipped_ruleset_carries_the_place_patterns():
    plain = {r.id: len(r.patterns) for r in load_ruleset(places=False)}
    with_places = {r.id: len(r.patterns) for r in load_ruleset()}
    for concept, pairs in place_patterns().items():
        assert with_places[concept] == plain.get(concept, 0) + len(pairs)  # some concepts are place names only


@pytest.fixture(scope="module")
def engine():
    return Engine.load(with_similarity=False)


# (text, rule id, the matched text) in languages and scripts with no pack
PLACES = [
    ("캄보디아에서 근무할 상담원 모집", "destination.compound_country", "캄보디아"),
    ("시아누크빌 카지노 고수익 알바", "destination.cambodia_hub", "시아누크빌"),
    ("프놈펜 사무실 근무", "destination.cambodia_capital", "프놈펜"),
    ("근무지: KK파크", "destination.myanmar_hub", "KK파크"),
    ("カンボジアでのオペレーター募集", "destination.compound_country", "カンボジア"),
    ("勤務地：ミャワディ", "destination.myanmar_hub", "ミャワディ"),
    ("Работа оператором в Камбодже", "destination.compound_country", "Камбодже"),
    ("офис в Сиануквиле, Лаос рядом", "destination.cambodia_hub", "Сиануквиле"),
    ("Вакансия в Таиланде", "destination.thailand", "Таиланде"),
    ("Мьянма, город Мьявади", "destination.myanmar_hub", "Мьявади"),
    ("وظيفة في كمبوديا براتب عال", "destination.compound_country", "كمبوديا"),
    ("العمل بكمبوديا", "destination.compound_country", "بكمبوديا"),
    ("کمبوڈیا میں نوکری", "destination.compound_country", "کمبوڈیا"),
    ("थाईलैंड में नौकरी।", "destination.thailand", "थाईलैंड"),
    ("म्यावाडी में डेटा एंट्री", "destination.myanmar_hub", "म्यावाडी"),
    ("কম্বোডিয়াতে চাকরি", "destination.compound_country", "কম্বোডিয়াতে"),
    ("ሥራ በካምቦዲያ", "destination.compound_country", "በካምቦዲያ"),
    ("කාම්බෝජයේ රැකියා", "destination.compound_country", "කාම්බෝජයේ"),
    ("கம்போடியா வேலை", "destination.compound_country", "கம்போடியா"),
    ("Kamboçya'da iş fırsatı", "destination.compound_country", "Kamboçya"),
    ("Kambodżę, praca w Kambodży", "destination.compound_country", "Kambodżę"),
    ("ວຽກຢູ່ສາມຫຼ່ຽມຄຳ", "destination.laos_zone", "ສາມຫຼ່ຽມຄຳ"),
    ("황금삼각지대 특구 근무", "destination.laos_zone", "황금삼각지대"),
    ("Жұмыс орны: Золотой треугольник, Лаос", "destination.laos_zone", "Золотой треугольник"),  # Kazakh
    # Philippine compound towns and the Philippines, read for recruits from abroad
    ("菲律宾克拉克博彩公司招客服", "destination.philippines_hub", "克拉克"),
    ("Lokasi kerja: Bamban, Tarlac", "destination.philippines_hub", "Bamban"),
    ("Công ty game ở Pasay City tuyển CSKH", "destination.philippines_hub", "Pasay City"),
    ("Офис в Пасае? Нет: Пампанга", "destination.philippines_hub", "Пампанга"),
    ("필리핀 팜팡가 근무", "destination.philippines_hub", "팜팡가"),
    ("Perusahaan game di Filipina", "destination.philippines", "Filipina"),
    ("Ширкати гейминг дар Филиппин", "destination.philippines", "Филиппин"),  # Tajik
    ("フィリピンでのカスタマーサポート", "destination.philippines", "フィリピン"),
    ("Office: International City, Dubai", "destination.uae_hub", "International City, Dubai"),
]


@pytest.mark.parametrize("text, rule_id, quote", PLACES)
def test_places_in_languages_without_a_pack(engine, text, rule_id, quote):
    hits = {e.rule_id: e for e in engine.assess({"description": text}).evidence}
    assert rule_id in hits, text
    e = hits[rule_id]
    assert e.category == "destination" and e.matched_text == quote and text[e.start:e.end] == quote


@pytest.mark.parametrize("text", [
    "Siem Reap hotel receptionist",       # "Siem" is a CLDR name of Thailand
    "Know the laws of your country",      # "Laws": Kabyle for Laos
    "فندق في لاس فيغاس",                   # "لاس": Kashmiri for Laos; here Las Vegas
    "Mr. Kamboj, Delhi office",           # Indian surname
    "タイプ入力のお仕事",                    # "タイ" inside type
    "ภาษาไทย คนไทย",                      # the word Thai in Thai
    "ລາວໄປເຮັດວຽກ",                        # Lao pronoun
    "변태국",                              # 태국 inside another Hangul word
    "Kambodschaner Straße 1234567",       # a longer word than an inflection (German)
    "Bartender, Barman, Chefs",           # "Barma" (Czech for Myanmar) + n: a real EMSCAD ad
])
def test_names_do_not_fire_inside_other_words(engine, text):
    hits = [e for e in engine.assess({"description": text}).evidence if e.category == "destination"]
    assert hits == [], (text, [(e.rule_id, e.matched_text) for e in hits])


@pytest.mark.parametrize("ad", [
    # the Philippines is home to Tagalog, Cebuano and English (Philippine English) readers: a job there is domestic
    {"title": "CSR sa Pasay City", "description": "Hiring CSR sa Pasay, 20k sahod, walang experience, PM lang"},
    {"title": "Call center agent", "location": "Clark Freeport, Pampanga", "description": "Night shift, 25k salary"},
    {"title": "Trabaho sa Pampanga", "description": "Kailangan ng encoder sa Angeles City, may libreng pagkain"},
    # Dubai itself is an ordinary Gulf job market, and "international city" ordinary English
    {"title": "Waiters for a Dubai hotel", "description": "AED 2,200, company visa, send CV on WhatsApp"},
    {"title": "Sales lead", "description": "Live and work in a vibrant international city"},
])
def test_home_market_and_ordinary_places_are_no_destination_evidence(engine, ad):
    hits = [(e.rule_id, e.matched_text) for e in engine.assess(ad).evidence if e.category == "destination"]
    assert hits == [], hits


def test_hub_examples_are_checked_by_rules_lint(tmp_path):
    # a hubs.yaml entry's `match` examples must match its names, its `no_match` examples no name of the concept
    from rules.ruleset import lint_ruleset
    assert lint_ruleset() == []
    places = tmp_path / "places"
    places.mkdir()
    (places / "countries.yaml").write_text(COUNTRIES_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    _write(places, "places:\n  - place: X\n    country: PH\n    concept: destination.philippines_hub\n"
                   "    source: s\n    names: [Porac]\n    match: [work in Porac, work in Bamban]\n"
                   "    no_match: [Porac town]\n")
    from rules.ruleset import add_place_names, assemble, load_concepts, load_packs
    rules = assemble(load_concepts(), load_packs())
    add_place_names(rules, places)
    entry = next(e for r in rules if r.id == "destination.philippines_hub" for e in r.entries
                 if e.source.endswith("hubs.yaml:2"))
    assert entry.search("work in Porac") == "Porac" and entry.search("work in Bamban") is None
    assert next(r for r in rules if r.id == "destination.philippines_hub").search("Porac town") == "Porac"


def _write(tmp_path, hubs_text):
    hubs = tmp_path / "hubs.yaml"
    hubs.write_text(hubs_text, encoding="utf-8")
    return hubs


def test_a_bad_hub_name_is_an_error_naming_file_and_line(tmp_path):
    hubs = _write(tmp_path, "places:\n  - place: X\n    country: KH\n    concept: destination.cambodia_hub\n"
                            "    source: test\n    names: [Bavet]\n  - place: Y\n    country: KH\n"
                            "    concept: destination.cambodia_hub\n    source: test\n    names: [ไทย]\n")
    with pytest.raises(PlacesError, match=rf"{hubs}:7: Y: name 'ไทย' cannot be used: excluded"):
        load_places(COUNTRIES_FILE, hubs)


@pytest.mark.parametrize("body, message", [
    ("places:\n  - place: X\n    concept: destination.cambodia_hub\n    source: s\n    names: [Bavet]\n",
     r":2: entry needs a 'country'"),
    ("places:\n  - place: X\n    country: KH\n    source: s\n    names: [Bavet]\n", r":2: entry is missing 'concept'"),
    ("places:\n  - place: X\n    country: KH\n    concept: c.x\n    source: s\n    names: []\n", r":2: 'names' must"),
    ("places: [\n", r"invalid YAML"),
    ("rules: []\n", r":1: expected a mapping with a 'places' list"),
])
def test_malformed_hubs_files(tmp_path, body, message):
    with pytest.raises(PlacesError, match=message):
        load_places(COUNTRIES_FILE, _write(tmp_path, body))


def test_a_place_concept_that_is_no_rule_fails_the_ruleset_load(tmp_path):
    (tmp_path / "countries.yaml").write_text(COUNTRIES_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    hubs = _write(tmp_path, "places:\n  - place: X\n    country: KH\n    concept: destination.nowhere\n"
                            "    source: s\n    names: [Bavet]\n")
    with pytest.raises(RulesetError, match=rf"{hubs}:2: concept 'destination.nowhere' is not defined in concepts.yaml"):
        load_ruleset(places=tmp_path)
    assert any(r.id == "destination.cambodia_hub" for r in load_ruleset(places=False))
