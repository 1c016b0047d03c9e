"""Case-sensitive twins (rules/_lowertwin.py) find on lower-cased text what their IGNORECASE originals find."""
import random
import re

import pytest

from rules import salary
from rules._lowertwin import lower_source

# every character whose lower-case form is one character, in one string, and that string lower-cased
CHARS = "".join(c for c in map(chr, range(0x110000)) if len(c.lower()) == 1 and not 0xD800 <= ord(c) <= 0xDFFF)
LOWER = CHARS.lower()


@pytest.mark.parametrize("pattern", ["s", "i", "k", "K", "a", "S", "σ", "в", "µ", "ß", "ǆ", "[sx]", "[^sx]", "{is}", "s{2}", "x{1,2}s", r"[\d.,]", "é", "θ", "ω", "ı", "ſ"])
def test_each_character_matches_what_ignorecase_matches(pattern):
    """Over every character lower-casing keeps at one character: the twin on the lower-cased character
    matches exactly where the original matches the character under IGNORECASE."""
    twin = lower_source(pattern)
    assert twin is not None
    want = [m.start() for m in re.finditer(pattern, CHARS, re.IGNORECASE)]
    assert [m.start() for m in re.finditer(twin, LOWER)] == want


@pytest.mark.parametrize("pattern", ["(?i)a", "(?P=x)", r"\u0041", "[k-s]x", "[a-z]", "[^A-Z]", "[A-Z",
                                     "(?#c)"])
def test_unhandled_patterns_have_no_twin(pattern):
    assert lower_source(pattern) is None


def test_pay_regex_twins_find_the_same_pay():
    """The salary module's twins (money, currency before a number, pay words, periods) give the same matches
    and groups as the IGNORECASE regexes on lower-cased fuzzed pay text."""
    rng = random.Random(3)
    atoms = ["USD", "Usd", "$", "1", "20", "000", ",", ".", " ", "K", "k", "\u212a", "ſgd", "SGD", "RM", "Rs.", "PHP",
             "₱", "万", "triệu", "TRIỆU", "Juta", "lakh", "LAKHS", "month", "MONTH", "/Mo", "per day", "PESOS", "Bız",
             "ı", "-", " to ", "salary", "Salary:", "руб", "РУБ", "Доллар", "€", "EUR", "p.m.", "Σ", "µ"]
    texts = ["".join(rng.choice(atoms) for _ in range(rng.randint(1, 16))) for _ in range(2000)]
    for text in texts:
        low = text.lower()
        assert len(low) == len(text)
        plain, twin = (salary._ASCII_TEXT, salary._ASCII_LOWER) if low.isascii() else (salary._ANY_TEXT,
                                                                                      salary._ANY_LOWER)
        for near in (False, True):
            assert ([(m.span(), m.groupdict()) for m in salary._money_matches(low, near, plain)]
                    == [(m.span(), m.groupdict()) for m in salary._money_matches(low, near, twin)]), text
        for i in range(0, len(low), 5):
            for name in ("pay_word", "period", "pre_currency"):
                a, b = getattr(plain, name).search(low, i, i + 30), getattr(twin, name).search(low, i, i + 30)
                assert (a and (a.span(), a.lastgroup)) == (b and (b.span(), b.lastgroup)), (text, name)
