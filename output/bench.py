"""`make bench`: throughput of the engine with a large known-lure corpus, and how the
similarity index scales against a brute-force rapidfuzz scan. Writes BENCHMARKS.md.

Everything is generated here, deterministically (seeded): synthetic lure corpora made by
recombining phrase pools in eight languages, and realistic ads (mostly legitimate, some
lures, some paraphrases of corpus entries) to assess. One process, pinned to one core.

Usage: python -m output.bench [--ads N] [--corpus N] [--small N] [--large N] [--out PATH]
"""
from __future__ import annotations

import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

ROOT = Path(__file__).resolve().parent.parent
console = Console(stderr=True)

# ---------------------------------------------------------------------------------------------
# Phrase pools. {role} {place} {pay} {perk} {chan} {handle} {n} are filled per document.
# ---------------------------------------------------------------------------------------------
POOLS: dict[str, dict[str, list[str]]] = {
    "en": {
        "role": ["customer service agent", "data entry clerk", "chat support staff", "online marketing assistant",
                 "telemarketing officer", "typist", "live chat operator", "sales executive", "game tester",
                 "IT support", "social media moderator", "receptionist", "account manager", "translator"],
        "place": ["Cambodia", "Phnom Penh", "Sihanoukville", "Myanmar", "Myawaddy", "Laos", "the Golden Triangle",
                  "Thailand", "Bangkok", "Mae Sot", "Poipet", "Bavet", "Dubai", "Southeast Asia", "Kuala Lumpur"],
        "pay": ["USD {n}00 per month", "${n},000 monthly", "salary up to {n},500 USD", "{n}k dollars a month",
                "basic pay {n}00 USD plus commission", "earn ${n},200 every month", "RM{n},000 monthly"],
        "perk": ["free flight", "free visa", "free food and housing", "air ticket paid by company",
                 "free dormitory and meals", "accommodation provided", "visa and ticket covered", "bonus every month",
                 "transport from the airport arranged", "no need to spend a single cent"],
        "req": ["no experience needed", "no degree required", "basic English is enough", "just know how to type",
                "fresh graduates welcome", "must type 30 words per minute", "computer literate", "age 18 to 35",
                "Mandarin speakers preferred", "good communication skills"],
        "open": ["URGENT HIRING", "We are hiring", "Job opening abroad", "Work overseas now", "Limited slots",
                 "Big opportunity", "Hiring immediately", "Vacancy", "Apply today", "Easy job high pay"],
        "close": ["Contact us on {chan} {handle}", "Message HR via {chan}: {handle}", "Apply on {chan} now {handle}",
                  "Interview by chat on {chan} {handle}", "Send CV to {chan} {handle}", "Inbox us or {chan} {handle}"],
        "extra": ["Leave within {n} days.", "Depart as soon as possible.", "Tourist visa is fine.",
                  "Our driver will pick you up at the airport.", "Send a passport photo to start the visa.",
                  "Training for {n} weeks.", "Work {n} hours a day, six days a week.", "Company handles all papers.",
                  "Friends already working here.", "Direct hiring, no agency."],
    },
    "tl": {
        "role": ["customer service representative", "data encoder", "call center agent", "typist", "chat support",
                 "online seller", "game host"],
        "place": ["Cambodia", "Thailand", "Myanmar", "Laos", "Dubai", "Bangkok"],
        "pay": ["sahod {n}0,000 piso", "{n},500 USD kada buwan", "sweldo {n}00 dolyar", "kita {n}0k pesos"],
        "perk": ["libreng plane ticket", "libre pagkain at tirahan", "sagot ang visa", "libreng bahay",
                 "walang placement fee", "libre pamasahe"],
        "req": ["walang experience, pwede", "basic computer lang", "kahit high school graduate",
                "marunong mag-type", "kahit walang diploma"],
        "open": ["Hiring!", "Trabaho sa abroad", "Kailangan agad", "Urgent hiring", "Direct hire"],
        "close": ["Message lang sa {chan} {handle}", "I-chat kami sa {chan} {handle}", "PM sa {chan} {handle}"],
        "extra": ["Alis agad.", "Sabihin mo lang na turista ka.", "Proseso {n} araw lang.", "May training."],
    },
    "id": {
        "role": ["customer service", "staf administrasi", "operator", "marketing online", "admin chat",
                 "telemarketing", "penerjemah"],
        "place": ["Kamboja", "Thailand", "Myanmar", "Laos", "Filipina", "Phnom Penh"],
        "pay": ["gaji USD {n}00 per bulan", "gaji {n} juta per bulan", "gaji {n},000 USD", "upah {n}00 dolar"],
        "perk": ["tiket pesawat gratis", "mess dan makan gratis", "visa ditanggung perusahaan",
                 "biaya perjalanan ditanggung", "tempat tinggal disediakan"],
        "req": ["tanpa pengalaman", "lulusan SMA diterima", "bisa mengetik", "tidak perlu ijazah",
                "usia 18 sampai 35 tahun"],
        "open": ["Lowongan kerja luar negeri", "Dibutuhkan segera", "Loker", "Info kerja", "Peluang emas"],
        "close": ["Hubungi via {chan} {handle}", "Chat {chan} admin {handle}", "Daftar lewat {chan} {handle}"],
        "extra": ["Segera berangkat tanpa banyak proses.", "Proses cepat {n} hari.", "Training {n} minggu."],
    },
    "ms": {
        "role": ["khidmat pelanggan", "telemarketing", "admin online", "kerani data", "jurujual online"],
        "place": ["Kemboja", "Thailand", "Myanmar", "Laos", "Phnom Penh"],
        "pay": ["gaji sehingga RM{n},000 sebulan", "gaji RM{n}500", "pendapatan USD {n},000"],
        "perk": ["tiket kapal terbang percuma", "penginapan dan makan percuma", "visa ditanggung",
                 "semua kos ditanggung"],
        "req": ["tiada pengalaman diperlukan", "boleh berbahasa Cina", "tak perlu permit kerja", "lepasan SPM"],
        "open": ["Jawatan kosong", "Kerja luar negara", "Peluang kerja", "Segera"],
        "close": ["WhatsApp sekarang {handle}", "Hubungi ejen di {chan} {handle}", "PM {chan} {handle}"],
        "extra": ["Bertolak minggu depan.", "Proses {n} hari sahaja."],
    },
    "vi": {
        "role": ["nhân viên chăm sóc khách hàng", "nhân viên sale online", "người ngồi đánh game",
                 "nhân viên nhập liệu", "trực page", "telesale"],
        "place": ["Campuchia", "Myanmar", "Lào", "Thái Lan", "Phnom Penh", "Bavet"],
        "pay": ["lương {n}0 triệu/tháng", "lương cứng {n} triệu cộng hoa hồng", "{n}00 USD/tháng",
                "{n}.000 USD chưa tính phần trăm"],
        "perk": ["bao ăn ở", "hỗ trợ vé xe", "công ty ứng trước chi phí xuất cảnh", "bao vé máy bay",
                 "lo hết giấy tờ"],
        "req": ["không cần bằng cấp", "không cần kinh nghiệm", "chỉ cần biết dùng máy tính",
                "việc nhẹ lương cao", "tuổi từ 18 đến 30"],
        "open": ["Tuyển gấp", "Việc làm Campuchia", "Cần tuyển", "Thông báo tuyển dụng"],
        "close": ["Liên hệ {chan} {handle}", "Nhắn tin {chan} {handle}", "Inbox hoặc {chan} {handle}"],
        "extra": ["Đi ngay trong tuần.", "Đào tạo {n} ngày."],
    },
    "zh": {
        "role": ["客服", "推广专员", "程序员", "技术支持", "人事专员", "交易员", "博彩推广", "打字员", "厨师"],
        "place": ["西港", "柬埔寨", "缅甸", "妙瓦底", "老挝", "金三角", "泰国", "迪拜", "金边"],
        "pay": ["月薪{n}万起", "月入过万", "底薪{n}万加提成", "工资{n}0000元", "月薪{n}千美金"],
        "perk": ["包吃包住", "包机票", "报销机票", "落地接机", "免费住宿", "公司办理签证"],
        "req": ["无需经验", "学历不限", "会打字就行", "会用电脑就能上手", "高薪低门槛", "轻松办公赚快钱"],
        "open": ["高薪招聘", "急招", "海外高薪岗位", "东南亚公司招聘", "名额有限"],
        "close": ["联系{chan}{handle}", "有意者加{chan}{handle}详聊", "加{chan}{handle}了解详情"],
        "extra": ["{n}天内出发。", "护照照片发给我们办理手续。", "工资月结。"],
    },
    "th": {
        "role": ["แอดมินออนไลน์", "พนักงานตอบแชท", "พนักงานต้อนรับ", "เซลล์ออนไลน์", "พนักงานคีย์ข้อมูล"],
        "place": ["กัมพูชา", "เมียนมา", "ลาว", "ปอยเปต", "เมียวดี", "ต่างประเทศ"],
        "pay": ["เงินเดือน {n}0,000 บาท", "รายได้ {n}5,000 บาทขึ้นไป", "เงินเดือน {n}0,000 บาท บวกค่าคอม"],
        "perk": ["มีที่พักและอาหารฟรี", "บริษัทออกค่าตั๋วเครื่องบินให้", "เดินทางฟรี", "มีรถรับส่ง"],
        "req": ["ไม่ต้องมีประสบการณ์", "ไม่ต้องใช้วุฒิ", "พิมพ์ดีดได้", "อายุ 18-35 ปี"],
        "open": ["รับสมัครด่วน", "ทำงานต่างประเทศ", "งานด่วน", "รับสมัคร"],
        "close": ["ติดต่อทาง{chan} {handle}", "สนใจทัก{chan} {handle}", "แอด{chan} {handle}"],
        "extra": ["เดินทางภายใน {n} วัน", "ทำงานวันละ {n} ชั่วโมง"],
    },
    "pt": {
        "role": ["atendimento ao cliente", "marketing digital", "suporte técnico", "digitador", "vendedor online"],
        "place": ["Ásia", "Tailândia", "Camboja", "Mianmar", "Dubai", "Malásia"],
        "pay": ["salário de {n}.500 dólares por mês", "ganhos de {n}.000 USD", "{n} mil reais por mês"],
        "perk": ["passagem aérea paga", "visto pago pela empresa", "moradia e alimentação grátis", "voo e hospedagem"],
        "req": ["sem experiência", "fale inglês ou português", "saiba digitar", "sem diploma"],
        "open": ["Vaga no exterior", "Oportunidade de trabalho", "Contratação imediata", "Vagas limitadas"],
        "close": ["Fale conosco pelo {chan} {handle}", "Entrevista pelo {chan} {handle}", "Chame no {chan} {handle}"],
        "extra": ["Embarque imediato.", "Treinamento de {n} semanas."],
    },
}
CHANNELS = {"en": ["Telegram", "WhatsApp", "TG", "Line"], "tl": ["Telegram", "WhatsApp", "Messenger"],
            "id": ["WhatsApp", "Telegram"], "ms": ["WhatsApp", "Telegram"], "vi": ["Zalo", "Telegram"],
            "zh": ["飞机", "微信", "纸飞机", "QQ"], "th": ["ไลน์", "Line", "Telegram"], "pt": ["WhatsApp", "Telegram"]}
