"""Contact extraction: positives across languages and obfuscations, and must-not-match negatives."""
import pytest

from rules.entities import extract_contacts, extract_from_text
from rules.model import Ad


def found(text):
    return {(c.kind, c.value) for c in extract_from_text(text, "description")}


@pytest.mark.parametrize(
    "text, expected",
    [
        # Telegram
        ("Contact TG: @hr_cambodia88 now", ("telegram", "hr_cambodia88")),
        ("Apply: t.me/JobsKH_2024", ("telegram", "jobskh_2024")),
        ("https://telegram.me/Recruit_Asia", ("telegram", "recruit_asia")),
        ("Telegram: recruit_vn", ("telegram", "recruit_vn")),
        ("Telegram hr_team88 for details", ("telegram", "hr_team88")),  # no colon: digits/underscore make it a handle
        ("Telegram: lotusinfotech", ("telegram", "lotusinfotech")),
        ("t e l e g r a m : abcde_12", ("telegram", "abcde_12")),
        ("T.E.L.E.G.R.A.M @hiring_now", ("telegram", "hiring_now")),
        ("link t . me / fastjob88", ("telegram", "fastjob88")),
        ("link t[.]me/fastjob88", ("telegram", "fastjob88")),
        ("纸飞机: kk_hr888", ("telegram", "kk_hr888")),
        ("有意者加飞机:abc_hr2024 详聊", ("telegram", "abc_hr2024")),
        ("ติดต่อ @thai_admin99 ได้เลย", ("telegram", "thai_admin99")),
        # WhatsApp
        ("WA: +63 917 123 4567", ("whatsapp", "+639171234567")),
        ("WhatsApp 0917-123-4567", ("whatsapp", "+639171234567")),
        ("https://wa.me/639171234567", ("whatsapp", "+639171234567")),
        ("api.whatsapp.com/send?phone=85512345678", ("whatsapp", "+85512345678")),
        ("WhatsApp wa.me/95912345678", ("whatsapp", "+95912345678")),  # international even if not in the metadata
        ("Hubungi via WhatsApp: 0812-3456-7890", ("whatsapp", "+6281234567890")),
        # LINE
        ("Line ID: thaijob99", ("line", "thaijob99")),
        ("line.me/ti/p/~hrbkk", ("line", "hrbkk")),
        ("ไลน์: hr_thai77", ("line", "hr_thai77")),
        # WeChat
        ("微信: wx_hr2024", ("wechat", "wx_hr2024")),
        ("vx: abc_123456", ("wechat", "abc_123456")),
        ("VX：hr888k", ("wechat", "hr888k")),
        ("WeChat ID: Asia_Jobs01", ("wechat", "asia_jobs01")),
        ("威信: kefu_2025", ("wechat", "kefu_2025")),
        ("微信 jmm_hr2026 / QQ 2345678901", ("wechat", "jmm_hr2026")),  # a CJK label needs no colon
        ("电报 goldhr_888", ("telegram", "goldhr_888")),
        ("Contact on T.e.l.e.g.r.a.m only: vertex_talent (no calls)", ("telegram", "vertex_talent")),
        ("Telegram username: kk_hr_01", ("telegram", "kk_hr_01")),
        # Zalo
        ("Liên hệ Zalo: 0912 345 678", ("zalo", "+84912345678")),
        ("zalo.me/0987654321", ("zalo", "+84987654321")),
        # QQ
        ("加QQ: 12345678 了解详情", ("qq", "12345678")),
        # email (plain and obfuscated)
        ("jobs@example.co.th", ("email", "jobs@example.co.th")),
        ("hr.team(at)gmail[dot]com", ("email", "hr.team@gmail.com")),
        ("recruit [at] asiajobs (dot) net", ("email", "recruit@asiajobs.net")),
        # links and registered domains
        ("visit https://jobs.example.com.kh/apply?x=1.", ("url", "https://jobs.example.com.kh/apply?x=1")),
        ("visit https://jobs.example.com.kh/apply", ("domain", "example.com.kh")),
        ("www.bestjob.vip", ("domain", "bestjob.vip")),
        ("Apply at careers.fastjobs-asia.com/form", ("domain", "fastjobs-asia.com")),
        # phones in many national formats
        ("Call +855 12 345 678 now", ("phone", "+85512345678")),
        ("Call 0917.123.4567", ("phone", "+639171234567")),
        ("โทร 081-234-5678", ("phone", "+66812345678")),
        ("Gọi 0912.345.678", ("phone", "+84912345678")),
        ("Hubungi 0812 3456 7890", ("phone", "+6281234567890")),
        ("Call +60 12-345 6789", ("phone", "+60123456789")),
        ("电话 138 0013 8000", ("phone", "+8613800138000")),
        ("Call +254 712 345678", ("phone", "+254712345678")),
        ("Ligue +55 11 91234-5678", ("phone", "+5511912345678")),
        ("Call (415) 555-2671 today", ("phone", "+14155552671")),
        # digits written in words
        ("call nine one seven one two three four five six seven", ("phone", "+639171234567")),
        ("text plus six three nine one seven one two three four five six seven", ("phone", "+639171234567")),
        ("zero nine one seven double one two three four five six", ("phone", "+639171123456")),
    ],
)
def test_finds_contact(text, expected):
    assert expected in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Salary 35000-50000 PHP per month",
        "Pay USD 1000-1500/month",
        "Gaji Rp 15.000.000 per bulan",
        "Lương 15.000.000 đ/tháng",
        "月薪30000元 包吃包住",
        "เงินเดือน 35,000 บาท",
        "Established 2019, experience 2015-2023",
        "Office: 10110 Bangkok, postcode 12150",
        "Job ID: 0917123456",
        "Ref 639171234567",
        "Reference no. 2024081512",
        "#12345678 posted",
        "Email me at the office dot com",
        "follow us @company on Instagram",
        "the line between work and life",
        "We sell WA-compliant products",
        "one two three go",
        "Contact our HR team through the careers page",
        "坐飞机 ABC company",  # "plane", not Telegram
        "Telegram only please",
        "Send your CV on Telegram today",  # a word after the label is not a handle (it linked unrelated ads)
        "Join our Telegram channels for updates",
        "Liên hệ WeChat hoặc Zalo",
        "Mercy Staffing Inc. (DMW licence DMW-123-LB-0420-2026)",  # licence codes are not phones
        "POEA-091-LB-03142024-R",
    ],
)
def test_no_contact(text):
    assert found(text) == set()


