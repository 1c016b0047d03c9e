"""schema.org JobPosting extraction: every posting on a page, JSON-LD and microdata, as JobAd fields.

Pure functions (no Scrapy import): `extract_jobpostings(html, base_url)` returns a list of dicts with
the JobAd field names (title, company, location, country, salary_text, description, contact,
external_id, posted_at, url). Fields the page does not give are left out.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import urljoin

import html_text
import jstyleson
import lxml.etree
import lxml.html

from .contacts import CONTACT_SCHEMES, link_contacts, unscheme

JOBPOSTING = "jobposting"
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_HAS_ITEMSCOPE = lxml.etree.XPath("boolean(//*[@itemscope])")  # what extruct looks for (a case-insensitive regex
# over the page text cost more than the rest of the extraction)
_JSONLD_XPATH = lxml.etree.XPath('//script[translate(@type, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")="application/ld+json"]')
_COMMENT_LINE = re.compile(r"^\s*(//.*|<!--.*-->)", re.M)
_SPACES = re.compile(r"[ \t\u00a0]+")

# Sections of a posting that often carry the lure ("free visa, food and housing") outside the description.
EXTRA_SECTIONS = (
    ("responsibilities", "Responsibilities"),
    ("qualifications", "Qualifications"),
    ("skills", "Skills"),
    ("experienceRequirements", "Experience"),
    ("educationRequirements", "Education"),
    ("jobBenefits", "Benefits"),
    ("incentiveCompensation", "Incentives"),
)


@dataclass
class Extraction:
    """What a page yields: the postings found and the problems met (bad JSON-LD blocks)."""

    postings: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def extract_jobpostings(html: str, base_url: str = "") -> list[dict[str, Any]]:
    """All JobPostings on the page as JobAd field dicts (see module docstring)."""
    return extract(html, base_url).postings


def extract(html: str, base_url: str = "", tree=None) -> Extraction:
    """Postings and problems of a page. `tree`: the page already parsed by lxml.html (a Scrapy response's
    `response.selector.root`), so the page is not parsed twice."""
    out = Extraction()
    if tree is None or not hasattr(tree, "text_content"):
        tree = parse_html(html)
    if tree is None:
        return out
    nodes: list[dict[str, Any]] = []
    for n, script in enumerate(_JSONLD_XPATH(tree), 1):
        try:
            data = load_jsonld(script.text_content() if hasattr(script, "text_content") else script.xpath("string()"))
        except ValueError as exc:
            out.errors.append(f"JSON-LD block {n}: {exc}")
            continue
        nodes.extend(_walk_jsonld(data))
    try:  # no itemscope attribute anywhere: no microdata, and no extruct walk of the whole tree for it
        micro = _microdata(tree, base_url) if _HAS_ITEMSCOPE(tree) else []
    except Exception as exc:  # extruct raises various errors on broken markup
        out.errors.append(f"microdata: {exc}")
        micro = []
    for item in micro:
        nodes.extend(_walk_jsonld(microdata_to_jsonld(item)))
    seen: set[str] = set()
    for node in nodes:
        if not is_type(node, JOBPOSTING):
            continue
        fields = map_jobposting(node, base_url)
        key = json.dumps(fields, sort_keys=True, ensure_ascii=False)
        if key in seen or not (fields.get("title") or fields.get("description")):
            continue
        seen.add(key)
        out.postings.append(fields)
    return out


# -- parsing --------------------------------------------------------------------

def parse_html(html: str | bytes):
    """lxml tree of a page already decoded to text (the crawler decodes: meta charset, headers)."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    html = _XML_DECL.sub("", html, count=1)
    if not html.strip():
        return None
    try:
        return lxml.html.fromstring(html.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (lxml.etree.ParserError, ValueError):
        return None


MAX_JSONLD_DEPTH = 100  # real postings nest a dozen levels; deeper blocks are hostile (recursion in parsers)


def load_jsonld(text: str) -> Any:
    """JSON from a <script type=application/ld+json>, tolerating comments and stray control characters.
    ValueError for invalid JSON or nesting deeper than MAX_JSONLD_DEPTH."""
    text = text.strip()
    if text.startswith("<!--") and text.endswith("-->"):
        text = text[4:-3]
    if not text.strip():
        raise ValueError("empty block")
    try:
        data = json.loads(text, strict=False)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_JSONLD_DEPTH} levels") from None
    except ValueError as first:
        try:
            data = jstyleson.loads(_COMMENT_LINE.sub("", text), strict=False)
        except RecursionError:
            raise ValueError(f"nested deeper than {MAX_JSONLD_DEPTH} levels") from None
        except Exception:
            raise ValueError(f"invalid JSON: {first}") from None
    if _depth(data) > MAX_JSONLD_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSONLD_DEPTH} levels")
    return data


