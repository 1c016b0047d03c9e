"""Language of an ad, deterministic and fast.

1. Script: Thai, Lao, Khmer, Burmese, Han (zh), Hangul, Kana, Devanagari decide by character counts.
2. Latin script: counts of common function words per language (mixed ads such as Swahili-English, Taglish or
   Hinglish go to the non-English language when it is well represented), Malay vs Indonesian by their
   distinctive words.
3. Otherwise langdetect, seeded (DetectorFactory.seed = 0), on the first 500 characters.
Codes: en zh th vi id ms tl pt my km hi sw (plus whatever langdetect returns for other languages).
"""
from __future__ import annotations

import re
from collections import Counter

from .textnorm import fold

_SCRIPTS = (
    ("th", "\u0e00", "\u0e7f"), ("lo", "\u0e80", "\u0eff"), ("km", "\u1780", "\u17ff"), ("my", "\u1000", "\u109f"),
    ("zh", "\u4e00", "\u9fff"), ("zh", "\u3400", "\u4dbf"), ("ko", "\uac00", "\ud7af"), ("ja", "\u3040", "\u30ff"),
    ("hi", "\u0900", "\u097f"),
)
_NON_LATIN = re.compile("[" + "".join(f"{lo}-{hi}" for _, lo, hi in _SCRIPTS) + "]")
_VIET_LETTERS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")
_LATIN = re.compile(r"[A-Za-z]")
_SCRIPT_RES = [(code, re.compile(f"[{lo}-{hi}]")) for code, lo, hi in _SCRIPTS]

_WORDS = {
    "en": "the and to of for with you your we are is will in our this be have has an as on at by from or can "
          "experience work job must apply please who skills team required",
    "idms": "dan yang untuk dengan di ke kami anda kerja gaji pengalaman dari ini akan atau bagi tanpa adalah "
            "kepada juga bulan hari dalam lebih sebagai",
    "id": "tidak bisa perusahaan lowongan saja gratis silakan karena mau pelamar dibutuhkan segera berangkat "
          "kamu tahun minimal lamaran hubungi sudah belum",
    "ms": "boleh syarikat jawatan kosong sahaja percuma sila mahu tak kerana ringgit memohon berminat calon "
          "kelayakan hubungi tawaran elaun penginapan",
    "tl": "ang mga ng sa na at para kayo ikaw trabaho sahod walang kailangan libre po lang namin ninyo may ito "
          "hindi pa kami tayo lamang buwan agad",
    "pt": "de que para com uma um nao os as trabalho salario empresa vaga experiencia por voce sem do da dos das "
          "ou mais seu sua",
    "vi": "nhan vien cong viec luong khong cua va cho cac nguoi duoc lam thang can tuyen co voi trong mot nhung "
          "tai hang ngay dung ban khach",
    "sw": "na ya wa kwa kazi mshahara ni za katika hii kama bila nafasi wafanyakazi tuma bure mwezi sana pia la "
          "cha hakuna kupata unahitaji nzuri fursa",
    "hi": "hai hain ke ki ka liye aur mein nahi karna kaam naukri chahiye aap hum sirf bhi se ko milega kare "
          "karein paisa tankhwah ghar mahina kamai",
}
_VOCAB: dict[str, set[str]] = {lang: set(words.split()) for lang, words in _WORDS.items()}


def _langdetect(text: str) -> str | None:
    try:
        from langdetect import DetectorFactory, detect
        from langdetect.lang_detect_exception import LangDetectException
    except ImportError:  # pragma: no cover - langdetect is a dependency
        return None
    DetectorFactory.seed = 0
    try:
        code = detect(text[:500])
    except LangDetectException:
        return None
    return "zh" if code.startswith("zh") else code


def detect_language(text: str) -> str | None:
    """ISO 639-1-ish code of `text`, or None when there is too little text."""
    if not text or not text.strip():
        return None
    head = text[:2000]
    latin_letters = len(_LATIN.findall(head))
    if not head.isascii():
        scripts = Counter({code: n for code, rx in _SCRIPT_RES if (n := len(rx.findall(head)))})
        for code, count in scripts.most_common(1):
            if count >= 8 or count * 3 >= latin_letters:
                if code == "zh" and scripts["ja"] > count // 4:
                    return "ja"
                return code
    if not head.isascii() and len(_VIET_LETTERS.findall(head)) >= 4:
        return "vi"
    words = Counter(_WORD.findall(fold(head)))
    if not words:
        return None
    present = words.keys()
    hits = {lang: sum(words[w] for w in vocab & present) for lang, vocab in _VOCAB.items()}
    idms = hits.pop("idms")
    hits["id"], hits["ms"] = hits["id"] + (idms if hits["id"] >= hits["ms"] else 0), hits["ms"] + (
        idms if hits["ms"] > hits["id"] else 0)
    en = hits.pop("en")
    best = max(hits, key=lambda k: (hits[k], k))
    if hits[best] >= 3 and hits[best] >= 0.35 * en:
        return best
    if en >= 3:
        return "en"
    return _langdetect(text) or (best if hits[best] else None)
