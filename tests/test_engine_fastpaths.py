"""The engine's speed-ups give the same answers as the slow, obvious way.

- phones: PhoneNumberMatcher on windows (rules/entities._phone_windows) == on the whole text;
- prefilter: the rules TriggerMatcher finds == the rules whose regexes match anywhere.
"""
import csv
import itertools
import re
from pathlib import Path

import pytest
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher, format_number

from rules import entities
from rules._prefilter import TriggerMatcher, required_literals, starts_a_line
from rules.engine import load_ruleset
from rules.textnorm import normalise

EMSCAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "emscad-partial" / "emscad_partial.csv"

PHONE_TEXTS = [
    "Call +855 12 345 678 now",
    "Office (02) 8123 4567 ext. 123, mobile 0917-123-4567.",
    "tel:+63-917-123-4567; fax +63 2 8123 4567",
    "Posted 2024-01-02 08:00:15, interview 12/10/2023 at 10:30",
    "+41 79 123 45 67 / 68 or +41 79 123 45 69",
    "0917 123 4567" + " " * 80 + "ext 12",
    "0917 123 4567 ,,,  , extension: 4567",
    "โทร ๐๘๑-๒๓๔-๕๖๗๘ ได้เลย",
    "ＴＥＬ：０９１７１２３４５６７",
    "abc8005001234def and 8005001234",
    "pay $09171234567 or 09171234567%",
    "Tel: 0917-123-4567 extensión: 89",
    "WA +62 812-3456-7890 / +62 812 3456 7891#",
    "(415) 555-2671 or 415.555.2672 or 1-800-555-0199 x 22",
    "Pages 211-227 (2003); ID 123456789012; call 09171234567",
    "5+ years, 2019-2024, salary 25000-35000 PHP, room 12 34 56 78 90",
    "No digits here at all, just words and a +plus sign.",
    "+290 2123 and +683 4002",
    "line1\n0917\n123\n4567\n(+63)\t917 123 4567",
]


def whole_text_phones(text: str, region: str) -> list[tuple[int, int, str]]:
    out = []
    for m in PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
        if m.raw_string.startswith("+") or len(re.sub(r"\D", "", m.raw_string)) >= 8:
            out.append((m.start, m.end, format_number(m.number, PhoneNumberFormat.E164)))
    return out


def windowed_phones(text: str, region: str) -> list[tuple[int, int, str]]:
    out = []
    for start, end in entities._phone_windows(text):
        for m in PhoneNumberMatcher(text[start:end], region, leniency=Leniency.VALID):
            if m.raw_string.startswith("+") or len(re.sub(r"\D", "", m.raw_string)) >= 8:
                out.append((start + m.start, start + m.end, format_number(m.number, PhoneNumberFormat.E164)))
    return out


def test_phone_windows_are_active():
    assert entities._MATCHER_RUN is not None, "phonenumbers' candidate pattern could not be read"
    text = "We have 5 roles. " * 20 + "Call 0917 123 4567 today." + " More text." * 20
    windows = entities._phone_windows(text)
    assert len(windows) == 1 and sum(e - s for s, e in windows) < 40


@pytest.mark.parametrize("text", PHONE_TEXTS)
@pytest.mark.parametrize("region", ["PH", "US", "TH", "CN"])
def test_phone_windows_find_what_the_whole_text_has(text, region):
    assert windowed_phones(text, region) == whole_text_phones(text, region)


def test_phone_windows_on_emscad():
    if not EMSCAD.is_file():
        pytest.skip(f"{EMSCAD} not present")
    csv.field_size_limit(2**31 - 1)
    with open(EMSCAD, encoding="utf-8", newline="") as fh:
        rows = list(itertools.islice(csv.DictReader(fh), 300))
    texts = [" ".join(row.get(k) or "" for k in ("company_profile", "description", "requirements", "benefits"))
             for row in rows]
    assert sum(bool(whole_text_phones(t, "US")) for t in texts) > 0  # the sample holds phones at all
    for text in texts:
        assert windowed_phones(text, "US") == whole_text_phones(text, "US")


