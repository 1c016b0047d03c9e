"""Salary parsing: "US$1,000–1,200/month", "月薪3万", "15 triệu/tháng", "Rp 8 juta", "₱30,000 - 50,000", "월 500만원",
"Rs 1 lakh", "15,000 ብር" -> monthly USD, plus the pay norm a salary is compared with.

Currencies, rates, entry-level pay and the market of each audience language are data (rules/markets.yaml); rough
(late 2025) and static on purpose: the engine must be deterministic and offline.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ._hintscan import HintScan
from ._lowertwin import stored_twin
from .numwords import spell_numbers
from ._prefilter import split_branches
from ._regex import guarded
from .regex_store import stored_compile

MARKETS_FILE = Path(__file__).parent / "markets.yaml"
MARKET_KEYS = {"code", "usd", "entry_pay_usd", "languages", "names", "note"}


def _load_markets(path: Path = MARKETS_FILE) -> tuple[dict[str, float], dict[str, float], dict[str, str],
                                                       list[tuple[str, str]]]:
    """(USD per unit, entry-level pay in US$, language -> market, [(code, names regex)] in match order) from
    markets.yaml; RulesetError names file and line on a bad entry."""
    from .ruleset import RulesetError, _read_yaml

    doc = _read_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("currencies"), list):
        raise RulesetError(f"{path}:1: expected a mapping with a 'currencies' list")
    rates, norms, languages, names = {}, {}, {}, []
    for entry in doc["currencies"]:
        where = f"{path}:{entry.get('__line__', 0) if isinstance(entry, dict) else 0}"
        if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
            raise RulesetError(f"{where}: each entry needs a 'code'")
        code = entry["code"]
        unknown = set(entry) - MARKET_KEYS - {"__line__", "__lines__"}
        if unknown:
            raise RulesetError(f"{where}: {code}: unknown keys {sorted(unknown)}")
        for key, table in (("usd", rates), ("entry_pay_usd", norms)):
            value = entry.get(key)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                    raise RulesetError(f"{where}: {code}: {key!r} must be a positive number, got {value!r}")
                table[code] = float(value)
        for language in entry.get("languages") or ():
            if language in languages:
                raise RulesetError(f"{where}: {code}: language {language!r} is already in market {languages[language]}")
            languages[language] = code
        if entry.get("names"):
            if code not in rates:
                raise RulesetError(f"{where}: {code}: a currency with 'names' needs its 'usd' rate")
            try:
                re.compile(entry["names"])
            except re.error as exc:
                raise RulesetError(f"{where}: {code}: bad 'names' regex: {exc}") from None
            names.append((code, entry["names"]))
    missing = [lang for lang, code in languages.items() if code not in norms]
    if missing:
        raise RulesetError(f"{path}: languages {missing} point at markets without 'entry_pay_usd'")
    return rates, norms, languages, names


# USD per unit of currency; typical monthly pay (USD) of an entry-level office / customer-service job in a market;
# the market of each audience language; how ads write each currency (rules/markets.yaml)
USD_RATES, PAY_NORM_USD, LANGUAGE_MARKET, _CURRENCIES = _load_markets()
# Where a USD salary is offered, the market it is compared with: by work place or audience language.
MARKET_HINTS = (
    (r"cambodia|campuchia|kamboja|camboja|camboya|cambodge|kambodscha|kemboja|камбодж|캄보디아|カンボジア|柬埔寨|កម្ពុជា|กัมพูชา|phnom penh|sihanoukville|poipet|bavet", "KHR"),
    (r"myanmar|burma|miến điện|緬甸|缅甸|พม่า|myawa?ddy|tachileik|mandalay|yangon", "MMK"),
    (r"\blaos\b|\blao pdr\b|老挝|寮國|ລາວ|ลาว|golden triangle|vientiane", "LAK"),
    (r"thailand|tailandia|tailândia|thaïlande|thailande|таиланд|태국|タイ王国|thái lan|泰国|泰國|ประเทศไทย|bangkok|mae sot|pattaya|chiang", "THB"),
    (r"philippines|pilipinas|manila|cebu|davao|pinoy|filipino", "PHP"),
    (r"vietnam|việt nam|viet nam|越南|hanoi|hà nội|saigon|hồ chí minh", "VND"),
    (r"indonesia|jakarta|surabaya|medan|batam|\bwni\b", "IDR"),
    (r"malaysia|kuala lumpur|penang|johor|sabah", "MYR"),
    (r"\bindia\b|mumbai|delhi|bangalore|bengaluru|chennai|hyderabad|kolkata|\bpune\b", "INR"),
    (r"kenya|nairobi|mombasa|kisumu|uganda|kampala|tanzania|dar es salaam", "KES"),
    (r"nigeria|lagos|abuja|ghana|accra", "NGN"),
    (r"sri lanka|colombo|nepal|kathmandu|bangladesh|dhaka|pakistan|karachi|lahore", "LKR"),
    # only a region named: compared with a typical Southeast-Asian entry-level wage
    (r"south ?-?east(?:ern)? asia|\basean\b|indochina|東南亞|东南亚|đông nam á|dong nam a|asia tenggara|sudeste asi|"
     r"\basia\b|\básia\b|亚洲|亞洲|เอเชีย|អាស៊ី|အာရှ", "ASIA"),
    # the UAE last: "Dubai, then Southeast Asia" is compared with the place the recruit ends up in
    (r"dubai|dubaï|abu dhabi|\buae\b|sharjah|迪拜|杜拜|阿联酋|дубай|дубае|두바이|ドバイ|ดูไบ|دبئی|दुबई", "AED"),
)
COUNTRY_MARKET = {"KH": "KHR", "MM": "MMK", "LA": "LAK", "TH": "THB", "PH": "PHP"}  # hub countries (rules/places.py)
# A generic name ("Rs", "pesos", "shillings") means the ad's own currency when the audience's market uses one of
# the same family (Rs in a Nepali ad is NPR, pesos in a Mexican one MXN)
_FAMILIES = {
    "INR": (re.compile(r"rs\.?|rupees?|rupaye|रुपये|रुपए|ரூ\.?"), ("PKR", "NPR", "LKR")),
    "PHP": (re.compile(r"pesos?"), ("MXN",)),
    "KES": (re.compile(r"shillings?|kshs?\.?"), ("UGX", "TZS", "SOS")),
}
def _ascii_part(pattern: str) -> str:
    """The top-level alternatives of `pattern` written in ASCII: all that can match ASCII text (a pattern that
    never matches if there are none). Most ads are ASCII; their regexes skip the other scripts' words."""
    alternatives = [b for b in split_branches(pattern) if b.isascii()]
    return "|".join(alternatives) if alternatives else "(?!x)x"