def _depth(data: Any) -> int:
    """How deep lists and objects nest in `data` (iterative: no recursion limit)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, (list, dict)):
            deepest = max(deepest, level)
            if level > MAX_JSONLD_DEPTH:
                break
            stack.extend((v, level + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def _walk_jsonld(data: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON-LD document: lists, @graph, ItemList elements and nested values."""
    stack = [data]
    while stack:
        value = stack.pop(0)
        if isinstance(value, list):
            stack[:0] = value
        elif isinstance(value, dict):
            yield value
            if is_type(value, JOBPOSTING):
                continue  # its nested objects (Organization, Place) are not postings
            for key, child in value.items():
                if isinstance(child, (list, dict)):
                    stack.append(child)


def microdata_to_jsonld(item: Any) -> Any:
    """extruct's microdata {type, properties} shape -> the JSON-LD shape {"@type": ..., prop: value}."""
    if isinstance(item, list):
        return [microdata_to_jsonld(i) for i in item]
    if not isinstance(item, dict):
        return item
    if "properties" not in item and "type" not in item:
        return item.get("value", item)
    out: dict[str, Any] = {}
    if item.get("type"):
        out["@type"] = item["type"]
    if item.get("id"):
        out["@id"] = item["id"]
    for name, value in (item.get("properties") or {}).items():
        out[name] = microdata_to_jsonld(value)
    if not item.get("properties") and "value" in item:
        out["name"] = item["value"]
    return out


def type_names(node: dict[str, Any]) -> list[str]:
    raw = node.get("@type") or node.get("type") or []
    if isinstance(raw, str):
        raw = [raw]
    names = []
    for t in raw:
        if isinstance(t, str):
            names.append(t.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower())
    return names


def is_type(node: Any, name: str) -> bool:
    return isinstance(node, dict) and name.lower() in type_names(node)


# -- mapping --------------------------------------------------------------------

def _microdata(tree, base_url: str) -> list[dict[str, Any]]:
    """extruct's microdata items of `tree` (extruct imported at the first page with microdata: 0.2 s of start-up)."""
    from extruct.w3cmicrodata import MicrodataExtractor

    return MicrodataExtractor().extract_items(tree, base_url)


def map_jobposting(node: dict[str, Any], base_url: str = "") -> dict[str, Any]:
    """JobAd fields from one JobPosting object (JSON-LD shape)."""
    fields: dict[str, Any] = {}
    put = fields.__setitem__

    title = text_of(node.get("title")) or text_of(node.get("name"))
    if title:
        put("title", title)
    company = organisation_name(node.get("hiringOrganization"))
    if company:
        put("company", company)
    location, country = locations(node)
    if location:
        put("location", location)
    if country:
        put("country", country)
    salary = salary_text(node.get("baseSalary")) or salary_text(node.get("estimatedSalary"))
    if not salary and node.get("salaryCurrency") and not isinstance(node.get("baseSalary"), (dict, list)):
        salary = text_of(node.get("salaryCurrency"))
    if salary:
        put("salary_text", salary)
    description = description_text(node)
    if description:
        put("description", description)
    contact = contact_text(node)
    if contact:
        put("contact", contact)
    ident = identifier(node.get("identifier"))
    if ident:
        put("external_id", ident)
    posted = text_of(node.get("datePosted"))
    if posted:
        put("posted_at", posted)
    url = first(node.get("url"))
    if isinstance(url, dict):
        url = url.get("@id") or url.get("url")
    if isinstance(url, str) and url.strip():
        put("url", urljoin(base_url, url.strip()) if base_url else url.strip())
    return fields


def first(value: Any) -> Any:
    if isinstance(value, list):
        return next((v for v in value if v not in (None, "", [], {})), None)
    return value


def text_of(value: Any) -> str:
    """Plain text of a value that may be a string, number, list, {"@value": ...} or HTML."""
    if value is None:
        return ""
    if isinstance(value, list):
        parts = [text_of(v) for v in value]
        return ", ".join(dict.fromkeys(p for p in parts if p))
    if isinstance(value, dict):
        for key in ("@value", "name", "value", "text"):
            if key in value:
                return text_of(value[key])
        return ""
    if isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return html_to_text(str(value))