LANG_WEIGHTS = {"en": 5, "tl": 1, "id": 1, "ms": 1, "vi": 1, "zh": 2, "th": 1, "pt": 1}
SYLLABLES = ["ka", "ri", "to", "hr", "job", "asia", "max", "lin", "sun", "win", "go", "pro", "vip", "team"]

LEGIT = {
    "title": ["Senior Accountant", "Registered Nurse", "Warehouse Supervisor", "Software Engineer (Python)",
              "Primary School Teacher", "Customer Service Representative", "Marketing Coordinator",
              "Electrician", "Data Analyst", "Hotel Front Desk Officer", "Delivery Driver", "HR Generalist",
              "Sales Associate", "Pharmacist", "Civil Engineer", "Graphic Designer"],
    "company": ["Northwind Traders", "Acme Logistics Inc.", "St. Luke's Medical Center", "Globe Retail Corp.",
                "BrightPath Schools", "Metro Water Services", "Harbor Bank", "GreenLeaf Foods", "Pioneer BPO"],
    "location": ["Manila, Philippines", "Cebu City", "Quezon City", "Jakarta", "Kuala Lumpur", "Nairobi",
                 "Mumbai", "São Paulo", "Ho Chi Minh City", "Singapore", "Austin, TX", "Makati"],
    "salary": ["PHP 25,000 - 35,000 / month", "MYR 4,000 - 5,500", "USD 55,000 - 70,000 a year",
               "KES 60,000 per month", "Competitive", "INR 6 - 9 LPA", "SGD 3,800 - 4,600", ""],
    "body": ["We are looking for a {title} to join our team in {location}.",
             "You will report to the department head and work with colleagues across the region.",
             "Requirements: a relevant degree and {n}+ years of experience in a similar role.",
             "We offer health insurance, paid leave and a 13th-month pay.",
             "Shifts are Monday to Friday, {n}:00 to 17:00, with a hybrid option after probation.",
             "Apply through our careers page; shortlisted candidates will be invited to an on-site interview.",
             "Licensed professionals only. Please attach your CV and two references.",
             "Our company has served customers for {n}0 years and values safety and integrity.",
             "Responsibilities include preparing reports, handling client accounts and keeping records up to date.",
             "Salary depends on experience. Government-mandated benefits apply.",
             "Background check and medical exam required before hiring.",
             "Visit our office or email careers@northwind.example for questions."],
}