_CUR_ALT = "|".join(f"(?:{pat})" for _, pat in _CURRENCIES)
_CUR_ALT_ASCII = "|".join(f"(?:{_ascii_part(pat)})" for _, pat in _CURRENCIES)
_CUR_EXACT = [(code, re.compile(f"(?:{pat})", re.IGNORECASE)) for code, pat in _CURRENCIES]
_CUR_AFTER = re.compile(rf"\s?(?:{_CUR_ALT})", re.IGNORECASE)


def currency_at(text: str, pos: int) -> bool:
    """Whether a currency name (rules/markets.yaml) starts at `pos` of `text`, after at most one space."""
    return _CUR_AFTER.match(text, pos) is not None


@lru_cache(maxsize=4096)  # up to 45 IGNORECASE full matches per token: the same few tokens recur
def _currency_of(token: str | None) -> str | None:
    if not token:
        return None
    token = token.strip()
    for code, rx in _CUR_EXACT:
        if rx.fullmatch(token):
            return code
    return None

# multiplier words, with the currency they imply (None = any)
_MULTIPLIERS = [
    (r"k\b|千|thousand|ngàn|nghìn|ribu|rb\b|พัน", 1e3, None),
    (r"万|萬|w\b", 1e4, "CNY"),
    (r"หมื่น", 1e4, "THB"),
    (r"triệu|trieu|tr\b|củ\b", 1e6, "VND"),  # "30 củ": a million dong in slang
    (r"juta|jt\b", 1e6, "IDR"),
    (r"lakhs?|lacs?|lpa\b", 1e5, "INR"),
    (r"crores?", 1e7, "INR"),
    (r"ล้าน", 1e6, "THB"),
    (r"ລ້ານ", 1e6, "LAK"),
    (r"แสน", 1e5, "THB"),
    (r"သိန်း", 1e5, "MMK"),
    (r"သောင်း", 1e4, "MMK"),
    (r"ម៉ឺន", 1e4, "KHR"),
    (r"million|mil\b|m\b|milyon|mln|млн|сая", 1e6, None),
    (r"만", 1e4, "KRW"),
    (r"тыс\.?|тысяч|мың|миң|к\b|ming\b|bin\b|ألف|آلاف|الف|ہزار|हज़ार|हजार|হাজার|ሺህ|ሺ", 1e3, None),
    (r"लाख|লাখ|লক্ষ|لاکھ|ලක්ෂ|లక్ష|லட்சம்|ലക്ഷം|ਲੱਖ|ಲಕ್ಷ", 1e5, "INR"),
    (r"करोड़|करोड|কোটি|کروڑ|కోటి|கோடி|കോടി|ਕਰੋੜ|කෝටි|ಕೋಟಿ", 1e7, "INR"),
    (r"ሽሕ", 1e3, None),
]
def _mult_alt(prefix: str, ascii_only: bool) -> str:
    return "|".join(f"(?P<{prefix}{i}>{_ascii_part(pat) if ascii_only else pat})"
                    for i, (pat, _, _) in enumerate(_MULTIPLIERS))

