"""Text normalisation before rule matching, with a map back to the original offsets.

`normalise(text)` returns a `NormText`: the folded text rules match against, and `span(start, end)` that turns a
matched span back into offsets in the ORIGINAL text, so evidence quotes what the analyst sees.

Folding, in order:
  1. one-to-one per character (fast, `str.translate`): NFKC (full-width -> ASCII), case folding, Latin diacritics
     removed (Vietnamese "lương" -> "luong": ads written with and without tone marks both match), đ -> d,
     traditional Chinese -> simplified (common characters); then Cyrillic/Greek look-alike letters -> Latin
     inside words that also hold Latin letters ("Теlеgrаm" -> "telegram"; a Russian word stays Cyrillic); ё -> е;
     Arabic-script letter variants to one form (أ/إ/آ -> ا, ة/ہ -> ه, ى/ی -> ي, ك -> ک).
  2. the rest (rare, regex driven): zero-width and soft-hyphen chars dropped, characters that expand
     ("ß" -> "ss", "ﬁ" -> "fi"), spaced or dotted letters joined ("T e l e g r a m", "W.h.a.t.s.a.p.p"),
     leetspeak inside words ("whats4pp", "te1egram"), the apostrophe of Uzbek o' and g' made a letter
     ("o'sha" -> "oʻsha": one word, so `\\bsha\\b` does not fire inside it).
Word boundaries in every script: Python's `\\b` and `\\w` do not count combining marks (Devanagari, Bengali, Tamil,
Sinhala, Thai, Khmer, Burmese vowel signs...) as word characters, so `\\bनौकरी\\b` would never match. Each such mark
folds to its own stand-in letter (Tangut block, never seen in ads), one to one, in text and patterns alike; Arabic
and Hebrew vowel points are dropped (they are optional in writing).
Patterns are folded with `fold_pattern` so rule authors may write either form.
"""
from __future__ import annotations

import bisect
import functools
import hashlib
import json
import re
import unicodedata
from pathlib import Path
from dataclasses import dataclass

# Cyrillic and Greek letters that look like Latin ones (after case folding).
HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "һ": "h",
    "ո": "n", "ց": "g", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "μ": "u", "ς": "s", "ɡ": "g", "ı": "i", "ł": "l", "ø": "o",
    "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ŀ": "l", "ɑ": "a",
}

# Traditional -> simplified Chinese for the characters job ads use (pairs: traditional, simplified).
_T2S_PAIRS = (
    "資资機机簽签證证護护經经驗验門门檻槛輕轻鬆松飛飞電电報报網网絡络推推廣广員员緬缅東东亞亚國国歲岁齡龄學学歷历費费"
    "場场賭赌聯联繫系係系線线語语號号單单邊边灣湾務务銷销實实開开發发時时們们個个為为這这來来會会還还處处點点體体"
    "於于與与將将對对後后從从問问題题進进過过應应徵征職职檢检險险專专長长話话請请錢钱幣币萬万億亿辦办勞劳動动協协"
    "議议車车區区頁页飯饭營营運运遊游戲戏擔担簡简紙纸腦脑碼码數数據据錄录輸输貨货虛虚擬拟換换匯汇賺赚賣卖買买價价"
    "錯错轉转帳账賬账戶户銀银領领導导團团隊队環环優优獎奖勵励補补貼贴節节無无須须條条蘭兰樂乐館馆詢询諮咨訊讯認认"
    "識识讀读寫写務务業业績绩傭佣結结準准穩稳帶带習习練练訓训歡欢參参額额滿满盡尽馬马鄰邻審审預预訂订壓压違违約约"
    "勝胜讚赞贊赞頻频遞递郵邮裝装倉仓庫库兌兑現现墊垫賓宾廳厅娛娱術术師师設设計计劃划畫画圖图臺台緊紧貌貌齊齐鐘钟"
    "軟软硬硬體体碩硕財财務务銀银質质廠厂資资產产權权標标準准說说談谈記记詳详細细聽听寶宝麗丽愛爱惠惠歐欧美美澳澳"
    "蘇苏陸陆灣湾門门華华僑侨屬属薦荐紹绍稱称託托關关係系揚扬條条件件許许極极為为達达齡龄觀观覽览車车們们輩辈縣县"
    "鎮镇園园莊庄農农飯饭麵面雞鸡魚鱼歸归鬥斗爭争戰战雜杂誌志廳厅樓楼層层牆墙築筑營营龍龙鳳凤舉举雙双簿簿盤盘嗎吗"
    "輕轻鬆松談谈詐诈騙骗販贩賣卖綁绑陷陷騙骗隨随機机視视頻频讓让給给約约選选擇择順顺飲饮宿宿舍舍餐餐薪薪奬奖獲获"
    "輪轮換换班班級级專专門门員员際际據据詳详貸贷償偿險险債债當当還还錶表鐵铁鋼钢銅铜鍵键盤盘靈灵氣气響响頭头臉脸"
    "聲声腳脚邀邀極极優优勢势義义務务總总經经濟济貿贸屆届畢毕業业憑凭異异議议陸陆續续辭辞監监護护獨独風风險险擊击"
    "聽听賽赛樂乐遠远運运適适個个範范圍围區区紐纽約约倫伦廣广週周歲岁齡龄賴赖賴赖嚴严謹谨慮虑純纯淨净"
)
T2S = {_T2S_PAIRS[i]: _T2S_PAIRS[i + 1] for i in range(0, len(_T2S_PAIRS) - 1, 2)}

