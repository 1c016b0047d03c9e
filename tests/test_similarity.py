"""Known-lure similarity: paraphrases found, legitimate ads not, few candidates, persistence."""
import json

import numpy as np
import pytest

from output.bench import synthetic_lures
from rules.similarity import CorpusError, IndexParams, KnownLureIndex, read_corpus


@pytest.fixture(scope="module")
def shipped():
    return KnownLureIndex.load_default(cache=False)


@pytest.mark.parametrize(
    "text, expected_id",
    [
        ("Urgent: Digital marketing executive job in Thailand. Good IT skills and English. USD 1200 monthly "
         "salary plus commission. Company pays air ticket, visa, free hostel and meals. Send your CV on Telegram.",
         "seed-en-001"),
        ("Work abroad with just a tourist visa - no work permit needed. We need online marketing assistants in "
         "Cambodia, salary up to $2000 monthly, no degree or skills required, free accommodation and meals. "
         "Telegram us for details.", "seed-en-006"),
        ("Tuyển nhân viên chăm sóc khách hàng tại Campuchia, việc nhẹ lương cao 1.000 USD/tháng chưa tính phần "
         "trăm, không cần bằng cấp, không cần kỹ năng, bao ăn ở, liên hệ Zalo.", "seed-vi-032"),
        ("急招客服,月入过万,学历经验都不是问题,会用电脑就行,包吃包住包机票,加飞机详聊。", "seed-zh-024"),
        ("รับสมัครแอดมินตอบแชทลูกค้า ทำงานต่างประเทศ เงินเดือน 35,000 บาท ไม่ต้องมีประสบการณ์ ที่พักอาหารฟรี "
         "บริษัทออกค่าตั๋วเครื่องบิน ติดต่อไลน์", "seed-th-029"),
        ("Lowongan di Kamboja untuk customer service dan marketing, gaji USD 1.000-1.200 per bulan, tanpa "
         "pengalaman, tiket dan visa ditanggung, mess dan makan gratis, hubungi WhatsApp.", "seed-id-036"),
        ("Hiring! CSR sa Cambodia, walang experience pwede. Sahod 1,500 USD kada buwan, libreng plane ticket, "
         "visa, pagkain at tirahan. Message sa Telegram, alis agad.", "seed-tl-021"),
    ],
)
def test_paraphrased_lure_is_found(shipped, text, expected_id):
    match = shipped.nearest(text)
    assert match is not None and match.id == expected_id
    assert match.similarity >= 0.7
    assert match.source_note and match.snippet


@pytest.mark.parametrize(
    "text",
    [
        "Senior Accountant, Makati. CPA license and 5 years of audit experience required. HMO from day one, "
        "13th-month pay. Apply through our careers page; on-site interview.",
        "Registered nurse for our Cebu hospital ICU. Board passer, BLS/ACLS certified. Rotating shifts, "
        "free uniform, government-mandated benefits.",
        "Customer Service Representative for a telecom account in Quezon City. Day shift, PHP 22,000 basic "
        "plus allowances. Walk-in interviews Monday to Friday at our office.",
        "招聘会计,本科以上学历,三年以上经验,五险一金,双休,工作地点上海浦东。",
        "Lowongan admin gudang di Surabaya, minimal D3, pengalaman 1 tahun, gaji UMR, BPJS. Lamaran dikirim ke "
        "kantor HRD.",
    ],
)
def test_legitimate_ad_is_not_a_known_lure(shipped, text):
    match = shipped.nearest(text, min_similarity=0.0)
    assert match is None or match.similarity < 0.6


def test_shipped_corpus_schema_and_spread():
    from rules.similarity import KNOWN_LURES_DIR

    entries = [e for f in sorted(KNOWN_LURES_DIR.glob("*.jsonl")) for e in read_corpus(f)]
    assert 40 <= len(entries) <= 200
    assert {"en", "zh", "th", "vi", "id", "ms", "tl", "pt", "km", "my"} <= {e["lang"] for e in entries}
    assert {e["origin"] for e in entries} <= {"seed", "review"}


