"""Datasette plugin: facets and filters that stay fast at a million ads (tables kept by crawler/reviewindex.py).

- facet type `counted` (metadata.yaml: `- counted: country`): a column facet whose counts, on an unfiltered table
  page, are read from facet_counts (kept by triggers); on a filtered page it is Datasette's column facet;
- facet type `ad_categories` (`- ad_categories: categories` on ads): one value per indicator category with its
  number of ads, read from the indexed ad_categories table instead of every ad's JSON list, under the facet name
  `categories`;
- `?_category=NAME` (repeatable) keeps the ads of that category; a categories facet value toggles it;
- the ads page filtered by one facet value (a facet link: `?risk_level=high`, `?_category=passport`, ...) reads
  every other facet from facet_pairs (schema 8) instead of recounting the matching ads;
- a table page after the first (`?_next=`) computes no facets: Datasette would count only the rows after the
  page's cursor there, which is slow and not the table's counts (page 1 shows them);
- a full-text search (`?_search=`, handled here as `_lw_search` so the SQL can take the fast shape) counts no
  matches: a common word matches most of a million ads; a search matching WALK_MIN ads or more lists its
  riskiest matches by walking the risk_score index and counts no facets (the page says so);
- a filter matching WALK_MIN ads or more on the default order (riskiest first) is written `+id in (...)`, so
  SQLite walks the risk_score index and stops at the page's rows instead of reading and sorting every match.
A database older than schema 7 (no facet_counts / ad_categories) gets the plain column facet and the JSON list.
"""
from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import ColumnFacet, Facet
from datasette.filters import FilterArguments
from datasette.utils import path_with_added_args, path_with_removed_args

PARAM = "_category"
SEARCH = "_lw_search"  # ?_search= on the ads table, renamed by asgi_wrapper so Datasette's own clause is not added
# matches from which the riskiest rows are found by walking the risk_score index (env: tests lower it)
WALK_MIN = int(os.environ.get("LUREWATCH_REVIEW_WALK_MIN", "2000"))
_WHERE = re.compile(r"\bwhere\b", re.I)
_ADS_PATH = re.compile(r"^/[^/]+/ads(\.\w+)?$")
_HINT = "+id in ("  # an IN filter that SQLite must not use for row lookups (see module docstring)
# query-string keys that do not filter the rows
_NOT_FILTERS = {"_sort", "_sort_desc", "_size", "_next", "_nocount", "_nofacet", "_nosuggest", "_labels", "_nolabels", "_col",
                "_nocol", "_trace", "_shape", "_json", "_json_infinity", "_timelimit", "_ttl", "_context"}


async def _has_table(datasette, database: str, table: str) -> bool:
    return await datasette.get_database(database).table_exists(table)


def _filtered(sql: str) -> bool:
    """The table page's SQL has a WHERE (filters, search or a cursor)."""
    return bool(_WHERE.search(sql))


def _ads_columns() -> tuple[str, ...]:
    from crawler.reviewindex import FACET_COLUMNS

    return FACET_COLUMNS["ads"]


def single_filter(request_or_pairs) -> tuple[str, str] | None:
    """(dimension, value) when the ads page's only filter is one facet value: `col=value` (or `col__exact=`) of a
    counted column, or one `_category=value` (dimension "category"); None otherwise."""
    found = []
    pairs = request_or_pairs if isinstance(request_or_pairs, list) else parse_qsl(request_or_pairs.query_string,
                                                                                    keep_blank_values=True)
    for key, value in pairs:
        if key.startswith("_facet") or key in _NOT_FILTERS or (key == PARAM and not value):
            continue
        column = key[:-len("__exact")] if key.endswith("__exact") else key
        if key == PARAM:
            found.append(("category", value))
        elif column in _ads_columns():
            found.append((column, value))
        else:
            return None
    return found[0] if len(set(found)) == 1 else None


def _default_order(request) -> bool:
    """The page is in the ads table's default order (risk_score desc), which an index walks."""
    return "_sort" not in request.args and request.args.get("_sort_desc", "risk_score") == "risk_score"


async def _search_matches(datasette, database: str, request) -> int | None:
    """The ads matched by the page's search, counted up to WALK_MIN (cached for the request); None: no search."""
    query = request.args.get(SEARCH)
    if not query:
        return None
    cache = request.scope.setdefault("lurewatch_search_matches", {})
    if query not in cache:
        match = ":q" if request.args.get("_searchmode") == "raw" else "escape_fts(:q)"
        try:
            rows = await datasette.execute(database, f"select count(*) from (select rowid from ads_fts where ads_fts"
                                           f" match {match} limit {WALK_MIN})", {"q": query})
            cache[query] = rows.first()[0]
        except Exception:  # a bad query: the rows query reports it
            cache[query] = 0
    return cache[query]