def _fill(rng: random.Random, template: str, pools: dict[str, list[str]], lang: str) -> str:
    out = template
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        key = out[start + 1:end]
        if key == "n":
            value = str(rng.randint(1, 9))
        elif key == "chan":
            value = rng.choice(CHANNELS[lang])
        elif key == "handle":
            value = "@" + "".join(rng.choice(SYLLABLES) for _ in range(2)) + str(rng.randint(10, 999))
        else:
            value = _fill(rng, rng.choice(pools[key]), pools, lang)
        out = out[:start] + value + out[end + 1:]
    return out


def lure_text(rng: random.Random, lang: str | None = None) -> tuple[str, str]:
    """One synthetic lure (text, lang): slots drawn from the pools, in a shuffled middle order."""
    lang = lang or rng.choices(list(LANG_WEIGHTS), weights=list(LANG_WEIGHTS.values()))[0]
    pools = POOLS[lang]
    middle = [f"{{role}} in {{place}}" if lang == "en" else "{role} {place}", "{pay}", "{perk}", "{perk}", "{req}"]
    if rng.random() < 0.7:
        middle.append("{extra}")
    rng.shuffle(middle)
    parts = ["{open}"] + middle + ["{close}"]
    sep = "," if lang in ("zh",) else (" " if lang == "th" else ". ")
    filled = [_fill(rng, p, pools, lang).rstrip(".。 ") for p in parts]
    return sep.join(dict.fromkeys(filled)) + ("。" if lang == "zh" else "" if lang == "th" else "."), lang


