"""The weakest languages of stop 13 (te, ti, yo, ha, ja) read the common lure wordings, and pay written with
South Asian digit grouping (1,20,000) is read (issue 12, stop 14). The posts below were written for this test,
not taken from the dev set."""
from __future__ import annotations

import pytest

from rules.engine import Engine
from rules.salary import find_salaries

# Each post: an unnamed or named destination, a bait role, pay and company-paid travel or a cover story
SHORT_LURES = {
    "te": "ఫారిన్ జాబ్: బ్యాంకాక్‌లో కంప్యూటర్ ఆపరేటర్, నెలకు లక్షన్నర జీతం. విమాన ఛార్జీలు కంపెనీ భరిస్తుంది, "
          "వసతి, భోజనం కంపెనీ ఇస్తుంది. టెలిగ్రాం లో మెసేజ్ చేయండి",
    "yo": "Ise ni oke okun: osise itoju onibara, egberun meji dola losu. A o ra tiketi oko ofurufu fun yin, "
          "a o pese ibugbe ati ounje. Aye die lo ku, e kan si wa lori Telegram @ise_oke",
    "ha": "Aiki a ƙasashen ketare: kula da kwastomomi, albashi a dala. Kamfani zai biya kuɗin jirgi, kamfani zai "
          "samar da masauki. Kowa zai iya yin aikin. Telegram @aiki_ketare",
    "ti": "ኣብ ወጻኢ ዓዲ ስራሕ፡ ብኮምፒተር ናይ ምጽሓፍ ስራሕ፡ ጽቡቕ ደሞዝ ብዶላር። ትኬት ብናጻ፡ መግብን መንበሪን ብናጻ። "
          "ኣብ ኤርፖርት ክንቕበለኩም ኢና። Telegram @sirah_weytsai",
    "ja": "【急募】海外で稼げるカスタマーサポート、初心者歓迎。往復航空券付き、寮完備、食事支給。"
          "入国審査では観光目的と答えてください。テレグラムで連絡",
}


@pytest.fixture(scope="module")
def engine():
    return Engine.load()


@pytest.mark.parametrize("lang", sorted(SHORT_LURES))
def test_a_short_lure_in_a_weak_language_flags(engine, lang):
    assessment = engine.assess({"description": SHORT_LURES[lang]})
    categories = {e.category for e in assessment.evidence}
    assert {"bait_role", "perks"} <= categories or {"bait_role", "visa"} <= categories, (lang, categories)
    assert assessment.flagged, (lang, assessment.score, [e.rule_id for e in assessment.evidence])


@pytest.mark.parametrize("text, amount", [
    ("Rs 1,20,000 per month", 120_000),
    ("salary ₹12,50,000 a year", 1_250_000),
    ("నెలకు ₹1,20,000 జీతం", 120_000),
    ("PKR 2,50,000 ماہانہ", 250_000),
    ("USD 1,200 - 1,500", 1_500),  # ordinary thousands grouping is unchanged
])
def test_south_asian_digit_grouping_is_read(text, amount):
    found = find_salaries(text, "INR")
    assert found and max(s.high for s in found) == amount, (text, found)
