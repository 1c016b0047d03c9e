"""The case-sensitive scale-word hint and phrase regex (rules/numwords.py) find exactly what the IGNORECASE ones
find in folded (lower-case) text, so spell_numbers reads every text as before."""
import re
import sys

import pytest

from rules import numwords
from rules.numwords import (_JOIN_WORDS, _LATIN, _PHRASE, _PHRASE_LOWER, _SCALE_HINT, _SCALE_HINT_LOWER,
                             _SCALE_HINT_SCAN, _fold, case_sensitive_hint, spell_numbers)


def test_case_sensitive_regexes_are_built():
    for regex in (_SCALE_HINT_LOWER, _PHRASE_LOWER):
        assert regex is not None
        assert not regex.flags & re.IGNORECASE


def test_every_lower_case_letter_agrees_with_ignorecase():
    """Per letter of the hint's and the phrases' words, the characters lower-cased text can hold that IGNORECASE
    matches to it are exactly those the case-sensitive regexes accept in its place."""
    words = [w.replace(r"\b", "") for w in _SCALE_HINT.pattern.split("|")] + list(_LATIN) + list(_JOIN_WORDS)
    letters = sorted(set("".join(words)))
    lowered = {x for i in range(sys.maxunicode + 1) if not 0xD800 <= i < 0xE000 for x in chr(i).lower()}
    any_letter = re.compile("[" + "".join(map(re.escape, letters)) + "]", re.IGNORECASE)
    near = [x for x in lowered if any_letter.fullmatch(x)]
    for letter in letters:
        expected = {x for x in near if re.fullmatch(re.escape(letter), x, re.IGNORECASE)}
        assert set(numwords._same_letters(letter)) == expected, letter


TEXTS = ["Salary: fifteen thousand dollars", "dos mil dólares al mes", "similar family", "mil", "xmil", "tamil",
         "Familia", "500 mil reais", "libo", "ilibo", "sampung libo", "две тысячи", "две ᲄысячи", "мılle", "mıl",
         "amıl", "thouſand", "ᲄыᲃяч", "coming soon", "lakı", "一万五", "หนึ่งหมื่นห้าพันบาท", "elfu moja", "", "nothing"]


def _phrases(regex, folded):
    return [m.span() for m in regex.finditer(folded)]


@pytest.mark.parametrize("text", TEXTS + ["Sıx thouſand five hundred", "DOS MIL DÓLARES", "две ᲄысячи долларов",
                                          "apat na libo", "quatre-vingt-dix mille", "ONE-TWO"])
def test_same_answer_as_ignorecase(text):
    folded = _fold(text)
    assert bool(_SCALE_HINT_LOWER.search(folded)) == bool(_SCALE_HINT.search(folded)) == _SCALE_HINT_SCAN.found(folded)
    assert _phrases(_PHRASE_LOWER, folded) == _phrases(_PHRASE, folded) == _started(folded)


def _started(folded):
    """numwords._phrases: _PHRASE_LOWER tried only where a number word starts."""
    return [m.span() for m in numwords._phrases(folded)]


@pytest.mark.parametrize("text", ["someone paid two thousand and fifty", "one thousand, two thousand",
                                  "ninetyone thousand", "x-two thousand", "twenty-five thousand five hundred", "一万五千 and 三千"])
def test_phrases_tried_at_word_starts_are_the_scan(text):
    folded = _fold(text)
    assert _started(folded) == _phrases(_PHRASE_LOWER, folded) and _started(folded)


def test_same_answer_on_the_dev_set():
    import glob
    import json

    n = 0
    for path in glob.glob("rules/devset/*.jsonl"):
        for line in open(path, encoding="utf-8"):
            row = json.loads(line)
            for field in ("title", "salary", "description"):
                folded = _fold(row.get(field) or "")
                assert (bool(_SCALE_HINT_LOWER.search(folded)) == bool(_SCALE_HINT.search(folded))
                        == _SCALE_HINT_SCAN.found(folded)), row["id"]
                assert _phrases(_PHRASE_LOWER, folded) == _phrases(_PHRASE, folded) == _started(folded), row["id"]
                n += 1
    assert n > 1000


@pytest.mark.parametrize("pattern", [r"\d\s?k|thousand", "Thousand|mil", r"mil\b|(?:x)"])
def test_other_patterns_keep_ignorecase(pattern):
    assert case_sensitive_hint(re.compile(pattern, re.IGNORECASE)) is None


def test_spelled_amount_still_read():
    assert spell_numbers("Gaji lima belas juta sebulan").text.startswith("Gaji 15 juta")