@pytest.mark.parametrize(
    "pattern, expected",
    [
        (r"\b\d+ rupaye (?:ka|ki)\b", (" rupaye k",)),
        (r"(?:零|一|二){7,}", ("零", "一", "二")),
        (r"\d{1,2}\s*年以上", ("年以上",)),
        (r"\d{2} ?wpm\b", ("wpm",)),
        (r"\d+\s*(?:usd|usdt)", ("usd",)),  # the parser factors out the common prefix
        (r"\d+\w*", None),
    ],
)
def test_required_literals(pattern, expected):
    got = required_literals(pattern)
    assert (set(got) if got else None) == (set(expected) if expected else None)
    for literals in [got] if got else []:
        for text in ("12 rupaye ki", "零一二零一二零", "3年以上", "45 wpm", "100 usdt"):
            if re.search(pattern, text):
                assert any(s in text for s in literals)


MATCHER_SHARDS = 8  # the reference check runs every branch over every example (minutes): shards spread it over workers


@pytest.mark.parametrize("shard", range(MATCHER_SHARDS))
def test_trigger_matcher_finds_every_rule_that_matches(shard):
    rules = load_ruleset()
    matcher = TriggerMatcher([[p.pattern for p in r.patterns] for r in rules])
    texts = [normalise(t).text for r in rules for t in r.examples_match + r.examples_no_match]
    texts.append(normalise("\n\n".join(t for r in rules for t in r.examples_match)).text)
    for text in texts[shard::MATCHER_SHARDS]:
        expected = {i for i, r in enumerate(rules)
                    if any(m.end() > m.start() for p in r.patterns for m in p.finditer(text))}
        assert {owner for owner, _ in matcher.finditer(text)} == expected, text[:80]


@pytest.mark.parametrize(
    "pattern, expected",
    [
        (r"(?:^|(?<=\n))[ \t]*asia\b", True),
        (r"^asia", True),
        (r"(?:(?:^|(?<=\n))asia)", True),
        (r"(?:^|(?<= ))asia", False),
        (r"(?:^|x)asia", False),
        (r"asia$", False),
    ],
)
def test_starts_a_line(pattern, expected):
    assert starts_a_line(pattern) is expected


@pytest.mark.parametrize("text", ["asia (x)\nfoo\n  asia - y", "x asia -\nasia,", "\n\nasia(", "asia", ""])
def test_line_start_branches_match_like_finditer(text):
    matcher = TriggerMatcher([[r"(?:^|(?<=\n))[ \t]*asia\s*[(,-]"]])
    assert matcher.always_line_start == [True]
    expected = [(m.start(), m.end()) for m in re.finditer(r"(?:^|(?<=\n))[ \t]*asia\s*[(,-]", text)]
    assert [(m.start(), m.end()) for _, m in matcher.finditer(text)] == expected


# -- first-character guards (rules/_regex.guarded) -----------------------------------------------------------
def _guarded_cases():
    from rules import entities as ent
    from rules import salary as sal

    return [
        (sal._PAY_WORD_PATTERN, re.IGNORECASE),
        (sal._MONEY_HINT_PATTERN, 0),
        ("|".join(f"(?P<{k}>{v})" for k, v in sal.PERIODS.items()), re.IGNORECASE),
        *[(p, 0) for p, _ in sal.MARKET_HINTS],
        (r"\+?\(?\d[\d\s().\-/]{5,}\d", 0),
        (r"[@＠]|[\[({]\s*at\s*[\])}]|\sat\s+[a-z0-9-]+" + ent._DOT + "[a-z]", re.IGNORECASE),
        (r"(?<![a-z])\bKelvin|ſtraße|\d+\s*(?:万|triệu)", re.IGNORECASE),
    ]


GUARD_TEXTS = [
    "Salary: USD 1,500 per month, paid weekly. Contact hr [at] example [dot] com or +855 12 345 678.",
    "月薪3万，包吃包住。 Lương 15 triệu/tháng, work in Phnom Penh / Sihanoukville; SALARY 2K monthly",
    "STRASSE straße ſtrasse KELVIN Kelvin kelvin (at) x. South-East Asia, ASEAN; dong nam a; Bangkok, Mae Sot",
    "gaji RM3,000 sebulan di Malaysia; sahod ₱30,000 kada buwan sa Pilipinas; เงินเดือน 25,000 บาท ที่กัมพูชา",
    "",
]


