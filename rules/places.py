"""Place names in every script, as data: where scam compounds are, for ads in any language.

Two files under rules/places/:
  - countries.yaml: GENERATED from CLDR (Babel) by `python -m rules.places --write`: the name of each hub country
    in every Babel locale, deduplicated by its folded form (rules.textnorm.fold; the file keeps one readable
    spelling per folded form, since folding turns vowel signs into stand-in letters). Do not edit it by hand;
    change the tables below and regenerate (a test checks the committed file equals a fresh generation).
  - hubs.yaml: hand-written compound towns and zones (Sihanoukville, Myawaddy, Golden Triangle SEZ...) with their
    spellings in the languages recruits read, each with `country`, `concept`, `names` and a `source` note, and
    optional `match` / `no_match` examples (`hub_examples`; rules lint and rules test check them).

`place_patterns()` turns both into regexes per concept id (destination.compound_country, destination.cambodia_hub,
...): the engine appends them to those rules' patterns. Boundaries depend on the script: none in scripts written
without spaces (Thai, Lao, Khmer, Burmese, Chinese, Japanese, Tibetan); a word start for Hangul (particles attach
at the end: 캄보디아에서); elsewhere a name may not sit inside a longer word, but may carry a short inflection
(Камбодже, Kambodžoje, Kamboçya'da) and, in Arabic and Hebrew script, a one-letter prefix (بكمبوديا, בתאילנד).
"""
from __future__ import annotations

import argparse
import functools
import re
import sys
import unicodedata
from pathlib import Path

import yaml

from ._regex import guarded
from .textnorm import fold
from .yamldoc import LineLoader

PLACES_DIR = Path(__file__).parent / "places"
COUNTRIES_FILE = PLACES_DIR / "countries.yaml"
HUBS_FILE = PLACES_DIR / "hubs.yaml"

# Hub countries and the concept their name is evidence for (reference: /work/shared/reference/lure-indicators.md
# section 6). The Philippines (a later hub) has a weak concept of its own that is off in its home languages
# (concepts.yaml `not_languages`): many recruits come from there. The UAE and Malaysia are left out: an ordinary
# Gulf job market and a home country, and transit points caught by route wording ("via Dubai", "via KL"); only
# Dubai districts reported as scam-centre bases are hubs (places/hubs.yaml).
HUB_COUNTRIES = {
    "KH": "destination.compound_country",
    "MM": "destination.compound_country",
    "LA": "destination.compound_country",
    "TH": "destination.thailand",
    "PH": "destination.philippines",
}

# Concepts whose names take no inflection: the adjective is not the country ("Thai food", "comida tailandesa",
# "مطعم تايلاندي" are ordinary; the packs' no_match examples say so)
EXACT_CONCEPTS = {"destination.thailand"}

# CLDR names that are also ordinary words or names; a name is dropped with its reason
NOT_PLACE_NAMES = {
    "kamboj": "an Indian surname",
    "siem": "first word of Siem Reap (Cambodia), Betawi name for Thailand",
    "pema": "a Bhutanese/Tibetan given name (Maori name for Burma)",
    "laws": "English word (Kabyle name for Laos)",
    "laus": "German 'Laus', Latin 'laus'",
    "lawes": "an English surname",
    "rawo": "too short and ambiguous (Yoruba name for Laos)",
    "لاس": "'Las' as in Las Vegas (Kashmiri name for Laos)",
    "ลาว": "Thai: also the Lao people; the Thai rules match it only in context (ไปลาว, ประเทศลาว)",
    "ລາວ": "Lao: also the pronoun he/she",
    "ไทย": "Thai: the word Thai (language, people) in every Thai ad",
    "ໄທ": "Lao: the word Thai",
    "タイ": "Japanese: also tie, type (タイプ), time (タイム)",
    "filipino": "the people or language (Filipino teachers hired abroad), not the country",
    "firipino": "the people or language, not the country",
    "ufilipino": "the people or language, not the country",
    "hufilipino": "the people or language, not the country",
    "filipin": "stem of Filipino / Filipina (the people); the country names keep their own endings",
    "filippin": "stem of Italian filippino (a Filipino); the country names keep their own endings",
}