def html_to_text(value: str) -> str:
    """Text of an HTML fragment with paragraphs and list items on their own lines; plain text unchanged."""
    value = value.strip()
    if "<" in value and ">" in value:
        value = html_text.extract_text(value, guess_layout=True)
    elif "&" in value:
        value = html.unescape(value)
    lines = [_SPACES.sub(" ", line).strip() for line in value.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def organisation_name(value: Any) -> str:
    value = first(value)
    if isinstance(value, dict):
        return text_of(value.get("name")) or text_of(value.get("legalName"))
    return text_of(value)


def _country(value: Any) -> str:
    value = first(value)
    if isinstance(value, dict):
        return text_of(value.get("name")) or text_of(value.get("identifier"))
    return text_of(value)


def _address(value: Any) -> tuple[str, str]:
    value = first(value)
    if not isinstance(value, dict):
        return text_of(value), ""
    country = _country(value.get("addressCountry"))
    parts = [text_of(value.get(k)) for k in ("streetAddress", "addressLocality", "addressRegion", "postalCode")]
    parts.append(country)
    return ", ".join(dict.fromkeys(p for p in parts if p)), country


def locations(node: dict[str, Any]) -> tuple[str, str]:
    """(location text, country of the first location) from jobLocation, jobLocationType, applicantLocationRequirements."""
    places = node.get("jobLocation")
    places = places if isinstance(places, list) else [places] if places else []
    texts: list[str] = []
    country = ""
    for place in places:
        if isinstance(place, dict):
            addr, c = _address(place.get("address"))
            if not addr:
                addr = text_of(place.get("name"))
        else:
            addr, c = text_of(place), ""
        if addr:
            texts.append(addr)
        country = country or c
    if "telecommute" in text_of(node.get("jobLocationType")).lower():
        texts.append("Remote")
    if not texts:
        req = node.get("applicantLocationRequirements")
        reqs = req if isinstance(req, list) else [req] if req else []
        names = [_country(r) for r in reqs]
        texts.extend(n for n in names if n)
    return "; ".join(dict.fromkeys(texts)), country


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        value = float(value)
    if isinstance(value, (int, float)):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return text_of(value)


def salary_text(value: Any) -> str:
    """'USD 1,500-3,000 per month' from a MonetaryAmount / QuantitativeValue / number / string."""
    value = first(value)
    if value is None:
        return ""
    if not isinstance(value, dict):
        return _number(value)
    currency = text_of(value.get("currency") or value.get("salaryCurrency"))
    inner = value.get("value", value)
    inner = first(inner)
    unit = ""
    if isinstance(inner, dict):
        unit = text_of(inner.get("unitText") or inner.get("unitCode"))
        low, high, exact = inner.get("minValue"), inner.get("maxValue"), inner.get("value")
    else:
        unit = text_of(value.get("unitText"))
        low, high, exact = value.get("minValue"), value.get("maxValue"), inner if inner is not value else None
    if low is not None and high is not None and _number(low) != _number(high):
        amount = f"{_number(low)}-{_number(high)}"
    else:
        amount = _number(exact if exact is not None else (low if low is not None else high))
    if not amount:
        return ""
    out = f"{currency} {amount}".strip()
    if unit:
        out += f" per {unit.lower()}"
    return out


def description_text(node: dict[str, Any]) -> str:
    description = text_of(node.get("description"))
    sections = [description] if description else []
    for key, label in EXTRA_SECTIONS:
        section = text_of(node.get(key))
        if section and section not in description:
            sections.append(f"{label}: {section}")
    return "\n\n".join(sections)


# What a ContactPoint / Organization / Person says about how to reach it.
CONTACT_KEYS = ("name", "telephone", "email", "url", "description")


def contact_text(node: dict[str, Any]) -> str:
    """Every contact a JobPosting gives: applicationContact (one or a list; name, telephone, email, url,
    description, nested contactPoint), the hiring organisation's telephone, email and contactPoint, and
    messenger/tel/mailto links hidden behind link text in the description and its sections."""
    found: list[str] = []

    def add_from(obj: Any) -> None:
        for o in obj if isinstance(obj, list) else [obj]:
            if isinstance(o, dict):
                found.extend(_contact_value(o.get(k)) for k in CONTACT_KEYS)
                add_from(o.get("contactPoint"))
            else:
                found.append(_contact_value(o))

    add_from(node.get("applicationContact"))
    orgs = node.get("hiringOrganization")
    for org in orgs if isinstance(orgs, list) else [orgs]:
        if isinstance(org, dict):
            found.extend(_contact_value(org.get(k)) for k in ("telephone", "email"))
            add_from(org.get("contactPoint"))
    for key in ("description",) + tuple(k for k, _ in EXTRA_SECTIONS):
        for value in node.get(key) if isinstance(node.get(key), list) else [node.get(key)]:
            if isinstance(value, str) and "href" in value:
                found.extend(link_contacts(value))
    return "; ".join(dict.fromkeys(f for f in found if f))


def _contact_value(value: Any) -> str:
    text = text_of(value)
    return unscheme(text) if text.lower().startswith(CONTACT_SCHEMES) else text


def identifier(value: Any) -> str:
    """The site's own id: PropertyValue {name, value}, a string or a number."""
    value = first(value)
    if isinstance(value, dict):
        return text_of(value.get("value")) or text_of(value.get("@id")) or text_of(value.get("name"))
    return text_of(value)
