"""The checked ruleset and its trigger analysis, cached as JSON between processes.

Checking every pattern of every language pack (parse, look-alike folding, backtracking check) and finding each
branch's triggers costs more than a second; the result only changes when a ruleset file or the code that reads it
changes. So the first process writes it to `$LUREWATCH_CACHE_DIR` (default `$XDG_CACHE_HOME/lurewatch`, else
`~/.cache/lurewatch`) under a SHA-256 of those files, and later ones read it. Plain JSON, never pickle: a cache
file is data, not code. An unreadable or unwritable cache is skipped (the ruleset is then checked as usual);
`LUREWATCH_CACHE_DIR=off` turns the cache off.

Example:

    rules, tables = load_checked(RULESET_DIR)   # from the cache when it is current
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from ._prefilter import TriggerMatcher
from .regex_store import RegexStore, cache_dir  # noqa: F401  (cache_dir: used here and re-exported)
from .ruleset import CONCEPTS_FILE, LazyPattern, Rule, load_ruleset, pack_paths

logger = logging.getLogger(__name__)

FORMAT = 2
KEEP = 8  # cache files kept (one per ruleset version)
_CODE = ("ruleset.py", "pattern_checks.py", "yamldoc.py", "textnorm.py", "textnorm_tables.json", "_prefilter.py",
         "_redos.py", "language.yaml", "ruleset_cache.py", "regex_store.py", "places.py", "places/countries.yaml",
         "places/hubs.yaml", "branch_analysis.py")


def _code_digest() -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _CODE:
        path = here / name
        digest.update(f"{name}\n".encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


# Read once, when the engine's modules are imported: a process keeps the code it imported, so a key computed
# later from files edited since would name a cache built by old code
CODE_DIGEST = _code_digest()
_RULE_FIELDS = ("id", "description", "category", "weight", "languages", "source", "fields", "raw_patterns",
                "not_languages", "unless_in", "scope")


def ruleset_key(directory: Path) -> str:
    """SHA-256 of the ruleset files and of the code that checks and analyses them."""
    digest = hashlib.sha256(f"format {FORMAT}\ncode {CODE_DIGEST}\n".encode())
    for path in [Path(directory) / CONCEPTS_FILE, *pack_paths(directory)]:
        digest.update(f"{path.name}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _to_json(rules: list[Rule], tables: dict) -> dict:
    branches: dict[tuple[int, str], int] = {}  # each (rule, branch) once: a branch has many trigger words

    def ids(items):
        return [branches.setdefault((owner, branch), len(branches)) for owner, branch in items]

    packed = {name: {key: ids(items) for key, items in tables[name].items()} for name in ("word", "prefix", "sub")}
    return {"format": FORMAT,
            "rules": [{**{k: getattr(r, k) for k in _RULE_FIELDS}, "patterns": [p.pattern for p in r.patterns]}
                      for r in rules],
            "tables": {**{k: v for k, v in tables.items() if k not in packed}, **packed,
                       "branches": [list(b) for b in branches]}}


def _unpack(tables: dict) -> dict:
    branches = [tuple(b) for b in tables["branches"]]
    out = {k: v for k, v in tables.items() if k != "branches"}
    for name in ("word", "prefix", "sub"):
        out[name] = {key: [branches[i] for i in ids] for key, ids in tables[name].items()}
    return out


def _from_json(doc: dict) -> tuple[list[Rule], dict]:
    rules = []
    for raw in doc["rules"]:
        values = {k: raw[k] for k in _RULE_FIELDS}
        for k in ("fields", "not_languages", "unless_in"):
            values[k] = tuple(values[k])
        rules.append(Rule(patterns=[LazyPattern(p) for p in raw["patterns"]], **values))
    return rules, _unpack(doc["tables"])


def load_checked(directory: Path) -> tuple[list[Rule], dict]:
    """(rules, trigger tables) of the ruleset in `directory`: from the cache when current, else checked now
    (RulesetError on a bad file) and cached."""
    where = cache_dir()
    key = None
    if where is not None:
        try:
            key = ruleset_key(directory)
            with open(where / f"ruleset-{key[:32]}.json", encoding="utf-8") as fh:
                doc = json.load(fh)
            if doc.get("format") == FORMAT and doc.get("key") == key:
                rules, tables = _from_json(doc)
                return rules, _with_store(where, key, rules, tables)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("ruleset cache unreadable (%s); checking the ruleset", exc)
    rules = load_ruleset(directory)
    tables = TriggerMatcher.analyse([[p.pattern for p in r.patterns] for r in rules])
    if where is not None and key is not None:
        _store(where, key, {**_to_json(rules, tables), "key": key})
        tables = _with_store(where, key, rules, tables)
    return rules, tables


def _with_store(where: Path, key: str, rules: list[Rule], tables: dict) -> dict:
    """`tables` with "regex_store": the compiled code of every branch and token filter (rules/regex_store.py),
    read from `ruleset-<key>.sre`, or computed and written there when that file is missing or unreadable."""
    path = where / f"ruleset-{key[:32]}.sre"
    store = None
    try:
        store = RegexStore.read(path)
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("regex store unreadable (%s); compiling it again", exc)
    if store is None:
        if not os.access(where, os.W_OK):
            return tables  # computing it in every process would cost more than it saves
        matcher = TriggerMatcher([[p.pattern for p in r.patterns] for r in rules], tables=tables)
        store = RegexStore()
        for pattern, tree in matcher.stored_patterns():
            store.add(pattern, matcher.flags, parsed=tree)
        try:
            store.write(path)
        except OSError as exc:
            logger.warning("regex store not written to %s (%s)", where, exc)
    return {**tables, "regex_store": store}


def _store(where: Path, key: str, doc: dict) -> None:
    try:
        where.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".ruleset-", suffix=".json", dir=where)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False)
        os.replace(tmp, where / f"ruleset-{key[:32]}.json")  # atomic: concurrent processes never read half
        old = sorted(where.glob("ruleset-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]
        for path in old:
            path.unlink(missing_ok=True)
            path.with_suffix(".sre").unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("ruleset cache not written to %s (%s)", where, exc)