def test_guarded_regex_matches_like_the_plain_one():
    from rules._regex import first_char_class, guarded

    cases = _guarded_cases()
    if EMSCAD.exists():
        with open(EMSCAD, encoding="utf-8", newline="") as fh:
            csv.field_size_limit(2**31 - 1)
            rows = list(itertools.islice(csv.DictReader(fh), 40))
        texts = GUARD_TEXTS + [" ".join(v for v in row.values() if v)[:3000] for row in rows]
    else:
        texts = GUARD_TEXTS
    guarded_any = 0
    for pattern, flags in cases:
        plain, fast = re.compile(pattern, flags), guarded(pattern, flags)
        guarded_any += fast.pattern != pattern
        for text in texts:
            for variant in (text, text.lower()):
                assert ([(m.span(), m.groups(), m.lastgroup) for m in fast.finditer(variant)]
                        == [(m.span(), m.groups(), m.lastgroup) for m in plain.finditer(variant)]), pattern[:60]
                for pos in range(0, len(variant), 7):
                    a, b = plain.search(variant, pos, pos + 45), fast.search(variant, pos, pos + 45)
                    assert (a and (a.span(), a.lastgroup)) == (b and (b.span(), b.lastgroup)), pattern[:60]
    assert guarded_any >= len(cases) - 1  # the guard is really in use
    # no guard where the first character is unknown or the pattern can match ""
    for pattern in (r".abc", r"[^a]b", r"a?", r"(?:x|)y?", r"(?i:a)b"):
        assert first_char_class(pattern) is None


def test_lazy_rule_patterns_behave_like_compiled_ones():
    rules = load_ruleset()
    for rule in rules[:20]:
        for lazy in rule.patterns:
            compiled = re.compile(lazy.pattern)
            for text in rule.examples_match[:2]:
                norm = normalise(text).text
                assert [m.span() for m in lazy.finditer(norm)] == [m.span() for m in compiled.finditer(norm)]


def test_branches_compiled_from_the_memoised_parse_match_like_re_compile():
    from rules._prefilter import compile_parsed, split_branches

    rules = load_ruleset()
    for rule in rules:
        texts = [normalise(t).text for t in rule.examples_match + rule.examples_no_match]
        for lazy in rule.patterns:
            for branch in split_branches(lazy.pattern):
                fast, plain = compile_parsed(branch), re.compile(branch)
                assert (fast.pattern, fast.flags, fast.groups, fast.groupindex) == (
                    plain.pattern, plain.flags, plain.groups, plain.groupindex), rule.id
                for text in texts:
                    assert ([(m.span(), m.groups()) for m in fast.finditer(text)]
                            == [(m.span(), m.groups()) for m in plain.finditer(text)]), (rule.id, branch)


@pytest.mark.parametrize("pattern, problem", [
    (r"good|(unclosed", "missing ), unterminated subpattern"),
    (r"a|b{3,2}", "min repeat greater than max repeat"),
    (r"(a)|\1", "back-references are not allowed"),
    (r"x|(?P<name>y)", "named groups are not allowed"),
    (r"a|(?i)b", "global flags not at the start"),
    (r"(?i)ab", "inline global flags are not allowed"),
    (r"a|b?", "pattern matches the empty string"),
    (r"a)|(b", "unbalanced parenthesis"),
])
def test_pattern_check_fast_path_reports_like_the_full_parse(pattern, problem):
    from rules.engine import _check_pattern

    found, _ = _check_pattern(pattern)
    assert found is not None and problem in found, found


def test_pattern_check_fast_path_agrees_on_the_shipped_ruleset():
    from rules import engine
    from rules.textnorm import fold_pattern

    for rule in load_ruleset():
        for raw in rule.raw_patterns:
            fast = engine._check_pattern(raw)
            # the full path: parse the whole pattern first (what the fast path skips)
            re._parser.parse(raw)
            assert fast[0] is None and fast[1] == fold_pattern(raw), (rule.id, raw)


@pytest.mark.parametrize("branch, expected", [
    (r"\b\d{1,2}\+? (?:years?|yrs) (?:in|as|of)\b", True),
    (r"\b\d+ x", True),
    (r"\d+ x", False),  # no \b: a match may start inside a word
    (r"\b\d?x", False),  # may start with x
    (r"\b(?:\d|a)x", False),
])
def test_number_start_branches_are_recognised(branch, expected):
    from rules._prefilter import starts_at_a_number

    assert starts_at_a_number(branch) is expected


