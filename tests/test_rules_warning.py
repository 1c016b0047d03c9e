"""Warning and awareness posts are read from broad vocabulary in every language (the `warning` concepts), and a
lure's own denial of fraud ("not a scam", "100% legit") never counts as a warning (issue 12, stop 13).
The posts below were written for this test, not taken from the dev set."""
from __future__ import annotations

import pytest

from rules.engine import Engine

# Each post quotes the bait (a hub, free ticket, high pay, a chat app) to warn against it.
WARNING_POSTS = {
    "en": "Beware! 'Chat support in Sihanoukville, $1,800 a month, free ticket, Telegram only' is a scam. "
          "Victims are trafficked and held for ransom. Share this with your family.",
    "es": "¡Cuidado! La oferta 'atención al cliente en Sihanoukville, 1800 dólares, boleto gratis, escribe por "
          "Telegram' es una estafa. Hay víctimas secuestradas que piden rescate. Compartan.",
    "pt": "Cuidado! A vaga 'atendimento em Sihanoukville, 1800 dólares, passagem grátis, fale no Telegram' é golpe. "
          "Há vítimas presas e resgatadas pela embaixada.",
    "fr": "Attention ! L'offre « service client à Sihanoukville, 1800 $, billet offert, contact Telegram » est une "
          "arnaque. Des victimes sont séquestrées. Partagez.",
    "id": "Waspada penipuan! Loker CS di Sihanoukville gaji 25 juta, tiket gratis, hubungi Telegram. Banyak korban "
          "disekap dan dipaksa. Bagikan ke keluarga.",
    "vi": "Cảnh báo lừa đảo! Tin tuyển CSKH ở Sihanoukville lương 1800 USD, bao vé máy bay, liên hệ Telegram. "
          "Nhiều nạn nhân bị giam, gia đình phải trả tiền chuộc.",
    "zh-hans": "警惕诈骗！西港客服月薪1800美元、包机票、飞机联系的招聘都是骗局，很多受害者被扣押，家人要交赎金。",
    "ru": "Осторожно! Вакансия «оператор чата в Сиануквиле, 1800$, бесплатный билет, пишите в Telegram» — это "
          "мошенники. Жертвы удерживают и требуют выкуп.",
    "sw": "Tahadhari! Tangazo la 'kazi ya huduma kwa wateja Sihanoukville, dola 1800, tiketi bure, Telegram' ni "
          "utapeli. Waathiriwa walizuiliwa. Sambaza ujumbe huu.",
    "tl": "Mag-ingat! Yung 'CSR sa Sihanoukville, 90k a month, libre ticket, Telegram lang' ay modus. Maraming "
          "biktima ang ikinulong. Paki-share.",
}

# Lures that deny being a scam and warn against "fake agents": the denial cancels the warning words.
DENYING_LURES = {
    "en": "Customer service in Sihanoukville, $1,500/month, free ticket, no experience needed. 100% legit, not a "
          "scam! Beware of fake agents. Telegram @hr_kh88",
    "id": "Lowongan CS di Kamboja gaji 20 juta, tiket gratis, tanpa pengalaman. Bukan penipuan, 100% resmi. "
          "Hati-hati dengan agen palsu! WA +855 12 345 678",
}


@pytest.fixture(scope="module")
def engine():
    return Engine.load()


@pytest.mark.parametrize("lang", sorted(WARNING_POSTS))
def test_a_warning_post_is_read_from_broad_vocabulary(engine, lang):
    assessment = engine.assess({"description": WARNING_POSTS[lang]})
    warning = {e.rule_id for e in assessment.evidence if e.category == "warning"}
    assert len(warning - {"warning.denial"}) >= 2, (lang, warning)
    assert not assessment.flagged, (lang, assessment.score, [e.rule_id for e in assessment.evidence])


@pytest.mark.parametrize("lang", sorted(DENYING_LURES))
def test_a_lures_denial_of_fraud_is_not_a_warning(engine, lang):
    features = engine.features({"description": DENYING_LURES[lang]})
    ids = {e.rule_id for e in features.evidence}
    assert {"warning.denial", "warning.scam_named", "warning.caution"} <= ids, ids
    assert features.values["awareness"] == 0.0
    assert engine.assess({"description": DENYING_LURES[lang]}).flagged
