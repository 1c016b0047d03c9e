"""Datasette plugin for the Lurewatch review app (loaded from output/review/plugins/).

- evidence.matched_text (and any `matched_text` column in a query) is shown highlighted;
- evidence.ad_id (and `ad_id` in queries) links to the ad, labelled with its title;
- ads.description highlights the spans the rules matched, each <mark> titled with its rule;
- ads.categories shows one link per category to that ad's evidence rows;
- opsec: a crawled URL is never a live link (ads.url, ad_urls.url, snapshots.url, url/domain contacts and any value
  Datasette would auto-link are shown as text); each ad's title links to its case page; a snapshot body (or any
  blob) is not offered as a raw download but points to the case page;
- every request passes output/review/guard.py (allowed Host names, security headers, no /-/ introspection,
  database path redacted, bidi controls shown);
- an error is logged as one line (Datasette's default handler prints a rich traceback with local variables).
"""
from __future__ import annotations

import json
import logging

from datasette import hookimpl
from urllib.parse import quote

from markupsafe import Markup, escape

from output.review.guard import Guard, allowed_hosts, path_redactions
from output.review.textmarks import locate

PLUGIN = "lurewatch-review"
log = logging.getLogger("lurewatch.review")


@hookimpl
def asgi_wrapper(datasette):
    config = datasette.plugin_config(PLUGIN) or {}
    hosts = config.get("allowed_hosts") or allowed_hosts()
    paths = [db.path for db in datasette.databases.values() if getattr(db, "path", None)]

    def wrap(app):
        return Guard(app, hosts, path_redactions(paths))

    return wrap


@hookimpl
def handle_exception(datasette, request, exception):
    status = getattr(exception, "status", 500)
    what = exception.args[0] if exception.args else type(exception).__name__
    if status >= 500:
        what = f"{type(exception).__name__}: {what}"
    log.warning("%s %s %s: %s", status, request.method, _printable(request.path), _printable(str(what)))
    return None  # Datasette's own handler renders the error page


def _printable(text: str, limit: int = 300) -> str:
    """One log line: control characters (newlines, bidi) escaped, long values cut."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[:limit] + "..."


def _ad_link(datasette, database: str, ad_id) -> str:
    return datasette.urls.table(database, "ads") + f"/{int(ad_id)}"


def _highlight(text: str, spans: list[tuple[int, int, str]]) -> Markup:
    """`text` with each (start, end, label) span wrapped in <mark>; overlapping spans are merged."""
    out, pos = [], 0
    for start, end, label in sorted(spans):
        if start < pos or start < 0 or end > len(text) or end <= start:
            continue
        out.append(escape(text[pos:start]))
        out.append(Markup('<mark title="{}">{}</mark>').format(label, text[start:end]))
        pos = end
    out.append(escape(text[pos:]))
    return Markup('<div class="lurewatch-text" style="white-space:pre-wrap">{}</div>').format(Markup("").join(out))


_locate = locate  # one implementation for the stock pages and the case page (output/review/textmarks.py)


CASE_PAGE = "/-/lurewatch/ad/{}"
URL_COLUMNS = {("ads", "url"), ("ad_urls", "url"), ("snapshots", "url")}
URL_CONTACT_KINDS = ("url", "domain")
URL_WARNING = "Crawled address, shown as text: opening it exposes you to the site's owners"


def _looks_like_url(value) -> bool:
    """What Datasette would render as a link (a value starting with http:// or https://), in any letter case."""
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


def _is_crawled_address(row, value, column, table) -> bool:
    if (table, column) in URL_COLUMNS or _looks_like_url(value):
        return True
    return (table == "contacts" and column in ("value", "raw") and "kind" in row.keys()
            and row["kind"] in URL_CONTACT_KINDS)


def _address_text(value) -> Markup:
    return Markup('<span class="lurewatch-url" title="{}">{}</span>').format(URL_WARNING, value)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _blob_cell(datasette, database, table, row, len(value))
    if table == "ads" and column == "title" and "id" in row.keys():
        return Markup('<a href="{}" title="Case page">{}</a>').format(CASE_PAGE.format(int(row["id"])), value)
    if table == "ads" and column == "description" and "id" in row.keys():  # highlighted text, never a link
        return _highlighted_description(datasette, database, row["id"], str(value))
    if _is_crawled_address(row, value, column, table):
        return _address_text(value)
    if column == "matched_text" and table in ("evidence", None):
        return Markup("<mark>{}</mark>").format(value)
    if column == "ad_id" and table in ("evidence", "contacts", "ad_history", "reviews", None) and str(value).isdigit():
        if table is None and "title" in row.keys():  # a query that selects the ad's title: no query per row
            return _ad_link_markup(datasette, database, value, row["title"])
        return _linked_ad(datasette, database, value)
    if table == "ads" and column == "categories" and "id" in row.keys():
        return _category_links(datasette, database, row["id"], value)
    return None


def _linked_ad(datasette, database, ad_id):
    async def inner():
        db = datasette.get_database(database)
        rows = (await db.execute("select title from ads where id = ?", [int(ad_id)])).rows
        return _ad_link_markup(datasette, database, ad_id, rows[0][0] if rows else "")

    return inner


def _ad_link_markup(datasette, database, ad_id, title) -> Markup:
    return Markup('<a href="{}">{}</a> <span style="color:#666">{}</span>').format(
        _ad_link(datasette, database, ad_id), ad_id, str(title or "")[:80])


def _highlighted_description(datasette, database, ad_id, text):
    async def inner():
        db = datasette.get_database(database)
        rows = (await db.execute(
            "select start, end, rule_id, category, matched_text from evidence where ad_id = ? and field = 'description'",
            [ad_id])).rows
        spans = []
        for start, end, rule_id, category, matched in rows:
            span = _locate(text, start, end, matched or "")
            if span:
                spans.append((*span, f"{category}: {rule_id}"))
        return _highlight(text, spans)

    return inner


def _category_links(datasette, database, ad_id, value):
    try:
        categories = json.loads(value) if isinstance(value, str) else list(value)
    except (ValueError, TypeError):
        return None
    if not isinstance(categories, list):
        return None
    base = datasette.urls.table(database, "evidence")
    links = [Markup('<a href="{}?ad_id={}&amp;category={}">{}</a>').format(base, ad_id, quote(str(c)), c) for c in categories]
    return Markup(", ").join(links) if links else Markup('<span style="color:#666">none</span>')


def _blob_cell(datasette, database, table, row, size: int):
    """A page body is read on its ad's case page (shown safely there), never downloaded here as raw gzip."""
    text = Markup("binary, {:,} bytes: see case page").format(size)
    if table != "snapshot_bodies" or "sha1" not in row.keys():
        return text

    async def inner():
        db = datasette.get_database(database)
        ids = [r[0] for r in (await db.execute(
            "select distinct ad_id from snapshots where sha1 = ? order by ad_id limit 5", [row["sha1"]])).rows]
        if not ids:
            return text
        links = Markup(", ").join(Markup('<a href="{}">#{}</a>').format(CASE_PAGE.format(i), i) for i in ids)
        return Markup("binary, {:,} bytes: see case page {}").format(size, links)

    return inner