# Scripts written without spaces between words: a name matches anywhere (no boundary), so it must be long enough
_SPACELESS = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x0F00, 0x0FFF), (0x3040, 0x30FF),
              (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F))
_HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF))
_HANGUL = ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F))
# one-letter prepositions and conjunctions written joined to the next word (بكمبوديا, בתאילנד, በካምቦዲያ)
_CLITIC_PREFIX = {"arabic": "وفبلك", "hebrew": "בלוהמש", "ethiopic": "በከለየእ"}
# A letter of a word in FOLDED text: textnorm folds combining marks (Indic vowel signs, viramas) to stand-in
# letters, so \w covers them; the danda (।) and other punctuation are not letters
_LETTER = r"\w"
# Inflection is allowed after Cyrillic names (Лаос -> Лаосе) and after other names of 6+ letters: a short Latin
# name plus a few letters is too often another word (Barma + n = barman)
_INFLECT_MIN = 6
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_SUFFIX = _LETTER + "{0,3}"  # an inflection: Лаоса, Kambodžoje, Kamboçya'da (the apostrophe ends the word)
_INFLECTED_ENDINGS = set("aeiouyиыэюяɛɔəьй")  # folded: Cyrillic а, е, о, у are already Latin
# names per pattern: keeps each branch's trigger list under the matcher's limit (rules/_prefilter.py)
_CHUNK = 60


def _in(ch: str, ranges) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in ranges)


def script_of(name: str) -> str:
    """'spaceless', 'hangul', 'arabic', 'hebrew', 'ethiopic' or 'spaced' (everything else), by the name's first letter."""
    letter = next((c for c in name if c.isalpha()), name[:1])
    if not letter:
        return "spaced"
    if _in(letter, _SPACELESS):
        return "spaceless"
    if _in(letter, _HANGUL):
        return "hangul"
    uname = unicodedata.name(letter, "")
    if uname.startswith("ARABIC"):
        return "arabic"
    if uname.startswith("HEBREW"):
        return "hebrew"
    if uname.startswith("ETHIOPIC"):
        return "ethiopic"
    return "spaced"


def usable(name: str) -> str | None:
    """Why a name (as written) cannot be used as a place pattern, or None."""
    folded = fold(name).strip()
    if folded in NOT_PLACE_NAMES:
        return f"excluded: {NOT_PLACE_NAMES[folded]}"
    script = script_of(name)
    letters = sum(1 for c in name if c.isalpha() or unicodedata.category(c).startswith("M"))
    if script == "spaceless":
        least = 2 if all(_in(c, _HAN) for c in name if c.isalpha()) else 3
    elif script == "hangul":
        least = 2
    else:
        least = 4
    if letters < least:
        return f"too short for its script ({letters} < {least} letters)"
    return None


def _stem(name: str) -> str:
    """Drop a final vowel that inflection replaces (Камбоджа -> Камбодже, Kambodža -> Kambodži)."""
    if len(name) >= 7 and name[-1] in _INFLECTED_ENDINGS and " " not in name and name[:-1] not in NOT_PLACE_NAMES:
        return name[:-1]
    return name


def _edges(name: str) -> tuple[str, str]:
    """(start kind, end kind) of a name: 'none' where its first / last letter is in a script without spaces (also
    Hangul at the end), a clitic prefix for Arabic and Hebrew script, else a word boundary."""
    letters = [c for c in name if c.isalpha()] or [name[0]]
    first, last = script_of(letters[0]), script_of(letters[-1])
    start = "none" if first == "spaceless" else first if first in _CLITIC_PREFIX else "word"
    end = "none" if last in ("spaceless", "hangul") else "word"
    return start, end


