"""Short posts with two or three strong signals flag (issue 12 item 4, stop 13): a compound town with
company-paid travel, and a compound country or town with a bait role and pay far above the norm. Written for
this test, not taken from the dev set."""
from __future__ import annotations

import pytest

from rules.engine import Engine

SHORT_LURES = [
    "Typing job in Cambodia, $1,200 a month. PM for details.",
    "Trabajo de digitador en Camboya, 1500 dólares mensuales.",
    "Opérateur de saisie au Cambodge, 1500 dollars par mois.",
    "Trabajo en Sihanoukville, el viaje corre por cuenta de la empresa.",
    "Travail à Sihanoukville, le voyage est à la charge de l'employeur.",
    "Работа в Камбодже, оператор ПК, 2000$ в месяц, дорога бесплатно.",
    "Kerja di Kemboja, gaji sampai RM15,000 sebulan, tak perlu keluar satu sen pun untuk ke sana.",
    "Encoder sa Cambodia, 70k a month, walang gagastusin papunta.",
]
# the same roles at home, at ordinary pay, or abroad through a licensed channel: not flagged
NOT_LURES = [
    "Typing job in Manila, PHP 18,000 a month. Apply at our office.",
    "Data entry clerk in Phnom Penh, $350 a month, Khmer and English, apply with CV.",
    "Customer service in Cambodia for our bank, $450 a month, contract and social security. Apply at the branch.",
]


@pytest.fixture(scope="module")
def engine():
    return Engine.load()


@pytest.mark.parametrize("text", SHORT_LURES)
def test_two_or_three_strong_signals_flag(engine, text):
    a = engine.assess({"description": text})
    assert a.flagged, (a.score, [e.rule_id for e in a.evidence])


@pytest.mark.parametrize("text", NOT_LURES)
def test_ordinary_short_posts_stay_below(engine, text):
    a = engine.assess({"description": text})
    assert not a.flagged, (a.score, [e.rule_id for e in a.evidence])
