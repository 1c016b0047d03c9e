"""A hostile job board: a LocalSite whose routes misbehave in every way a real server can.

    site, good = hostile_site()   # started LocalSite, {url path: (title, description)} of the ads that must survive
    ...
    site.stop()

Good ads (each a schema.org JobPosting in JSON-LD) are reachable from the index next to:
  5xx storms, 429 + Retry-After (then OK), a timeout, a slow drip, a redirect loop, a truncated body
  (Content-Length larger than what is sent), a body over DOWNLOAD_MAXSIZE, a gzip bomb, malformed HTML,
  UTF-8 labelled ISO-8859-1, unlabelled and labelled legacy charsets (TIS-620, GBK, Big5, windows-1258),
  and one ad reachable under several URLs (tracking parameters, a redirect, a rel=canonical copy).
Crawl it with DOWNLOAD_TIMEOUT ~2 s, DOWNLOAD_MAXSIZE 1 MiB, RETRY_TIMES 1, LUREWATCH_RETRY_AFTER_MAX 1.
"""
from __future__ import annotations

import gzip
import html
import json
import threading
import time
import unicodedata

from crawler.localsite import LocalSite, Page

MAXSIZE = 1024 * 1024  # DOWNLOAD_MAXSIZE the tests use
SLOW_SECONDS = 4  # longer than the tests' DOWNLOAD_TIMEOUT
BOMB_BYTES = 300 * 1024 * 1024  # what the gzip bomb expands to


class _RawDone(Exception):
    """Raised by a route that wrote its own bytes to the socket (LocalSite must not answer again)."""


def ad_page(title: str, description: str, *, lang: str = "en", charset_meta: str | None = None,
            canonical: str | None = None, extra: str = "") -> str:
    posting = {"@context": "https://schema.org", "@type": "JobPosting", "title": title, "description": description,
               "hiringOrganization": {"@type": "Organization", "name": "Hostile Recruiting"},
               "jobLocation": {"@type": "Place", "address": {"addressCountry": "KH"}}}
    head = f'<meta charset="{charset_meta}">' if charset_meta else ""
    if canonical:
        head += f'<link rel="canonical" href="{canonical}">'
    return (f'<!DOCTYPE html><html lang="{lang}"><head>{head}<title>{html.escape(title)}</title>'
            f'<script type="application/ld+json">{json.dumps(posting, ensure_ascii=False)}</script></head>'
            f"<body><h1>{html.escape(title)}</h1><div>{html.escape(description)}</div>{extra}</body></html>")