def name_regexes(names: list[str], inflect: bool = True) -> list[str]:
    """Regexes (over folded text) matching `names` (as written) with the boundaries of their scripts (module
    docstring); `inflect=False`: no inflection after a name. Scripts are read on the written name: folded vowel
    signs are stand-in letters of no script."""
    groups: dict[tuple[str, str], set[str]] = {}
    for name in names:
        start, end = _edges(name)
        folded = fold(name).strip()
        if end == "word" and (not inflect or (len(folded) < _INFLECT_MIN and not _CYRILLIC.search(name))):
            end = "exact"
        body = _stem(folded) if end == "word" else folded
        groups.setdefault((start, end), set()).add(r"\s+".join(re.escape(w) for w in body.split()))
    out = []
    for (start, end), bodies in sorted(groups.items()):
        alts = sorted(bodies, key=lambda s: (-len(s), s))  # longest first
        before = "" if start == "none" else f"(?<!{_LETTER})" + (f"[{_CLITIC_PREFIX[start]}]?" if start in _CLITIC_PREFIX else "")
        after = {"none": "", "exact": f"(?!{_LETTER})"}.get(end, f"{_SUFFIX}(?!{_LETTER})")
        for i in range(0, len(alts), _CHUNK):
            out.append(f"{before}(?:{'|'.join(alts[i:i + _CHUNK])}){after}")
    return out


# -- generation from CLDR --------------------------------------------------------------------------------------
def _has_article(name: str) -> bool:
    """A word of one or two letters in a spaced script: an article or particle ("an Chambóid", "ma Kame")."""
    return any(len(word) < 3 and script_of(word) not in ("spaceless", "hangul") for word in name.split())


def _split_variants(name: str) -> list[str]:
    """'Myanmar (Burma)' -> ['Myanmar', 'Burma']; 'Burma, Miyamar' and 'Myanmar/Burma' likewise."""
    return [p.strip(" -·") for p in re.split(r"[()/,，（）]", name) if p.strip(" -·")]


def generate_countries() -> dict:
    """The countries document from the installed Babel's CLDR data."""
    import babel
    from babel import Locale
    from babel.localedata import locale_identifiers

    locales = []
    for ident in sorted(locale_identifiers()):
        try:
            locales.append(Locale.parse(ident))
        except (ValueError, babel.UnknownLocaleError):
            continue
    countries = []
    for code, concept in HUB_COUNTRIES.items():
        by_fold: dict[str, str] = {}
        for locale in locales:
            for variant in _split_variants(locale.territories.get(code, "")):
                folded = fold(variant).strip()
                if folded and usable(variant) is None and not _has_article(variant):
                    by_fold[folded] = min(by_fold.get(folded, variant), variant)
        countries.append({"code": code, "concept": concept, "english": Locale("en").territories[code],
                          "names": sorted(by_fold.values(), key=lambda n: (fold(n), n))})
    return {"generated_by": "python -m rules.places --write", "babel_version": babel.__version__,
            "cldr_locales": len(locales), "countries": countries}


COUNTRIES_HEADER = (
    "# GENERATED by `python -m rules.places --write` from CLDR via Babel: do not edit (tests/test_places.py checks\n"
    "# it equals a fresh generation). Each hub country's name in every Babel locale, deduplicated by its folded form\n"
    "# (rules.textnorm.fold); names that are also ordinary words are dropped (rules/places.py NOT_PLACE_NAMES).\n"
)


def render_countries(doc: dict) -> str:
    return COUNTRIES_HEADER + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)


# -- loading ---------------------------------------------------------------------------------------------------
class PlacesError(ValueError):
    """A malformed places file: the message names the file and line."""


def _entries(path: Path, key: str) -> list[dict]:
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PlacesError(f"{path}{f':{mark.line + 1}' if mark else ''}: invalid YAML: {exc}") from None
    except OSError as exc:
        raise PlacesError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
        raise PlacesError(f"{path}:1: expected a mapping with a {key!r} list")
    out = []
    for entry in doc[key]:
        line = entry.get("__line__", 0) if isinstance(entry, dict) else 0
        where = f"{path}:{line}"
        if not isinstance(entry, dict):
            raise PlacesError(f"{where}: each entry must be a mapping")
        for field in ("concept", "names"):
            if field not in entry:
                raise PlacesError(f"{where}: entry is missing {field!r}")
        names = entry["names"]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise PlacesError(f"{where}: 'names' must be a non-empty list of strings")
        entry["__where__"] = where
        out.append(entry)
    return out