def test_number_start_branches_match_like_finditer():
    from rules._prefilter import _matches_at

    rules = load_ruleset()
    matcher = TriggerMatcher([[p.pattern for p in r.patterns] for r in rules])
    branches = [regex for (_, regex), at_number in zip(matcher.always, matcher.always_digit_start) if at_number]
    assert branches  # the shipped ruleset has some (years of experience)
    texts = [normalise(t).text for r in rules for t in r.examples_match + r.examples_no_match] + [
        "5 years of experience, 10 yrs in sales, x5 years, ５ years, ๕ years as agent, 3+ years as a",
        "1212 years of; a_7 years in; 7years experience\n\n12 years\n\nexperience", "", "42"]
    for regex in branches:
        for text in texts:
            starts = [m.start() for m in matcher._number_start.finditer(text)]
            found = _matches_at(regex, text, starts)
            assert [m.span() for m in (found if found is not None else [])] == [
                m.span() for m in regex.finditer(text)], (regex.pattern, text)


def test_assess_many_is_assess_per_ad():
    """The batched similarity stage gives each ad the same assessment as assessing it alone."""
    import json

    from rules import Engine

    engine = Engine.load()
    ads = [json.loads(line).get("ad", json.loads(line))
           for path in sorted((Path(__file__).resolve().parents[1] / "rules" / "devset").glob("*.jsonl"))
           for line in path.read_text(encoding="utf-8").splitlines() if line.strip()][:400]
    ads += [{}, {"title": ""}, {"description": "   "}, {"title": "急招客服,包吃包住包机票,加飞机详聊"}]
    batched = [a.to_dict() for a in engine.assess_many(ads)]
    assert batched == [engine.assess(ad).to_dict() for ad in ads]
    assert any(e["rule_id"] == "similarity.known_lure" for a in batched for e in a["evidence"])
    assert engine.assess_many([]) == []


PAY_TEXTS = [
    "Salary: USD 1,200 - 1,500 per month, paid monthly; 5+ years; call 0917 123 4567",
    "gaji 8 juta/bln, payment on the 5th, 9tr, 15k, 20 k usd, RM3,000, rs 1 lakh, ₱30,000, 月薪2万, 过万",
    "repayment 12 months; prepaid 300; the company paid 45; a wage-earner; 10m; 3 tl; sar 400",
    "Зарплата 1500 долларов в месяц; راتب 3000 ريال; 월급 300만원; ደሞዝ 15,000 ብር",
]


@pytest.mark.parametrize("scan_name", ["_MONEY_HINT", "_MONEY_HINT_ASCII"])
def test_hint_scan_answers_like_a_window_search(scan_name):
    """rules/_hintscan: any_in(text, starts, a, b) == regex.search(text, a, b) is not None, for every window."""
    from rules import salary

    scan = getattr(salary, scan_name)
    texts = PAY_TEXTS + GUARD_TEXTS
    for text in (t.lower() for t in texts):
        starts = scan.starts(text)
        assert scan.any_in(text, starts) == (scan.regex.search(text) is not None)
        for a in range(0, len(text) + 1, 2):
            for width in (1, 9, 45, 90):
                assert scan.any_in(text, starts, a, a + width) == (scan.regex.search(text, a, a + width) is not None), \
                    (text[a:a + width], scan_name)


EMAIL_TEXTS = [
    "Write to careers@northwind.example or hr.team+jobs@acme.co.uk today",
    "contact: john  @  example . com, jane [at] mail [dot] org, bob (AT) x (dot) net, ann {at} y.io",
    "meet me at the airport at 9; apply at northwind dot com; sales at acme.com",
    "@handle only, a@b, x@y.z, .lead@dots.com, -x@y.com, name@@double.com, ＠fullwidth＠mail.com",
    "ſam@kelvin.com Kate@İstanbul.com.tr " + "a" * 70 + "@long.com",
    "",
]


@pytest.mark.parametrize("text", EMAIL_TEXTS)
def test_email_scan_finds_what_finditer_finds(text):
    """entities._email_matches tries only starts that can reach an @-like sign: same matches as a full scan."""
    want = [(m.span(), m.group(0)) for m in entities._EMAIL.finditer(text)]
    assert [(m.span(), m.group(0)) for m in entities._email_matches(text, text.lower())] == want


def test_email_scan_on_fuzzed_text():
    import random

    rng = random.Random(11)
    atoms = ["a", "z", "9", ".", "-", "+", "%", " ", "\n", "@", "＠", "[at]", "(AT)", "{at}", " at ", " AT ", " dot ",
             "[dot]", ".com", "x.y", "john.doe", "İ", "ſ", "K", "é", "\u00a0", "a" * 70, "example"]
    for _ in range(3000):
        text = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 20)))
        assert ([m.span() for m in entities._email_matches(text, text.lower())]
                == [m.span() for m in entities._EMAIL.finditer(text)]), text


