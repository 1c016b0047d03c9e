"""Pay written in words -> digits, so rules/salary.py reads it like any amount: "fifteen thousand dollars",
"dos mil dólares", "quinze mil reais", "quinze mille dollars", "lima belas juta", "labinlimang libo",
"mười lăm triệu", "หนึ่งหมื่นห้าพันบาท", "一万五", "एक लाख" (a lakh alone before a currency word too: "లక్ష రూపాయలు"),
"dubu ɗari", "ẹgbẹrun lọna ọgọrun", "ዓሰርተ ሽሕ".

`spell_numbers(text)` returns None when `text` has no amount in words (the usual case, one regex search), else
the text with each amount replaced by digits and a map back to the original offsets (`Spelled.remap`).
Only phrases with a thousand-or-more word are amounts (a lone "one" or "dua" is not pay). The number words
are data (NUMBER_WORDS below): word -> (value, kind); kinds:
  u  a value added on ("twenty", "five", "quinze", "mười");      h  x100 of what precedes ("hundred", "ratus")
  t  x10 of what precedes ("puluh", "mươi");  b  +10 ("belas");  p  a place (Thai/Chinese 十 百 千 หมื่น)
  s  a scale that closes a group ("thousand", "mil", "ribu", "juta", "triệu", 万, ล้าน)
  x  a scale written before its multiplier (Swahili "elfu mbili", Hausa "dubu biyu"): x times the units after it,
     or times a smaller x right after it ("elfu mia moja", "dubu ɗari", Yoruba "ẹgbẹrun lọna ọgọrun" = 100,000)
A scale word that implies a currency (juta, triệu, 万, ล้าน, หมื่น, lakh) is kept after the digits.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ._hintscan import HintScan
from ._lowertwin import case_variants
from ._regex import first_char_class
from .regex_store import stored_compile

# lakh and crore as written in each script (rules/salary.py _MULTIPLIERS reads them after digits); ලක්ෂයක් = "a lakh"
INDIC_LAKH = ("lakh", "लाख", "লাখ", "লক্ষ", "లక్ష", "லட்சம்", "ലക്ഷം", "ਲੱਖ", "لاکھ", "ලක්ෂ", "ලක්ෂයක්", "ಲಕ್ಷ")
INDIC_CRORE = ("crore", "करोड़", "करोड", "কোটি", "కోటి", "கோடி", "കോടി", "ਕਰੋੜ", "کروڑ", "කෝටි", "ಕೋಟಿ")

_LATIN = {
    # English
    "one": (1, "u"), "two": (2, "u"), "three": (3, "u"), "four": (4, "u"), "five": (5, "u"), "six": (6, "u"),
    "seven": (7, "u"), "eight": (8, "u"), "nine": (9, "u"), "ten": (10, "u"), "eleven": (11, "u"),
    "twelve": (12, "u"), "thirteen": (13, "u"), "fourteen": (14, "u"), "fifteen": (15, "u"), "sixteen": (16, "u"),
    "seventeen": (17, "u"), "eighteen": (18, "u"), "nineteen": (19, "u"), "twenty": (20, "u"), "thirty": (30, "u"),
    "forty": (40, "u"), "fifty": (50, "u"), "sixty": (60, "u"), "seventy": (70, "u"), "eighty": (80, "u"),
    "ninety": (90, "u"), "hundred": (100, "h"), "thousand": (1e3, "s"), "million": (1e6, "s"),
    # Spanish
    "un": (1, "u"), "uno": (1, "u"), "una": (1, "u"), "dos": (2, "u"), "tres": (3, "u"), "cuatro": (4, "u"),
    "cinco": (5, "u"), "seis": (6, "u"), "siete": (7, "u"), "ocho": (8, "u"), "nueve": (9, "u"), "diez": (10, "u"),
    "once": (11, "u"), "doce": (12, "u"), "trece": (13, "u"), "catorce": (14, "u"), "quince": (15, "u"),
    "dieciseis": (16, "u"), "diecisiete": (17, "u"), "dieciocho": (18, "u"), "diecinueve": (19, "u"),
    "veinte": (20, "u"), "veinticinco": (25, "u"), "treinta": (30, "u"), "cuarenta": (40, "u"),
    "cincuenta": (50, "u"), "sesenta": (60, "u"), "setenta": (70, "u"), "ochenta": (80, "u"), "noventa": (90, "u"),
    "cien": (100, "u"), "ciento": (100, "u"), "doscientos": (200, "u"), "trescientos": (300, "u"),
    "quinientos": (500, "u"), "mil": (1e3, "s"), "millon": (1e6, "s"), "millones": (1e6, "s"),
    # Portuguese
    "um": (1, "u"), "uma": (1, "u"), "dois": (2, "u"), "duas": (2, "u"), "quatro": (4, "u"),
    "sete": (7, "u"), "oito": (8, "u"), "nove": (9, "u"), "dez": (10, "u"), "onze": (11, "u"), "doze": (12, "u"),
    "treze": (13, "u"), "quatorze": (14, "u"), "quinze": (15, "u"), "dezesseis": (16, "u"), "dezessete": (17, "u"),
    "dezoito": (18, "u"), "dezenove": (19, "u"), "vinte": (20, "u"), "trinta": (30, "u"), "quarenta": (40, "u"),
    "cinquenta": (50, "u"), "sessenta": (60, "u"), "oitenta": (80, "u"), "cem": (100, "u"), "cento": (100, "u"),
    "duzentos": (200, "u"), "trezentos": (300, "u"), "quinhentos": (500, "u"), "milhao": (1e6, "s"),
    "milhoes": (1e6, "s"),
    # French
    "deux": (2, "u"), "trois": (3, "u"), "quatre": (4, "u"), "cinq": (5, "u"), "sept": (7, "u"), "huit": (8, "u"),
    "neuf": (9, "u"), "dix": (10, "u"), "douze": (12, "u"), "treize": (13, "u"), "seize": (16, "u"),
    "vingt": (20, "u"), "trente": (30, "u"), "quarante": (40, "u"), "cinquante": (50, "u"), "soixante": (60, "u"),
    "soixante-dix": (70, "u"), "quatre-vingt": (80, "u"), "quatre-vingts": (80, "u"), "quatre-vingt-dix": (90, "u"),
    "cent": (100, "h"), "cents": (100, "h"), "mille": (1e3, "s"),
    # Indonesian / Malay
    "satu": (1, "u"), "dua": (2, "u"), "tiga": (3, "u"), "empat": (4, "u"), "lima": (5, "u"), "enam": (6, "u"),
    "tujuh": (7, "u"), "delapan": (8, "u"), "lapan": (8, "u"), "sembilan": (9, "u"), "sepuluh": (10, "u"),
    "sebelas": (11, "u"), "belas": (10, "b"), "puluh": (10, "t"), "ratus": (100, "h"), "seratus": (100, "u"),
    "ribu": (1e3, "s"), "seribu": (1e3, "s"), "juta": (1e6, "s"), "sejuta": (1e6, "s"),
    # Tagalog (the -ng linker form too)
    "isa": (1, "u"), "isang": (1, "u"), "dalawa": (2, "u"), "dalawang": (2, "u"), "tatlo": (3, "u"),
    "tatlong": (3, "u"), "apat": (4, "u"), "apat na": (4, "u"), "limang": (5, "u"), "anim": (6, "u"),
    "pito": (7, "u"), "walo": (8, "u"), "siyam": (9, "u"), "sampu": (10, "u"), "sampung": (10, "u"),
    "labinlima": (15, "u"), "labinlimang": (15, "u"), "labindalawa": (12, "u"), "labindalawang": (12, "u"),
    "dalawampu": (20, "u"), "dalawampung": (20, "u"), "tatlumpu": (30, "u"), "tatlumpung": (30, "u"),
    "apatnapu": (40, "u"), "apatnapung": (40, "u"), "limampu": (50, "u"), "limampung": (50, "u"),
    "animnapu": (60, "u"), "animnapung": (60, "u"), "daan": (100, "h"), "daang": (100, "h"), "libo": (1e3, "s"),
    "libong": (1e3, "s"), "milyon": (1e6, "s"),
    # Vietnamese (accents folded: see _fold)
    "mot": (1, "u"), "hai": (2, "u"), "ba": (3, "u"), "bon": (4, "u"), "nam": (5, "u"), "lam": (5, "u"),
    "sau": (6, "u"), "bay": (7, "u"), "tam": (8, "u"), "chin": (9, "u"), "muoi": (10, "u"), "mươi": (10, "t"),
    "tram": (100, "h"), "nghin": (1e3, "s"), "ngan": (1e3, "s"), "trieu": (1e6, "s"),
    # Russian
    **{w: (v, "u") for v, ws in (
        (1, "один одна одну"), (1.5, "полторы полтора"), (2, "два две"), (3, "три"), (4, "четыре"), (5, "пять"),
        (6, "шесть"), (7, "семь"), (8, "восемь"), (9, "девять"), (10, "десять"), (15, "пятнадцать"),
        (20, "двадцать"), (30, "тридцать"), (40, "сорок"), (50, "пятьдесят"), (60, "шестьдесят"),
        (70, "семьдесят"), (80, "восемьдесят"), (90, "девяносто"), (100, "сто"), (200, "двести"),
        (300, "триста"), (400, "четыреста"), (500, "пятьсот"), (600, "шестьсот"), (700, "семьсот"),
        (800, "восемьсот"), (900, "девятьсот")) for w in ws.split()},
    **{w: (1e3, "s") for w in ("тысяча", "тысячи", "тысяч", "тысячу")},
    **{w: (1e6, "s") for w in ("миллион", "миллиона", "миллионов")},
    # Kyrgyz and Kazakh (their "он", 10, is Russian "he": left out)
    **{w: (v, "u") for v, ws in (
        (1, "бир бір"), (2, "эки екі"), (3, "үч үш"), (4, "төрт"), (5, "беш"), (6, "алты"), (7, "жети жеті"),
        (8, "сегиз сегіз"), (9, "тогуз тоғыз"), (20, "жыйырма жиырма"), (30, "отуз отыз"), (40, "кырк қырық"),
        (50, "элүү елу"), (60, "алтымыш алпыс"), (70, "жетимиш жетпіс"), (80, "сексен"), (90, "токсон тоқсан"))
       for w in ws.split()},
    "жүз": (100, "h"), "миң": (1e3, "s"), "мың": (1e3, "s"),
    # Uzbek (Latin and Cyrillic) and Tajik (Cyrillic and Latin)
    **{w: (v, "u") for v, ws in (
        (1, "bir yak як"), (2, "ikki икки du ду"), (3, "uch уч se се"), (4, "chor чор"), (5, "besh panj панҷ"),
        (6, "olti олти shash шаш"), (7, "yetti етти haft ҳафт"), (8, "sakkiz саккиз hasht ҳашт"),
        (10, "dah даҳ"), (20, "yigirma йигирма bist бист"), (30, "сӣ"), (40, "qirq қирқ chil чил"),
        (50, "ellik эллик panjoh панҷоҳ")) for w in ws.split()},
    "yuz": (100, "h"), "юз": (100, "h"), "sad": (100, "h"), "сад": (100, "h"),
    "ming": (1e3, "s"), "минг": (1e3, "s"), "hazor": (1e3, "s"), "ҳазор": (1e3, "s"),
    # Swahili and Hausa put the scale first: "elfu moja na mia nane" = 1,800, "dubu biyu" = 2,000 (kind x;
    # Hausa "dari", 100, is left out: it is Indonesian/Malay "from")
    **{w: (v, "u") for v, ws in (
        (1, "moja daya"), (2, "mbili biyu"), (3, "tatu uku"), (4, "nne hudu"), (5, "tano biyar"),
        (6, "sita shida"), (7, "saba bakwai"), (8, "nane takwas"), (9, "tisa"), (10, "kumi goma"),
        (20, "ishirini ashirin"), (30, "thelathini talatin"), (40, "arobaini"), (50, "hamsini hamsin"),
        (60, "sitini"), (70, "sabini"), (80, "themanini"), (90, "tisini")) for w in ws.split()},
    "mia": (100, "x"), "elfu": (1e3, "x"), "laki": (1e5, "x"), "dubu": (1e3, "x"),
    # Hausa "ɗari" (100) with its hooked d, and "dubu dari" (100,000) typed without it
    "ɗari": (100, "x"), "dubu dari": (1e5, "x"),
    # Yoruba (tone marks folded where precomposed): ẹgbẹrun = 1,000, "ẹgbẹrun lọna ọgọrun" = 1,000 x 100
    **{w: (v, "u") for v, ws in (
        (1, "okan kan"), (2, "meji"), (3, "meta"), (4, "merin"), (5, "marun"), (6, "mefa"), (7, "meje"),
        (8, "mejo"), (9, "mesan"), (10, "mewa"), (20, "ogun"), (30, "ogbon"), (40, "ogoji"), (50, "aadota"),
        (60, "ogota"), (80, "ogorin")) for w in ws.split()},
    "ogorun": (100, "x"), "egberun": (1e3, "x"), "milionu": (1e6, "x"),
    # Tigrinya (Ge'ez script): "ዓሰርተ ሽሕ" = 10,000
    **{w: (v, "u") for v, ws in (
        (1, "ሓደ"), (2, "ክልተ"), (3, "ሰለስተ"), (4, "ኣርባዕተ"), (5, "ሓሙሽተ"), (6, "ሽዱሽተ"), (7, "ሸውዓተ"),
        (8, "ሸሞንተ"), (9, "ትሽዓተ"), (10, "ዓሰርተ"), (20, "ዕስራ"), (30, "ሰላሳ"), (40, "ኣርብዓ"), (50, "ሓምሳ"),
        (60, "ሱሳ"), (70, "ሰብዓ"), (80, "ሰማንያ"), (90, "ቴስዓ")) for w in ws.split()},
    "ሚእቲ": (100, "h"), "ሽሕ": (1e3, "s"), "ሚልዮን": (1e6, "s"),
    # South Asia: one to ten (Devanagari for Hindi and Nepali, Bengali; "one" in the other scripts) and the
    # lakh (100,000) and crore (10,000,000) in every Indic script of the packs and in romanised Hindi
    **{w: (v, "u") for v, ws in (
        (1, "ek एक এক ఒక ஒரு ഒരു ਇੱਕ ਇਕ ایک එක් ಒಂದು"), (2, "दो दुई দুই"), (3, "तीन তিন"), (4, "चार চার"),
        (5, "पांच पाँच পাঁচ"), (6, "छह छ ছয়"), (7, "सात সাত"), (8, "आठ আট"), (9, "नौ নয়"), (10, "दस দশ"))
       for w in ws.split()},
    **{w: (1e5, "s") for w in INDIC_LAKH},
    **{w: (1e7, "s") for w in INDIC_CRORE},
}
# Vietnamese: mười (10) and mươi (x10) differ only by a tone mark, kept apart before folding
_VI_EXACT = {"mười": (10, "u"), "mươi": (10, "t")}
# no spaces between words: Thai and Chinese (traditional forms too); ยี่ only in ยี่สิบ (20), เอ็ด after a ten
_NOSPACE = {
    "หนึ่ง": (1, "u"), "สอง": (2, "u"), "สาม": (3, "u"), "สี่": (4, "u"), "ห้า": (5, "u"), "หก": (6, "u"),
    "เจ็ด": (7, "u"), "แปด": (8, "u"), "เก้า": (9, "u"), "ยี่": (2, "u"), "เอ็ด": (1, "u"), "สิบ": (10, "p"),
    "ร้อย": (100, "p"), "พัน": (1e3, "p"), "หมื่น": (1e4, "p"), "แสน": (1e5, "p"), "ล้าน": (1e6, "s"),
    "一": (1, "u"), "二": (2, "u"), "两": (2, "u"), "兩": (2, "u"), "三": (3, "u"), "四": (4, "u"), "五": (5, "u"),
    "六": (6, "u"), "七": (7, "u"), "八": (8, "u"), "九": (9, "u"), "十": (10, "p"), "百": (100, "p"),
    "千": (1e3, "p"), "万": (1e4, "s"), "萬": (1e4, "s"),
}
NUMBER_WORDS = {**_LATIN, **_NOSPACE}
# a scale word kept after the digits: it implies the currency (rules/salary.py _MULTIPLIERS)
_KEEP_SCALE = {"juta", "sejuta", "trieu", "triệu", "万", "萬", "ล้าน", *INDIC_LAKH, *INDIC_CRORE}
# a scale word alone is one of it: "sejuta", "లక్ష రూపాయలు" (a lakh alone only before a currency word)
_ONE_ALONE = {"seribu", "sejuta", "ලක්ෂයක්", "dubu dari"}
_BARE_BEFORE_CURRENCY = {*INDIC_LAKH, *INDIC_CRORE}
_BIG = 1e3  # a phrase is an amount only with a word worth this much or more

_FOLD = str.maketrans("àáâãạảấầẩẫậăắằẳẵặèéêẹẻẽếềểễệìíịỉĩòóôõọỏốồổỗộơớờởỡợùúụủũưứừửữựỳýỵỷỹđç",
                      "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyydc")


def _fold(word: str) -> str:
    return word.lower().translate(_FOLD)


def _latin_alt() -> str:
    words = sorted(_LATIN, key=len, reverse=True)  # matched on folded text (see spell_numbers)
    return "|".join(re.escape(w) for w in words)


def _same_letters(ch: str) -> str:
    """`ch` (lower case) and the lower-case letters re.IGNORECASE also matches it to (dotless ı for i, long ſ for s)."""
    return case_variants(ch) or ch


def _lower_case_alt(words) -> str | None:
    """An alternation of `words` (lower case) without IGNORECASE that matches in lower-cased text what their
    IGNORECASE alternation matches, or None when a word has an upper-case letter. Every alternative starts with
    a plain letter (one alternative per variant of the first letter, in place), which lets `re` skip the
    alternatives whose first letter differs without entering them, as it cannot under IGNORECASE."""
    out = []
    for word in words:
        if not word or word != word.lower():
            return None
        body = "".join(f"[{''.join(same)}]" if len(same := _same_letters(c)) > 1 else re.escape(c) for c in word[1:])
        out.extend(re.escape(first) + body for first in _same_letters(word[0]))
    return "|".join(out)


_LATIN_WORD = rf"(?:{_latin_alt()})"
_NOSPACE_WORD = "(?:" + "|".join(sorted(map(re.escape, _NOSPACE), key=len, reverse=True)) + ")"
_JOIN_WORDS = ("and", "y", "e", "et", "dan", "at", "va", "linh", "le", "и", "na", "da", "lona")
_JOIN = rf"(?:[\s-]+(?:{'|'.join(_JOIN_WORDS)})[\s-]+|[\s-]+)"
# Indic vowel signs and viramas are not \\w: without them at its edges "लाख" would match inside "लाखों" (lakhs)
_INDIC_MARKS = "".join(c for c in map(chr, range(0x0900, 0x0E00)) if unicodedata.category(c) in ("Mn", "Mc"))
_PHRASE_TEMPLATE = r"(?<![\w\-" + _INDIC_MARKS + r"])(?:{word})(?:{join}(?:{word}))*(?![\w\-" + _INDIC_MARKS + r"])|{nospace}+"


def _first_char_guarded(pattern: str, flags: int = 0) -> str:
    """`pattern` behind a look-ahead for the characters a match can start with (rules/_regex.py): the scan skips
    most positions on one class test instead of walking hundreds of word alternatives."""
    first = first_char_class(pattern, flags)
    return pattern if first is None else f"(?={first})(?:{pattern})"


_PHRASE = stored_compile(_first_char_guarded(
    _PHRASE_TEMPLATE.format(word=_LATIN_WORD, join=_JOIN, nospace=_NOSPACE_WORD), re.IGNORECASE), re.IGNORECASE)


def _phrase_lower() -> re.Pattern | None:
    """_PHRASE for lower-cased text, without IGNORECASE (several times faster: see _lower_case_alt)."""
    word = _lower_case_alt(sorted(_LATIN, key=len, reverse=True))
    join = _lower_case_alt(_JOIN_WORDS)
    if word is None or join is None or _NOSPACE_WORD != _NOSPACE_WORD.lower():
        return None
    return stored_compile(_first_char_guarded(_PHRASE_TEMPLATE.format(
        word=f"(?:{word})", join=rf"(?:[\s-]+(?:{join})[\s-]+|[\s-]+)", nospace=_NOSPACE_WORD)))


_PHRASE_LOWER = _phrase_lower()  # the same matches as _PHRASE on `_fold`ed (lower-case) text
# cheap test first: a thousand-or-more word anywhere
# "8 mil reais", "2 mil dólares": in Spanish and Portuguese "mil" after digits is a thousand (salary.py reads a
# bare "mil" as a million, as in English "$2 mil"); only before a currency word of those markets
_DIGITS_MIL = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,]\d{1,2})?) mil (?=(?:reais|real|r\$|dolares|pesos|euros|soles|"
                         r"meticais|kwanzas|bolivianos|quetzales)\b)")
_CUT_AFTER = re.compile(r"\b(?:juta|sejuta|trieu)\b")
_SCALE_HINT = re.compile(r"thousand|million|\bmil\b|mille|milh|millon|ribu|juta|\blibo|milyon|ngh|ngàn|ngan|"
                         r"triệu|trieu|тысяч|миллион|миң|мың|ming|минг|hazor|ҳазор|elfu|laki|dubu|egberun|milionu|ሽሕ|ሚልዮን|"
                         r"千|万|萬|พัน|หมื่น|แสน|ล้าน", re.IGNORECASE)
# a lakh or crore not after digits ("एक लाख", "లక్ష రూపాయలు"; "2 लाख" is read by rules/salary.py as it is): a
# second hint, so that the many ads with "2 lakh" skip the phrase scan
_INDIC_SCALE = re.compile("|".join(INDIC_LAKH + INDIC_CRORE))  # plain words first: `re` scans for their letters


def _bare_scale_hint(folded: str) -> bool:
    return any(not re.search(r"[\d.,] ?$", folded[max(0, m.start() - 2):m.start()])
               for m in _INDIC_SCALE.finditer(folded))


def case_sensitive_hint(hint: re.Pattern) -> re.Pattern | None:
    """A regex without IGNORECASE that finds what `hint` (an IGNORECASE alternation of plain words, each maybe
    between \\b) finds in lower-cased text, or None for any other pattern. Each alternative starts with a plain
    letter (a leading \\b becomes a lookbehind after the word), so `re` scans only for those letters instead of
    trying every alternative at every position (ten times faster on a 900-character ad)."""
    out = []
    for alt in hint.pattern.split("|"):
        lead, trail = alt.startswith(r"\b"), alt.endswith(r"\b")
        word = alt[2 if lead else 0: len(alt) - 2 if trail else len(alt)]
        if not word or re.escape(word) != word or word != word.lower() or (lead and not word[0].isalnum()):
            return None  # not a plain word: keep the IGNORECASE scan
        body = "".join(f"[{''.join(same)}]" if len(same := _same_letters(c)) > 1 else c for c in word[1:])
        for first in _same_letters(word[0]):
            literal = first + body
            out.append(literal + (rf"(?<!\w{literal})" if lead else "") + (r"\b" if trail else ""))
    return stored_compile("|".join(out))


_SCALE_HINT_LOWER = case_sensitive_hint(_SCALE_HINT)  # the same search on `_fold`ed (lower-case) text
# the same answer again, from the places its words' literal starts occur (one Aho-Corasick pass, ~2.5x faster)
_SCALE_HINT_SCAN = HintScan(_SCALE_HINT_LOWER.pattern) if _SCALE_HINT_LOWER is not None else None


def _phrase_starts() -> tuple[Any, frozenset[str]] | None:
    """(automaton of the number words, the letters `re.IGNORECASE` also takes for theirs): where a _PHRASE_LOWER
    match can start in folded text without those letters, found in one pass (see `_phrases`)."""
    if _PHRASE_LOWER is None:
        return None
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for word in (*_LATIN, *_NOSPACE):
        automaton.add_word(word, len(word))
    automaton.make_automaton()
    variants = frozenset(v for word in _LATIN for c in word for v in _same_letters(c) if v != c)
    return automaton, variants


_PHRASE_STARTS = _phrase_starts()


def _phrases(folded: str):
    """What (_PHRASE_LOWER or _PHRASE).finditer(folded) yields. Every match starts where a number word does: with
    none of the case-variant letters in the text, it is tried only there (the scan tried the whole alternation at
    every position: ~200 microseconds on a 900-character ad)."""
    regex = _PHRASE_LOWER or _PHRASE
    if _PHRASE_STARTS is None or not _PHRASE_STARTS[1].isdisjoint(folded):
        yield from regex.finditer(folded)
        return
    last_end = 0
    for pos in sorted({end - size + 1 for end, size in _PHRASE_STARTS[0].iter(folded)}):
        if pos < last_end:
            continue  # finditer resumes after the previous match
        m = regex.match(folded, pos)
        if m:
            last_end = m.end()
            yield m


def _tokens(phrase: str) -> list[tuple[float, str, str]]:
    """(value, kind, word) per number word of a phrase that _PHRASE matched."""
    if re.match(_NOSPACE_WORD, phrase):
        return [(*_NOSPACE[t], t) for t in re.findall(_NOSPACE_WORD, phrase)]
    out = []
    words = phrase.split()
    i = 0
    while i < len(words):
        two = f"{words[i]} {words[i + 1]}".lower() if i + 1 < len(words) else ""
        if two in _LATIN:  # "apat na"
            out.append((*_LATIN[two], two))
            i += 2
            continue
        low = words[i].lower()
        key = low if low in _VI_EXACT or low in _LATIN else _fold(low)
        entry = _VI_EXACT.get(low) or _LATIN.get(key)
        if entry is not None:
            out.append((*entry, key))
        else:  # "vinte-e-cinco", "lima-belas": parts joined by hyphens
            out.extend((*_LATIN[_fold(p)], _fold(p)) for p in low.split("-") if _fold(p) in _LATIN)
        i += 1
    return out


def _value(tokens: list[tuple[float, str, str]]) -> float:
    if any(kind == "x" for _, kind, _ in tokens):
        return _value_scale_first(tokens)
    total = section = pending = 0.0
    for value, kind, _ in tokens:
        if kind == "u":
            pending += value
        elif kind == "t":
            pending = (pending or 1) * value
        elif kind == "b":
            pending += value
        elif kind == "h":
            section += (pending or 1) * value
            pending = 0
        elif kind == "p":
            section += (pending or 1) * value
            pending = 0
        else:  # scale
            total += ((section + pending) or 1) * value
            section = pending = 0
    if pending and pending < 10 and tokens[-1][1] == "u" and len(tokens) > 1:
        before = tokens[-2]
        if before[1] in ("p", "s") and before[2] in _NOSPACE:  # 一万五 = 15,000, หมื่นห้า = 15,000
            return total + section + pending * before[0] / 10
    return total + section + pending


def _value_scale_first(tokens: list[tuple[float, str, str]]) -> float:
    """"elfu moja na mia nane" = 1000 x 1 + 100 x 8; "laki moja" = 100,000; units before any scale add on."""
    total = units = 0.0
    scale = 1.0
    for i, (value, kind, _) in enumerate(tokens):
        if kind == "x" and units == 0 and 1 < value < scale:
            # a smaller scale right after a bigger one counts how many of it: "elfu mia moja" = 1,000 x 100,
            # "dubu ɗari" = 1,000 x 100, "ẹgbẹrun lọna ọgọrun" = 1,000 x 100
            return total + scale * _value_scale_first(tokens[i:])
        if kind == "x":
            total += scale * (units or (1 if scale > 1 else 0))
            scale, units = value, 0.0
        elif kind in ("u", "t", "b"):
            units += value
    return total + scale * (units or (1 if scale > 1 else 0))


@dataclass
class Spelled:
    """`text` with amounts in digits; `starts[i]` / `ends[i]`: the original offset of position i as a start /
    as an exclusive end."""

    text: str
    starts: list[int]
    ends: list[int]

    def remap(self, salaries: list[Any], original: str) -> list[Any]:
        out = []
        for s in salaries:
            a, b = self.starts[s.start], self.ends[s.end]
            out.append(dataclasses.replace(s, text=original[a:b], start=a, end=b))
        return out


def _digits(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _one_alone(word: str, folded: str, start: int, end: int) -> bool:
    """Whether a scale word alone is one of it: "sejuta"; a lakh or crore right before a currency word
    ("లక్ష రూపాయలు", "लाख रुपये") and after no digit ("2 लाख" is read by rules/salary.py as it is)."""
    if re.search(r"\d[\d.,]*\s*$", folded[max(0, start - 12):start]):
        return False
    if word in _ONE_ALONE:
        return True
    if word not in _BARE_BEFORE_CURRENCY:
        return False
    from .salary import currency_at  # salary.py imports this module: imported when first needed
    return currency_at(folded, end)


def spell_numbers(text: str) -> Spelled | None:
    """`text` with every amount written in words (a phrase with a thousand-or-more word) in digits, or None
    when there is none."""
    if not text:
        return None
    folded = _fold(text)  # one character for one: offsets stay those of `text`
    if len(folded) != len(text) or not ((_SCALE_HINT_SCAN.found(folded) if _SCALE_HINT_SCAN is not None
                                         else _SCALE_HINT.search(folded)) or _bare_scale_hint(folded)):
        return None
    pieces: list[tuple[int, int, str]] = []
    for m in _phrases(folded):
        start, end = m.span()
        cut = _CUT_AFTER.search(folded, start, end)
        if cut:  # "mười lăm triệu | một tháng": what follows a currency-implying scale is another number
            end = cut.end()
        tokens = _tokens(text[start:end])
        if not tokens or max(v for v, _, _ in tokens) < _BIG:
            continue
        if len(tokens) == 1 and not _one_alone(tokens[0][2], folded, start, end):
            continue  # one word alone ("mil", "thousand") is no amount
        if len(tokens) > 1 and all(kind == "s" for _, kind, _ in tokens):
            continue
        last = tokens[-1]
        if last[1] == "s" and last[2] in _KEEP_SCALE:  # "15 juta", "15 triệu", "1.5万": the word implies the currency
            value = _value(tokens[:-1]) if len(tokens) > 1 else 1.0
            word = {"sejuta": "juta", "ලක්ෂයක්": "ලක්ෂ"}.get(last[2], last[2])
            replacement = _digits(value) + ("" if word in _NOSPACE else " ") + word
        else:
            replacement = _digits(_value(tokens))
        pieces.append((start, end, replacement))
    for m in _DIGITS_MIL.finditer(folded):
        if not any(a < m.end() and m.start() < b for a, b, _ in pieces):
            pieces.append((m.start(), m.end() - 1, _digits(float(m.group(1).replace(",", ".")) * 1e3)))
    if not pieces:
        return None
    pieces.sort()
    out, starts, ends, pos = [], [], [0], 0
    for a, b, rep in pieces:
        for k in range(pos, a):
            out.append(text[k])
            starts.append(k)
            ends.append(k + 1)
        for _ in rep:
            starts.append(a)
            ends.append(b)
        out.append(rep)
        pos = b
    for k in range(pos, len(text)):
        out.append(text[k])
        starts.append(k)
        ends.append(k + 1)
    starts.append(len(text))
    return Spelled("".join(out), starts, ends)
