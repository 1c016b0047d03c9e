"""The partners file: who receives alerts, which ones, in what format, where (schema in output/alerts/README.md).

    partners:
      - name: hotline
        formats: [jsonl]
        to: {webhook: "http://127.0.0.1:9900/hook", secret_env: HOTLINE_SECRET}

`load_partners(path)` validates the whole file; every error names the file, the line and the key:

    partners.yaml:7: partner 'hotline': min_level: 'severe' is not a level (none, low, medium, high)

A partner's `secret_env` names an environment variable; its value is read only when sending (`Partner.secret()`)
and is never stored, printed or part of `config_hash`.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from rules.yamldoc import LinedYaml

FORMATS = ("stix", "misp", "jsonl", "csv")
LEVELS = ("none", "low", "medium", "high")
TLP = ("clear", "green", "amber", "amber+strict", "red")
VERDICT_FILTERS = ("unreviewed", "lure", "fraud", "unsure")  # not_lure is never sent (a later one revokes)
PARTNER_KEYS = ("name", "formats", "min_level", "min_score", "verdicts", "countries", "languages", "sources", "tlp",
                "include_notes", "to")
DIR_KEYS = ("dir",)
WEBHOOK_KEYS = ("webhook", "secret_env", "timeout", "retries", "backoff")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECRET_PREFIX = "whsec_"


class PartnersError(ValueError):
    """The partners file is missing, unreadable or invalid; or a partner cannot be used (its secret)."""


@dataclass(frozen=True)
class Webhook:
    url: str
    secret_env: str
    timeout: float = 30.0  # seconds per attempt
    retries: int = 5  # attempts after the first
    backoff: float = 2.0  # seconds before the first retry, doubled each time

    @property
    def shown_url(self) -> str:
        """The URL without user info, query or fragment (they may hold a token): for output and the database."""
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.hostname + (f":{parts.port}" if parts.port else ""), parts.path, "", ""))


@dataclass(frozen=True)
class Partner:
    name: str
    formats: tuple[str, ...]
    min_level: str | None = None
    min_score: int | None = None
    verdicts: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    tlp: str = "amber"
    include_notes: bool = False
    dir: Path | None = None
    webhook: Webhook | None = None
    line: int = 0
    path: Path = field(default=Path("partners.yaml"), compare=False)

    @property
    def target(self) -> str:
        return str(self.dir) if self.dir is not None else self.webhook.shown_url

    def where(self) -> tuple[str, list[Any]]:
        """SQL condition over `ads` for the ads this partner wants new alerts for (flagged ones by default)."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.min_level is not None:
            levels = LEVELS[LEVELS.index(self.min_level):]
            clauses.append(f"a.risk_level IN ({','.join('?' * len(levels))})")
            params += levels
        elif self.min_score is not None:
            clauses.append("a.risk_score >= ?")
            params.append(self.min_score)
        else:
            clauses.append("a.flagged = 1")
        for column, values in (("coalesce(a.review_status, 'unreviewed')", self.verdicts),
                               ("upper(a.country)", tuple(c.upper() for c in self.countries)),
                               ("a.source", self.sources)):
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params += list(values)
        if self.languages:  # "zh" matches zh, zh-Hans, zh-Hant
            clauses.append("(" + " OR ".join("lower(a.language) = ? OR lower(a.language) LIKE ?"
                                             for _ in self.languages) + ")")
            for lang in self.languages:
                params += [lang.lower(), lang.lower() + "-%"]
        return " AND ".join(clauses), params

    def config_hash(self) -> str:
        """What decides which alerts this partner gets (formats, filters, target): never the secret."""
        config = {"formats": self.formats, "min_level": self.min_level, "min_score": self.min_score,
                  "verdicts": self.verdicts, "countries": self.countries, "languages": self.languages,
                  "sources": self.sources, "target": self.target}
        return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]

    def secret(self) -> str:
        """The Standard Webhooks secret from the environment variable `secret_env` (PartnersError naming the
        variable, never its value, when unset or not whsec_ + base64)."""
        env = self.webhook.secret_env
        value = os.environ.get(env, "").strip()
        if not value:
            raise PartnersError(f"partner {self.name!r}: environment variable {env} is not set (secret_env)")
        body = value.removeprefix(SECRET_PREFIX)
        try:
            key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not value.startswith(SECRET_PREFIX) or len(key) < 16:
            raise PartnersError(f"partner {self.name!r}: environment variable {env} does not hold a Standard Webhooks "
                                "secret (whsec_ followed by at least 16 bytes in base64)")
        return value


@dataclass(frozen=True)
class Partners:
    path: Path
    partners: tuple[Partner, ...]

    def select(self, name: str | None) -> list[Partner]:
        if name is None:
            return list(self.partners)
        for partner in self.partners:
            if partner.name == name:
                return [partner]
        known = ", ".join(p.name for p in self.partners)
        raise PartnersError(f"{self.path}: no partner named {name!r} (partners: {known})")