def test_spans_point_into_the_field():
    text = "Salary $1,200. Contact TG: @hr_team99 or WA +63 917 123 4567."
    for c in extract_from_text(text, "contact"):
        assert text[c.start:c.end] == c.raw
        assert c.field == "contact"


def test_ad_dedupes_and_orders_by_field():
    ad = Ad(
        title="Customer service in Cambodia",
        description="High pay. Telegram @kh_recruit01. Call 0917 123 4567.",
        contact="t.me/kh_recruit01 / +63 917 123 4567",
        salary="35000-50000 PHP",
    )
    contacts = extract_contacts(ad)
    pairs = [(c.kind, c.value) for c in contacts]
    assert pairs.count(("telegram", "kh_recruit01")) == 1
    assert pairs.count(("phone", "+639171234567")) == 1
    assert contacts[0].field == "description"  # description comes before contact in AD_FIELDS
    assert all(c.field != "salary" for c in contacts)


def test_script_hint_picks_the_region():
    # 0812345678 is valid in Thailand; a Thai-script ad should read it as Thai
    ad = Ad(description="ติดต่อ โทร 081 234 5678")
    assert ("phone", "+66812345678") in {(c.kind, c.value) for c in extract_contacts(ad)}


@pytest.mark.parametrize("frame", ["Contact us: {}", "Call us on {} today", "Text us at {}.", "Please WhatsApp us {}",
                                   "Hotline {} (24h)", "Call {}"])
@pytest.mark.parametrize("written", ["+63 917 123 4567", "0917 123 4567", "0917-123-4567", "+63-917-123-4567",
                                     "09171234567", "(0917) 123-4567", "0063 917 123 4567", "+63 (917) 123 4567"])
def test_one_phone_written_many_ways_is_one_value(frame, written):
    """Campaign linking joins ads on this value (crawler/campaigns): every way of writing the number, in the
    words an ad puts before it, must give the same E.164 ("Contact us:" read as "US" dollars gave nothing)."""
    values = {c.value for c in extract_from_text(frame.format(written), "description") if c.value.startswith("+")}
    assert values == {"+639171234567"}


@pytest.mark.parametrize("text", ["Pay US 25000000 per year", "Salary: US 12000000"])
def test_us_dollars_are_still_no_phone(text):
    assert found(text) == set()


@pytest.mark.parametrize("language, text, phone", [
    # an Indonesian ad's Medan number, not a Thai one (Thailand comes first in the default order)
    ("id", "Lowongan admin di Medan, hubungi kantor kami di (061) 456 7788 atau datang langsung.", "+62614567788"),
    ("ms", "Jawatan kosong kerani di Kuala Lumpur, hubungi pejabat (03) 2145 6789 pada waktu pejabat.", "+60321456789"),
])
def test_the_ads_language_picks_the_region(language, text, phone):
    ad = Ad(description=text)
    assert ("phone", phone) in {(c.kind, c.value) for c in extract_contacts(ad, language=language)}


def test_the_engine_reads_national_numbers_in_the_ads_language():
    from rules.engine import Engine

    assessment = Engine.load(with_similarity=False).assess(
        {"title": "Lowongan kerja admin kantor", "description": "Dibutuhkan admin kantor di Medan, gaji sesuai UMR. "
         "Kirim lamaran atau hubungi kantor kami di (061) 456 7788."})
    assert assessment.language == "id"
    assert [c.value for c in assessment.contacts if c.kind == "phone"] == ["+62614567788"]
