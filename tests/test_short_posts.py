"""Short real-style recruiter posts (issue 12, item 4): one to three lines with two or three strong signals, in the
languages recruits read. The phrasings the issue names carry evidence, short lures written for these tests (not
dev-set rows) flag, and short ordinary posts that use the same words do not. Through Engine.assess."""
import pytest

from rules import Engine


@pytest.fixture(scope="module")
def engine():
    return Engine.load(with_similarity=False)


def _rule_ids(assessment):
    return {e.rule_id for e in assessment.evidence}


# the wordings issue 12 names as missed: each now gives the evidence of its concept
@pytest.mark.parametrize("text, rule_id", [
    ("ticket ok room ok food ok", "perks.free_flight"),
    ("ticket ok room ok food ok", "perks.food_housing"),
    ("招聘客服，机票补助", "perks.free_flight"),
    ("buy your own ticket, send the money to this account", "transit.travel_debt"),
    ("Job in Cambodia, you don't need a single cent to get there", "perks.no_cost"),
    ("Typing job, no cost to travel", "perks.no_cost"),
    ("西港打字员，一分钱不用出", "perks.no_cost"),
])
def test_named_wordings_carry_evidence(engine, text, rule_id):
    a = engine.assess({"description": text})
    hits = {e.rule_id: e for e in a.evidence}
    assert rule_id in hits, [(e.rule_id, e.matched_text) for e in a.evidence]
    e = hits[rule_id]
    assert text[e.start:e.end] == e.matched_text and e.explanation


# Short lures written for this test, each unflagged before the packs had these wordings
SHORT_LURES = [
    "Job in Cambodia, up to RM15,000 a month, you don't need a single cent to get there",
    "Customer service Cambodia. Ticket ok room ok food ok. Salary 1200$. PM me",
    "Typing job in Myanmar $1500/month, no cost to travel, just bring your passport",
    "Need staff for Golden Triangle, chat job, 1500$, passport only",
    "Sino gusto mag work sa Thailand? Encoder, 60k/month, sagot ni boss ang ticket. Sabihin lang na tourist ka sa "
    "immigration",
    "Kerja di Thailand jadi CS, gaji 18 jt, berangkat gratis, bilang saja ke imigrasi mau liburan",
    "รับสมัครแอดมินตอบแชท ประเทศกัมพูชา เงินเดือน 35,000 บาท ไม่ต้องมีประสบการณ์ ออกค่าเดินทางให้",
    "西港打字员，月入两万，一分钱不用出，飞机联系",
    "ကမ္ဘောဒီးယားမှာ အွန်လိုင်းအလုပ် လစာ ဒေါ်လာ ၁၅၀၀ လေယာဉ်လက်မှတ် အခမဲ့",
    "Kazi Thailand, typing, KSh 200k kwa mwezi, hutalipa hata senti moja kufika huko",
    "በካምቦዲያ የደንበኞች አገልግሎት ሥራ፣ ወርሃዊ 1500 ዶላር፣ የአውሮፕላን ትኬት በነፃ",
    "Таиланд, оператор ПК, зарплата 1500$, на границе скажешь что турист",
    "ວຽກອອນລາຍຢູ່ກຳປູເຈຍ ເງິນເດືອນ 1500 ໂດລາ ປີ້ຍົນຟຣີ",
    "കംബോഡിയയിൽ ചാറ്റ് ജോലി, ശമ്പളം 1500 ഡോളർ, ടിക്കറ്റ് ഫ്രീ",
    "Đi làm bên Myanmar, lương 30 triệu, không cần kinh nghiệm, chi phí công ty chịu hết",
    "Tailandda ish, oylik 1500 dollar, chipta va yotoqxona bepul",
    "Shaqo Thailand, mushahar $1,200, tigidhka iyo hoyga waa bilaash",
]


@pytest.mark.parametrize("text", SHORT_LURES)
def test_short_lures_flag(engine, text):
    a = engine.assess({"description": text})
    assert a.flagged, (a.score, [(e.rule_id, e.matched_text) for e in a.evidence])