def test_label_regex_pair_guard_keeps_every_match():
    """The two-character look-ahead in front of the contact labels only skips places no label starts at; the
    case-sensitive twins (_LABELLED_LOWER, _BARE_DOMAIN_HINT_LOWER) find on lower-cased text what the originals
    find on the text."""
    import random

    plain = re.compile("(?=[twlvzq纸飞电เวไ微威薇])(?:" + "|".join(
        rf"(?P<{kind}>(?:{'|'.join(pats)})(?![A-Za-z]))" for kind, pats in entities._LABELS.items()) + ")", re.I)
    rng = random.Random(5)
    atoms = ["t", "T", "e", "g", "w", "W", "h", "a", "s", "/", "l", "i", "v", "x", "z", "q", "Q", ".", " ", "-",
             "_", "*", "·", "\n", ":", "纸", "飞", "机", "微", "信", "威", "薇", "เทเลแกรม", "วอทสแอพ", "ไลน์", "ไอดี",
             "telegram", "whatsapp", "wechat", "zalo", "line id", "ſ", "we chat", "whats app", "w/a", "wsp", "v信",
             "TeleGram", "WHATSAPP", "LINE ID", "S", "I", "ı", "\u212a", "é", ".com", ".COM", ".Info", ".ſite", ".bız"]
    texts = EMAIL_TEXTS + ["".join(rng.choice(atoms) for _ in range(rng.randint(1, 14))) for _ in range(5000)]
    for text in texts:
        want = [(m.span(), m.lastgroup) for m in entities._LABELLED.finditer(text)]
        assert want == [(m.span(), m.lastgroup) for m in plain.finditer(text)], text
        low = text.lower()
        assert want == [(m.span(), m.lastgroup.partition("__")[0]) for m in entities._LABELLED_LOWER.finditer(low)]
        hint = entities._BARE_DOMAIN_HINT.search(text)
        assert (hint and hint.span()) == ((m := entities._BARE_DOMAIN_HINT_LOWER.search(low)) and m.span()), text


def test_token_filters_built_from_parse_trees_match_where_a_branch_does():
    """A token's filter (TriggerMatcher._any_of, compiled from the branches' parse trees) matches exactly where
    one of its branches does."""
    rules = load_ruleset()
    matcher = TriggerMatcher([[p.pattern for p in r.patterns] for r in rules])
    texts = [normalise(t).text for r in rules for t in r.examples_match + r.examples_no_match]
    filters = {}
    checked = 0
    for text in texts:
        for m in re.finditer(r"[a-z0-9]+", text):
            if len(matcher.word_branches.get(m.group(), ())) > 1:
                if m.group() not in filters:
                    branches = matcher._compiled(matcher.word_branches[m.group()])
                    filters[m.group()] = (matcher._any_of([r for _, r in branches]), branches)
                any_of, branches = filters[m.group()]
                pos = m.start()
                assert (any_of.match(text, pos) is not None) == any(r.match(text, pos) for _, r in branches), m.group()
                checked += 1
    assert checked > 1000


def test_short_field_contacts_remembered_are_those_found_afresh():
    """Contacts of short fields are remembered per (text, field, regions, home): the same as extracting again, on
    every dev-set ad, and two ads sharing a contact line with other descriptions each get their own full list."""
    import json

    from rules.entities import REGIONS, _short_field_contacts, extract_contacts, extract_from_text
    from rules.model import Ad

    devset = Path(__file__).resolve().parents[1] / "rules" / "devset"
    rows = [json.loads(line) for path in sorted(devset.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        for field in ("contact", "company", "title"):
            text = row.get(field) or ""
            assert list(_short_field_contacts(text, field, REGIONS, None)) == extract_from_text(text, field, REGIONS)
    line = "Telegram: @hr_global_jobs"
    first = extract_contacts(Ad.from_dict({"contact": line, "description": "Call +855 12 345 678"}))
    second = extract_contacts(Ad.from_dict({"contact": line, "description": "WhatsApp +66 81 234 5678"}))
    assert {(c.kind, c.value) for c in first} == {("telegram", "hr_global_jobs"), ("phone", "+85512345678")}
    assert {(c.kind, c.value) for c in second} >= {("telegram", "hr_global_jobs")}
    assert ("phone", "+85512345678") not in {(c.kind, c.value) for c in second}
