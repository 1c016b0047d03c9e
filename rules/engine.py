"""The detection engine: ruleset (concepts x language packs, rules/ruleset.py) + pay + similarity to known
lures -> Assessment.

Rules match NORMALISED text (rules/textnorm.py); evidence spans point into the original field text.
Rules are grouped by category; each category's rules are compiled into one alternation (one regex pass per
field and category). Per-category features feed a logistic model whose weights come from
rules/calibration.yaml (refit with `python -m rules.calibration`). A lure is flagged only on strong enough
evidence: the summed category values below `min_strength` cap the score below the flag threshold.
A separate fraud model scores ordinary job fraud (reshipping, money mules, task scams, pay-to-work).
"""
from __future__ import annotations

import bisect
import dataclasses
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .calibration import Calibration, _logit, _sigmoid
from .entities import hub_country_number
from .language import detect_language
from .model import Ad, Assessment, Contact, Evidence
from .ruleset import (CATEGORIES, FRAUD, FRAUD_CATEGORIES, FRAUD_HINT, LURE_CATEGORIES, MITIGATING,  # noqa: F401
                      RULESET_DIR, UNIVERSAL, WARNING, LazyPattern, Rule, RulesetError, _check_pattern, lint_ruleset,
                      load_ruleset)
from .quoted import inside, quoted_spans
from .ruleset_cache import load_checked
from .salary import LANGUAGE_MARKET, Salary, find_salaries, pay_norm_usd
from ._prefilter import TriggerMatcher
from .textnorm import normalise


LEVELS = ((70, "high"), (45, "medium"), (20, "low"), (0, "none"))
FLAG_SCORE = 50  # the calibrated threshold is mapped to this score

RELOCATION_CATEGORIES = ("destination", "transit", "vague_destination", "visa", "passport", "perks", "similarity")
# A strong combination flags on its own (unless a mitigating sign is present): the recruit is moved somewhere
# unnamed or irregularly, is reached off-platform (or asked for a passport copy), and is offered free
# travel/housing or told no experience is needed. Each part is common alone; together they are the lure.
COMBO_MOVE = ("vague_destination", "transit", "visa")
COMBO_REACH_RULES = ("contact.", "passport.copy_requested")  # rule-id prefixes: wording, not just a phone number
NOT_REACH_RULES = ("contact.hub_country_number",)  # just a phone number
COMBO_BAIT = ("perks", "low_bar")
# Two strong signs flag together (issue 12, short posts): a named destination (a compound country or town, Thailand)
# and irregular travel: work on a tourist visa, a cover story for immigration, travel repaid from the salary.
# Ordinary jobs abroad never say the latter; nothing mitigating may be present either. "No cost" words are broad
# in some languages ("no fee", "without cost"): they pair only with a compound town or zone.
PAIR_TRAVEL_RULES = ("visa.tourist_for_work", "visa.cover_story", "transit.travel_debt")
PAIR_HUB_RULES = ("destination.cambodia_hub", "destination.myanmar_hub", "destination.laos_zone")
PAIR_HUB_TRAVEL_RULES = ("perks.no_cost", "perks.free_flight")
# A compound country (Cambodia, Myanmar, Laos) pairs with a paid flight, not with the broader "no cost" words
PAIR_COUNTRY_RULES = ("destination.compound_country",)
PAIR_COUNTRY_TRAVEL_RULES = ("perks.free_flight",)
# Posing as a tourist (work on a tourist visa, a story for immigration) is irregular travel whatever the place:
# with an unnamed destination abroad, or the two together, it flags without a named country (issue 12's example
# "tell immigration you are a tourist")
PAIR_TOURIST_RULES = ("visa.tourist_for_work", "visa.cover_story")
# A compound country or town, a bait role and pay far above the market's norm flag together (issue 12's short posts)
PAIR_PLACE_RULES = ("destination.compound_country", "destination.neighbour_compound_country", *PAIR_HUB_RULES)
# ... and so do Thailand, or just "a company abroad", with a bait role and such pay (stop 16: honest jobs abroad name
# the country and pay near its norm); "no experience" or "just typing" stands for the bait role too
PAIR_PAY_PLACE_RULES = (*PAIR_PLACE_RULES, "destination.thailand", "vague.abroad")
PAIR_PAY_RATIO = 3.0
# Free housing or meals alone do not move anyone (domestic factories, hotels and BPOs offer them)
STAY_ONLY_RULES = ("perks.food_housing",)
# Signs of irregular travel or a compound location: with none of these, two or more mitigating signs (licence,
# work permit by the employer, contract, social insurance, years of experience) keep an ad below the flag.
HARD_LURE_CATEGORIES = ("transit", "vague_destination", "visa", "passport", "similarity")
HARD_LURE_RULES = ("destination.cambodia_hub", "destination.myanmar_hub", "destination.laos_zone",
                   "perks.no_cost", "pay.crypto")