# Short ordinary posts that use the same words: a job at home, a licensed channel, an ordinary perk
@pytest.mark.parametrize("text", [
    "Call center sa Pasay, 20k, sagot lahat ng training, walang placement fee",
    "Chat job at home: reply to customers of our shoe shop, Rs 15,000/month, Pune",
    "Kazi ya typing ofisini Mombasa, mshahara KSh 20,000, safari ya kikazi inalipiwa",
    "Tuyển CSKH tại Hà Nội, lương 8 triệu, công ty chịu chi phí đi lại khi công tác",
    "诚聘司机，月薪8000，交通补贴，五险一金，地点北京",
    "บริษัทรับสมัครพนักงานขาย กรุงเทพ เงินเดือน 15,000 บาท มีค่าเดินทางให้",
    "Chef for a Thai restaurant in Dubai, AED 3,500, ticket ok after one year, license 12345",
    "Teachers for Vietnam: $1,500, flight reimbursed after contract, work permit provided by the school",
    "Tour guide for trips to Cambodia and Thailand, based in Ho Chi Minh City, 12 triệu",
    "Passport office assistant in Kathmandu, NPR 25,000",
])
def test_short_ordinary_posts_stay_unflagged(engine, text):
    a = engine.assess({"description": text})
    assert not a.flagged, (a.score, [(e.rule_id, e.matched_text) for e in a.evidence])


@pytest.mark.parametrize("text, extra_rule", [
    # ordinary words around the new phrasings are not the lure concepts
    ("Call center sa Pasay, sagot lahat ng training", "perks.no_cost"),
    ("Health insurance at no cost to you", "perks.no_cost"),
    ("We do not charge a single cent of placement fee", "perks.no_cost"),
    ("Work chat on Teams with the team", "bait.chat_with_clients"),
    ("キャリアアドバイザー募集", "destination.uae_hub"),
])
def test_ordinary_wording_is_not_the_concept(engine, text, extra_rule):
    assert extra_rule not in _rule_ids(engine.assess({"description": text}))


def test_dollar_pay_next_to_dubai_is_compared_with_uae_pay(engine):
    # US$1,000 for a Dubai waiter is ordinary there, not far above a Vietnamese wage
    a = engine.assess({"description": "Cần tuyển lao động đi Dubai làm phục vụ nhà hàng, lương 1.000 USD"})
    assert a.salary_usd_month == 1000
    assert "pay.above_norm" not in _rule_ids(a)


# Two strong signs flag together (rules/engine.py PAIR_TRAVEL_RULES): a named destination and irregular travel.
# The issue's own examples; each scored 29-36 before.
@pytest.mark.parametrize("text", [
    "Sihanoukville job, no cost to travel",
    "Job in Thailand, tell immigration you are a tourist",
    "Job in Cambodia, you go on a tourist visa",
    "Кор дар Таиланд, бо раводиди сайёҳӣ меравед, маош 1500$",
    "Aiki a Thailand, za ku tafi da bizar yawon shakatawa, albashi $1200",
])
def test_a_destination_and_irregular_travel_flag(engine, text):
    a = engine.assess({"description": text})
    assert a.flagged, (a.score, [(e.rule_id, e.matched_text) for e in a.evidence])


# ... but not in a warning against such offers, nor in a holiday package sold to tourists
@pytest.mark.parametrize("text, mitigating", [
    ("Warning: do not go to Cambodia on a tourist visa for a job. Fake recruiters are trafficking people.",
     "mitigating.awareness_post"),
    ("Babala: huwag pumunta sa Thailand gamit ang tourist visa para magtrabaho", "mitigating.awareness_post"),
    ("Не езжайте в Таиланд по туристической визе работать, это обман", "mitigating.awareness_post"),
    ("Thailand tour package 5 days, visa on arrival, hotel and flights, from $499, book on WhatsApp",
     "mitigating.travel_package"),
    ("PROMO 3D2N Phnom Penh city tour, airfare and hotel, visa on arrival, PHP 15,999 per person",
     "mitigating.travel_package"),
    ("Paquete Camboya 8 días y 7 noches, vuelos y hoteles, desde $1.200 por persona, reserva por WhatsApp",
     "mitigating.travel_package"),
])
def test_warnings_and_tour_packages_stay_unflagged(engine, text, mitigating):
    a = engine.assess({"description": text})
    assert mitigating in _rule_ids(a) and not a.flagged, (a.score, [(e.rule_id, e.matched_text) for e in a.evidence])


# "no cost" words are broad in some languages ("no fee", "without cost"): with a country they do not flag a post
@pytest.mark.parametrize("text", [
    "Tuyển hướng dẫn viên tour Campuchia, không mất phí đào tạo, lương 12 triệu",
    "Kazi ya mwongozo wa watalii Thailand, bila gharama ya mafunzo",
    "Trabaho bilang tour guide sa Thailand tours, walang gastos sa training",
    "Cần tuyển giáo viên tiếng Anh người Philippines, không mất phí tuyển dụng",
])
def test_no_fee_wording_and_a_country_stay_unflagged(engine, text):
    a = engine.assess({"description": text})
    assert not a.flagged, (a.score, [(e.rule_id, e.matched_text) for e in a.evidence])
