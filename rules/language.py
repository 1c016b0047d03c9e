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


class _LazyWordProbs(dict):
    """langdetect's n-gram -> [probability per language] table, each row built on first use with the same
    arithmetic as DetectorFactory.add_profile: the stock factory builds all ~170k rows at start-up (~0.4 s)."""

    def __init__(self, profiles: list[tuple[int, dict, list]], langsize: int):
        super().__init__()
        self._profiles = profiles  # (index, freq, n_words) in langdetect's load order
        self._langsize = langsize

    def __contains__(self, word: object) -> bool:
        return dict.__contains__(self, word) or any(word in freq for _, freq, _ in self._profiles)

    def __missing__(self, word: str) -> list[float]:
        if not any(word in freq for _, freq, _ in self._profiles):
            raise KeyError(word)
        probs = [0.0] * self._langsize
        length = len(word)
        if 1 <= length <= 3:
            for index, freq, n_words in self._profiles:
                if word in freq:
                    probs[index] = 1.0 * freq[word] / n_words[length - 1]
        self[word] = probs
        return probs


_FACTORY = None


def _factory():
    """A langdetect DetectorFactory with every stock profile, as `langdetect.detect` loads them, but lazy."""
    global _FACTORY
    if _FACTORY is None:
        import json
        import os

        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

        names = os.listdir(PROFILES_DIRECTORY)
        langlist, profiles = [], []
        for name in names:  # langdetect's order and indexing (DetectorFactory.load_profile)
            path = os.path.join(PROFILES_DIRECTORY, name)
            if name.startswith(".") or not os.path.isfile(path):
                continue
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            profiles.append((len(langlist), data["freq"], data["n_words"]))
            langlist.append(data["name"])
        factory = DetectorFactory()
        factory.langlist = langlist
        factory.word_lang_prob_map = _LazyWordProbs(profiles, len(names))
        _FACTORY = factory
    return _FACTORY


def _langdetect(text: str) -> str | None:
    try:
        from langdetect import DetectorFactory
        from langdetect.lang_detect_exception import LangDetectException
    except ImportError:  # pragma: no cover - langdetect is a dependency
        return None
    DetectorFactory.seed = 0
    try:
        detector = _factory().create()
        detector.append(text[:500])
        code = detector.detect()
    except LangDetectException:
        return None
    return "zh" if code.startswith("zh") else code


# Each script character -> a one-letter tag of its _SCRIPTS row, so one translate + Counter counts every script.
_SCRIPT_TAG = {cp: chr(ord("A") + i) for i, (_, lo, hi) in enumerate(_SCRIPTS) for cp in range(ord(lo), ord(hi) + 1)}
_NON_LATIN_RUN = re.compile(_NON_LATIN.pattern + "+")
# Latin word -> the vocabularies it is in
_WORD_LANGS: dict[str, tuple[str, ...]] = {}
for _lang, _vocab in _VOCAB.items():
    for _w in _vocab:
        _WORD_LANGS[_w] = _WORD_LANGS.get(_w, ()) + (_lang,)


def _script_counts(head: str) -> dict[str, int]:
    """Characters per script code, in _SCRIPTS order, scripts absent left out. (Like counting each row
    in turn into a dict: the second "zh" row, CJK extension A, replaces the first when it has any.)"""
    tags = Counter("".join(_NON_LATIN_RUN.findall(head)).translate(_SCRIPT_TAG))
    out: dict[str, int] = {}
    for i, (code, _, _) in enumerate(_SCRIPTS):
        n = tags.get(chr(ord("A") + i), 0)
        if n:
            out[code] = n
    return out


def detect_language(text: str) -> str | None:
    """ISO 639-1-ish code of `text`, or None when there is too little text."""
    if not text or not text.strip():
        return None
    head = text[:2000]
    ascii_only = head.isascii()
    if not ascii_only:
        scripts = _script_counts(head)
        if scripts:
            code = max(scripts, key=scripts.__getitem__)  # the first of equal counts, as most_common(1)
            count = scripts[code]
            if count >= 8 or count * 3 >= len(_LATIN.findall(head)):
                if code == "zh" and scripts.get("ja", 0) > count // 4:
                    return "ja"
                return code
        if len(_VIET_LETTERS.findall(head)) >= 4:
            return "vi"
    words = Counter(_WORD.findall(fold(head)))
    if not words:
        return None
    hits = dict.fromkeys(_VOCAB, 0)
    for w, n in words.items():
        for lang in _WORD_LANGS.get(w, ()):
            hits[lang] += n
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