def synthetic_lures(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text, lang = lure_text(rng)
        out.append({"id": f"syn-{seed}-{i:06d}", "text": text, "lang": lang, "source_note": "synthetic (bench)",
                    "added": "2026-01-01", "origin": "seed"})
    return out


def paraphrase(rng: random.Random, text: str) -> str:
    """Light paraphrase: drop one clause, swap two, add a line."""
    sep = "," if "," in text and " " not in text[:20] else ". "
    parts = [p for p in text.split(sep) if p.strip()]
    if len(parts) > 4:
        parts.pop(rng.randrange(1, len(parts) - 1))
        i = rng.randrange(1, len(parts) - 1)
        parts[i], parts[i + 1] = parts[i + 1], parts[i]
    return sep.join(parts) + sep + rng.choice(["Serious applicants only.", "Slots are filling up fast.", "急!",
                                                  "Message now."])


HELD_OUT_CHARS = 900  # average length of the held-out ads (all fields)
EMSCAD_CHARS = 2400  # average length of EMSCAD's real job-board ads


def _pad(rng: random.Random, ad: dict[str, Any], target_chars: int | None) -> dict[str, Any]:
    """Lengthen the description with ordinary job-ad sentences until the ad has about `target_chars`."""
    if not target_chars:
        return ad
    extra = []
    size = sum(len(v) for k, v in ad.items() if isinstance(v, str) and k != "id")
    while size < target_chars:
        sentence = (rng.choice(LEGIT["body"]).replace("{title}", "team member")
                    .replace("{location}", rng.choice(LEGIT["location"])).replace("{n}", str(rng.randint(1, 9))))
        extra.append(sentence)
        size += len(sentence) + 1
    ad["description"] = " ".join([ad["description"], *extra])
    return ad


def synthetic_ads(n: int, corpus: list[dict[str, Any]], seed: int = 2,
                  target_chars: int | None = HELD_OUT_CHARS) -> list[dict[str, Any]]:
    """Realistic ads to assess: ~70% legitimate, ~20% fresh lures, ~10% paraphrases of corpus entries, each
    lengthened with ordinary job-ad sentences to about `target_chars` characters (None: as generated)."""
    rng = random.Random(seed)
    ads = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.7:
            title = rng.choice(LEGIT["title"])
            location = rng.choice(LEGIT["location"])
            body = " ".join(s.replace("{title}", title).replace("{location}", location)
                            .replace("{n}", str(rng.randint(1, 9)))
                            for s in rng.sample(LEGIT["body"], rng.randint(4, 8)))
            ads.append({"id": f"ad-{i}", "title": title, "company": rng.choice(LEGIT["company"]),
                        "location": location, "salary": rng.choice(LEGIT["salary"]), "description": body,
                        "contact": "careers@" + rng.choice(["northwind", "acme", "globe"]) + ".example",
                        "paraphrase_of": None})
            _pad(rng, ads[-1], target_chars)
        else:
            source = rng.choice(corpus) if roll > 0.9 else None
            text = paraphrase(rng, source["text"]) if source else lure_text(rng)[0]
            ads.append({"id": f"ad-{i}", "title": text[:60], "company": "", "location": "",
                        "salary": "", "description": text, "contact": "",
                        "paraphrase_of": source["id"] if source else None})
            _pad(rng, ads[-1], target_chars)
    return ads


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------
def pin_one_core() -> str:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def build_index(entries: list[dict[str, Any]]):
    from rules.similarity import KnownLureIndex

    index = KnownLureIndex()
    index.add_many(entries)
    index.build()
    return index


def make_engine(index):
    """The engine with a custom known-lure index (Engine.load(known_lures=...) when it exists)."""
    from rules import Engine

    try:
        return Engine.load(known_lures=index), "Engine.load(known_lures=index)"
    except TypeError:
        engine = Engine.load(with_similarity=False)
        engine.similarity = index
        return engine, "Engine.load(with_similarity=False) + engine.similarity = index"


@dataclass
class Row:
    what: str
    value: str
    note: str = ""


# CPU time of this (single-threaded, one-core) process by default: the machine is shared, and
# wall time would count other people's jobs. --clock wall switches.
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = clock()
    out = fn()
    return clock() - t0, out


def run_over(items: list, fn: Callable[[Any], Any], label: str, progress: Progress | None) -> float:
    task = progress.add_task(label, total=len(items)) if progress else None
    t0 = clock()
    for i, item in enumerate(items):
        fn(item)
        if progress and (i % 50 == 0 or i == len(items) - 1):
            progress.update(task, completed=i + 1)
    return clock() - t0


def corpus_file(corpus: list[dict[str, Any]]) -> Path:
    """The corpus as a JSONL file, as a deployment keeps its known lures (written once, not timed), under
    $TMPDIR/lurewatch-bench, named by its content."""
    import hashlib
    import json
    import tempfile

    data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in corpus).encode()
    where = Path(tempfile.gettempdir()) / "lurewatch-bench"
    path = where / f"corpus-{hashlib.sha256(data).hexdigest()[:16]}.jsonl"
    if not path.exists():
        where.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    return path