_LAKH_GROUPED = r"\d{1,2}(?:,\d{2})+,\d{3}"  # South Asian grouping: 1,20,000 (1.2 lakh), 1,00,00,000 (1 crore)
_NUM = rf"{_LAKH_GROUPED}(?:\.\d{{1,2}})?|\d{{1,3}}(?:[,.\s ]\d{{3}})+(?:[.,]\d{{1,2}})?|\d+(?:[.,]\d+)?"
_RANGE_SEP = r"\s*(?:-|–|—|~|～|to|至|到|hanggang|hingga|sampai|s/d|đến|den|ถึง|hadi|a|até)\s*"
_NUMBER_START = re.compile(r"\d(?<![\d.,]\d)")  # (?<![\d.,])\d, class first: `re` scans for digits in a tight loop


def _money_regexes(ascii_only: bool) -> tuple[re.Pattern, re.Pattern]:
    """(currency right before a number, a money amount), for any text or for ASCII text only."""
    cur = _CUR_ALT_ASCII if ascii_only else _CUR_ALT
    money = stored_compile(
        rf"(?:(?P<pre>{cur})\s?)?"
        rf"(?P<a>{_NUM})\s?(?:{_mult_alt('m', ascii_only)})?"
        rf"(?:{_RANGE_SEP}(?:(?P<mid>{cur})\s?)?(?P<b>{_NUM})\s?(?:{_mult_alt('n', ascii_only)})?)?"
        rf"\+?\s?(?:(?P<post>{cur}))?",
        re.IGNORECASE,
    )
    return stored_compile(rf"(?:{cur})\s?$", re.IGNORECASE), money