def test_candidate_stage_stays_small_for_a_big_corpus():
    params = IndexParams()
    index = KnownLureIndex(params)
    corpus = synthetic_lures(20_000, seed=11)
    index.add_many(corpus)
    planted = corpus[12_345]
    query = planted["text"].replace(".", ",", 2) + " Apply today!"
    ids = [index.ids[i] for i, _ in index.candidates(query)]
    assert len(ids) <= params.max_candidates  # only these few reach rapidfuzz
    assert index.last_candidates < len(index) // 20  # the LSH touched a small share of 20,000
    assert planted["id"] in ids
    assert index.nearest(query).id == planted["id"]


def test_index_agrees_with_brute_force_on_shipped_corpus(shipped):
    probe = "Free flight, visa, food and housing! Data entry abroad, no experience, type on computer, " \
            "earn $1,000-$1,500 monthly, chat interview, WhatsApp our HR."
    assert shipped.nearest(probe).id == shipped.brute_nearest(probe).id


def test_save_and_load_round_trip(tmp_path):
    index = KnownLureIndex()
    index.add_many(synthetic_lures(300, seed=5))
    path = tmp_path / "lures.npz"
    index.save(path)
    again = KnownLureIndex.load(path)
    assert again.ids == index.ids
    for entry in synthetic_lures(300, seed=5)[::37]:
        a, b = index.nearest(entry["text"]), again.nearest(entry["text"])
        assert (a.id, a.similarity) == (b.id, b.similarity) == (entry["id"], 1.0)
    again.add("extra-1", "Brand new lure text about chat jobs in Laos with free tickets")
    assert again.nearest("brand new lure text about chat jobs in laos with free tickets").id == "extra-1"


def write_corpus(path, entries):
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")


def entry(i, **over):
    base = {"id": f"t-{i}", "text": f"lure number {i} with free flight and visa to Cambodia", "lang": "en",
            "source_note": "test", "added": "2026-01-01", "origin": "seed"}
    base.update(over)
    return base


def test_corpus_cache_is_reused_and_invalidated(tmp_path):
    corpus = tmp_path / "lures.jsonl"
    write_corpus(corpus, [entry(i) for i in range(20)])
    first = KnownLureIndex.load(corpus)
    cache = tmp_path / "lures.jsonl.index.npz"
    assert cache.exists()
    assert KnownLureIndex.load(corpus).ids == first.ids
    write_corpus(corpus, [entry(i) for i in range(21)])
    assert len(KnownLureIndex.load(corpus)) == 21
    cache.write_bytes(b"torn")  # a broken cache is rebuilt, not fatal
    assert len(KnownLureIndex.load(corpus)) == 21


@pytest.mark.parametrize(
    "lines, message",
    [
        (['{"id": "a", "text": "x"'], "lures.jsonl:1: invalid JSON"),
        ([json.dumps(entry(1)), json.dumps(entry(2, source_note=""))], "lures.jsonl:2: entry 't-2' is missing source_note"),
        ([json.dumps(entry(1)), "", json.dumps(entry(1))], "lures.jsonl:3: duplicate id 't-1'"),
        ([json.dumps(entry(1, origin="scraped"))], "lures.jsonl:1: entry 't-1' origin must be one of"),
        (["[1, 2]"], "lures.jsonl:1: expected a JSON object"),
    ],
)
def test_corpus_errors_name_file_line_and_id(tmp_path, lines, message):
    corpus = tmp_path / "lures.jsonl"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=message.replace("[", r"\[")):
        KnownLureIndex.load(corpus, cache=False)


