"""The demo job board: ads from ads.yaml served as a small real site on 127.0.0.1.

Pages
  /                      home, links to the listing
  /jobs/?page=N          listing, 12 ads a page, rel=next/prev pagination
  /jobs/<id>/            detail page with a schema.org JobPosting in JSON-LD (ETag, 304 on If-None-Match)
  /sitemap.xml           every detail page
  /robots.txt            allows all but /admin/, names the sitemap

The `label` of an ad is ground truth for tests and never appears on a page.
"""
from __future__ import annotations

import hashlib
import html
import json
import math
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from crawler.localsite import LocalSite, Page
from rules.yamldoc import LINE_KEYS, PyLineLoader, data_keys

ADS_PATH = Path(__file__).with_name("ads.yaml")
DEFAULT_PORT = 8730  # a stable port keeps ad URLs stable across demo runs
PER_PAGE = 12
LABELS = ("lure", "legit")
UNITS = ("HOUR", "DAY", "WEEK", "MONTH", "YEAR")
REQUIRED = ("id", "label", "lang", "title", "description", "posted")


class BoardDataError(ValueError):
    """ads.yaml is malformed: the message names the file, line and ad id."""


@dataclass(frozen=True)
class DemoAd:
    id: str
    label: str
    lang: str
    title: str
    description: str
    posted: str
    company: str = ""
    city: str = ""
    country: str = ""
    location: str = ""
    remote: bool = False
    salary: dict[str, Any] | None = None
    salary_text: str = ""
    contact: str = ""
    employment: str = "FULL_TIME"
    note: str = ""
    line: int = field(default=0, compare=False)

    @property
    def path(self) -> str:
        return f"/jobs/{self.id}/"

    @property
    def location_line(self) -> str:
        return self.location or ", ".join(p for p in (self.city, self.country) if p)


def load_ads(path: Path | str = ADS_PATH) -> list[DemoAd]:
    """The board's ads, validated. Raises BoardDataError naming file:line and ad id."""
    path = Path(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=PyLineLoader)
    except yaml.YAMLError as exc:
        raise BoardDataError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("ads"), list):
        raise BoardDataError(f"{path}:1: expected a mapping with an 'ads' list")
    ads: list[DemoAd] = []
    seen: dict[str, int] = {}
    for raw in doc["ads"]:
        line = raw.get("__line__", 0) if isinstance(raw, dict) else 0
        where = f"{path}:{line}"
        if not isinstance(raw, dict):
            raise BoardDataError(f"{where}: each ad must be a mapping")
        aid = raw.get("id")
        for key in REQUIRED:
            if not raw.get(key):
                raise BoardDataError(f"{where}: ad {aid!r} is missing {key!r}")
        if aid in seen:
            raise BoardDataError(f"{where}: ad id {aid!r} already used at line {seen[aid]}")
        seen[aid] = line
        if raw["label"] not in LABELS:
            raise BoardDataError(f"{where}: ad {aid!r}: label must be one of {LABELS}, not {raw['label']!r}")
        salary = raw.get("salary")
        if salary is not None:
            if not isinstance(salary, dict) or not {"currency", "min", "max", "unit"} <= salary.keys():
                raise BoardDataError(f"{where}: ad {aid!r}: salary needs currency, min, max, unit")
            if salary["unit"] not in UNITS:
                raise BoardDataError(f"{where}: ad {aid!r}: salary unit must be one of {UNITS}")
            salary = {k: salary[k] for k in salary if k not in LINE_KEYS}
        known = set(DemoAd.__dataclass_fields__) - {"line", "salary"}
        unknown = data_keys(raw) - known - {"salary"}
        if unknown:
            raise BoardDataError(f"{where}: ad {aid!r}: unknown field(s) {sorted(unknown)}")
        values = {k: raw[k] for k in known if raw.get(k) is not None}
        values["posted"] = str(values["posted"])
        ads.append(DemoAd(**values, salary=salary, line=line))
    return ads