_PRE_CURRENCY, _MONEY = _money_regexes(False)
_PRE_CURRENCY_ASCII, _MONEY_ASCII = _money_regexes(True)
# a scale word written before the digits (colloquial Burmese "သိန်း ၂၀" = 20 lakh kyat, Sinhala "ලක්ෂ 3ක්")
_SCALE_BEFORE = re.compile(r"(?P<word>သိန်း|ලක්ෂ)\s?$")
_SCALE_BEFORE_VALUE = {"သိန်း": (1e5, "MMK"), "ලක්ෂ": (1e5, "INR")}
_PERIOD_AFTER_K = re.compile(r"\s?/?\s?(?:monthly|a month|per month|month|/mo\b|mo\b)")
_OVER_10K = re.compile(r"(?:月入|月薪|月收入|收入)?(?:过|過|破|上)万")

PERIODS = {
    "month": r"month|monthly|월급|월\b|в месяц|месяц|в мес|/мес|ежемесячно|شهريا|شهرياً|شهري|في الشهر|ماہانہ|مہینہ|"
             r"प्रति माह|प्रति महीना|प्रति महिना|महीना|महीने|महिना|मासिक|माह|মাসিক|মাসে|মাস|මසකට|මාසික|මාසයට|மாதம்|மாத|மாசம்|மாசத்துக்கு|"
             r"በወር|ወርሃዊ|ወርሓዊ|aylık|aylik|ayda|айына|айлық|айлык|oyiga|oylik|ойига|ойлик|сард|сарын|моҳона|дар як моҳ|"
             r"par mois|/mois|mensuel|al mes|mensuales|mensual|bishii|bishiiba|a wata|duk wata|ji'aan|lósù|losu|"
             r"လစဉ်|ខែ|/mo\b|/mth|\bp\.?m\.?\b|per mon|月|เดือน|tháng|thang|bulan|/bln|sebulan|buwan|buwanang|mwezi|mês|mes\b|mensal|mahina|maheena",
    "year": r"year|yearly|annum|annual|연봉|年収|в год|годовой|سنويا|سنوي|सालाना|वार्षिक|yıllık|par an|al año|anual|\bp\.?a\.?\b|\blpa\b|/yr|年|ปี|năm|nam\b|tahun|taon|mwaka|ano\b|anual|\bsaal\b",
    "week": r"week|weekly|/wk|周|週|สัปดาห์|tuần|tuan|minggu|linggo|wiki|semana|hafta",
    "day": r"\bday\b|daily|/day|per day|日薪|每天|每日|天|ថ្ងៃ|တစ်ရက်|วัน|ngày|ngay\b|hari|araw|siku|\bdia\b|diária|din\b",
    "hour": r"hour|hourly|/hr|per hr|小时|小時|ชั่วโมง|giờ|gio\b|\bjam\b|oras|saa\b|hora",
}
_PERIOD_RE = guarded("|".join(f"(?P<{k}>{v})" for k, v in PERIODS.items()), re.IGNORECASE)
_PERIOD_RE_ASCII = guarded("|".join(f"(?P<{k}>{_ascii_part(v)})" for k, v in PERIODS.items()), re.IGNORECASE)
_TO_MONTH = {"month": 1.0, "year": 1 / 12, "week": 4.33, "day": 22.0, "hour": 173.0}
_PAY_PERIOD_BEFORE = re.compile(r"(月薪|月入|月收入|年薪|日薪|时薪|時薪|周薪|週薪)\s*[:：]?\s*(?:nt\$|rmb|¥|￥)?\s*$")
_STRONG_PERIODS = {"月": "month", "年": "year", "日": "day", "时": "hour", "時": "hour", "周": "week", "週": "week"}
_PAY_WORD_PATTERN = (
    r"salary|salaries|wage|pay\b|paid|earn|income|compensation|stipend|gaji|upah|pendapatan|lương|luong|thu nhập|"
    r"sahod|sweldo|kita|mshahara|salário|salario|renda|tankhwah|tankha|kamai|薪|工资|工資|收入|月入|待遇|"
    r"เงินเดือน|รายได้|ค่าจ้าง|ប្រាក់ខែ|လစာ|"
    r"월급|급여|연봉|수입|給与|給料|月給|月収|年収|報酬|зарплата|зарплату|зп|оклад|доход|заработная|жалақы|айлық|"
    r"эмгек акы|maosh|маош|музд|цалин|maaş|maas|ücret|راتب|الراتب|أجر|تنخواہ|वेतन|सैलरी|तनख्वाह|तलब|বেতন|"
    r"වැටුප|சம்பளம்|ደሞዝ|ደመወዝ|mushahar|mushaar|albashi|owo osu|mindaa|omusaala|salaire|rémunération|sueldo|"
    r"జీతం|ശമ്പളം|ਤਨਖਾਹ|ເງິນເດືອນ|malipo|wanalipa|analipa|watakulipa|utalipwa|unalipwa"
)
_PAY_WORD = guarded(_PAY_WORD_PATTERN, re.IGNORECASE)
_PAY_WORD_ASCII = guarded(_ascii_part(_PAY_WORD_PATTERN), re.IGNORECASE)