def start_engine(corpus: list[dict[str, Any]], ads: list[dict[str, Any]]) -> dict[str, Any]:
    """Start-up as a user pays it, timed: first import of the engine's modules (numpy, rapidfuzz), the index
    of the corpus file (`KnownLureIndex.load`: its saved index, checked against the file's bytes, as every run after
    the first reads it), engine load. Writing the corpus file and converting the ads are not timed."""
    path = corpus_file(corpus)
    t0 = clock()
    import rules.similarity  # noqa: F401  first import of the engine's modules, numpy + rapidfuzz: start-up
    t_import = clock() - t0
    from rules.model import Ad

    ad_objs = [Ad.from_dict(a) for a in ads]
    t0 = clock() - t_import  # the import above is already start-up; the conversion is not
    index = rules.similarity.KnownLureIndex.load(path)
    t_build = clock() - t0 - t_import
    try:
        engine, how = make_engine(index)
    except Exception as exc:  # the ruleset is someone else's work in progress: still bench the index
        engine, how = None, f"engine failed to load: {exc}"
        console.print(f"[red]{how}[/red]")
    return {"index": index, "engine": engine, "ad_objs": ad_objs, "engine_how": how, "index_load": t_build,
            "startup": clock() - t0, "sim_import": t_import, "engine_ok": engine is not None}


def batch_throughput(n_ads: int, corpus_size: int, target_chars: int = HELD_OUT_CHARS) -> dict[str, float]:
    """Start-up + `engine.assess_many` over the same ads as the per-ad row (run in a fresh process)."""
    corpus = synthetic_lures(corpus_size, seed=1)
    ads = synthetic_ads(n_ads, corpus, seed=2, target_chars=target_chars)
    start = start_engine(corpus, ads)
    t_assess, _ = timed(lambda: start["engine"].assess_many(start["ad_objs"]))
    return {"startup": start["startup"], "assess": t_assess, "ads_s": n_ads / (start["startup"] + t_assess),
            "rules_preimported": False}


def batch_in_fresh_process(n_ads: int, corpus_size: int, target_chars: int = HELD_OUT_CHARS) -> dict[str, float]:
    import json
    import subprocess

    code = ("import json, output.bench as b; b.pin_one_core(); b.clock = b.CLOCKS[%r]; "
            "print(json.dumps(b.batch_throughput(%d, %d, %d)))" % (clock_name(), n_ads, corpus_size, target_chars))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def warm_caches(corpus: list[dict[str, Any]]) -> None:
    """Load the engine and the corpus's index once in another process (not timed), as any earlier run would have:
    the ruleset check, the compiled regex code (rules/ruleset_cache.py, rules/regex_store.py) and the built index
    of a corpus file (`<corpus>.index.npz`, keyed by the file's bytes) are kept between processes; building them
    once after a change costs seconds that no later start-up pays."""
    import subprocess

    code = ("from rules import Engine; from rules.similarity import KnownLureIndex; "
            f"Engine.load(with_similarity=False); KnownLureIndex.load({str(corpus_file(corpus))!r})")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)


def clock_name() -> str:
    return next(name for name, fn in CLOCKS.items() if fn is clock)