# ... and the emoji variation selectors: "❗️Chet" must keep its word edge before "Chet"
ZERO_WIDTH = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u034f\ufe0e\ufe0f"
LEET = {"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"}

_SCAN_RANGES = ((0, 0x10000), (0x1D400, 0x1D800), (0x1F100, 0x1F200))
# optional vowel points and the tatweel: dropped
_DROPPED_MARKS = re.compile("[\u0591-\u05c7\u0610-\u061a\u0640\u064b-\u065f\u0670\u06d6-\u06ed]")
_STAND_IN_BASE = 0x17000  # Tangut: letters (\\w) that no job ad contains


@functools.cache
def mark_stand_ins() -> dict[str, str]:
    """Each combining mark (outside the dropped ones) -> its stand-in letter."""
    marks = [chr(cp) for cp in range(0x0370, 0x10000) if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me")
             and not _DROPPED_MARKS.match(chr(cp)) and chr(cp) not in "\u034f\u180e"]
    return {m: chr(_STAND_IN_BASE + i) for i, m in enumerate(marks)}


# look-alikes from other alphabets: folded to Latin only inside a word that also holds Latin letters
LOOKALIKES = {c: l for c, l in HOMOGLYPHS.items() if "\u0370" <= c <= "\u04ff" and c != "ё"}
CYRILLIC = {"ё": "е"}  # Russian writes ё as е as often as not
# Arabic-script letters written several ways (hamza seats, ta marbuta, Persian/Urdu keyboard forms): one form
ARABIC = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ی": "ي", "ې": "ي", "ك": "ک", "ة": "ه", "ہ": "ه",
          "ۃ": "ه", "ە": "ه", "ؤ": "و"}
SCRIPT_VARIANTS = {**CYRILLIC, **ARABIC}
_LOOKALIKE_TABLE = str.maketrans(LOOKALIKES)
_LOOKALIKE_CHARS = "".join(LOOKALIKES)
_HAS_LOOKALIKE = re.compile(f"[{_LOOKALIKE_CHARS}]")
_MIXED_WORD = re.compile(f"(?=[^\\W\\d_]*[a-z])(?=[^\\W\\d_]*[{_LOOKALIKE_CHARS}])[^\\W\\d_]+")


def _fold_lookalikes(text: str) -> str:
    """Look-alike letters -> Latin in mixed-script words (one to one: offsets do not move)."""
    if not _HAS_LOOKALIKE.search(text):
        return text
    return _MIXED_WORD.sub(lambda m: m.group(0).translate(_LOOKALIKE_TABLE), text)