@dataclass
class Salary:
    """One pay mention: amounts in the stated currency and period, and monthly USD."""

    text: str
    start: int
    end: int
    currency: str
    period: str
    low: float
    high: float
    usd_month_low: float
    usd_month_high: float
    period_guessed: bool = False

    @property
    def usd_month(self) -> float:
        return self.usd_month_high


def _number(raw: str, currency: str | None) -> float | None:
    s = raw.replace(" ", "").replace("\u00a0", "")
    # "1,500" / "1.500" / "30.000.000" are thousands; "1.5" / "2,5" are decimals
    if re.fullmatch(_LAKH_GROUPED + r"(?:\.\d{1,2})?", s):
        return float(s.replace(",", ""))
    groups = re.split(r"[,.]", s)
    if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
        s = "".join(groups)
    elif len(groups) > 2 and len(groups[-1]) != 3:  # "1.500,00" / "1,500.00"
        s = "".join(groups[:-1]) + "." + groups[-1]
    else:
        s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return None


_MULTIPLIER_GROUPS: dict[tuple[re.Pattern, str], list[tuple[int, float, str | None]]] = {}


def _multiplier(m: re.Match, prefix: str) -> tuple[float, str | None]:
    """(factor, implied currency) of the first multiplier group `{prefix}{i}` that matched, else (1.0, None)."""
    table = _MULTIPLIER_GROUPS.get((m.re, prefix))
    if table is None:  # the groups' numbers in this regex (the money regexes and their lower-case twins)
        index = m.re.groupindex
        table = _MULTIPLIER_GROUPS[(m.re, prefix)] = [
            (index[f"{prefix}{i}"] - 1, factor, implied) for i, (_, factor, implied) in enumerate(_MULTIPLIERS)]
    groups = m.groups()
    for i, factor, implied in table:
        if groups[i]:
            return factor, implied
    return 1.0, None


_NATIVE_DIGITS = {}
# Thai, Khmer, Burmese, Devanagari, Lao, full-width, Arabic-Indic, Persian/Urdu, Bengali, Gurmukhi, Gujarati, Tamil,
# Sinhala, Mongolian
for _zero in (0x0E50, 0x17E0, 0x1040, 0x0966, 0x0ED0, 0xFF10, 0x0660, 0x06F0, 0x09E6, 0x0A66, 0x0AE6, 0x0BE6,
              0x0DE6, 0x1810):
    for _i in range(10):
        _NATIVE_DIGITS[_zero + _i] = str(_i)