def load_places(countries: Path = COUNTRIES_FILE, hubs: Path = HUBS_FILE) -> dict[str, list[tuple[str, str]]]:
    """Per concept id, its names (as written) with 'file:line', from both files; PlacesError on a bad entry."""
    out: dict[str, list[tuple[str, str]]] = {}
    for entry in _entries(countries, "countries"):
        out.setdefault(entry["concept"], []).extend((n.strip(), entry["__where__"]) for n in entry["names"])
    for entry in _entries(hubs, "places"):
        for field in ("country", "source", "place"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise PlacesError(f"{entry['__where__']}: entry needs a {field!r} (text)")
        for name in entry["names"]:
            why = usable(name.strip())
            if why:
                raise PlacesError(f"{entry['__where__']}: {entry['place']}: name {name!r} cannot be used: {why}")
            out.setdefault(entry["concept"], []).append((name.strip(), entry["__where__"]))
    return out


def hub_examples(hubs: Path = HUBS_FILE) -> list[tuple[str, list[str], list[str], list[str], str]]:
    """Per hubs.yaml entry with examples: (concept, names, match, no_match, 'file:line'); PlacesError on a bad list."""
    out = []
    for entry in _entries(hubs, "places"):
        lists = []
        for key in ("match", "no_match"):
            value = entry.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise PlacesError(f"{entry['__where__']}: {key!r} must be a list of strings")
            lists.append(value)
        if any(lists):
            out.append((entry["concept"], [n.strip() for n in entry["names"]], *lists, entry["__where__"]))
    return out


@functools.lru_cache(maxsize=4)
def place_patterns(directory: Path = PLACES_DIR) -> dict[str, list[tuple[str, str]]]:
    """Per concept id: (regex over folded text, source 'file:line' of its first name) pairs, from `directory`'s
    countries.yaml and hubs.yaml."""
    out: dict[str, list[tuple[str, str]]] = {}
    directory = Path(directory)
    for concept, named in load_places(directory / COUNTRIES_FILE.name, directory / HUBS_FILE.name).items():
        by_source: dict[str, list[str]] = {}
        for name, where in named:
            by_source.setdefault(where.rsplit(":", 1)[0], []).append(name)
        first = {where.rsplit(":", 1)[0]: where for _, where in reversed(named)}
        for path, names in by_source.items():
            out.setdefault(concept, []).extend(
                (rx, first[path]) for rx in name_regexes(names, inflect=concept not in EXACT_CONCEPTS))
    return out


@functools.lru_cache(maxsize=1)
def _country_regexes() -> list[tuple[str, re.Pattern]]:
    names: dict[str, list[str]] = {}
    for entry in _entries(COUNTRIES_FILE, "countries"):
        names.setdefault(entry["code"], []).extend(entry["names"])
    for entry in _entries(HUBS_FILE, "places"):
        names.setdefault(entry["country"], []).extend(n.strip() for n in entry["names"])
    return [(code, guarded("|".join(name_regexes(found)))) for code, found in names.items()]


def country_named(text: str) -> str | None:
    """The code of the first hub country (HUB_COUNTRIES) named in `text` by a country, town or zone name in any
    script, or None."""
    folded = fold(text)
    found = [(m.start(), code) for code, rx in _country_regexes() for m in [rx.search(folded)] if m]
    return min(found)[1] if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rules.places", description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {COUNTRIES_FILE} (else print it)")
    args = parser.parse_args(argv)
    text = render_countries(generate_countries())
    if args.write:
        COUNTRIES_FILE.parent.mkdir(parents=True, exist_ok=True)
        COUNTRIES_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {COUNTRIES_FILE}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
