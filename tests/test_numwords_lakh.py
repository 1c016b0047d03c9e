"""Pay in words: one lakh / one crore in every Indic script of the packs (also bare, "లక్ష రూపాయలు"), and pay
in words for Yoruba, Tigrinya and Hausa (issue 12), read by rules/salary.py through rules/numwords.py."""
from __future__ import annotations

import pytest

from rules.salary import find_salaries


@pytest.mark.parametrize("text, currency, amount", [
    ("లక్ష రూపాయలు జీతం", "INR", 1e5),             # Telugu, a lakh with no number before it
    ("वेतन लाख रुपये महीना", "INR", 1e5),            # Hindi, bare
    ("वेतन एक लाख रुपये", "INR", 1e5),
    ("तलब एक लाख रु", "NPR", 1e5),                  # Nepali: the ad's market is kept
    ("বেতন এক লাখ টাকা", "BDT", 1e5),               # Bengali
    ("বেতন লাখ টাকা", "BDT", 1e5),
    ("ஒரு லட்சம் ரூபாய் சம்பளம்", "INR", 1e5),       # Tamil
    ("ഒരു ലക്ഷം രൂപ ശമ്പളം", "INR", 1e5),           # Malayalam
    ("ਤਨਖਾਹ ਇੱਕ ਲੱਖ ਰੁਪਏ", "INR", 1e5),             # Punjabi
    ("تنخواہ ایک لاکھ روپے", "PKR", 1e5),           # Urdu
    ("වැටුප රුපියල් ලක්ෂයක්", "LKR", 1e5),          # Sinhala: "a lakh"
    ("salary ek lakh rupees", "INR", 1e5),           # romanised Hindi
    ("मासिक तलब एक करोड रुपये", "INR", 1e7),         # crore
    ("ఒక కోటి రూపాయలు", "INR", 1e7),
    ("বেতন দুই লাখ টাকা", "BDT", 2e5),
    ("वेतन 2 लाख रुपये", "INR", 2e5),                # digits stay digits: not "2 1 लाख"
    ("owo osu naira ẹgbẹrun lọna ọgọrun", "NGN", 1e5),  # Yoruba: 1,000 x 100
    ("owo osu naira egberun lona ogorun", "NGN", 1e5),
    ("albashi naira dubu ɗari", "NGN", 1e5),         # Hausa: 1,000 x 100
    ("albashi dubu dari naira", "NGN", 1e5),         # typed without the hooked d
    ("albashi naira dubu ɗari biyu", "NGN", 2e5),
    ("ደሞዝ ዓሰርተ ሽሕ ናቕፋ", "ERN", 1e4),              # Tigrinya: ten thousand nakfa
    ("ደሞዝ 15 ሽሕ ናቕፋ", "ERN", 1.5e4),
    ("mshahara shilingi elfu mia moja", "KES", 1e5),  # Swahili: 1,000 x 100
])
def test_pay_in_words_is_read(text, currency, amount):
    found = find_salaries(text, currency, pay_field=True)
    assert [(s.currency, s.low) for s in found] == [(currency, amount)], found


@pytest.mark.parametrize("text", [
    "लाखों रुपये कमाएं",           # "lakhs of rupees": no amount
    "लाख कोशिश के बाद भी",        # a lakh with no currency is an idiom ("despite a lakh tries")
    "లక్షల మంది ప్రజలు",           # "lakhs of people"
])
def test_vague_lakhs_are_no_pay(text):
    assert find_salaries(text, "INR", pay_field=True) == []


def test_swahili_scale_first_amounts_still_add_up():
    found = find_salaries("elfu moja na mia nane dola", "USD", pay_field=True)
    assert [(s.currency, s.low) for s in found] == [("USD", 1800.0)]
