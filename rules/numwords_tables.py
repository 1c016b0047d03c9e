"""The number words of rules/numwords.py (pay in words), by language: word -> (value, kind). The kinds are
explained in rules/numwords.py; a new language's words go here.

Example:

    NUMBER_WORDS["fifteen"]  # (15, "u")
"""
from __future__ import annotations

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
    # one and a half, two and a half before a lakh or a thousand ("डेढ लाख", "dedh lakh", "ढाई हजार")
    "डेढ": (1.5, "u"), "डेढ़": (1.5, "u"), "ढाई": (2.5, "u"), "dedh": (1.5, "u"), "dhai": (2.5, "u"),
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