_NATIVE_DIGIT_RE = re.compile("[" + "".join(chr(c) for c in _NATIVE_DIGITS) + "]")
# anything that can make a number a salary (checked once per text before the per-number work)
_MONEY_HINT_PATTERN = (
    r"\$|[€£¥￥₱₹₦฿₭៛৳]|usd|usdt|php|thb|vnd|vnđ|idr|\brp|\brm|myr|rmb|cny|inr|\brs\b|kes|ksh|ngn|brl|mmk|khr|"
    r"aed|sgd|hkd|ntd|twd|eur|gbp|lak|pkr|bdt|ugx|tzs|peso|piso|baht|ringgit|dollar|dola|rupee|rupaye|naira|reais|"
    r"kyat|riel|kip|dirham|shilling|triệu|trieu|juta|\bjt\b|lakh|lac|lpa|crore|万|萬|元|块|บาท|ဒေါ်လာ|ဘတ်|ដុល្លារ|"
    r"yuan|ယွမ်|หยวน|យន់|ကျပ်|သိန်း|"
    r"រៀល|ดอลลาร์|đô|过万|過萬|\d\s?(?:tr|k|m|jt)\b|"
    r"[₩₽₸₮₺]|krw|jpy|etb|birr|ብር|nakfa|npr|lkr|rub|kzt|kgs|tjs|uzs|mnt|\btl\b|fcfa|cfa|egp|\bsar\b|ugx|ush|"
    r"원|円|руб|тенге|теңге|сом|сўм|сум|so'm|төгрөг|lira|dolar|dólar|доллар|دولار|ڈالر|डॉलर|ডলার|ዶላር|달러|ドル|"
    r"रु|रू|රු|ரூ|روپے|روپیہ|रुपये|रुपए|টাকা|جنيه|ريال|만|लाख|লাখ|لاکھ|ලක්ෂ|లక్ష|லட்சம்|ലക്ഷം|ਲੱਖ|ಲಕ್ಷ|करोड|কোটি|млн|mln|"
    r"ඩොලර්|டாலர்|డాలర్|ഡോളർ|ਡਾਲਰ|ໂດລາ|ລ້ານ|ກີບ|ບາດ|\d\s?củ|\d\s?k\s?/?\s?(?:month|monthly|a month|per month|mo\b)|dala|doolaar|doolar|dọla|doola|หมื่น|แสน|ล้าน|သောင်း|ម៉ឺន|"
    + _PAY_WORD_PATTERN
)
_MONEY_HINT = HintScan(_MONEY_HINT_PATTERN)
_MONEY_HINT_ASCII = HintScan(_ascii_part(_MONEY_HINT_PATTERN))


@dataclass(frozen=True)
class _Regexes:
    hint: HintScan
    pre_currency: re.Pattern
    money: re.Pattern
    pay_word: re.Pattern
    period: re.Pattern


_ANY_TEXT = _Regexes(_MONEY_HINT, _PRE_CURRENCY, _MONEY, _PAY_WORD, _PERIOD_RE)
_ASCII_TEXT = _Regexes(_MONEY_HINT_ASCII, _PRE_CURRENCY_ASCII, _MONEY_ASCII, _PAY_WORD_ASCII, _PERIOD_RE_ASCII)


def _lower_twins(rx: _Regexes) -> _Regexes:
    """`rx` for text that str.lower() made (same length): its IGNORECASE regexes as case-sensitive twins
    (rules/_lowertwin.py: same matches, several times faster); a regex without a twin is kept."""
    return _Regexes(rx.hint, stored_twin(rx.pre_currency), stored_twin(rx.money), stored_twin(rx.pay_word),
                    stored_twin(rx.period))


_ANY_LOWER, _ASCII_LOWER = _lower_twins(_ANY_TEXT), _lower_twins(_ASCII_TEXT)


def _money_matches(low_text: str, near_hint: bool = False, rx: _Regexes = _ANY_TEXT, hints: list[int] | None = None):
    """_MONEY matches, tried only where a number starts (a currency may sit just before it) and, with
    `near_hint`, only within 45 characters of a currency / multiplier / pay word (`hints`: rx.hint.starts)."""
    if near_hint and hints is None:
        hints = rx.hint.starts(low_text)
    last_end = 0
    for num in _NUMBER_START.finditer(low_text):
        pos = num.start()
        if pos < last_end:
            continue
        if near_hint and not rx.hint.any_in(low_text, hints, max(0, pos - 45), pos + 45):
            continue
        start = pos
        pre = rx.pre_currency.search(low_text, max(last_end, pos - 12), pos)  # "doolaara 1,500"
        if pre:
            start = pre.start()
        m = rx.money.match(low_text, start)
        if m is None or m.end() <= pos:
            continue
        last_end = m.end()
        yield m


