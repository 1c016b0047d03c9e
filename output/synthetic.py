"""Synthetic job ads for the bench and its tests, generated deterministically (seeded): lures made by recombining
phrase pools in eight languages, and realistic ads (mostly legitimate, some lures, some paraphrases of corpus
entries).

Example: ads = synthetic_ads(100, synthetic_lures(300), seed=2, target_chars=HELD_OUT_CHARS)
"""
from __future__ import annotations

import random
from typing import Any

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
