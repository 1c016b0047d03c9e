"""Short posts with two or three strong signals flag (issue 12 item 4, stop 13): a compound town with
company-paid travel, and a compound country or town with a bait role and pay far above the norm; posing as a tourist
with an unnamed destination. Written for this test, not taken from the dev set."""
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
# stop 13, second pass: posing as a tourist with no named country; "buy your ticket, refunded on arrival" (company-
# paid travel in every pack); pay written in Russian words with a compound country and a bait role
SHORT_LURES += [
    "Typing job, $2000 a month. You go on a tourist visa; if immigration asks, say you are on holiday.",
    "Shaqo dibadda ah, fiisaha dalxiiska ayaad ku safraysaa. Haddii garoonka lagu weydiiyo dheh fasax ayaan u socdaa.",
    "Online marketing job in Asia via Dubai. Buy your own ticket, the company refunds it when you arrive.",
    "Казино в Азии через Дубай, билет покупаешь сам, по приезде компания вернет деньги.",
    "Kazi ya customer care Asia kupitia Dubai, nunua tiketi yako, ukifika kampuni inakurudishia pesa.",
    "Работа в Лаосе, оператор чата, две тысячи долларов в месяц.",
]
# the same roles at home, at ordinary pay, or abroad through a licensed channel: not flagged
NOT_LURES = [
    "Typing job in Manila, PHP 18,000 a month. Apply at our office.",
    "Data entry clerk in Phnom Penh, $350 a month, Khmer and English, apply with CV.",
    "Customer service in Cambodia for our bank, $450 a month, contract and social security. Apply at the branch.",
    "Hotel receptionist in Dubai, air ticket refunded after probation, employment contract and work visa by the employer.",
    "Работа в Азии в нашем офисе, трудовой договор, рабочая виза от работодателя, стаж от 3 лет.",
    "Travel agency: holiday packages to Asia, airport transfers included, 5 nights from $799 per person.",
]


# stop 14, third pass: short posts in the everyday wording of each language (company-paid travel and lodging "on
# us", plain bait roles, going as a tourist, crossing the border to work, lakh in the local script). Written for
# this test, not taken from the dev set.
IDIOM_SHORT_LURES = [
    "Qua Cam làm nhập liệu, lương 30tr, bao vé máy bay, không tốn đồng nào.",
    "ไปแบบนักท่องเที่ยว บอกด่านว่าไปเที่ยว งานแอดมิน เดือนละ 40,000",
    "งานคอม กินอยู่ฟรี ข้ามแดนไปทำงาน ทักไลน์",
    "Камбожид компьютерын ажил, сард 5 сая₮, онгоцны билетийг компани даана.",
    "ටිකට් එක කම්පැනියෙන්, තායිලන්තයේ පරිගණක වැඩ, මසකට ලක්ෂ 4යි.",
    "தாய்லாந்தில் கம்ப்யூட்டர் வேலை, மாதம் 2 லட்சம் சம்பளம், டிக்கெட் கம்பெனி கொடுக்கும்.",
    "Kazi ya kompyuta Kambodia, dola 1500 kwa mwezi, tiketi ni yetu.",
    "Hojii kompiitaraa, akka turistiitti deemta, imigireeshiniif daawwannaaf deemaa jira jedhi.",
    "Trabalho no computador, vai como turista, fala na imigração que está de férias.",
]
IDIOM_NOT_LURES = [
    "Trabalho no computador em Campinas, R$ 2.200 por mês, carteira assinada.",
    "Kazi ya kompyuta Nairobi, KSh 35,000 kwa mwezi, mkataba wa ajira.",
    "งานคอม ที่ขอนแก่น เดือนละ 12,000 มีประกันสังคม",
]