# Three or more distinct mitigating signs outweigh a compound town or a pick-up, but never these
IRREGULAR_CATEGORIES = ("vague_destination", "visa", "passport", "similarity")
IRREGULAR_RULES = ("perks.no_cost", "pay.crypto")
# A safeguard named inside a phrase of these categories is being skipped ("no need to go through DMW")
NEGATING_CATEGORIES = ("visa",)
PLACE_RULES = ("mitigating.distant_workplace",)  # besides `destination` rules, these name the work place
AWARENESS_RULES = ("mitigating.awareness_post",)  # a warning against such offers is not an offer
# A warning post is also read from broad vocabulary (the `warning` concepts: scam named, harm, authority, caution):
# their weights summed (a lure's denial of fraud, "not a scam", "100% legit", weighs -1) reach this, from at least
# two different concepts
AWARENESS_MIN = 1.0
# A fee scam (the recruit pays for a visa, kit, registration, training or medical to get the job) is ordinary
# fraud (fraud_score), not a compound lure, unless a trafficking marker is present too: a compound country or
# hub or "a neighbouring country", an irregular route, a tourist visa for work, a held passport, debt bondage,
# crypto pay or a gambling/crypto role, a known lure's text, or an unnamed destination with an off-platform contact.
FEE_SCAM_CATEGORIES = ("fees",)
FEE_SCAM_RULES = ("fraud.pay_to_work", "fraud.visa_fee")
TRAFFICKING_MARKER_CATEGORIES = ("destination", "transit", "visa", "similarity")
TRAFFICKING_MARKER_RULES = ("passport.held_by_employer", "perks.no_cost", "pay.crypto", "vague.neighbouring_country",
                            "bait.gambling_crypto")
TRAFFICKING_MARKER_PAIRS = (("vague_destination", "contact"),)  # categories that are a marker together
# "No agency fee / you pay nothing" mitigates only beside another sign of a licensed, formal channel (a licence
# number, a contract, a work permit): next to a compound place or company-paid travel with none, it is the lure's
# "you don't need a single cent to get there" (issue 12) and is read as NO_FEE_AS_LURE_RULE
NO_FEE_RULE = "mitigating.no_fees_charged"
NO_FEE_AS_LURE_RULE = "perks.no_cost"
NO_FEE_LURE_CONTEXT_RULES = (*PAIR_PLACE_RULES, "destination.thailand", "perks.free_flight")
FIELD_SEP = "\n\n"
# Matching costs CPU in proportion to text length (seconds per MB): longer fields are cut to this many
# characters before any stage runs, and the assessment says so (Assessment.truncated_fields).
MAX_FIELD_CHARS = 50_000
NOT_COVERED = "language.not_covered"  # evidence (weight 0) on an ad in a language without a pack
# A mitigating acronym of at most this many letters joined by an apostrophe or hyphen to a word is part of that
# word (only mitigating: Taglish "mag-scam", "na-scam" keep their English warning word)
SHORT_WORD = 4
JOINERS = "'\u2019\u02bc-"
MESSENGER_KINDS = {"telegram", "whatsapp", "line", "wechat", "zalo", "qq", "signal", "viber", "skype"}


def joined_to_a_word(doc: str, start: int, end: int) -> bool:
    """True when doc[start:end] is a short lower-case word joined to another by an apostrophe or hyphen: "sha" in
    Hausa "sha'awa", Uzbek "o'sha", "esi" in Igbo "ga-esi". Such a piece is part of a longer word, not an acronym
    (an upper-case acronym keeps its suffix: "DMW-licensed", Turkish "SGK'lı").

    Example:

        joined_to_a_word("sha'awa", 0, 3) -> True
    """
    piece = doc[start:end]
    if not piece.isalpha() or not piece.islower():  # "DMW-licensed", Turkish "SGK'lı": an acronym with a suffix
        return False
    before = start >= 2 and doc[start - 1] in JOINERS and doc[start - 2].isalpha()
    after = end + 1 < len(doc) and doc[end] in JOINERS and doc[end + 1].isalpha()
    return before or after