# -- rendering ------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
header a{font-weight:bold;font-size:1.3rem;text-decoration:none;color:#245}
li.job{margin:.8rem 0;list-style:none;border-bottom:1px solid #ddd;padding-bottom:.6rem}
.meta{color:#555;font-size:.9rem} nav.pages a{margin-right:.6rem} .apply{background:#f4f6f8;padding:.8rem}
"""


def _e(text: Any) -> str:
    return html.escape(str(text or ""), quote=True)


def _layout(title: str, body: str, head: str = "", lang: str = "en") -> str:
    return (
        f'<!doctype html><html lang="{_e(lang)}"><head><meta charset="utf-8">'
        f"<title>{_e(title)} | Lurewatch demo board</title><style>{_STYLE}</style>{head}</head>"
        f'<body><header><a href="/">Lurewatch demo job board</a></header><main>{body}</main>'
        "<footer><p class=meta>A demo board shipped with Lurewatch. All ads are invented.</p></footer></body></html>"
    )


def _paragraphs(text: str) -> str:
    out = []
    for block in text.strip().split("\n\n"):
        lines = [ln.strip() for ln in block.strip().splitlines() if ln.strip()]
        if lines and all(ln.startswith("- ") for ln in lines):
            out.append("<ul>" + "".join(f"<li>{_e(ln[2:])}</li>" for ln in lines) + "</ul>")
        elif lines:
            out.append("<p>" + "<br>".join(_e(ln) for ln in lines) + "</p>")
    return "\n".join(out)


def job_posting(ad: DemoAd, url: str) -> dict[str, Any]:
    """schema.org JobPosting for one ad."""
    data: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": ad.title,
        "description": _paragraphs(ad.description),
        "identifier": {"@type": "PropertyValue", "name": "Lurewatch demo board", "value": ad.id},
        "datePosted": ad.posted,
        "employmentType": ad.employment,
        "url": url,
        "inLanguage": ad.lang,
    }
    if ad.company:
        data["hiringOrganization"] = {"@type": "Organization", "name": ad.company}
    if ad.remote:
        data["jobLocationType"] = "TELECOMMUTE"
    address = {"@type": "PostalAddress"}
    if ad.city:
        address["addressLocality"] = ad.city
    if ad.country:
        address["addressCountry"] = ad.country
    if len(address) > 1:
        data["jobLocation"] = {"@type": "Place", "address": address}
    elif ad.location and not ad.remote:
        data["jobLocation"] = {"@type": "Place", "name": ad.location}
    if ad.salary:
        s = ad.salary
        data["baseSalary"] = {
            "@type": "MonetaryAmount",
            "currency": s["currency"],
            "value": {"@type": "QuantitativeValue", "minValue": s["min"], "maxValue": s["max"], "unitText": s["unit"]},
        }
    if ad.contact:
        data["applicationContact"] = {"@type": "ContactPoint", "description": ad.contact}
    return data


def _json_ld(data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>'


class DemoBoard:
    """The board as a running LocalSite. Use as a context manager or start()/stop()."""

    def __init__(self, ads: list[DemoAd] | None = None, *, port: int = DEFAULT_PORT, per_page: int = PER_PAGE):
        ads = ads if ads is not None else load_ads()
        # a fixed shuffle, so lures and legitimate ads are mixed on every listing page
        self.ads = sorted(ads, key=lambda ad: hashlib.sha1(ad.id.encode()).hexdigest())
        self.per_page = per_page
        self.by_id = {ad.id: ad for ad in self.ads}
        try:
            self.site = LocalSite(fallback=self.route, port=port)
        except OSError:  # the stable port is taken: any free port will do
            self.site = LocalSite(fallback=self.route, port=0)

    # -- lifecycle
    def start(self) -> "DemoBoard":
        self.site.start()
        return self

    def stop(self) -> None:
        self.site.stop()

    def __enter__(self) -> "DemoBoard":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.site.url("/")

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.ads) / self.per_page))

    def ad_url(self, ad: DemoAd) -> str:
        return self.site.url(ad.path)

    # -- routing
    def route(self, handler: BaseHTTPRequestHandler) -> Page | None:
        parts = urlsplit(handler.path)
        path = parts.path
        if path == "/":
            return Page(self.home())
        if path == "/robots.txt":
            return Page(self.robots(), content_type="text/plain; charset=utf-8")
        if path == "/sitemap.xml":
            return Page(self.sitemap(), content_type="application/xml; charset=utf-8")
        if path in ("/jobs", "/jobs/"):
            try:
                page = int(parse_qs(parts.query).get("page", ["1"])[0])
            except ValueError:
                return None
            return Page(self.listing(page)) if 1 <= page <= self.pages else None
        if path.startswith("/jobs/"):
            ad = self.by_id.get(path[len("/jobs/"):].strip("/"))
            if ad is None:
                return None
            body = self.detail(ad)
            etag = '"' + hashlib.sha1(body.encode("utf-8")).hexdigest()[:16] + '"'
            if handler.headers.get("If-None-Match") == etag:
                return Page(b"", status=304, headers={"ETag": etag})
            return Page(body, headers={"ETag": etag, "Last-Modified": f"{_http_date(ad.posted)}"})
        return None

    # -- pages
    def home(self) -> str:
        body = (
            "<h1>Jobs in Asia and beyond</h1>"
            f'<p>{len(self.ads)} open positions. <a href="/jobs/">Browse all jobs</a>.</p>'
        )
        return _layout("Home", body)

    def listing(self, page: int) -> str:
        chunk = self.ads[(page - 1) * self.per_page: page * self.per_page]
        items = "".join(
            f'<li class="job"><a href="{_e(ad.path)}">{_e(ad.title)}</a>'
            f'<div class="meta">{_e(ad.company)} · {_e(ad.location_line)} · {_e(ad.salary_text)}</div></li>'
            for ad in chunk
        )
        links, head = [], ""
        if page > 1:
            prev = "/jobs/" if page == 2 else f"/jobs/?page={page - 1}"
            links.append(f'<a rel="prev" href="{prev}">« Previous</a>')
            head += f'<link rel="prev" href="{prev}">'
        links.append(f"<span>Page {page} of {self.pages}</span>")
        if page < self.pages:
            links.append(f'<a rel="next" class="next" href="/jobs/?page={page + 1}">Next »</a>')
            head += f'<link rel="next" href="/jobs/?page={page + 1}">'
        body = f'<h1>All jobs</h1><ul class="jobs">{items}</ul><nav class="pages">{"".join(links)}</nav>'
        return _layout(f"All jobs, page {page}", body, head)

    def detail(self, ad: DemoAd) -> str:
        url = self.ad_url(ad)
        head = f'<link rel="canonical" href="{_e(url)}">' + _json_ld(job_posting(ad, url))
        body = (
            f'<article class="job"><h1 class="title">{_e(ad.title)}</h1>'
            f'<p class="meta"><span class="company">{_e(ad.company)}</span> · '
            f'<span class="location">{_e(ad.location_line)}</span> · '
            f'<span class="salary">{_e(ad.salary_text)}</span> · posted <time>{_e(ad.posted)}</time></p>'
            f'<div class="description">{_paragraphs(ad.description)}</div>'
            f'<div class="apply"><h2>How to apply</h2><p class="contact">{_e(ad.contact)}</p></div></article>'
            '<p><a href="/jobs/">Back to all jobs</a></p>'
        )
        return _layout(ad.title, body, head, lang=ad.lang)

    def sitemap(self) -> str:
        urls = "".join(
            f"<url><loc>{_e(self.ad_url(ad))}</loc><lastmod>{_e(ad.posted)}</lastmod></url>" for ad in self.ads
        )
        return ('<?xml version="1.0" encoding="UTF-8"?>'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')

    def robots(self) -> str:
        return f"User-agent: *\nDisallow: /admin/\nSitemap: {self.site.url('/sitemap.xml')}\n"


def _http_date(day: str) -> str:
    from datetime import datetime, timezone
    from email.utils import format_datetime

    return format_datetime(datetime.fromisoformat(day).replace(tzinfo=timezone.utc), usegmt=True)
