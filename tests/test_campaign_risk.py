"""Risk that travels along campaign links (crawler/campaigns/risk.py): real stores, real linking
(crawler.campaigns.link_store), assessments written as the engine would store them."""
from __future__ import annotations

import pytest

from conftest import db_rows
from crawler.campaigns import link_store, risk
from crawler.store import Store
from rules.engine import FLAG_SCORE, level_for

WORDS = ("amber basil cedar delta ember fjord garnet harbor indigo juniper kestrel lumen mosaic nectar onyx "
         "pepper quartz russet saffron tundra umber velvet willow xenon yarrow zephyr").split()


def text(n: int) -> str:
    """A description unlike every other one (no near-duplicate text links between test ads)."""
    return " ".join(WORDS[(n * 7 + i * (n % 5 + 3)) % len(WORDS)] + str(n * 31 + i) for i in range(40))


def save(store: Store, n: int, score: int, contacts=(), source="jobs-a.test") -> int:
    ad = {"url": f"http://{source}/ad/{n}", "source": source, "title": f"Job {n}", "description": text(n),
          "country": "KH"}
    assessment = {"score": score, "level": level_for(score), "flagged": score >= FLAG_SCORE, "summary": f"ad {n}",
                  "evidence": [{"rule_id": "perks.free_flight", "category": "perks", "weight": 0.4,
                                "matched_text": WORDS[0], "field": "description", "start": 0, "end": 5,
                                "explanation": "engine evidence"}],
                  "contacts": [{"kind": k, "value": v, "raw": v, "field": "contact"} for k, v in contacts]}
    return store.save_ad(ad, assessment)[0]


def ad(store: Store, ad_id: int) -> dict:
    return store.db["ads"].get(ad_id)


def campaign_evidence(store: Store, ad_id: int) -> list[dict]:
    return db_rows(store.path, "select rule_id, weight, matched_text, explanation from evidence"
                               " where ad_id = ? and category = 'campaign' order by id", [ad_id])


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "risk.db")
    yield s
    s.close()


def test_an_ad_sharing_a_handle_with_flagged_ads_gains_explained_evidence_and_a_higher_score(store):
    lures = [save(store, n, 70 + n, [("telegram", "goldenbay_hr")], source=f"site{n}.test") for n in range(3)]
    target = save(store, 10, 30, [("telegram", "goldenbay_hr")])
    link_store(store)
    row = ad(store, target)
    campaign = row["campaign_id"]
    assert campaign is not None and all(ad(store, i)["campaign_id"] == campaign for i in lures)
    assert row["risk_score"] == 30 + 3 * risk.FLAGGED_POINTS == 60
    assert row["risk_level"] == level_for(60) and row["flagged"] == 1
    [evidence] = campaign_evidence(store, target)
    assert evidence["rule_id"] == "campaign.flagged_ads" and evidence["matched_text"] == "Telegram @goldenbay_hr"
    assert evidence["explanation"].startswith(
        f"Shares Telegram @goldenbay_hr with 3 flagged ads (#{lures[0]}, #{lures[1]}, #{lures[2]}) in campaign {campaign}.")
    assert "+30 over the engine's score 30" in evidence["explanation"]
    assert evidence["weight"] == pytest.approx(0.3)
    assert risk.engine_score(store.db, target) == 30  # the engine's own score stays recoverable
    assert db_rows(store.path, "select engine_score, engine_flagged, score from campaign_risk where ad_id = ?",
                   [target]) == [{"engine_score": 30, "engine_flagged": 0, "score": 60}]
    # the flagged ads gain from each other (each is linked to two), from their engine scores, not raised ones
    assert [ad(store, i)["risk_score"] for i in lures] == [70 + 2 * 10, 71 + 2 * 10, 72 + 2 * 10]


@pytest.mark.parametrize("engine, expected", [(40, FLAG_SCORE - 1), (10, 10 + risk.CONFIRMED_POINTS)])
def test_one_link_never_flags_an_otherwise_clean_ad(store, engine, expected):
    confirmed = save(store, 1, 90, [("whatsapp", "+85512345678")])
    store.add_review(confirmed, "lure", reviewer="ana")
    target = save(store, 2, engine, [("phone", "+85512345678")], source="other.test")
    link_store(store)
    row = ad(store, target)
    assert row["campaign_id"] is not None
    assert row["risk_score"] == expected and row["flagged"] == 0 and row["risk_level"] == level_for(expected)
    [evidence] = campaign_evidence(store, target)
    assert evidence["rule_id"] == "campaign.confirmed_lure"
    assert evidence["explanation"].startswith(f"Shares phone +85512345678 with confirmed lure #{confirmed} in campaign")
    if engine == 40:
        assert "links to one ad alone never flag an ad" in evidence["explanation"]


def test_legitimate_ads_sharing_a_number_stay_clean(store):
    legit = [save(store, n, 5 + n, [("phone", "+6621234567")], source=f"hr{n}.test") for n in range(2)]
    link_store(store)  # two clean ads: linked (three or more would be a generic value for the guard)
    assert len({ad(store, i)["campaign_id"] for i in legit}) == 1 and ad(store, legit[0])["campaign_id"] is not None
    assert [ad(store, i)["risk_score"] for i in legit] == [5, 6]
    assert db_rows(store.path, "select count(*) as n from evidence where category = 'campaign'") == [{"n": 0}]
    assert db_rows(store.path, "select count(*) as n from campaign_risk") == [{"n": 0}]


