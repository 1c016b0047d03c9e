"""Pay in the currencies and number words of every pack language's home market: parsed with the right magnitude,
normalised per month, compared with what the role pays at home (rules/salary.py)."""
import pytest

from rules.salary import LANGUAGE_MARKET, PAY_NORM_USD, USD_RATES, parse_salary, pay_norm_usd


@pytest.mark.parametrize("text, default, currency, period, low, high", [
    # Ethiopia / Eritrea
    ("ደሞዝ 15,000 ብር በወር", None, "ETB", "month", 15000, 15000),
    ("Salary: 45,000 birr per month", None, "ETB", "month", 45000, 45000),
    ("ወርሃዊ ደሞዝ 1,500 ዶላር", None, "USD", "month", 1500, 1500),
    ("ደሞዝ 9000 ናቕፋ ወርሓዊ", None, "ERN", "month", 9000, 9000),
    # Kenya, Uganda, Tanzania, Nigeria, Somalia
    ("KSh 150k monthly", None, "KES", "month", 150000, 150000),
    ("Mshahara Ksh 120,000 kwa mwezi", None, "KES", "month", 120000, 120000),
    ("USh 1.5m monthly", None, "UGX", "month", 1.5e6, 1.5e6),
    ("Omusaala UGX 2,500,000 buli mwezi", None, "UGX", "month", 2.5e6, 2.5e6),
    ("TSh 1,200,000 kwa mwezi", None, "TZS", "month", 1.2e6, 1.2e6),
    ("₦450,000 monthly", None, "NGN", "month", 450000, 450000),
    ("albashi 300k naira a wata", None, "NGN", "month", 300000, 300000),
    ("mushahar $1,500 bishii", None, "USD", "month", 1500, 1500),
    # South Asia: lakh and crore, rupees of five countries
    ("data-entry operator in Thailand, Rs 1 lakh a month", None, "INR", "month", 1e5, 1e5),
    ("salary 1.5 lakh per month", None, "INR", "month", 1.5e5, 1.5e5),
    ("₹2.5 lac/month", None, "INR", "month", 2.5e5, 2.5e5),
    ("वेतन 80,000 रुपये प्रति माह", None, "INR", "month", 80000, 80000),
    ("सैलरी 1 लाख महीना", None, "INR", "month", 1e5, 1e5),
    ("package 1 crore per year", None, "INR", "year", 1e7, 1e7),
    ("तलब रु ७०,००० मासिक", "NPR", "NPR", "month", 70000, 70000),
    ("Salary Rs 2 lakh monthly", "PKR", "PKR", "month", 2e5, 2e5),
    ("تنخواہ 2 لاکھ روپے ماہانہ", "PKR", "PKR", "month", 2e5, 2e5),
    ("বেতন ৫০,০০০ টাকা মাসিক", None, "BDT", "month", 50000, 50000),
    ("৳ 60,000 মাসে", None, "BDT", "month", 60000, 60000),
    ("বেতন ১ লাখ টাকা", "BDT", "BDT", "month", 1e5, 1e5),
    ("වැටුප රු 150,000 මසකට", None, "LKR", "month", 150000, 150000),
    ("சம்பளம் ரூ 50,000 மாதம்", None, "INR", "month", 50000, 50000),
    # East Asia: 만 / 万 / 萬 count in ten-thousands
    ("월 500만원", None, "KRW", "month", 5e6, 5e6),
    ("월급 300만 원", None, "KRW", "month", 3e6, 3e6),
    ("₩3,000,000 per month", None, "KRW", "month", 3e6, 3e6),
    ("月給30万円", None, "JPY", "month", 3e5, 3e5),
    ("月収50万円以上", None, "JPY", "month", 5e5, 5e5),
    ("10万元/月", None, "CNY", "month", 1e5, 1e5),
    ("月薪3萬", "TWD", "TWD", "month", 3e4, 3e4),
    # Southeast Asia
    ("Gaji Rp 10 juta per bulan", None, "IDR", "month", 1e7, 1e7),
    ("chat support in Cambodia, ₱60,000 a month", None, "PHP", "month", 60000, 60000),
    ("60,000 piso kada buwan", None, "PHP", "month", 60000, 60000),
    ("เงินเดือน 50,000 บาท/เดือน", None, "THB", "month", 50000, 50000),
    ("฿35,000/month", None, "THB", "month", 35000, 35000),
    ("Job in Cambodia, up to RM15,000 a month", None, "MYR", "month", 15000, 15000),
    # Russia, Central Asia, Mongolia, Turkey
    ("зарплата 150 тыс. руб. в месяц", None, "RUB", "month", 150000, 150000),
    ("оплата $2000 в месяц", None, "USD", "month", 2000, 2000),
    ("айына 1000 доллар", None, "USD", "month", 1000, 1000),
    ("зарплата 25 000 сом в месяц", None, "KGS", "month", 25000, 25000),
    ("маош 5000 сомонӣ дар як моҳ", None, "TJS", "month", 5000, 5000),
    ("oylik 8 mln so'm", None, "UZS", "month", 8e6, 8e6),
    ("зарплата 6 000 000 сум в месяц", None, "UZS", "month", 6e6, 6e6),
    ("жалақы 400 000 тенге айына", None, "KZT", "month", 400000, 400000),
    ("₸350 000 в месяц", None, "KZT", "month", 350000, 350000),
    ("цалин 2,500,000 төгрөг сард", None, "MNT", "month", 2.5e6, 2.5e6),
    ("₮1.8 сая сарын цалин", None, "MNT", "month", 1.8e6, 1.8e6),
    ("maaş 45.000 TL aylık", None, "TRY", "month", 45000, 45000),
    ("aylık 2.000 dolar", None, "USD", "month", 2000, 2000),
    # Arabic, French/francophone Africa, Spanish, Portuguese, euro
    ("الراتب 3000 دولار شهريا", None, "USD", "month", 3000, 3000),
    ("راتب ٢٥٠٠ دولار شهري", None, "USD", "month", 2500, 2500),
    ("الراتب 9000 جنيه شهريا", None, "EGP", "month", 9000, 9000),
    ("salaire 250 000 FCFA par mois", None, "XOF", "month", 250000, 250000),
    ("sueldo 18,000 MXN mensuales", None, "MXN", "month", 18000, 18000),
    ("sueldo 15,000 pesos al mes", "MXN", "MXN", "month", 15000, 15000),
    ("salário de R$ 5.000 por mês", None, "BRL", "month", 5000, 5000),
    ("€2.000 al mes", None, "EUR", "month", 2000, 2000),
])
def test_parse_world_currencies(text, default, currency, period, low, high):
    s = parse_salary(text, default, pay_field=True)
    assert s is not None, text
    assert (s.currency, s.period, s.low, s.high) == (currency, period, low, high), text
    assert text[s.start:s.end] == s.text
    assert s.usd_month_high == pytest.approx(high * USD_RATES[currency] * {"month": 1, "year": 1 / 12}[period], rel=0.01)