def to_cp1258(text: str) -> bytes:
    """windows-1258 spells Vietnamese tones as combining marks: encode what has no precomposed code that way."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))
            out += base.encode("cp1258") + "".join(c for c in decomposed if c in tones).encode("cp1258")
    return out


GOOD = {
    "/ad/plain": ("Customer service staff, Sihanoukville", "Free flight, visa and housing. Salary 1500 USD. Contact on Telegram."),
    "/ad/mislabelled": ("พนักงานบริการลูกค้า กัมพูชา", "เงินเดือนสูง ไม่ต้องมีประสบการณ์ ติดต่อทางเทเลแกรม"),
    "/ad/tis620": ("พนักงานแอดมิน ปอยเปต", "มีที่พักและอาหารฟรี บินฟรี"),
    "/ad/gbk": ("海外客服专员 高薪", "包吃包住 免费机票 无需经验"),
    "/ad/big5": ("海外客服專員 高薪", "包吃包住 免費機票 無需經驗"),
    "/ad/vn": ("Tuyển nhân viên chăm sóc khách hàng", "Lương cao, bao ăn ở, vé máy bay miễn phí"),
    "/ad/nocharset": ("Data entry – Myawaddy", "Ngày làm việc 8 tiếng, lương 1.200 USD"),
    "/ad/malformed": ("Online marketing, Laos", "Work from the casino zone, bonus + commission"),
    "/ad/retry-after": ("Chat support, Bavet", "Limited places, apply today"),
    "/ad/dup": ("Typing job abroad", "Same ad under several URLs"),
}


def hostile_site() -> tuple[LocalSite, dict[str, tuple[str, str]]]:
    site = LocalSite()
    base = site.base_url
    hits: dict[str, int] = {}
    lock = threading.Lock()

    def count(path: str) -> int:
        with lock:
            hits[path] = hits.get(path, 0) + 1
            return hits[path]

    def page(path: str, **kw) -> str:
        title, description = GOOD[path]
        return ad_page(title, description, **kw)

    def storm(handler):
        return Page("overloaded", status=503, content_type="text/plain")

    def retry_after(handler):
        if count("retry-after") == 1:
            return Page("slow down", status=429, content_type="text/plain", headers={"Retry-After": "3600"})
        return Page(page("/ad/retry-after"))

    def slow(handler):
        time.sleep(SLOW_SECONDS)
        return Page(page("/ad/plain"))

    def drip(handler):
        body = b"<html><body>" + b"x" * 200 + b"</body></html>"
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            for i in range(0, len(body), 10):
                handler.wfile.write(body[i:i + 10])
                handler.wfile.flush()
                time.sleep(0.5)  # 10 s for the whole body
        except OSError:
            pass
        raise _RawDone

    def truncated(handler):
        body = page("/ad/plain").encode()[:120]
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", "50000")
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
        handler.close_connection = True
        raise _RawDone

    def endless(handler):  # no Content-Length, streams until the client hangs up (bounded at 8x the cap)
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.end_headers()
        handler.close_connection = True
        try:
            for _ in range(8 * MAXSIZE // 65536):
                handler.wfile.write(b"B" * 65536)
                handler.wfile.flush()
        except OSError:
            pass
        raise _RawDone

    huge_body = b"<html><body>" + b"A" * (MAXSIZE * 3) + b"</body></html>"
    bomb_body = _gzip_zeros(BOMB_BYTES)

    pages: dict[str, object] = {
        "/robots.txt": Page("User-agent: *\nDisallow: /private/\n", content_type="text/plain"),
        "/ad/plain": Page(page("/ad/plain")),
        # UTF-8 bytes, header says ISO-8859-1
        "/ad/mislabelled": Page(page("/ad/mislabelled", lang="th").encode("utf-8"), content_type="text/html; charset=ISO-8859-1"),
        # legacy encodings, declared in the header
        "/ad/tis620": Page(page("/ad/tis620", lang="th").encode("tis-620"), content_type="text/html; charset=TIS-620"),
        "/ad/gbk": Page(page("/ad/gbk", lang="zh-CN").encode("gbk"), content_type="text/html; charset=GBK"),
        # Big5 declared only in <meta>
        "/ad/big5": Page(page("/ad/big5", lang="zh-TW", charset_meta="big5").encode("big5"), content_type="text/html"),
        # windows-1258 declared nowhere: only <html lang="vi"> hints at it
        "/ad/vn": Page(to_cp1258(page("/ad/vn", lang="vi")), content_type="text/html"),
        # UTF-8 declared nowhere
        "/ad/nocharset": Page(page("/ad/nocharset").encode("utf-8"), content_type="text/html"),
        "/ad/malformed": Page(page("/ad/malformed").replace("</div>", "<div><p><table><tr><td>unclosed")
                              .replace("</body></html>", "<<<>>>&&&</scr ipt><")),
        "/ad/retry-after": retry_after,
        # the same ad under several URLs
        "/ad/dup": Page(page("/ad/dup")),
        "/ad/dup-copy": Page(page("/ad/dup", canonical=f"{base}/ad/dup")),
        "/go/dup": Page("", status=301, content_type="text/plain", headers={"Location": "/ad/dup"}),
        # hostile
        "/storm/1": storm, "/storm/2": storm, "/storm/3": storm,
        "/slow": slow,
        "/drip": drip,
        "/loop/a": Page("", status=302, content_type="text/plain", headers={"Location": "/loop/b"}),
        "/loop/b": Page("", status=302, content_type="text/plain", headers={"Location": "/loop/a"}),
        "/truncated": truncated,
        **{f"/spiral/{n}": Page("", status=302, content_type="text/plain", headers={"Location": f"/spiral/{n + 1}"})
           for n in range(50)},
        "/huge": Page(huge_body),
        "/endless": endless,
        "/bomb": Page(bomb_body, headers={"Content-Encoding": "gzip"}),
        "/private/secret": Page(page("/ad/plain")),
    }
    links = [
        "/ad/plain", "/ad/mislabelled", "/ad/tis620", "/ad/gbk", "/ad/big5", "/ad/vn", "/ad/nocharset", "/ad/malformed",
        "/ad/retry-after", "/ad/dup", "/ad/dup?utm_source=tg&utm_campaign=x", "/ad/dup-copy", "/go/dup",
        "/storm/1", "/storm/2", "/storm/3", "/slow", "/drip", "/loop/a", "/spiral/0", "/truncated", "/huge", "/endless", "/bomb", "/private/secret",
    ]
    pages["/"] = Page("<html><body><h1>Jobs abroad</h1>" + "".join(f'<a href="{u}">{u}</a><br>' for u in links)
                      + "</body></html>")
    site.pages.update(pages)
    site.hits = hits
    _silence_raw(site)
    return site.start(), dict(GOOD)


def _gzip_zeros(size: int) -> bytes:
    chunk = b"\0" * (1024 * 1024)
    import io

    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as f:
        for _ in range(size // len(chunk)):
            f.write(chunk)
    return buf.getvalue()


def _silence_raw(site: LocalSite) -> None:
    """Routes that answered with raw bytes raise _RawDone: close the connection without a traceback."""
    original = site.server.handle_error

    def handle_error(request, client_address):
        import sys

        if isinstance(sys.exc_info()[1], (_RawDone, ConnectionError)):
            return
        original(request, client_address)

    site.server.handle_error = handle_error
