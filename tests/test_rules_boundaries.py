"""Word boundaries by script (issue 12 item 6): a pack word must not fire inside a longer word of a script written
with spaces, and `rules lint` names every pattern that could (rules/pattern_checks.py `boundary_problem`)."""
from __future__ import annotations

import shutil

import pytest

from rules.pattern_checks import boundary_problem, pack_boundary_problems
from rules.ruleset import RULESET_DIR, lint_ruleset, load_ruleset, pack_paths


@pytest.fixture(scope="module")
def rules_by_id():
    return {rule.id: rule for rule in load_ruleset()}


@pytest.mark.parametrize("pattern, side", [
    ("फोन", "start"),                               # Devanagari: fires inside माइक्रोफोन
    (r"(?:फोन|फ़ोन) का काम", "start"),
    (r"\bажил", "end"),                             # Cyrillic: fires inside ажилтан
    (r"\bнауқас|\bжұмыс|шетел", "start"),           # one unguarded top-level alternative is enough
    ("وظيفة", "start"),                             # Arabic
    (r"\bকাজ", "end"),                              # Bengali
    (r"(?:\+|плюс)\s?бонус\b", "start"),           # a "+" alternative does not guard the word beside it
    ("ስራ", "start"),                                # Ethiopic
    (r"(?<=\+)бонус", "end"),
])
def test_unguarded_words_are_flagged(pattern, side):
    problem = boundary_problem(pattern)
    assert problem is not None and f"its {side} " in problem


@pytest.mark.parametrize("pattern", [
    r"\bफोन\b",
    r"\bफोन का काम\w*",                             # \w*: the word may inflect
    r"\bажил(?!т(?:а)?н)\w*",
    r"(?<!\w)وظيفة(?!\w)",
    r"\b(?:[وفبلک]{0,2}ال|[وفبلک]{1,2})?راتب\w*",  # Arabic clitics after the boundary
    "고객센터",                                      # Hangul: compounds and particles are written joined
    "해외취업",
    r"(?:\+|\bплюс)\s?бонус\b",
    r"(?:^|(?<=\n))[ \t]*(?:азия|шетел)[ \t]*(?:[(,\-]|(?=\n|$))",  # a line start is an edge
    r"(?<=\+ )бонус\b",
    r"\d+\s*लाख\b",                                 # a digit starts it: no letter of the script at the edge
    "ยินดีต้อนรับ",                                   # Thai: written without spaces, not checked
    "包吃包住",
    r"free (?:visa|flight)",                         # Latin is not in the check's scripts
])
def test_guarded_words_pass(pattern):
    assert boundary_problem(pattern) is None


@pytest.mark.parametrize("path", pack_paths(), ids=lambda p: p.stem)
def test_shipped_packs_have_no_unguarded_words(path):
    assert pack_boundary_problems(path) == []


def test_lint_names_file_and_line_of_an_unguarded_pattern(tmp_path):
    shutil.copy(RULESET_DIR / "concepts.yaml", tmp_path / "concepts.yaml")
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "hi.yaml").write_text(
        "language: hi\nname: Hindi\nconcepts:\n  bait.customer_service:\n    patterns:\n"
        "    - '\\bकॉल सेंटर\\w*'\n    - '(?:फोन|फ़ोन) का काम'\n    match: [कॉल सेंटर, फोन का काम]\n",
        encoding="utf-8")
    problems = [p for p in lint_ruleset(tmp_path) if "word boundary" in p]
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'packs' / 'hi.yaml'}:7: concept 'bait.customer_service' pattern")
    assert "its start 'फ' (Devanagari)" in problems[0]


@pytest.mark.parametrize("concept, inner, whole", [
    ("bait.customer_service", "माइक्रोफोन का काम", "फोन का काम"),           # Hindi: phone inside microphone
    ("bait.customer_service", "स्मार्टफोन का काम", "फ़ोन वाला काम"),
    ("bait.data_entry", "компьютерын ажилтан", "Камбожид компьютерын ажил"),  # Mongolian: staff, not work
    ("vague.abroad", "гадаад ажилтан авна", "гадаад ажил"),
])
def test_words_do_not_fire_inside_longer_words(rules_by_id, concept, inner, whole):
    rule = rules_by_id[concept]
    assert rule.search(whole) is not None
    assert rule.search(inner) is None


@pytest.fixture(scope="module")
def engine():
    from rules.engine import Engine
    return Engine.load(with_similarity=False)


@pytest.mark.parametrize("text, acronym, read", [
    ("Duk mai sha'awa ya yi min magana, aikin customer care ne a ƙasar waje.", "sha", False),  # Hausa "interest"
    ("Ị ga-esi Lagos gaa Dubai, ọrụ ahụ dị na Thailand.", "esi", False),                     # Igbo "will go from"
    ("Kenyan nurses for Dubai: SHA and NSSF paid, contract signed before travel.", "SHA", True),
    ("Seafarers wanted through a DMW-licensed manning agency, no placement fee.", "DMW", True),
])
def test_mitigating_acronym_inside_a_joined_word_is_not_read(engine, text, acronym, read):
    """A safeguard's acronym joined by an apostrophe or hyphen to a lower-case word is part of that word
    (issue 12: "sha" inside Uzbek "o'sha"); an upper-case acronym keeps its suffix ("DMW-licensed")."""
    found = [e.matched_text for e in engine.assess({"description": text}).evidence if e.category == "mitigating"]
    assert (acronym in found) is read, found
