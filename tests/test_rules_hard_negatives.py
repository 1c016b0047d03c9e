"""Words of ordinary job ads that lure wording used to fire on (issue 12, stop 14): Vietnamese "bảo vệ" (guard,
protect) folds to the same letters as "bao vé" (ticket paid); Korean 직무경력서 (a CV document) holds 무경력
("no experience"); "recruitment is free" in Swahili is the employer's no-fee statement, not a lure's "free".
The ads below were written for this test, not taken from the dev set."""
from __future__ import annotations

import pytest

from rules.engine import Engine


@pytest.fixture(scope="module")
def engine():
    return Engine.load()


@pytest.mark.parametrize("ad, absent", [
    ({"title": "Tuyển nhân viên bảo vệ xe, bảo vệ đi ca đêm", "location": "Quận 7, TP.HCM",
      "description": "Công ty dịch vụ bảo vệ tuyển kỹ sư bảo vệ thực vật và nhân viên bảo vệ tòa nhà."},
     "perks.free_flight"),
    ({"title": "웹개발자 채용", "description": "제출 서류: 이력서, 직무경력서, 포트폴리오. 경력 3년 이상."},
     "low_bar.no_experience"),
])
def test_ordinary_words_do_not_read_as_lure_wording(engine, ad, absent):
    ids = {e.rule_id for e in engine.assess(ad).evidence}
    assert absent not in ids, ids


@pytest.mark.parametrize("text, rule", [
    ("Bao ăn ở, bao vé xe đi, đi ngay trong tuần", "perks.free_flight"),
    ("무경력 가능, 숙소 제공", "low_bar.no_experience"),
])
def test_the_lure_wording_still_reads(engine, text, rule):
    assert rule in {e.rule_id for e in engine.assess({"description": text}).evidence}


def test_a_free_recruitment_statement_is_mitigating_not_a_perk(engine):
    ad = {"title": "Customer Care Agents", "location": "Mombasa Road, Nairobi",
          "description": "Tunaajiri Customer Care Agents ofisini. Usilipe mtu yeyote pesa ya kukupatia kazi, "
                         "recruitment ni BURE kabisa."}
    evidence = engine.assess(ad).evidence
    ids = {e.rule_id for e in evidence}
    assert "mitigating.no_fees_charged" in ids, ids
    assert "perks.no_cost" not in ids, ids