def test_seed_corpus_is_independent_of_the_devset(shipped):
    from rules.similarity import KNOWN_LURES_DIR

    devset = KNOWN_LURES_DIR.parent / "devset"
    files = sorted(devset.glob("*.jsonl"))
    if not files:
        pytest.skip("no rules/devset/*.jsonl")
    for path in files:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            ad = json.loads(line)
            text = "\n".join(str(ad.get(k) or "") for k in ("title", "description", "text"))
            match = shipped.nearest(text, min_similarity=0.9)
            assert match is None, f"{path.name}:{lineno} is a near copy of {match.id} ({match.similarity:.2f})"


def _key(match):
    return None if match is None else (match.id, match.similarity, match.snippet)


def test_nearest_many_is_nearest_per_text():
    index = KnownLureIndex()
    corpus = synthetic_lures(3_000, seed=5)
    index.add_many(corpus)
    texts = [corpus[i]["text"] for i in range(0, 3_000, 97)]  # exact copies: found
    texts += [corpus[i]["text"][: len(corpus[i]["text"]) // 2] + " apply now" for i in range(5, 3_000, 211)]
    texts += ["", "   ", "!!", "ab", "Cashier, Manila mall, day shift.",  # empty, too short, unrelated
              "急招客服,月入过万,包吃包住包机票,加飞机详聊", "รับสมัครแอดมินตอบแชท ทำงานต่างประเทศ"]  # unspaced
    many = index.nearest_many(texts, chunk=16)  # several chunks
    assert [_key(m) for m in many] == [_key(index.nearest(t)) for t in texts]
    assert sum(m is not None for m in many) >= 31  # the copies are found, so the comparison is not all None
    assert index.nearest_many([]) == []


def test_nearest_many_on_the_shipped_corpus(shipped):
    probes = ["Free flight, visa, food and housing! Data entry abroad, no experience, WhatsApp our HR.",
              "急招客服,月入过万,学历经验都不是问题,会用电脑就行,包吃包住包机票,加飞机详聊。",
              "Accountant, Phnom Penh bank, CPA required.", ""]
    assert [_key(m) for m in shipped.nearest_many(probes, min_similarity=0.0)] == \
        [_key(shipped.nearest(p, min_similarity=0.0)) for p in probes]


class _RunsCode:
    """Unpickling this creates the marker file: proof that a cache was unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("cache_name", ["lures.jsonl.index.npz", "lures.jsonl.index.pkl"])
def test_planted_pickle_in_the_cache_is_never_run(tmp_path, cache_name):
    import pickle

    corpus = tmp_path / "lures.jsonl"
    write_corpus(corpus, [entry(i) for i in range(5)])
    marker = tmp_path / "pwned"
    planted = tmp_path / cache_name
    planted.write_bytes(pickle.dumps(("key", _RunsCode(marker))))
    index = KnownLureIndex.load(corpus)
    assert not marker.exists()
    assert index.ids == [f"t-{i}" for i in range(5)]
    assert index.nearest(entry(3)["text"]).id == "t-3"
    rebuilt = KnownLureIndex.load_saved(tmp_path / "lures.jsonl.index.npz")  # the cache was rebuilt, data only
    assert rebuilt.ids == index.ids
    with pytest.raises(ValueError, match="pickled indexes are not read"):
        KnownLureIndex.load(tmp_path / "lures.jsonl.index.pkl")
    assert not marker.exists()


def test_damaged_cache_is_rebuilt(tmp_path):
    corpus = tmp_path / "lures.jsonl"
    write_corpus(corpus, [entry(i) for i in range(5)])
    index = KnownLureIndex.load(corpus)
    cache = tmp_path / "lures.jsonl.index.npz"
    data = dict(np.load(cache, allow_pickle=False))
    data["band_rows"] = data["band_rows"] + 1000  # rows that do not exist
    with cache.open("wb") as fh:
        np.savez(fh, **data)
    again = KnownLureIndex.load(corpus)
    assert again.nearest(entry(2)["text"]).id == "t-2" == index.nearest(entry(2)["text"]).id