@pytest.mark.parametrize("text", [
    "Founded 1998, 200 staff, 3 offices", "Age 20-35", "3월 입사 가능", "Требуется опыт 2 года",
    "сумма не важна, 5 лет опыта",
])
def test_numbers_that_are_not_pay_in_other_languages(text):
    assert parse_salary(text) is None, text


@pytest.mark.parametrize("language", ["ko", "ja", "ru", "kk", "ky", "tg", "uz", "mn", "tr", "am", "ti", "om", "so",
                                      "sw", "lg", "yo", "ha", "ar", "ur", "hi", "bn", "ne", "si", "ta", "fr", "es",
                                      "pt", "km", "my", "lo", "th", "vi", "zh-hans", "zh-hant", "id", "ms", "tl"])
def test_every_pack_language_has_a_home_market(language):
    market = LANGUAGE_MARKET[language]
    assert market in USD_RATES and 50 <= PAY_NORM_USD[market] <= 3000


@pytest.mark.parametrize("text, language, ratio_min", [
    ("$2,000 per month", "ru", 2.5),       # Russian audience: ~US$650 at home
    ("$1,500 per month", "am", 10),        # Ethiopian audience
    ("$1,500 per month", "ko", 0.5),       # Korean audience: an ordinary wage
])
def test_usd_pay_compared_with_the_audience_home_market(text, language, ratio_min):
    s = parse_salary(text, pay_field=True)
    ratio = s.usd_month / pay_norm_usd(s, "", language)
    assert ratio >= ratio_min
    if language == "ko":
        assert ratio < 2  # not "far above the norm"


@pytest.mark.parametrize("places, norm_max", [("캄보디아", 300), ("Сиануквиле", 300), ("ميانمار", 150), ("ラオス", 200)])
def test_usd_pay_compared_with_a_hub_named_in_any_script(places, norm_max):
    s = parse_salary("$1,500 per month", pay_field=True)
    assert pay_norm_usd(s, "", None, places) <= norm_max
    assert pay_norm_usd(s, "", None, "") >= 2000  # nothing named, no audience: the USD norm


@pytest.mark.parametrize("text", ["Good salary. Eastern 2000 series printers", "Salary: we won 50,000 customers",
                                  "Salary on trial: try 3000 calls", "Salary help: SOS 1120 line",
                                  "Salary talk, meeting of 30 min daily"])
def test_english_words_are_not_currencies(text):
    assert parse_salary(text) is None, text


@pytest.mark.parametrize("body, message", [
    ("currencies:\n  - code: XYZ\n    usd: -1\n", r":2: XYZ: 'usd' must be a positive number"),
    ("currencies:\n  - code: XYZ\n    names: 'xyz'\n", r":2: XYZ: a currency with 'names' needs its 'usd' rate"),
    ("currencies:\n  - code: XYZ\n    usd: 1\n    names: 'x(yz'\n", r":2: XYZ: bad 'names' regex"),
    ("currencies:\n  - code: XYZ\n    usd: 1\n    colour: red\n", r":2: XYZ: unknown keys \['colour'\]"),
    ("currencies:\n  - code: XYZ\n    usd: 1\n    languages: [xx]\n", r"languages \['xx'\] point at markets without"),
    ("money: []\n", r":1: expected a mapping with a 'currencies' list"),
])
def test_bad_markets_file_names_file_and_line(tmp_path, body, message):
    from rules.ruleset import RulesetError
    from rules.salary import _load_markets

    path = tmp_path / "markets.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(RulesetError, match=message):
        _load_markets(path)