# stop 15: a relative's or friend's message (company-paid ticket, fare taken from the salary, sent on through a first
# country, seats running out); the same perks in an honest local job (insurance, office) stay below. A "chat job, no
# experience, free room and food, WhatsApp" post with no place and no travel is not flagged: honest local jobs
# read the same. Written for this test, not taken from the dev set.
REAL_STYLE_LURES = [
    "Kaka, rafiki yangu yuko Thailand, kampuni yake inatafuta watu wa kuchat. Wanalipia ndege, tuma picha ya passport.",
    "Primo, a empresa do meu amigo em Dubai contrata pra trabalhar com cripto, eles mandam a passagem. Me chama no zap.",
    "मेरे जीजा का दोस्त एजेंट है, डिजिटल मार्केटिंग के लिए लड़के चाहिए, दुबई से आगे बैंकॉक भेजेंगे। टिकट का खर्चा बाद में सैलरी से कटेगा। सिर्फ 2 सीटें बची हैं",
    "ຢູ່ບໍ່ແກ້ວ ບໍລິສັດຕ້ອງການຄົນເຮັດວຽກໂທລະສັບ ຄ່າລົດເຂົາອອກໃຫ້ກ່ອນ ແລ້ວຫັກເງິນເດືອນ",
]
# stop 16: a compound country (not only a town) with a company-paid flight; an honest job there says who employs
# and under what contract. Written for this test, not taken from the dev set.
REAL_STYLE_LURES += [
    "Bro, work in Cambodia, the company pays your flight. Just message me.",
    "Kazi Myanmar, kampuni inalipia tiketi ya ndege. Niandikie.",
]
REAL_STYLE_NOT_LURES = [
    "English teacher for our school in Phnom Penh, Cambodia: degree and TEFL required, 12-month contract, "
    "work permit by the school, flight reimbursed after the first term.",
    "Call centre staff in Quezon City, no experience needed, free lunch at the office, SSS and PhilHealth. "
    "Send your CV on WhatsApp.",
]
# stop 16: "a company abroad" or Thailand, a bait role and pay far above the norm (like a compound country); the
# same role in Bangkok at the local wage stays below
REAL_STYLE_LURES += [
    "Perusahaan di luar negeri butuh admin input data, gaji 20 juta per bulan.",
    "Kampuni moja nje ya nchi inatafuta customer care, dola 1,200 kwa mwezi.",
    "Chat support job in Thailand, salary 1 lakh rupees per month.",
]
REAL_STYLE_NOT_LURES += [
    "Front desk and customer service for our hotel in Bangkok, 18,000 baht a month, work permit and contract.",
]
# ... and "no experience needed" stands for the bait role (stop 16)
REAL_STYLE_LURES += [
    "Kazi Thailand, mshahara dola 1,500 kwa mwezi, hakuna uzoefu unaohitajika.",
]
REAL_STYLE_NOT_LURES += [
    "Kazi Thailand, mshahara baht 15,000 kwa mwezi, hakuna uzoefu unaohitajika, mkataba na kibali cha kazi.",
]


@pytest.fixture(scope="module")
def engine():
    return Engine.load()


@pytest.mark.parametrize("text", SHORT_LURES + IDIOM_SHORT_LURES + REAL_STYLE_LURES)
def test_two_or_three_strong_signals_flag(engine, text):
    a = engine.assess({"description": text})
    assert a.flagged, (a.score, [e.rule_id for e in a.evidence])


@pytest.mark.parametrize("text", NOT_LURES + IDIOM_NOT_LURES + REAL_STYLE_NOT_LURES)
def test_ordinary_short_posts_stay_below(engine, text):
    a = engine.assess({"description": text})
    assert not a.flagged, (a.score, [e.rule_id for e in a.evidence])


# stop 14: "no agency fee / you pay nothing" inside a lure is the lure's "you don't need a single cent to get there"
# (issue 12), not the licensed recruiter's fee notice, unless a licensed or formal channel is named too
NO_FEE_LURES = [
    "Chat job in Thailand, $1,500 a month. No agency fee. A tourist visa is enough.",
    "Kazi ya chat Thailand, dola 1500 kwa mwezi. Hakuna ada ya wakala. Visa ya utalii inatosha.",
    "Typing job in Sihanoukville, $1,200 a month. Zero fees, you pay nothing.",
]
NO_FEE_LICENSED = [
    "Caregivers for Japan through a DMW-licensed agency, licence no. DMW-123-LB-45678. No placement fee. "
    "Free air ticket, work visa and employment contract.",
]


@pytest.mark.parametrize("text", NO_FEE_LURES)
def test_no_fee_beside_a_compound_place_is_a_lure_sign(engine, text):
    a = engine.assess({"description": text})
    ids = [e.rule_id for e in a.evidence]
    assert a.flagged and "perks.no_cost" in ids and "mitigating.no_fees_charged" not in ids, (a.score, ids)


@pytest.mark.parametrize("text", NO_FEE_LICENSED)
def test_no_fee_with_a_licence_stays_mitigating(engine, text):
    a = engine.assess({"description": text})
    ids = [e.rule_id for e in a.evidence]
    assert not a.flagged and "mitigating.no_fees_charged" in ids, (a.score, ids)