def level_for(score: int) -> str:
    return next(name for floor, name in LEVELS if score >= floor)


def gate(values: dict[str, float], min_strength: float = 1.5) -> str | None:
    """Structural rules applied around the logistic score: "capped" (never flagged), "flag" (always flagged)
    or None (the score decides). The evidence must be strong enough: `strength` adds each lure category's
    value (its matched concepts' weights, at most 1), so two strong signals (a compound town and free travel)
    can pass where three weak ones (a bait title, "no experience", "urgent") cannot."""
    if values.get("strength", 0.0) < min_strength:
        return "capped"  # too little evidence, whatever its kind
    if values.get("awareness"):
        return "capped"  # a warning post names the lure's signs to warn against them
    if not values.get("moves"):
        return "capped"  # nobody is moved anywhere: ordinary job fraud at most, not a compound lure
    if values.get("mitigated"):
        return "capped"  # licensed / formal employment and no sign of irregular travel
    if values.get("fee_scam"):
        return "capped"  # the recruit pays to get the job and nothing marks trafficking: fraud, not a lure
    if (values.get("combo") or values.get("place_and_irregular_travel")) and values.get(MITIGATING, 0) <= 0:
        return "flag"  # strong combination (see COMBO_MOVE, PAIR_TRAVEL_RULES), nothing mitigating
    return None


def confirmed_ad(nearest: Any) -> dict[str, Any]:
    """{ad_id, url} when the nearest known lure is an ad an analyst confirmed (a database's confirmed_lures),
    else {}."""
    meta = getattr(nearest, "meta", None) or {}
    return {"ad_id": meta["ad_id"], "url": meta.get("url")} if meta.get("ad_id") is not None else {}


def is_fee_scam(evidence: list[Evidence]) -> bool:
    """The recruit is asked to pay to get the job and no trafficking marker is present (see FEE_SCAM_RULES)."""
    if not any(e.category in FEE_SCAM_CATEGORIES or e.rule_id in FEE_SCAM_RULES for e in evidence):
        return False
    categories = {e.category for e in evidence}
    marked = (any(c in categories for c in TRAFFICKING_MARKER_CATEGORIES)
              or any(e.rule_id in TRAFFICKING_MARKER_RULES for e in evidence)
              or any(all(c in categories for c in pair) for pair in TRAFFICKING_MARKER_PAIRS))
    return not marked


def reread_no_fee(evidence: list[Evidence], strength: dict[str, float],
                  as_lure: Rule | None) -> tuple[list[Evidence], dict[str, float]]:
    """A lone "no fee" next to a compound place or company-paid travel becomes `as_lure` evidence (see NO_FEE_RULE);
    otherwise evidence and strength are returned unchanged."""
    ids = {e.rule_id for e in evidence}
    if (as_lure is None or NO_FEE_RULE not in ids or ids.isdisjoint(NO_FEE_LURE_CONTEXT_RULES)
            or any(e.category == MITIGATING and e.rule_id != NO_FEE_RULE for e in evidence)):
        return evidence, strength
    strength = {c: v for c, v in strength.items() if c != MITIGATING}
    out = []
    for e in evidence:
        if e.rule_id != NO_FEE_RULE:
            out.append(e)
        elif as_lure.id not in ids:
            out.append(Evidence(as_lure.id, as_lure.category, as_lure.weight, e.matched_text, e.field, e.start, e.end,
                                f'{as_lure.description}: "{e.matched_text}" (no fee, next to a compound place or '
                                f'company-paid travel, with no licensed channel named).'))
            strength[as_lure.category] = strength.get(as_lure.category, 0.0) + abs(as_lure.weight)
    return out, strength


# -- matching --------------------------------------------------------------------------------------------------
@dataclass
class Features:
    """What the logistic models see, kept for calibration and debugging."""

    values: dict[str, float]
    evidence: list[Evidence]
    salary: Salary | None
    pay_ratio: float | None
    language: str | None
    contacts: list[Contact]
    nearest: Any


@dataclass
class _Partial:
    """The text stages' results, before similarity (see Engine.features)."""

    evidence: list[Evidence]
    strength: dict[str, float]
    salary: Salary | None
    pay_ratio: float | None
    language: str | None
    contacts: list[Contact]
    similarity_doc: str  # what the similarity stage compares ("" without one)