def _fold_uncached(ch: str) -> str:
    if ch in ZERO_WIDTH:
        return ""
    s = unicodedata.normalize("NFKC", ch).casefold()
    out = []
    for c in s:
        c = SCRIPT_VARIANTS.get(c) or (c if c in LOOKALIKES else HOMOGLYPHS.get(c, c))
        c = T2S.get(c, c)
        if len(c) == 1 and c >= "\u00c0":
            decomposed = unicodedata.normalize("NFD", c)
            # strip combining marks only after a Latin base: Thai/Khmer/Burmese vowel signs are letters, not accents
            if decomposed[0] < "\u0250" and len(decomposed) > 1:
                c = decomposed[0] + "".join(m for m in decomposed[1:] if not ("\u0300" <= m <= "\u036f"))
                c = unicodedata.normalize("NFC", c)
                c = SCRIPT_VARIANTS.get(c) or (c if c in LOOKALIKES else HOMOGLYPHS.get(c, c))
        if "\u0300" <= c <= "\u036f" or _DROPPED_MARKS.match(c):
            c = ""
        else:
            c = mark_stand_ins().get(c, c)
        out.append(c)
    return "".join(out)


def _build_tables() -> tuple[dict[int, str], str]:
    one_to_one: dict[int, str] = {}
    special: list[str] = []
    for lo, hi in _SCAN_RANGES:
        for cp in range(lo, hi):
            if 0xD800 <= cp < 0xE000:
                continue
            ch = chr(cp)
            folded = _fold_uncached(ch)
            if folded == ch:
                continue
            if len(folded) == 1:
                one_to_one[cp] = folded
            else:
                special.append(ch)
    return one_to_one, "".join(special)


TABLES_FILE = Path(__file__).with_name("textnorm_tables.json")


def _code_digest() -> str:
    """What the tables depend on: this module's source (up to the tables) and the Unicode version."""
    source = Path(__file__).read_text(encoding="utf-8")
    return hashlib.sha256((source.split("# -- end of table inputs")[0] + unicodedata.unidata_version)
                          .encode()).hexdigest()