def test_the_raise_is_bounded_so_a_clean_ad_needs_signs_of_its_own(store):
    for n in range(5):
        save(store, n, 80, [("telegram", "vertex_talent")], source=f"s{n % 2}.test")  # within the generic guard
    clean = save(store, 9, 5, [("telegram", "vertex_talent")])
    link_store(store)
    row = ad(store, clean)
    assert row["risk_score"] == 5 + risk.MAX_BOOST and row["flagged"] == 0
    assert "5 flagged ads" in campaign_evidence(store, clean)[0]["explanation"]


def test_rerunning_replaces_its_evidence_and_a_reassessment_starts_from_the_new_engine_score(store):
    lures = [save(store, n, 75, [("line", "spadmin99")], source=f"s{n}.test") for n in range(2)]
    target = save(store, 5, 35, [("line", "spadmin99")])
    link_store(store)
    first = (ad(store, target)["risk_score"], campaign_evidence(store, target))
    assert first[0] == 55
    for _ in range(2):
        link_store(store)
        risk.apply(store, None)
        risk.apply(store, [target])
    assert (ad(store, target)["risk_score"], campaign_evidence(store, target)) == first
    # a rescan re-assesses the ad: the store replaces every evidence row and writes the engine's new score
    assessment = {"score": 42, "level": level_for(42), "flagged": False, "evidence": [], "summary": "",
                  "contacts": [{"kind": "line", "value": "spadmin99", "raw": "spadmin99", "field": "contact"}]}
    store.update_assessment(target, assessment)
    risk.apply(store, [target])
    assert ad(store, target)["risk_score"] == 62 and risk.engine_score(store.db, target) == 42
    assert len(campaign_evidence(store, target)) == 1


def test_rejected_ads_are_never_raised_and_never_raise_others(store):
    lures = [save(store, n, 75, [("wechat", "jmm_hr2026")], source=f"s{n}.test") for n in range(2)]
    target = save(store, 5, 35, [("wechat", "jmm_hr2026")])
    link_store(store)
    assert ad(store, target)["risk_score"] == 55
    store.add_review(target, "not_lure", reviewer="ana")
    risk.apply(store, [target])
    row = ad(store, target)
    assert (row["risk_score"], row["flagged"]) == (35, 0)
    [evidence] = campaign_evidence(store, target)
    assert evidence["rule_id"] == "campaign.not_raised" and evidence["weight"] == 0
    assert "not raised: an analyst rejected this ad" in evidence["explanation"]
    store.add_review(target, "unsure", reviewer="ana")
    store.add_review(lures[0], "not_lure", reviewer="ana")  # now one flagged ad is left for the target
    risk.apply(store, [lures[0], target])
    assert ad(store, target)["risk_score"] == 45 and ad(store, lures[1])["risk_score"] == 75  # lures[0] counts no more


def test_an_ad_whose_links_stop_counting_gets_the_engine_score_back(store):
    lures = [save(store, n, 75, [("telegram", "royalcrown_hr")], source=f"s{n}.test") for n in range(2)]
    target = save(store, 5, 35, [("telegram", "royalcrown_hr")])
    link_store(store)
    assert ad(store, target)["risk_score"] == 55
    for lure in lures:  # re-assessed as clean
        store.update_assessment(lure, {"score": 12, "level": level_for(12), "flagged": False, "evidence": [],
                                       "summary": "", "contacts": [{"kind": "telegram", "value": "royalcrown_hr",
                                                                     "raw": "@royalcrown_hr", "field": "contact"}]})
    report = risk.apply(store, lures)
    row = ad(store, target)
    assert (row["risk_score"], row["risk_level"], row["flagged"]) == (35, level_for(35), 0)
    assert campaign_evidence(store, target) == [] and report.restored == 1  # the lures were re-assessed already
    assert db_rows(store.path, "select count(*) as n from campaign_risk") == [{"n": 0}]


def test_a_verdict_raises_the_ads_linked_to_the_confirmed_lure(store):
    """The review app's verdict form and `lurewatch verdict` record through casepage.record_verdict / the store,
    then apply campaign risk to the reviewed ad and its links."""
    from output.review.casepage import record_verdict

    lure = save(store, 1, 48, [("email", "talent@orchidlane-ventures.example")])
    target = save(store, 2, 20, [("email", "talent@orchidlane-ventures.example")], source="other.test")
    link_store(store)
    assert ad(store, target)["risk_score"] == 20 and campaign_evidence(store, target) == []  # 48: not flagged
    record_verdict(store.path, lure, "lure", "ana")
    assert db_rows(store.path, "select risk_score from ads where id = ?", [target]) == [{"risk_score": 40}]
    assert "confirmed lure #%d" % lure in campaign_evidence(store, target)[0]["explanation"]
    record_verdict(store.path, lure, "not_lure", "ana")
    assert db_rows(store.path, "select risk_score from ads where id = ?", [target]) == [{"risk_score": 20}]


def test_writing_a_score_leaves_the_full_text_index_alone_and_new_text_is_indexed(store):
    """Campaign risk updates many ads' scores: the FTS trigger must fire only when title, description or company
    change (sqlite-utils' trigger re-indexed the whole text on any update)."""
    ad_id = save(store, 1, 30)
    conn = store.db.conn
    before = conn.total_changes
    store.write(lambda: store.db.execute("update ads set risk_score = 60, flagged = 1 where id = ?", [ad_id]))
    assert conn.total_changes - before == 1  # the ads row only, no ads_fts rows
    store.save_ad({"url": "http://jobs-a.test/ad/1", "source": "jobs-a.test", "title": "Quokka wrangler",
                   "description": "Unique zebra text"}, {"score": 1, "level": "none", "flagged": False,
                                                          "evidence": [], "contacts": [], "summary": ""})
    assert db_rows(store.path, "select rowid from ads_fts where ads_fts match 'quokka'") == [{"rowid": ad_id}]
    assert db_rows(store.path, "select rowid from ads_fts where ads_fts match 'job'") == []
