"""The checked ruleset is cached as JSON between processes: same engine, and a changed file is noticed."""
import json
import shutil

import pytest

from rules import Engine
from rules.ruleset import RULESET_DIR, RulesetError

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