async def _large_search(facet) -> bool:
    return facet.table == "ads" and (await _search_matches(facet.ds, facet.database, facet.request) or 0) >= WALK_MIN


async def _pair_counts(facet, dimension: str, size: int) -> list[dict] | None:
    """Counts of `dimension` on the ads page filtered by one facet value, from facet_pairs; None when the page is
    not such a page or the database has no facet_pairs."""
    chosen = single_filter(facet.request) if facet.table == "ads" else None
    if not chosen or not await _has_table(facet.ds, facet.database, "facet_pairs"):
        return None
    fcol, fval = chosen
    # the selected value itself: its count on the whole table (an ad has one value of a column, several categories)
    own = ("select value, n as count from facet_counts where tbl = :t and col = :f and value = :v and n > 0")
    params = {"t": "ad_categories" if fcol == "category" else "ads", "f": fcol, "v": fval, "c": dimension,
              "limit": size + 1}
    others = "select value, n as count from facet_pairs where fcol = :f and fval = :v and col = :c and n > 0"
    if fcol != dimension:
        sql = others + " order by n desc, value limit :limit"
    elif fcol == "category":
        sql = f"select * from ({own} union all {others}) order by count desc, value limit :limit"
    else:
        sql = own
    return [dict(row) for row in (await facet.ds.execute(facet.database, sql, params)).rows]


class CountedFacet(ColumnFacet):
    type = "counted"

    async def suggest(self):
        return []

    async def facet_results(self):
        if await _large_search(self):
            return [], []
        if _filtered(self.sql) and (self.table != "ads" or not single_filter(self.request)):
            self.sql = self.sql.replace(_HINT, "id in (")
            return await super().facet_results()
        if not await _has_table(self.ds, self.database, "facet_counts"):
            return await super().facet_results()
        results, timed_out = [], []
        size = self.get_facet_size()
        pairs = self.get_querystring_pairs()
        for source_and_config in self.get_configs():
            column = source_and_config["config"].get("column") or source_and_config["config"]["simple"]
            if _filtered(self.sql):
                rows = await _pair_counts(self, column, size)
                if rows is None:
                    self.sql = self.sql.replace(_HINT, "id in (")
                    return await super().facet_results()
            else:
                rows = (await self.ds.execute(
                    self.database, "select value, n as count from facet_counts where tbl = :t and col = :c and n > 0"
                    " order by n desc, value limit :limit", {"t": self.table, "c": column, "limit": size + 1})).rows
            expanded = await self.ds.expand_foreign_keys(self.database, self.table, column,
                                                         [r["value"] for r in rows[:size]])
            values = []
            for row in rows[:size]:
                key = f"{column}__exact" if column.startswith("_") else column
                selected = (key, str(row["value"])) in pairs
                path = (path_with_removed_args(self.request, {key: str(row["value"])}) if selected
                        else path_with_added_args(self.request, {key: row["value"]}))
                values.append({"value": row["value"], "label": expanded.get((column, row["value"]), row["value"]),
                               "count": row["count"], "selected": selected,
                               "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(path))})
            results.append({"name": column, "type": self.type, "hideable": source_and_config["source"] != "metadata",
                            "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet": column})),
                            "results": values, "truncated": len(rows) > size})
        return results, timed_out