def run_bench(n_ads: int = 5000, corpus_size: int = 10_000, small: int = 1_000, large: int = 100_000,
              brute_sample: int = 20, progress: Progress | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {"n_ads": n_ads, "corpus": corpus_size, "small": small, "large": large,
                               "brute_sample": brute_sample}
    corpus = synthetic_lures(corpus_size, seed=1)  # generation is not timed, and imports nothing of rules
    ads = synthetic_ads(n_ads, corpus, seed=2)

    # (a) throughput, start-up included: imports of the engine, engine load + index build, then assess every ad
    results["rules_preimported"] = "rules" in sys.modules  # e.g. under pytest: import time then not counted
    warm_caches(corpus)
    start = start_engine(corpus, ads)
    index, engine, ad_objs = start.pop("index"), start.pop("engine"), start.pop("ad_objs")
    doc = [f"{a.title}\n{a.description}" for a in ad_objs]
    results["ad_chars"] = statistics.mean(sum(map(len, a.texts().values())) for a in ad_objs)
    from rules.ruleset import pack_paths

    results["packs"] = len(pack_paths())
    results.update(start)
    t_startup, t_import = start["startup"], start["sim_import"]
    t_build = results["build_10k"] = timed(lambda: build_index(corpus))[0]  # a fresh build, not in the start-up
    if engine is not None:
        t_assess = run_over(ad_objs, engine.assess, f"engine.assess x{n_ads}", progress)
        results.update(assess=t_assess, engine_ads_s=n_ads / (t_startup + t_assess),
                       engine_ads_s_warm=n_ads / t_assess)
        # batches (`lurewatch assess`, `rescan`): a fresh process, so its start-up and first use are cold too
        task = progress.add_task(f"engine.assess_many x{n_ads} (fresh process)", total=1) if progress else None
        results["batch"] = batch_in_fresh_process(n_ads, corpus_size)
        if progress:
            progress.update(task, completed=1)
        # EMSCAD-length ads (real job boards' long legitimate ads), in a fresh process too
        n_long = min(n_ads, 2000)
        task = progress.add_task(f"engine.assess_many x{n_long}, {EMSCAD_CHARS:,}-character ads", total=1) if progress else None
        results["batch_long"] = batch_in_fresh_process(n_long, corpus_size, EMSCAD_CHARS)
        results["batch_long"]["n_ads"] = n_long
        if progress:
            progress.update(task, completed=1)
        # the engine without the similarity stage, to show what the index costs inside it
        engine.similarity = None
        sub = ad_objs[: min(n_ads, 2000)]
        results["assess_nosim_per_ad"] = run_over(sub, engine.assess, "engine without similarity", progress) / len(sub)
        engine.similarity = index

    # contact extraction alone (it runs inside the engine)
    from rules.entities import extract_contacts

    sub = ad_objs[: min(n_ads, 2000)]
    results["contacts_per_ad"] = run_over(sub, extract_contacts, "extract_contacts", progress) / len(sub)
    # the other stages alone, on the same texts the engine gives them
    from rules.language import detect_language

    lang_texts = [" \n".join(getattr(a, k) for k in ("title", "description", "location")) for a in sub]
    results["language_per_ad"] = run_over(lang_texts, detect_language, "detect_language", progress) / len(sub)
    if engine is not None:
        from rules.engine import FIELD_SEP
        from rules.textnorm import normalise

        docs = [FIELD_SEP.join(a.texts().values()) for a in sub]
        results["matching_per_ad"] = run_over(
            docs, lambda d: list(engine.matcher.finditer(normalise(d).text)), "rule matching", progress) / len(sub)

    # the other candidate backend, datasketch MinHashLSH: same signatures, build time only
    from rules.similarity import IndexParams, KnownLureIndex

    ds = KnownLureIndex(IndexParams(backend="datasketch"))
    ds.add_many(corpus)
    results["build_10k_datasketch"] = timed(ds.build)[0]
    del ds

    # index alone over the same ads: candidates + rapidfuzz, and candidate counts
    cand_counts = []

    def query(text):
        index.nearest(text)
        cand_counts.append(index.last_candidates)

    t_index = run_over(doc, query, "index.nearest (10k)", progress)
    results.update(index_per_ad=t_index / n_ads, index_ads_s=n_ads / (t_import + t_build + t_index),
                   cand_median=statistics.median(cand_counts), cand_max=max(cand_counts))

    # recall on the paraphrased corpus entries among the ads (their source is known)
    para = [(d, a["paraphrase_of"]) for d, a in zip(doc, ads) if a.get("paraphrase_of")]
    hits = sum(1 for d, src in para if (m := index.nearest(d)) is not None and m.id == src)
    results["paraphrase_recall"] = (hits, len(para))

    # brute force, same scorer, same corpus: a timed subsample of the ads
    sample = doc[:brute_sample]
    t_brute = run_over(sample, index.brute_nearest, f"brute force 10k x{len(sample)}", progress)
    results["brute_10k_per_ad"] = t_brute / len(sample)
    results["brute_10k_ads_s"] = len(sample) / t_brute

    # agreement: how often the index finds the brute-force best, by how similar that best is
    pairs = []
    for text in sample:
        b, i = index.brute_nearest(text, min_similarity=0.0), index.nearest(text, min_similarity=0.0)
        pairs.append((b.similarity, i is not None and i.id == b.id))
    results["agree"] = {floor: (sum(ok for sim, ok in pairs if sim >= floor), sum(sim >= floor for sim, _ in pairs))
                        for floor in (0.5, 0.6, 0.7)}

    # (b) scaling: 1k vs 100k lures, index vs brute force. Both indexes are built first and their
    # queries are timed in alternating rounds, so load from other jobs hits both sizes alike.
    built = {}
    for size in (small, large):
        entries = synthetic_lures(size, seed=3)
        t_b, idx = timed(lambda: build_index(entries))
        q_ads = synthetic_ads(min(n_ads, 2000), entries, seed=4)
        built[size] = (idx, t_b, [f"{a['title']}\n{a['description']}" for a in q_ads], [], [0.0])
    rounds = 8
    task = progress.add_task("index.nearest, small and large in turns", total=rounds) if progress else None
    for rnd in range(rounds):
        for size, (idx, _, docs, counts, total) in built.items():
            chunk = docs[rnd::rounds]
            t0 = clock()
            for text in chunk:
                idx.nearest(text)
                counts.append(idx.last_candidates)
            total[0] += clock() - t0
        if progress:
            progress.update(task, completed=rnd + 1)
    for size, (idx, t_b, docs, counts, total) in built.items():
        n_brute = brute_sample if size <= small else max(3, brute_sample // 4)
        t_br = run_over(docs[:n_brute], idx.brute_nearest, f"brute force ({size:,}) x{n_brute}", progress)
        results[f"scale_{size}"] = {"build": t_b, "per_ad": total[0] / len(docs),
                                    "cand_median": statistics.median(counts), "cand_max": max(counts),
                                    "brute_per_ad": t_br / n_brute, "brute_n": n_brute, "queries": len(docs)}
    built.clear()
    return results


def machine_info(pinned: str) -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import datasketch
    import rapidfuzz

    load = "load average {:.1f} {:.1f} {:.1f} at the end (the machine is shared: other jobs inflate times)".format(
        *os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return (f"{cpu}; {os.cpu_count()} cores visible, {pinned}; {load}; Python {platform.python_version()} "
            f"on {platform.system()} {platform.release()}; rapidfuzz {rapidfuzz.__version__}, "
            f"datasketch {datasketch.__version__}")


def render(r: dict[str, Any], info: str) -> str:
    from rules.similarity import IndexParams

    p = IndexParams()
    s, l = r[f"scale_{r['small']}"], r[f"scale_{r['large']}"]
    ratio = l["per_ad"] / s["per_ad"]
    ms = lambda sec: f"{sec * 1000:.2f} ms"  # noqa: E731
    agree = "; ".join(f">= {floor}: {a} of {t}" for floor, (a, t) in r["agree"].items())
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` (`python -m output.bench`) on {dt.date.today().isoformat()}.",
        f"Machine: {info}.",
        f"Clock: {'CPU time of the bench process (pinned to one core)' if r['clock'] == 'cpu' else 'wall time'}; "
        f"the whole run took {r['wall_total']:.0f} s of wall time.",
        "All numbers below were measured in one run; nothing is copied from elsewhere. Corpora and ads are",
        "generated deterministically (seeded) from phrase pools in 8 languages (`output/bench.py`).",
        f"Index parameters: {p.shingle}-char shingles ({p.shingle_unspaced} for unspaced scripts), "
        f"{p.num_perm} permutations, {p.bands} bands x {p.rows} rows, band buckets over {p.max_bucket} entries "
        f"skipped, at most {p.prerank} hits pre-ranked by shared bands, at most {p.max_candidates} candidates "
        "scored by rapidfuzz.",
        "",
        f"## (a) Throughput: {r['n_ads']:,} ads, {r['corpus']:,} known lures, one process, one core",
        "",
        f"Engine wired as `{r['engine_how']}`. Start-up = first import of the engine's modules (rules, numpy, "
        f"rapidfuzz) + engine load (with its contact extractor) + the index of the corpus file (`KnownLureIndex.load`: "
        f"the saved `.index.npz`, checked against the file's bytes; a fresh build takes {r['build_10k']:.2f} s), counted "
        f"once, with the caches kept between processes warm (checked ruleset, compiled regex code, saved index: one "
        f"untimed process loads the engine and the index first); corpus generation and its file are not timed"
        f"{' (the engine was imported before the bench ran, so its import time is NOT counted)' if r.get('rules_preimported') else ''}."
        f" Ads: {r['ad_chars']:,.0f} characters on average over all fields, as long as the held-out ads "
        f"(~{HELD_OUT_CHARS}); a last row measures EMSCAD-length ads (~{EMSCAD_CHARS:,} characters). Languages: "
        f"every pack of the ruleset is loaded ({r.get('packs', '?')} packs).",
        "",
        "| what | ads/s (start-up included) | per ad | start-up |",
        "| --- | ---: | ---: | ---: |",
    ]
    if r["engine_ok"]:
        lines += [
            f"| full engine (`assess`: rules, pay, language, contacts, similarity) | {r['engine_ads_s']:,.0f} | "
            f"{ms(r['assess'] / r['n_ads'])} | {r['startup']:.2f} s (index load {r['index_load']:.2f} s; first import of the engine, numpy + rapidfuzz "
            f"{r['sim_import']:.2f} s) |",
            f"| full engine in batches (`assess_many`, as `lurewatch assess` and `rescan` run it; fresh process) | "
            f"{r['batch']['ads_s']:,.0f} | {ms(r['batch']['assess'] / r['n_ads'])} | {r['batch']['startup']:.2f} s |",
            f"| engine without the similarity stage | - | {ms(r['assess_nosim_per_ad'])} | - |",
            f"| full engine in batches on {r['batch_long']['n_ads']:,} EMSCAD-length ads "
            f"(~{EMSCAD_CHARS:,} characters; fresh process) | {r['batch_long']['ads_s']:,.0f} | "
            f"{ms(r['batch_long']['assess'] / r['batch_long']['n_ads'])} | {r['batch_long']['startup']:.2f} s |",
        ]
    else:
        lines.append("| full engine | not measured: the engine did not load (see above) | - | - |")
    lines += [
        f"| `extract_contacts` alone (part of the engine) | - | {ms(r['contacts_per_ad'])} | - |",
        f"| `detect_language` alone (part of the engine) | - | {ms(r['language_per_ad'])} | - |",
    ]
    if r.get("matching_per_ad") is not None:
        lines.append(f"| rule matching alone (normalise + trigger prefilter; part of the engine) | - | "
                     f"{ms(r['matching_per_ad'])} | - |")
    lines += [
        f"| index alone (`nearest`: MinHash LSH + rapidfuzz on <= {p.max_candidates}) | {r['index_ads_s']:,.0f} | "
        f"{ms(r['index_per_ad'])} | {r['sim_import'] + r['build_10k']:.2f} s (import + build) |",
        f"| brute force rapidfuzz over all {r['corpus']:,} (same scorer) | {r['brute_10k_ads_s']:,.1f} | "
        f"{ms(r['brute_10k_per_ad'])} | 0 s (timed on {r['brute_sample']} ads) |",
        "",
        f"Index build with datasketch `MinHashLSH` as the band store (`IndexParams(backend=\"datasketch\")`, "
        f"same signatures): {r['build_10k_datasketch']:.2f} s for {r['corpus']:,} entries, vs {r['build_10k']:.2f} s "
        "with the default sorted numpy band table.",
        "",
        (f"Engine ads/s without start-up: {r['engine_ads_s_warm']:,.0f}. " if r["engine_ok"] else "") +
        f"LSH candidates per query (before the cap): "
        f"median {r['cand_median']:.0f}, max {r['cand_max']}.",
        f"On the {r['brute_sample']} brute-force ads, the index named the same best lure as brute force, counted "
        f"by the brute-force best's similarity: {agree} (fresh synthetic lures share stock phrases with many "
        "entries, so their best match at 0.5-0.6 is one of many near-ties). Paraphrased corpus entries among the ads: "
        f"the index named the source for {r['paraphrase_recall'][0]} of {r['paraphrase_recall'][1]}.",
        "",
        f"## (b) Scaling: {r['small']:,} vs {r['large']:,} known lures",
        "",
        "Index queries for both sizes were timed in 8 alternating rounds.",
        "",
        "| known lures | index build | index per ad | LSH candidates (median / max) | brute force per ad |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, row in ((r["small"], s), (r["large"], l)):
        est = " (timed on {} of the ads{})".format(row["brute_n"], ", estimate" if size > r["small"] else "")
        lines.append(f"| {size:,} | {row['build']:.2f} s | {ms(row['per_ad'])} | {row['cand_median']:.0f} / "
                     f"{row['cand_max']} | {ms(row['brute_per_ad'])}{est} |")
    lines += [
        "",
        f"Index time per ad, {r['large']:,} / {r['small']:,}: **{ratio:.2f}x** (target <= 2x). "
        f"Brute force: {l['brute_per_ad'] / s['brute_per_ad']:.0f}x. Queries per size: {s['queries']:,}.",
        "",
        "Targets: >= 1,000 ads/s for the full engine with start-up included: " +
        (f"one ad at a time (`assess`, as the crawl pipeline runs it) {'met' if r['engine_ads_s'] >= 1000 else 'NOT met'} "
         f"({r['engine_ads_s']:,.0f}); in batches (`assess_many`) "
         f"{'met' if r['batch']['ads_s'] >= 1000 else 'NOT met'} ({r['batch']['ads_s']:,.0f}); " if r["engine_ok"]
         else "not measured (engine did not load); ") +
        f"scaling <= 2x: {'met' if ratio <= 2 else 'NOT met'} ({ratio:.2f}x).",
        "",
    ]
    return "\n".join(lines)


def part_choices() -> list[str]:
    from output.benchparts import part_names

    return ["engine", *part_names()]


@click.command()
@click.option("--part", "parts", multiple=True, type=click.Choice(part_choices()),
              help="run only these parts (repeatable); default: the engine and every part in output/benchparts/")
@click.option("--quick", is_flag=True, help="tiny sizes for every part (a smoke run: numbers are not meaningful)")
@click.option("--ads", "n_ads", default=5000, show_default=True, help="ads assessed in (a)")
@click.option("--corpus", "corpus_size", default=10_000, show_default=True, help="known lures in (a)")
@click.option("--small", default=1_000, show_default=True, help="small corpus in (b)")
@click.option("--large", default=100_000, show_default=True, help="large corpus in (b)")
@click.option("--brute-sample", default=20, show_default=True, help="ads timed for brute force")
@click.option("--clock", "clock_name", type=click.Choice(sorted(CLOCKS)), default="cpu", show_default=True,
              help="cpu: CPU time of this process (robust on a shared machine); wall: elapsed time")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=ROOT / "BENCHMARKS.md",
              show_default=True)
def main(parts: tuple[str, ...], quick: bool, n_ads: int, corpus_size: int, small: int, large: int,
         brute_sample: int, clock_name: str, out: Path) -> None:
    """Measure the engine, the similarity index and every bench part; update their sections of BENCHMARKS.md.

    Each part rewrites only its own section (see output/benchparts/__init__.py); other text in the file is kept.

    Example: python -m output.bench --ads 5000 --large 100000
    """
    from output.benchparts import load, replace_section

    global clock
    clock = CLOCKS[clock_name]
    document = out.read_text(encoding="utf-8") if out.exists() else ""
    for name in parts or part_choices():
        if name == "engine":
            pinned = pin_one_core()
            wall0 = time.perf_counter()
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console, transient=False) as progress:
                results = run_bench(n_ads, corpus_size, small, large, brute_sample, progress)
            results["clock"] = clock_name
            results["wall_total"] = time.perf_counter() - wall0
            text = render(results, machine_info(pinned))
        else:
            part = load(name)
            console.print(f"[bold]bench part {name}[/bold]: {part.TITLE}")
            text = f"## {part.TITLE}\n\n{part.run(quick=quick).strip()}\n"
        document = replace_section(document, name, text)
        out.write_text(document, encoding="utf-8")  # after each part: a later failure keeps what was measured
        console.print(text)
    console.print(f"[green]wrote {out}[/green]")


if __name__ == "__main__":
    sys.exit(main())