class Engine:
    """Scores ads. Build once (`Engine.load()`), then call `assess` per ad."""

    def __init__(self, rules: list[Rule], calibration: Calibration | None = None, *, similarity: Any = None,
                 extract_contacts: Any = None, max_field_chars: int = MAX_FIELD_CHARS,
                 trigger_tables: dict | None = None):
        if max_field_chars < 1:
            raise ValueError(f"max_field_chars must be at least 1, got {max_field_chars}")
        self.max_field_chars = max_field_chars
        self.rules = rules
        self.calibration = calibration or Calibration.load()
        self.similarity = similarity
        self.extract_contacts = extract_contacts
        self.matcher = TriggerMatcher([[p.pattern for p in rule.patterns] for rule in rules], tables=trigger_tables,
                                      store=(trigger_tables or {}).get("regex_store"))
        self.pack_languages = frozenset(code for rule in rules for code in rule.languages if code != UNIVERSAL)
        self._mitigating_rules = {i for i, r in enumerate(rules) if r.category == MITIGATING}
        self._no_fee_as_lure = next((r for r in rules if r.id == NO_FEE_AS_LURE_RULE), None)
        self._place_rules = {i for i, r in enumerate(rules) if r.category == "destination" or r.id in PLACE_RULES}
        self._negating_rules = {i for i, r in enumerate(rules) if r.category in NEGATING_CATEGORIES}
        self._warning_rules = {i for i, r in enumerate(rules) if r.category == WARNING}  # never shielded
        self._context_rules = (self._mitigating_rules | self._place_rules | self._negating_rules
                               | {i for i, r in enumerate(rules) if r.unless_in})
        self._allowed_cache: dict[tuple, list[frozenset[int] | None]] = {}
        digest = hashlib.sha1()
        for rule in rules:
            digest.update(f"{rule.id}:{rule.weight}:{rule.raw_patterns}".encode())
        digest.update(self.calibration.digest().encode())
        if max_field_chars != MAX_FIELD_CHARS:  # another cap can change verdicts on long ads
            digest.update(f"max_field_chars:{max_field_chars}".encode())
        self.version = digest.hexdigest()[:12]

    def _allowed_fields(self, language: str | None, names: list[str]) -> list[frozenset[int] | None]:
        """Per rule, the indexes in `names` of the fields it may match in (None: every field); a rule whose
        `not_languages` holds `language` may match nowhere. Memoised per (language, field names)."""
        key = (language, tuple(names))
        out = self._allowed_cache.get(key)
        if out is None:
            out = []
            for rule in self.rules:
                if rule.not_languages and language in rule.not_languages:
                    out.append(frozenset())
                elif rule.fields:
                    out.append(frozenset(i for i, n in enumerate(names) if n in rule.fields))
                else:
                    out.append(None)
            if len(self._allowed_cache) > 4096:
                self._allowed_cache.clear()
            self._allowed_cache[key] = out
        return out

    def covers(self, language: str | None) -> bool | None:
        """Whether a language pack reads `language` (a pack for it or for one of its variants, e.g. zh ->
        zh-hans); None when the language is unknown."""
        if not language:
            return None
        return language in self.pack_languages or any(code.startswith(language + "-") or language.startswith(code + "-")
                                                      for code in self.pack_languages)

    @property
    def threshold(self) -> int:
        return FLAG_SCORE

    @classmethod
    def load(cls, ruleset_dir: Path | str | None = None, *, with_similarity: bool = True, known_lures: Any = None,
             calibration: Path | str | None = None, max_field_chars: int = MAX_FIELD_CHARS) -> "Engine":
        """The shipped ruleset, calibration and known-lure index. `known_lures`: an index to use instead
        (anything with `.nearest(text)`); `with_similarity=False`: no similarity stage; `max_field_chars`:
        longer text fields are cut before assessment."""
        rules, tables = load_checked(Path(ruleset_dir) if ruleset_dir else RULESET_DIR)
        similarity = known_lures
        extract = None
        if with_similarity and similarity is None:
            try:
                from .similarity import KnownLureIndex  # written by another engineer; optional until it lands

                similarity = KnownLureIndex.load_default()
            except ImportError:
                similarity = None
        try:
            from .entities import extract_contacts as extract
        except ImportError:
            extract = None
        cal = Calibration.load(calibration) if calibration else Calibration.load()
        return cls(rules, cal, similarity=similarity, extract_contacts=extract, max_field_chars=max_field_chars,
                   trigger_tables=tables)

    # -- features --------------------------------------------------------------------------------------------
    def capped(self, ad: Ad | dict[str, Any]) -> tuple[Ad, list[str]]:
        """The ad with each text field cut to `max_field_chars`, and the names of the fields that were cut."""
        if isinstance(ad, dict):
            ad = Ad.from_dict(ad)
        cap = self.max_field_chars
        cut = [name for name, text in ad.texts().items() if len(text) > cap]
        if cut:
            ad = dataclasses.replace(ad, **{name: getattr(ad, name)[:cap] for name in cut})
        return ad, cut

    def features(self, ad: Ad | dict[str, Any]) -> Features:
        return self._features(self.capped(ad)[0])

    def _features(self, ad: Ad) -> Features:
        """Features of an ad already cut to `max_field_chars`."""
        partial = self._text_features(ad)
        doc = partial.similarity_doc
        nearest = self.similarity.nearest(doc) if self.similarity is not None and doc.strip() else None
        return self._combine(partial, nearest)

    def _text_features(self, ad: Ad) -> "_Partial":
        """Every stage but similarity: rules, language, pay, contacts."""
        cal = self.calibration
        texts = ad.texts()
        evidence: list[Evidence] = []
        strength: dict[str, float] = {}
        # all fields in one document (one normalisation, one matching pass); "\n\n" keeps most patterns
        # inside a field, and a match that still crosses fields is dropped
        names = list(texts)
        starts, pos = [], 0
        for fname in names:
            starts.append(pos)
            pos += len(texts[fname]) + len(FIELD_SEP)
        doc = FIELD_SEP.join(texts[f] for f in names)
        norm = normalise(doc)
        language = detect_language(" \n".join(texts.get(k, "") for k in ("title", "description", "location")))
        matches = list(self.matcher.finditer(norm.text))  # (rule, match in the normalised text)
        covered = self.covers(language)
        if covered is False:
            evidence.append(Evidence(
                NOT_COVERED, "language", 0.0, language, "description", -1, -1,
                f"The ad is in a language ({language}) that no language pack covers: it was read only for signals "
                "that need no words (places in any script, pay, contacts, symbols) and for words shared with "
                "other languages."))
        lens = [len(texts[f]) for f in names]
        allowed = self._allowed_fields(language, names)  # per rule: field indexes it may match in (None: all)
        span = norm.span
        located: dict[int, tuple[int, int, int] | None] = {}

        def locate(m: re.Match, owner: int) -> tuple[int, int, int] | None:
            """(start, end, field index) in the original document, or None: crosses fields or not allowed."""
            a, b = span(m.start(), m.end())
            fi = bisect.bisect_right(starts, a) - 1
            if b > starts[fi] + lens[fi]:
                return None
            if b - a <= SHORT_WORD and owner in self._mitigating_rules and joined_to_a_word(doc, a, b):
                return None  # a safeguard's acronym inside another word
            ok = allowed[owner]
            return (a, b, fi) if ok is None or fi in ok else None

        # context first (few rules): a mitigating phrase overrides the lure wording inside it ("we never recruit
        # through Telegram", "recruitment is free of charge") and an irregular-travel phrase the safeguard inside it
        # ("no need to go through DMW"); a rule with `unless_in` is off when it matches in those fields; a
        # destination named in the location makes vague-destination wording moot
        shields: list[tuple[int, int]] = []
        negations: list[tuple[int, int]] = []  # irregular-travel phrases: "no need to go through DMW"
        off: set[int] = set()
        placed: list[int] = []
        context = self._context_rules
        for i, (owner, m) in enumerate(matches):
            if owner in context:
                loc = located[i] = locate(m, owner)
                if loc is None:
                    continue
                if owner in self._mitigating_rules:
                    shields.append((loc[0], loc[1]))
                elif owner in self._negating_rules:
                    negations.append((loc[0], loc[1]))
                if names[loc[2]] in self.rules[owner].unless_in:
                    off.add(owner)
                if owner in self._place_rules and names[loc[2]] == "location":
                    placed.append(owner)
        place_named = any(o not in off for o in placed)
        quoted = self._quoted_bait(doc, matches, locate)  # reported bait inside a warning: shielded like the above
        if quoted:
            shields = shields + quoted
        first: dict[int, tuple[int, int]] = {}  # rule -> earliest (start, end) in the original document
        first_norm: dict[int, tuple[int, int]] = {}  # rule -> (start, -end): the earliest, then the longest match
        for i, (owner, m) in enumerate(matches):
            if owner in off or first_norm.get(owner, (1 << 60, 0)) <= (m.start(), -m.end()):
                continue
            loc = located[i] if i in located else locate(m, owner)
            if loc is None:
                continue
            a, b = loc[0], loc[1]
            if owner in self._mitigating_rules:
                if negations and any(x <= a and b <= y for x, y in negations):
                    continue  # the safeguard is named only to be skipped
            elif shields and owner not in self._warning_rules and any(x <= a and b <= y for x, y in shields):
                continue
            first_norm[owner] = (m.start(), -m.end())
            first[owner] = (a, b)
        for owner in sorted(first, key=first.get):
            start, end = first[owner]
            fi = bisect.bisect_right(starts, start) - 1
            rule = self.rules[owner]
            quote = doc[start:end]
            evidence.append(Evidence(rule.id, rule.category, rule.weight, quote, names[fi], start - starts[fi],
                                     end - starts[fi], f'{rule.description}: "{quote}".'))
            strength[rule.category] = strength.get(rule.category, 0.0) + abs(rule.weight)
        if "vague_destination" in strength and place_named:
            # the location names the place: a vague phrase elsewhere ("Southeast Asia") hides nothing
            evidence = [e for e in evidence if e.category != "vague_destination"]
            del strength["vague_destination"]

        # pay: the salary field first, else pay mentions in the description
        salary = None
        default_currency = LANGUAGE_MARKET.get(language or "")  # zh-hant (traditional characters): TWD
        for fname in ("salary", "description", "title"):
            found = find_salaries(texts.get(fname, ""), default_currency, pay_field=fname == "salary")
            if found:
                salary = max(found, key=lambda s: s.usd_month)
                salary_field = fname
                break
        pay_ratio = None
        if salary and quoted:
            offset = starts[names.index(salary_field)]
            if inside(quoted, offset + salary.start, offset + salary.end):
                salary_field = ""  # pay quoted from the bait a warning post reports
        if salary and salary_field:
            context = " ".join(texts.get(k, "") for k in ("location", "title", "description"))[:6000]
            places = " ".join(e.matched_text for e in evidence if e.category == "destination")
            norm_usd = pay_norm_usd(salary, context, language, places)
            pay_ratio = salary.usd_month / norm_usd
            if pay_ratio >= cal.pay_ratio_min:
                evidence.append(Evidence(
                    "pay.above_norm", "pay", 1.0, salary.text, salary_field, salary.start, salary.end,
                    f'Pay of about US${salary.usd_month:,.0f}/month is {pay_ratio:.1f}x the usual US${norm_usd:,.0f} '
                    f'for entry-level work in that market: "{salary.text}".'))
                strength["pay"] = strength.get("pay", 0.0) + min(1.0, math.log2(pay_ratio) / 2)

        # contacts found by the entity extractor: an off-platform messenger handle is contact evidence
        contacts: list[Contact] = []
        if self.extract_contacts is not None:
            contacts = list(self.extract_contacts(ad, language=language))
            messengers = [c for c in contacts if c.kind in MESSENGER_KINDS]
            if messengers and "contact" not in strength:
                c = messengers[0]
                evidence.append(Evidence(
                    f"contact.extracted_{c.kind}", "contact", 0.8, c.raw or c.value, c.field, c.start, c.end,
                    f'An off-platform {c.kind} contact is given: "{c.raw or c.value}".'))
                strength["contact"] = 0.8
            for c in contacts:  # a number with a hub country's dialling code (+855, wa.me/95...)
                hub = hub_country_number(c, language)
                if hub:
                    region, weight = hub
                    evidence.append(Evidence(
                        "contact.hub_country_number", "contact", weight, c.raw or c.value, c.field, c.start, c.end,
                        f'A contact number with the dialling code of a compound-hub country ({region}): '
                        f'"{c.raw or c.value}".'))
                    strength["contact"] = strength.get("contact", 0.0) + weight
                    break

        doc = "\n".join(texts.get(k, "") for k in ("title", "description")) if self.similarity is not None else ""
        return _Partial(evidence, strength, salary, pay_ratio, language, contacts, doc)

    def _quoted_bait(self, doc: str, matches: list, locate: Any) -> list[tuple[int, int]]:
        """The quotations in `doc` when the words outside them warn (warning concepts summing above 0, or an
        awareness phrase): a warning post reporting the bait ("they offered 'customer service in Thailand, free
        ticket'"). Lure wording inside these spans is reported speech, not an offer. Else []."""
        spans = quoted_spans(doc)
        if not spans:
            return []
        said: dict[int, float] = {}
        for owner, m in matches:
            rule = self.rules[owner]
            if owner in said or not (owner in self._warning_rules or rule.id in AWARENESS_RULES):
                continue
            loc = locate(m, owner)
            if loc is not None and not inside(spans, loc[0], loc[1]):
                said[owner] = rule.weight if owner in self._warning_rules else 1.0
        return spans if sum(said.values()) > 0 else []

    def _combine(self, partial: "_Partial", nearest: Any) -> Features:
        """Add the similarity evidence and derive the model's feature values."""
        cal = self.calibration
        evidence, strength = reread_no_fee(partial.evidence, partial.strength, self._no_fee_as_lure)
        pay_ratio = partial.pay_ratio
        if nearest is not None and nearest.similarity >= cal.similarity_threshold:
            confirmed = confirmed_ad(nearest)
            lure = (f"confirmed lure #{confirmed['ad_id']} ({confirmed['url']})" if confirmed else
                    f"known lure {nearest.id}"
                    f"{' (' + nearest.source_note + ')' if getattr(nearest, 'source_note', '') else ''}")
            evidence.append(Evidence(
                "similarity.known_lure", "similarity", round(float(nearest.similarity), 3),
                f"{nearest.id} ({nearest.similarity:.2f})", "description", -1, -1,
                f"The text is {nearest.similarity:.0%} similar to {lure}."))
            strength["similarity"] = float(nearest.similarity)

        values = {cat: min(1.0, s) for cat, s in strength.items()}
        n_categories = sum(1 for c in LURE_CATEGORIES if values.get(c, 0) > 0)
        values["n_lure_categories"] = float(n_categories)
        values["strength"] = sum(values.get(c, 0.0) for c in LURE_CATEGORIES)
        warned = {e.rule_id: e.weight for e in evidence if e.category == WARNING}
        values[WARNING] = sum(warned.values())
        values["awareness"] = float(any(e.rule_id in AWARENESS_RULES for e in evidence) or (
            values[WARNING] >= AWARENESS_MIN and sum(w > 0 for w in warned.values()) >= 2))
        values["breadth"] = min(1.0, max(0, n_categories - 2) / 4)  # many kinds of indicator at once
        reached = any(e.rule_id.startswith(COMBO_REACH_RULES) and e.rule_id not in NOT_REACH_RULES
                      for e in evidence if e.category in ("contact", "passport"))
        values["combo"] = float(reached and any(values.get(c, 0) > 0 for c in COMBO_MOVE)
                                and any(values.get(c, 0) > 0 for c in COMBO_BAIT))
        ids = {e.rule_id for e in evidence}
        values["place_and_irregular_travel"] = float(
            (values.get("destination", 0) > 0 and not ids.isdisjoint(PAIR_TRAVEL_RULES))
            or (not ids.isdisjoint(PAIR_HUB_RULES) and not ids.isdisjoint(PAIR_HUB_TRAVEL_RULES))
            or (not ids.isdisjoint(PAIR_COUNTRY_RULES) and not ids.isdisjoint(PAIR_COUNTRY_TRAVEL_RULES))
            or (not ids.isdisjoint(PAIR_TOURIST_RULES)
                and (values.get("vague_destination", 0) > 0 or ids.issuperset(PAIR_TOURIST_RULES)))
            or (not ids.isdisjoint(PAIR_PAY_PLACE_RULES)
                and (values.get("bait_role", 0) > 0 or values.get("low_bar", 0) > 0)
                and (pay_ratio or 0) >= PAIR_PAY_RATIO))
        values["moves"] = float(any(e.category in RELOCATION_CATEGORIES and e.rule_id not in STAY_ONLY_RULES
                                    for e in evidence))
        hard = any(e.category in HARD_LURE_CATEGORIES or e.rule_id in HARD_LURE_RULES for e in evidence)
        n_mitigating = len({e.rule_id for e in evidence if e.category == MITIGATING})
        irregular = any(e.category in IRREGULAR_CATEGORIES or e.rule_id in IRREGULAR_RULES for e in evidence)
        values["mitigated"] = float((n_mitigating >= 2 and not hard) or (n_mitigating >= 3 and not irregular))
        values["pay_ratio_log"] = min(3.0, max(0.0, math.log2(pay_ratio))) / 3 if pay_ratio else 0.0
        values["fee_scam"] = float(is_fee_scam(evidence))
        return Features(values, evidence, partial.salary, pay_ratio, partial.language, partial.contacts, nearest)

    # -- scoring ---------------------------------------------------------------------------------------------
    def assess(self, ad: Ad | dict[str, Any]) -> Assessment:
        """The verdict on one ad. Text fields longer than `max_field_chars` are cut first (evidence offsets
        stay inside the kept text) and the assessment lists them in `truncated_fields`."""
        ad, cut = self.capped(ad)
        return self._assessment(self._features(ad), cut)

    def assess_many(self, ads: Iterable[Ad | dict[str, Any]]) -> list[Assessment]:
        """The same as ``[assess(ad) for ad in ads]``; the similarity stage runs once for the whole batch
        (signatures and band lookups vectorised) when the index has ``nearest_many``."""
        capped = [self.capped(a) for a in ads]
        partials = [self._text_features(ad) for ad, _ in capped]
        nearests: list[Any] = [None] * len(partials)
        if self.similarity is not None:
            todo = [i for i, p in enumerate(partials) if p.similarity_doc.strip()]
            docs = [partials[i].similarity_doc for i in todo]
            many = getattr(self.similarity, "nearest_many", None)
            found = many(docs) if many is not None else [self.similarity.nearest(d) for d in docs]
            for i, match in zip(todo, found):
                nearests[i] = match
        return [self._assessment(self._combine(p, n), cut) for p, n, (_, cut) in zip(partials, nearests, capped)]

    def _assessment(self, f: Features, truncated: list[str] = ()) -> Assessment:
        cal = self.calibration
        lure_z = cal.lure.z(f.values)
        score = int(round(100 * _sigmoid(lure_z - _logit(cal.lure.threshold) + _logit(FLAG_SCORE / 100))))
        verdict = gate(f.values, cal.min_strength)
        if verdict == "capped":
            score = min(score, 44)
        elif verdict == "flag":
            score = max(score, FLAG_SCORE)
        fraud_z = cal.fraud.z(f.values)
        fraud_score = int(round(100 * _sigmoid(fraud_z - _logit(cal.fraud.threshold) + _logit(FLAG_SCORE / 100))))
        if not any(f.values.get(c, 0) > 0 for c in (*FRAUD_CATEGORIES, "fees")):  # no sign of fraud at all
            fraud_score = min(fraud_score, 44)
        evidence = self._weigh(f)
        return Assessment(
            score=score,
            level=level_for(score),
            flagged=score >= FLAG_SCORE,
            evidence=evidence,
            language=f.language,
            fraud_score=fraud_score,
            fraud_flagged=fraud_score >= FLAG_SCORE,
            contacts=f.contacts,
            salary_usd_month=round(f.salary.usd_month, 2) if f.salary else None,
            nearest_lure=({"id": f.nearest.id, "similarity": round(float(f.nearest.similarity), 3),
                           **confirmed_ad(f.nearest)} if f.nearest is not None else None),
            ruleset_version=self.version,
            truncated_fields=list(truncated),
            max_field_chars=self.max_field_chars if truncated else 0,
            language_covered=self.covers(f.language),
        )

    def _weigh(self, f: Features) -> list[Evidence]:
        """Evidence weights become each hit's share of its category's contribution to the score."""
        cal = self.calibration
        totals: dict[str, float] = {}
        for e in f.evidence:
            totals[e.category] = totals.get(e.category, 0.0) + abs(e.weight)
        out = []
        for e in f.evidence:
            model = cal.fraud if e.category in FRAUD_CATEGORIES else cal.lure
            contribution = model.weights.get(e.category, 0.0) * f.values.get(e.category, 0.0)
            share = abs(e.weight) / totals[e.category] if totals[e.category] else 0.0
            out.append(Evidence(e.rule_id, e.category, round(contribution * share, 3), e.matched_text, e.field,
                                e.start, e.end, e.explanation))
        out.sort(key=lambda e: -abs(e.weight))
        return out