class AdCategoryFacet(Facet):
    type = "ad_categories"

    async def facet_results(self):
        results, timed_out = [], []
        if self.table != "ads" or await _large_search(self):
            return results, timed_out
        size = self.get_facet_size()
        pairs = self.get_querystring_pairs()
        inner = self.sql.replace(_HINT, "id in (")
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            name = config.get("column") or config["simple"]
            rows = await _pair_counts(self, "category", size) if _filtered(self.sql) else None
            if rows is not None:
                pass
            elif not await _has_table(self.ds, self.database, "ad_categories"):  # the JSON list, as the array facet
                sql = (f"select j.value as value, count(distinct a.id) as count from ({inner}) a,"
                       f" json_each(a.[{name}]) j group by j.value order by count desc, value limit {size + 1}")
            elif _filtered(self.sql):
                sql = (f"select category as value, count(*) as count from ad_categories where ad_id in"
                       f" (select id from ({inner})) group by category order by count desc, value limit {size + 1}")
            else:
                sql = ("select value, n as count from facet_counts where tbl = 'ad_categories' and col = 'category'"
                       f" and n > 0 order by n desc, value limit {size + 1}")
            if rows is None:
                try:
                    rows = (await self.ds.execute(self.database, sql, self.params, truncate=False,
                                                  custom_time_limit=self.ds.setting("facet_time_limit_ms"))).rows
                except QueryInterrupted:
                    timed_out.append(name)
                    continue
            values = []
            for row in rows[:size]:
                value = str(row["value"])
                selected = (PARAM, value) in pairs
                path = (path_with_removed_args if selected else path_with_added_args)(self.request, {PARAM: value})
                values.append({"value": value, "label": value, "count": row["count"], "selected": selected,
                               "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(path))})
            results.append({"name": name, "type": self.type, "results": values, "hideable": False,
                            "toggle_url": self.ds.urls.path(self.request.path), "truncated": len(rows) > size})
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [CountedFacet, AdCategoryFacet]


@hookimpl
def filters_from_request(request, database, table, datasette):
    wanted = list(dict.fromkeys(v for v in request.args.getlist(PARAM) if v))
    search = request.args.get(SEARCH)
    if table != "ads" or not (wanted or search):
        return None

    async def inner():
        indexed = await _has_table(datasette, database, "ad_categories")
        clauses, params, descriptions, context = [], {}, [], {}
        walk = _default_order(request) and single_filter(request) is not None
        for i, category in enumerate(wanted):
            key = f"lw_category_{i}"
            params[key] = category
            size = await _category_size(datasette, database, category) if indexed else None
            clause = f"id in (select ad_id from ad_categories where category = :{key})" if indexed else \
                f"id in (select a.id from ads a, json_each(a.categories) j where j.value = :{key})"
            if walk and size is not None and size >= WALK_MIN:
                clause = "+" + clause
            clauses.append(clause)
            descriptions.append(f'category is "{category}"' + (f" ({size:,} ads)" if size is not None else ""))
        if search:
            matches = await _search_matches(datasette, database, request)
            match = ":lw_search" if request.args.get("_searchmode") == "raw" else "escape_fts(:lw_search)"
            clause = f"id in (select rowid from ads_fts where ads_fts match {match})"
            params["lw_search"] = search
            context["search"] = search
            if matches >= WALK_MIN:
                clause = ("+" + clause) if _default_order(request) else clause
                descriptions.append(f'search matches "{search}" ({WALK_MIN:,} ads or more: riskiest first, facets'
                                    " are counted for smaller searches; narrow it or use the ranked search)")
            else:
                descriptions.append(f'search matches "{search}"')
            clauses.append(clause)
        return FilterArguments(clauses, params=params, human_descriptions=descriptions, extra_context=context)

    return inner


async def _category_size(datasette, database: str, category: str) -> int | None:
    """The ads of `category`, from facet_counts (None without it)."""
    if not await _has_table(datasette, database, "facet_counts"):
        return None
    row = (await datasette.execute(database, "select n from facet_counts where tbl = 'ad_categories' and"
                                   " col = 'category' and value = :v", {"v": category})).first()
    return row[0] if row else 0


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def lighter_requests(scope, receive, send):
            if scope.get("type") == "http":
                query = scope.get("query_string", b"").decode("latin-1")
                pairs = parse_qsl(query, keep_blank_values=True)
                keys = {k for k, _ in pairs}
                extra = []
                path = scope.get("path", "")
                renamed = _ADS_PATH.match(path) and "_search" in keys  # our filter searches (see SEARCH)
                if renamed:
                    pairs = [(SEARCH if k == "_search" else k, v) for k, v in pairs]
                    keys = {k for k, _ in pairs}
                if not path.startswith("/-/"):
                    if "_next" in keys and "_nofacet" not in keys:
                        extra.append(("_nofacet", "1"))
                    if any(k.startswith(("_search", SEARCH)) for k in keys) and "_nocount" not in keys:
                        extra.append(("_nocount", "1"))
                    if _ADS_PATH.match(path) and PARAM in keys and single_filter(pairs) and "_nocount" not in keys:
                        extra.append(("_nocount", "1"))  # counting a category's ads reads each; the filter says it
                if extra or renamed:
                    scope = {**scope, "query_string": urlencode([*pairs, *extra]).encode("latin-1")}
            await app(scope, receive, send)

        return lighter_requests

    return wrap