def load_partners(path: str | Path) -> Partners:
    """Read and validate a partners file. Raises PartnersError naming file, line and key."""
    path = Path(path)
    doc = LinedYaml.read(path, error=PartnersError, what="partners file", items=("partners", "partner"))
    data = doc.data
    if not isinstance(data, dict) or "partners" not in data:
        raise doc.fail((), "expected a mapping with a 'partners' list")
    for key in data:
        if key != "partners":
            raise doc.fail((key,), "unknown key (allowed: partners)")
    raw_list = data["partners"]
    if not isinstance(raw_list, list) or not raw_list:
        raise doc.fail(("partners",), "expected a non-empty list of partners")
    partners: list[Partner] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_list):
        partner = _partner(doc, ("partners", i), raw)
        if partner.name in seen:
            raise doc.fail(("partners", i, "name"), f"partner name {partner.name!r} already used at line "
                                                    f"{seen[partner.name]}")
        seen[partner.name] = partner.line
        partners.append(partner)
    return Partners(path, tuple(partners))


def _partner(doc: LinedYaml, where: tuple, raw: Any) -> Partner:
    name = doc.named_item(where, raw, PARTNER_KEYS, "name:, formats:, to:")

    def fail(key: tuple | str, message: str) -> PartnersError:
        key = (key,) if isinstance(key, (str, int)) else key
        return doc.fail(where + tuple(k for k in key if k != ""), message, name)

    formats = _choices(raw.get("formats"), FORMATS, lambda j, m: fail(("formats", j) if j is not None else "formats", m),
                       required=True)
    if "min_level" in raw and "min_score" in raw:
        raise fail("min_score", "give min_level or min_score, not both")
    min_level = raw.get("min_level")
    if min_level is not None and min_level not in LEVELS:
        raise fail("min_level", f"{min_level!r} is not a level ({', '.join(LEVELS)})")
    min_score = raw.get("min_score")
    if min_score is not None and (isinstance(min_score, bool) or not isinstance(min_score, int)
                                  or not 0 <= min_score <= 100):
        raise fail("min_score", f"expected a whole number from 0 to 100, not {min_score!r}")
    verdicts = _choices(raw.get("verdicts"), VERDICT_FILTERS, lambda j, m: fail(
        ("verdicts", j) if j is not None else "verdicts", m + " (not_lure alerts are never sent: they are revoked)"
        if "not_lure" in m else m))
    lists = {}
    for key in ("countries", "languages", "sources"):
        value = raw.get(key)
        if value is None:
            lists[key] = ()
            continue
        if not isinstance(value, list) or not value:
            raise fail(key, "expected a non-empty list")
        for j, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise fail((key, j), f"expected text, not {item!r}")
            if key == "countries" and not re.fullmatch(r"[A-Za-z]{2}", item):
                raise fail((key, j), f"{item!r} is not a two-letter country code (ISO 3166-1, e.g. KH)")
        lists[key] = tuple(item.strip() for item in value)
    tlp = raw.get("tlp", "amber")
    if tlp not in TLP:
        raise fail("tlp", f"{tlp!r} is not a TLP 2.0 marking ({', '.join(TLP)})")
    include_notes = raw.get("include_notes", False)
    if not isinstance(include_notes, bool):
        raise fail("include_notes", f"expected true or false, not {include_notes!r}")
    out_dir, webhook = _target(doc, raw.get("to"), fail)
    return Partner(name=name, formats=formats, min_level=min_level, min_score=min_score, verdicts=verdicts,
                   countries=lists["countries"], languages=lists["languages"], sources=lists["sources"], tlp=tlp,
                   include_notes=include_notes, dir=out_dir, webhook=webhook, line=doc.line(where), path=doc.path)


def _choices(value: Any, allowed: tuple[str, ...], fail, required: bool = False) -> tuple[str, ...]:
    if value is None:
        if required:
            raise fail(None, f"required: a list of {', '.join(allowed)}")
        return ()
    if not isinstance(value, list) or not value:
        raise fail(None, f"expected a non-empty list of {', '.join(allowed)}")
    for j, item in enumerate(value):
        if item not in allowed:
            raise fail(j, f"{item!r} is not one of {', '.join(allowed)}")
        if item in value[:j]:
            raise fail(j, f"{item!r} is listed twice")
    return tuple(value)


def _target(doc: LinedYaml, to: Any, fail) -> tuple[Path | None, Webhook | None]:
    if not isinstance(to, dict) or ("dir" in to) == ("webhook" in to):
        raise fail("to", "required: {dir: PATH} or {webhook: URL, secret_env: VARIABLE}")
    allowed = DIR_KEYS if "dir" in to else WEBHOOK_KEYS
    for key in to:
        if key not in allowed:
            raise fail(("to", key), f"unknown key (allowed here: {', '.join(allowed)})")
    if "dir" in to:
        value = to["dir"]
        if not isinstance(value, str) or not value.strip():
            raise fail(("to", "dir"), "expected a directory path (relative to the partners file's folder)")
        return (doc.path.parent / value.strip()), None
    url = to["webhook"]
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(("to", "webhook"), f"not an http(s) URL: {url!r}")
    env = to.get("secret_env")
    if not isinstance(env, str) or not ENV_RE.match(env):
        raise fail(("to", "secret_env"), "required: the name of the environment variable holding the Standard "
                                         f"Webhooks secret (whsec_...), not {env!r}")
    numbers = {}
    for key, kind, low in (("timeout", float, 0.001), ("retries", int, 0), ("backoff", float, 0.0)):
        if key not in to:
            continue
        value = to[key]
        ok = not isinstance(value, bool) and isinstance(value, int if kind is int else (int, float)) and value >= low
        if not ok:
            raise fail(("to", key), f"expected a {'whole ' if kind is int else ''}number >= {low:g}, not {value!r}")
        numbers[key] = kind(value)
    return None, Webhook(url=url, secret_env=env, **numbers)