def find_salaries(text: str, default_currency: str | None = None, pay_field: bool = False) -> list[Salary]:
    """Pay mentions in `text`, in order. A number counts when it has a currency, a currency-implying
    multiplier (triệu, juta, lakh, 万) or a pay word right before it."""
    if not text:
        return []
    lowered = len(text.lower()) == len(text)
    low_text = text.lower() if lowered else text
    if not low_text.isascii() and _NATIVE_DIGIT_RE.search(low_text):
        low_text = low_text.translate(_NATIVE_DIGITS)
    if low_text.isascii():
        rx = _ASCII_LOWER if lowered else _ASCII_TEXT
    else:
        rx = _ANY_LOWER if lowered else _ANY_TEXT
    hints: list[int] = []
    if not pay_field:
        hints = rx.hint.starts(low_text)
        if not rx.hint.any_in(low_text, hints):
            return []  # no currency, multiplier or pay word anywhere: nothing to parse
    spelled = spell_numbers(text)  # pay in words ("fifteen thousand", "dos mil", "一万五"): read as digits
    if spelled is not None:
        return spelled.remap(find_salaries(spelled.text, default_currency, pay_field), text)
    out: list[Salary] = []
    for m in _money_matches(low_text, not pay_field, rx, hints):
        currency = _currency_of(m.group("pre")) or _currency_of(m.group("mid")) or _currency_of(m.group("post"))
        mult_a, implied_a = _multiplier(m, "m")
        mult_b, implied_b = _multiplier(m, "n") if m.group("b") else (1.0, None)
        if m.group("b") and mult_a == 1.0 and mult_b != 1.0:
            mult_a = mult_b  # "2-5万", "15-20 triệu"
        start = m.start()
        if mult_a == 1.0 and mult_b == 1.0 and (scale := _SCALE_BEFORE.search(low_text, max(0, start - 8), start)):
            mult_a, implied_a = _SCALE_BEFORE_VALUE[scale.group("word")]
            start = scale.start()
        implied = implied_a or implied_b
        before = low_text[max(0, start - 40):start]
        # a pay word just before the amount, or right after it ("80,000 சம்பளம்", "1,500 salary")
        pay_context = pay_field or bool(rx.pay_word.search(before) or rx.pay_word.search(low_text, m.end(),
                                                                                          m.end() + 12))
        if not pay_context and mult_a == 1e3 and m.group("m0"):  # "45k monthly", "30k/month": k and a period
            pay_context = bool(_PERIOD_AFTER_K.match(low_text, m.end()))
        if implied == "CNY" and default_currency in ("TWD", "HKD", "JPY"):
            implied = default_currency  # 萬 in a Taiwanese / Hong Kong ad, 万 in a Japanese one
        if implied == "INR" and default_currency in ("PKR", "NPR", "BDT", "LKR"):
            implied = default_currency  # lakh / crore in a Pakistani, Nepali, Bangladeshi or Sri Lankan ad
        if currency in _FAMILIES and default_currency in _FAMILIES[currency][1]:
            token = (m.group("pre") or m.group("mid") or m.group("post") or "").strip()
            if _FAMILIES[currency][0].fullmatch(token):
                currency = default_currency  # "Rs" in a Nepali ad, "pesos" in a Mexican one
        if currency is None:
            currency = implied or (default_currency if pay_context else None)
        if currency is None or (currency == "CNY" and implied is None and not pay_context and not m.group("post")
                                and not m.group("pre")):
            continue
        a = _number(m.group("a"), currency)
        b = _number(m.group("b"), currency) if m.group("b") else None
        if a is None:
            continue
        lo = a * mult_a
        hi = (b * (mult_b if mult_b != 1.0 else mult_a)) if b is not None else lo
        if hi < lo:
            lo, hi = hi, lo
        if lo <= 0:
            continue
        window = low_text[max(0, m.start() - 25):m.start()] + " " + low_text[m.end():m.end() + 30]
        after = rx.period.search(low_text, m.end(), min(len(low_text), m.end() + 30))
        before = None
        for before in rx.period.finditer(low_text, max(0, m.start() - 25), m.start()):
            pass  # the last one: nearest to the amount
        pm = after
        if before is not None and (after is None or m.start() - before.end() < after.start() - m.end()):
            pm = before
        period = pm.lastgroup if pm else None
        strong = _PAY_PERIOD_BEFORE.search(low_text, max(0, m.start() - 8), m.start())
        if strong:
            period = _STRONG_PERIODS[strong.group(1)[0]]
        if implied == "INR" and ("lpa" in m.group(0) or "per annum" in window):
            period = "year"
        guessed = period is None
        rate = USD_RATES[currency]
        if period is None:
            monthly_usd = hi * rate
            period = "year" if monthly_usd > 15000 else "month"
        lo_usd, hi_usd = lo * rate * _TO_MONTH[period], hi * rate * _TO_MONTH[period]
        if hi_usd < 20 or hi_usd > 500000:  # not a salary (a fee of a few dollars, a phone number)
            continue
        raw = text[start:m.end()]
        s_start = start + (len(raw) - len(raw.lstrip()))
        s_end = m.end() - (len(raw) - len(raw.rstrip()))
        out.append(Salary(text[s_start:s_end], s_start, s_end, currency, period, lo, hi,
                          round(lo_usd, 2), round(hi_usd, 2), guessed))
    for m in (_OVER_10K.finditer(low_text) if "万" in low_text else ()):  # every match contains 万
        out.append(Salary(text[m.start():m.end()], m.start(), m.end(), "CNY", "month", 1e4, 1e4,
                          round(1e4 * USD_RATES["CNY"], 2), round(1e4 * USD_RATES["CNY"], 2)))
    out.sort(key=lambda s: s.start)
    return out


