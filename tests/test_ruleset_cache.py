"""The checked ruleset is cached as JSON between processes: same engine, and a changed file is noticed."""
import json
import re
import shutil
from pathlib import Path

import pytest

from rules import Engine
from rules.regex_store import RegexStore, fresh_code, pattern_key
from rules.ruleset import RULESET_DIR, RulesetError
from rules.textnorm import normalise

AD = {"title": "Customer service, Sihanoukville", "description": "Free flight and visa, no experience. "
      "Telegram @hr_kh_01. Salary 1,500 USD."}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LUREWATCH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_second_load_reads_the_cache_and_scores_the_same(cache):
    first = Engine.load(with_similarity=False)
    files = list(cache.glob("ruleset-*.json"))
    assert len(files) == 1
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    assert doc["format"] == 2 and len(doc["rules"]) == len(first.rules)
    second = Engine.load(with_similarity=False)
    assert second.version == first.version
    assert second.assess(AD).to_dict() == first.assess(AD).to_dict()


def test_a_changed_pack_is_checked_again(cache, tmp_path):
    ruleset = tmp_path / "ruleset"
    shutil.copytree(RULESET_DIR, ruleset)
    Engine.load(ruleset, with_similarity=False)
    pack = ruleset / "packs" / "en.yaml"
    pack.write_text(pack.read_text(encoding="utf-8") + "  bait.not_a_concept:\n    patterns: [x]\n", encoding="utf-8")
    with pytest.raises(RulesetError, match="en.yaml:.*unknown concept 'bait.not_a_concept'"):
        Engine.load(ruleset, with_similarity=False)


def test_an_unreadable_cache_is_ignored(cache):
    Engine.load(with_similarity=False)
    for path in cache.glob("ruleset-*.json"):
        path.write_text("{ not json", encoding="utf-8")
    engine = Engine.load(with_similarity=False)
    assert engine.assess(AD).flagged
    assert json.loads(next(cache.glob("ruleset-*.json")).read_text(encoding="utf-8"))["format"] == 2


def test_cache_can_be_turned_off(cache, monkeypatch):
    monkeypatch.setenv("LUREWATCH_CACHE_DIR", "off")
    Engine.load(with_similarity=False)
    assert not cache.exists()


def test_regex_store_holds_the_code_re_compiles_and_a_damaged_one_is_rebuilt(cache):
    """The compiled code stored next to the ruleset cache (rules/regex_store.py) is the code `re` makes for every
    branch and token filter; regexes built from it match like re.compile's; a damaged store is rebuilt."""
    first = Engine.load(with_similarity=False)
    [path] = cache.glob("ruleset-*.sre")
    store = RegexStore.read(path)
    stored = list(first.matcher.stored_patterns())
    assert len(store) == len({pattern for pattern, _ in stored}) > 9000
    texts = [normalise(t).text for r in first.rules[::3] for t in r.examples_match + r.examples_no_match]
    for pattern, tree in stored[::40]:
        code, flags, groups, names = fresh_code(pattern, 0, tree)
        stored_flags, stored_groups, stored_names, offset, size = store._index[pattern_key(pattern)]
        assert (store._words[offset: offset + size].tolist(), stored_flags, stored_groups, stored_names) == (
            code, flags, groups, names), pattern
        if tree is None:  # a branch: the same regex as re.compile's, on the rules' own examples
            fresh, loaded = re.compile(pattern), store.compile(pattern)
            assert (loaded.pattern, loaded.flags, loaded.groups, loaded.groupindex) == (
                fresh.pattern, fresh.flags, fresh.groups, fresh.groupindex)
            for text in texts[::7]:
                assert [m.span() for m in loaded.finditer(text)] == [m.span() for m in fresh.finditer(text)]
    expected = first.assess(AD).to_dict()
    damaged = path.with_name("damaged.sre")  # replaced, not truncated in place: the store is mapped
    damaged.write_bytes(path.read_bytes()[:1000])
    damaged.replace(path)
    assert Engine.load(with_similarity=False).assess(AD).to_dict() == expected
    assert len(RegexStore.read(path)) == len(store)
    assert Engine.load(with_similarity=False).assess(AD).to_dict() == expected


def test_module_regex_store_is_merged_with_what_another_process_wrote(cache, monkeypatch):
    """A process writes the modules' regex store at exit, merged with the file; when another process has written
    the same regexes meanwhile, the write is skipped (it raised AttributeError on the file's memoryview)."""
    import subprocess
    import sys

    import rules.regex_store as store_module

    monkeypatch.setattr(store_module, "_modules", None)
    monkeypatch.setattr(store_module, "_modules_new", 0)
    monkeypatch.setattr(store_module.atexit, "register", lambda fn: None)
    pattern = r"(?P<only>lurewatch-test-\d+)"
    assert store_module.stored_compile(pattern).match("lurewatch-test-7").group("only") == "lurewatch-test-7"
    subprocess.run([sys.executable, "-c", f"import rules.regex_store as r; r.stored_compile({pattern!r})"],
                   check=True, cwd=Path(__file__).parent.parent)
    store_module._write_modules()  # nothing new to add: raised AttributeError before
    store_module.stored_compile(r"lurewatch-test-other")
    store_module._write_modules()  # merged: the other process's regexes are kept
    written = RegexStore.read(cache / store_module.MODULE_STORE)
    assert len(written) > 2  # the other process's own (the engine modules' regexes) too
    for source, text in ((pattern, "lurewatch-test-12"), (r"lurewatch-test-other", "lurewatch-test-other")):
        regex = written.compile("", key="re:" + pattern_key(source))
        assert regex.pattern == source and regex.match(text)