def _load_tables() -> tuple[dict[int, str], str]:
    """The folding tables from TABLES_FILE when they were built from this code and Unicode version (start-up:
    building them scans every character, ~0.2 s), else built now. `python -m rules.textnorm` rewrites the file."""
    try:
        doc = json.loads(TABLES_FILE.read_text(encoding="utf-8"))
        if doc.get("digest") == _code_digest():
            return {int(k): v for k, v in doc["one_to_one"].items()}, doc["special"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return _build_tables()


def write_tables(path: Path = TABLES_FILE) -> None:
    one_to_one, special = _build_tables()
    path.write_text(json.dumps({"digest": _code_digest(), "one_to_one": {str(k): v for k, v in sorted(one_to_one.items())},
                                "special": special}, ensure_ascii=False, separators=(",", ":")) + "\n",
                    encoding="utf-8")


# -- end of table inputs (the tables file's digest covers the source above this line)
from .regex_store import stored_compile  # noqa: E402  (below the line: not a table input)

ONE_TO_ONE, SPECIAL_CHARS = _load_tables()


def fold_char(ch: str) -> str:
    """The folded form of one character (may be empty or several characters)."""
    if len(ch) != 1:
        return "".join(fold_char(c) for c in ch)
    return ONE_TO_ONE.get(ord(ch)) or (_fold_uncached(ch) if ch in SPECIAL_CHARS else ch)


def _char_class(chars: str) -> str:
    """A compact regex class (ranges) for a set of characters."""
    cps = sorted({ord(c) for c in chars})
    parts, i = [], 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        lo, hi = chr(cps[i]), chr(cps[j])
        parts.append(re.escape(lo) if i == j else f"{re.escape(lo)}-{re.escape(hi)}")
        i = j + 1
    return "[" + "".join(parts) + "]"


_SEP_CHAR = r"[ .\-_*·•|/,~+]"
_SEP = _SEP_CHAR + "{1,3}"
# single letters separated by spaces/dots: at least 4 of them ("T e l e g r a m", "W.h.a.t.s.a.p.p")
_SPACED = re.compile(rf"(?<![a-z0-9@$])[a-z0-9@$](?:{_SEP}[a-z0-9@$](?![a-z0-9@$])){{3,}}")
# what every _SPACED match contains (its 2nd and 3rd letters): a separator first lets `re` skip to separators at C
# speed, where _SPACED, opening with a look-behind, is tried at every position (most texts have no match)
_SPACED_HINT = re.compile(rf"{_SEP_CHAR}[a-z0-9@$]{_SEP}[a-z0-9@$](?![a-z0-9@$])")
# digits/symbols standing in for letters inside a word ("whats4pp", "te1egram")
_LEET_SEED = re.compile(r"[a-z][0134578@$]{1,2}[a-z]")
_LEET_CHAR = re.compile(r"[0134578@$]")  # rare in text: found faster than the letters a seed starts with
_LEET_WORD = re.compile(r"[a-z0134578@$]+")
_SPECIAL = re.compile(_char_class(SPECIAL_CHARS))
# runs of the non-ASCII characters ONE_TO_ONE folds: only they are looked up (str.translate looks up every character,
# each failed lookup costing more than a regex's class test: ~0.1 ms on a Chinese or Thai ad)
_FOLDABLE = stored_compile(_char_class("".join(chr(k) for k in ONE_TO_ONE if k >= 0x80)) + "+")
_SEP_RE = re.compile(_SEP)
_LEET_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz0134578@$")
_LEET_IN = re.compile(r"(?<=[a-z])[0134578@$]{1,2}(?=[a-z])")
# Uzbek oʻ / gʻ written with an ASCII or typographic apostrophe, inside or at the start of a word
_UZ_APOSTROPHE = re.compile(r"(?<=[og])['’‘`ʼ](?=[^\W\d_])")
_UZ_APOSTROPHE_IN_PATTERN = re.compile(r"(?<=[og])['’‘`ʼ](?=\??[^\W\d_])")  # also "ng'?ambo"
_APOSTROPHES = ("'", "’", "‘", "`", "ʼ")
UZ_OKINA = "ʻ"


def _is_leet_word(word: str) -> bool:
    letters = sum(c.isalpha() for c in word)
    return len(word) >= 4 and 2 * letters >= 3 * (len(word) - letters) and not re.search(r"\d[a-f\d]*\d", word)


def _fast_fold(text: str) -> str:
    """Step 1: one-to-one folding (same length as `text`)."""
    lowered = text.lower()
    if text.isascii():
        return lowered
    if len(lowered) != len(text):  # e.g. "İ" lower-cases to two characters
        return _fold_lookalikes(text.translate(ONE_TO_ONE))
    return _fold_lookalikes(_FOLDABLE.sub(lambda m: m.group(0).translate(ONE_TO_ONE), lowered))


def _leet_seeds(a: str):
    """What _LEET_SEED.finditer(a) yields, tried only at the letters right before a digit or symbol."""
    resume = 0  # finditer goes on after the previous match
    for c in _LEET_CHAR.finditer(a):
        i = c.start() - 1
        if i >= resume and "a" <= a[i] <= "z":
            seed = _LEET_SEED.match(a, i)
            if seed:
                resume = seed.end()
                yield seed


def _leet_words(a: str) -> list[tuple[int, int, str]]:
    out, last = [], -1
    for seed in _leet_seeds(a):
        if seed.start() < last:
            continue
        start = seed.start()
        while start > 0 and a[start - 1] in _LEET_LETTERS:
            start -= 1
        m = _LEET_WORD.match(a, start)
        last = m.end()
        if _is_leet_word(m.group(0)):
            out.append((m.start(), m.end(), "leet"))
    return out


@dataclass
class NormText:
    """Folded text plus anchors mapping folded positions back to the original."""

    text: str
    original: str
    _norm_anchor: list[int]
    _orig_anchor: list[int]

    def orig_pos(self, pos: int) -> int:
        i = bisect.bisect_right(self._norm_anchor, pos) - 1
        if i < 0:
            return pos
        return self._orig_anchor[i] + (pos - self._norm_anchor[i])

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) of the folded span [start, end)."""
        if end <= start:
            o = self.orig_pos(start)
            return o, o
        o_start = self.orig_pos(start)
        o_end = self.orig_pos(end - 1) + 1
        # an expansion char ("ß" -> "ss") maps several folded chars to one original char
        return o_start, min(max(o_end, o_start + 1), len(self.original))

    def original_text(self, start: int, end: int) -> str:
        s, e = self.span(start, end)
        return self.original[s:e]


def _deleet(s: str) -> str:
    return _LEET_IN.sub(lambda m: "".join(LEET[c] for c in m.group(0)), s)


def normalise(text: str) -> NormText:
    """Fold `text` for matching; see the module docstring."""
    a = _fast_fold(text)
    hits: list[tuple[int, int, str]] = ([(m.start(), m.end(), "spaced") for m in _SPACED.finditer(a)]
                                        if _SPACED_HINT.search(a) else [])
    hits += _leet_words(a)
    if any(q in a for q in _APOSTROPHES):
        hits += [(m.start(), m.end(), "apostrophe") for m in _UZ_APOSTROPHE.finditer(a)]
    if not text.isascii():
        hits += [(m.start(), m.end(), "special") for m in _SPECIAL.finditer(a)]
    if not hits:
        return NormText(a, text, [], [])
    hits.sort()
    pieces: list[str] = []
    norm_anchor: list[int] = []
    orig_anchor: list[int] = []
    n = 0  # length of the output so far
    last = 0

    def emit(orig: int, chars: str) -> None:
        nonlocal n
        for c in chars:
            norm_anchor.append(n)
            orig_anchor.append(orig)
            pieces.append(c)
            n += 1

    for start, end, kind in hits:
        if start < last:
            continue  # overlaps an earlier hit
        if start > last:
            norm_anchor.append(n)
            orig_anchor.append(last)
            pieces.append(a[last:start])
            n += start - last
        if kind == "leet":
            for i, c in enumerate(a[start:end]):
                emit(start + i, LEET.get(c, c))
        elif kind == "apostrophe":
            emit(start, UZ_OKINA)
        elif kind == "spaced":
            letters = [(start + i, c) for i, c in enumerate(a[start:end]) if not _SEP_RE.fullmatch(c)]
            joined = _deleet("".join(c for _, c in letters))
            for (pos, _), c in zip(letters, joined):
                emit(pos, c)
        else:  # a character that expands or disappears
            emit(start, _fold_uncached(a[start:end]))
        last = end
    if last < len(a):
        norm_anchor.append(n)
        orig_anchor.append(last)
        pieces.append(a[last:])
    return NormText("".join(pieces), text, norm_anchor, orig_anchor)


def fold(text: str) -> str:
    """Just the folded text."""
    return normalise(text).text




def fold_pattern(pattern: str) -> str:
    """Fold a regex so it matches folded text: ASCII letters lower-cased (escapes such as \\S, \\B, \\W
    left alone), other characters folded like the text ("lương" -> "luong", "機" -> "机")."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch < "\x80":
            out.append(ch.lower())
        else:
            f = fold_char(ch)
            out.append(re.escape(f) if len(f) > 1 else f)
        i += 1
    # look-alikes in mixed words, as in the text; escapes (\\b, \\w) are not letters of a word
    parts = re.split(r"(\\.)", "".join(out))
    folded = "".join(p if i % 2 else _fold_lookalikes(p) for i, p in enumerate(parts))
    return _UZ_APOSTROPHE_IN_PATTERN.sub(UZ_OKINA, folded)


if __name__ == "__main__":  # python -m rules.textnorm: rewrite the folding tables file
    write_tables()
    print(f"wrote {TABLES_FILE}")