def parse_salary(text: str, default_currency: str | None = None, pay_field: bool = False) -> Salary | None:
    """The first pay mention in `text`, or None."""
    found = find_salaries(text, default_currency, pay_field)
    return found[0] if found else None


def pay_norm_usd(salary: Salary, context: str = "", language: str | None = None, places: str = "") -> float:
    """The monthly pay (USD) a salary is compared with: its currency's market, or for USD/crypto/EUR the market
    of the work place named in `context` (or in `places`, the place names the rules found, in any script), else
    the audience language's market."""
    if salary.currency not in ("USD", "USDT", "EUR", "GBP"):
        return PAY_NORM_USD.get(salary.currency, 1000)
    low = context.lower()
    for pattern, market, needs in _MARKET_HINTS:
        if needs is not None and not any(literal in low for literal in needs):
            continue  # none of the strings every match contains is there
        if pattern.search(low):
            return PAY_NORM_USD[market]
    if places and not places.isascii():  # a hub country or town in another script (캄보디아, Сиануквиль)
        from .places import country_named

        market = COUNTRY_MARKET.get(country_named(places) or "")
        if market:
            return PAY_NORM_USD[market]
    if language in LANGUAGE_MARKET:
        return PAY_NORM_USD[LANGUAGE_MARKET[language]]
    return PAY_NORM_USD[salary.currency]




def _needed_literals(pattern: str) -> tuple[str, ...] | None:
    """Strings one of which every match of `pattern` contains (None: not known for every branch)."""
    from ._prefilter import required_literals, split_branches

    out: list[str] = []
    for branch in split_branches(pattern):
        found = required_literals(branch)
        if found is None:
            return None
        out += found
    return tuple(dict.fromkeys(out))


_MARKET_HINTS = [(guarded(p), m, _needed_literals(p)) for p, m in MARKET_HINTS]
