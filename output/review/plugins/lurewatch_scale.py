"""Datasette plugin: facets and filters that stay fast at a million ads (tables kept by crawler/reviewindex.py).

- facet type `counted` (metadata.yaml: `- counted: country`): a column facet whose counts, on an unfiltered table
  page, are read from facet_counts (kept by triggers); on a filtered page it is Datasette's column facet;
- facet type `ad_categories` (`- ad_categories: categories` on ads): one value per indicator category with its
  number of ads, read from the indexed ad_categories table instead of every ad's JSON list, under the facet name
  `categories`;
- `?_category=NAME` (repeatable) keeps the ads of that category; a categories facet value toggles it;
- a table page after the first (`?_next=`) computes no facets: Datasette would count only the rows after the
  page's cursor there, which is slow and not the table's counts (page 1 shows them);
- a full-text search (`?_search=`) counts no matches: a common word matches most of a million ads, and counting
  them took longer than the page (the matches are still listed and paged, riskiest first).
A database older than schema 7 (no facet_counts / ad_categories) gets the plain column facet and the JSON list.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import ColumnFacet, Facet
from datasette.filters import FilterArguments
from datasette.utils import path_with_added_args, path_with_removed_args

PARAM = "_category"
_WHERE = re.compile(r"\bwhere\b", re.I)


async def _has_table(datasette, database: str, table: str) -> bool:
    return await datasette.get_database(database).table_exists(table)


def _filtered(sql: str) -> bool:
    """The table page's SQL has a WHERE (filters, search or a cursor)."""
    return bool(_WHERE.search(sql))


class CountedFacet(ColumnFacet):
    type = "counted"

    async def suggest(self):
        return []

    async def facet_results(self):
        if _filtered(self.sql) or not await _has_table(self.ds, self.database, "facet_counts"):
            return await super().facet_results()
        results, timed_out = [], []
        size = self.get_facet_size()
        pairs = self.get_querystring_pairs()
        for source_and_config in self.get_configs():
            column = source_and_config["config"].get("column") or source_and_config["config"]["simple"]
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
        if self.table != "ads":
            return results, timed_out
        size = self.get_facet_size()
        pairs = self.get_querystring_pairs()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            name = config.get("column") or config["simple"]
            if not await _has_table(self.ds, self.database, "ad_categories"):  # the JSON list, as the array facet
                sql = (f"select j.value as value, count(distinct a.id) as count from ({self.sql}) a,"
                       f" json_each(a.[{name}]) j group by j.value order by count desc, value limit {size + 1}")
            elif _filtered(self.sql):
                sql = (f"select category as value, count(*) as count from ad_categories where ad_id in"
                       f" (select id from ({self.sql})) group by category order by count desc, value limit {size + 1}")
            else:
                sql = ("select value, n as count from facet_counts where tbl = 'ad_categories' and col = 'category'"
                       f" and n > 0 order by n desc, value limit {size + 1}")
            try:
                rows = await self.ds.execute(self.database, sql, self.params, truncate=False,
                                             custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append(name)
                continue
            values = []
            for row in rows.rows[:size]:
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
    if table != "ads" or not wanted:
        return None

    async def inner():
        indexed = await _has_table(datasette, database, "ad_categories")
        clauses, params = [], {}
        for i, category in enumerate(wanted):
            key = f"lw_category_{i}"
            params[key] = category
            clauses.append(f"id in (select ad_id from ad_categories where category = :{key})" if indexed else
                           f"id in (select a.id from ads a, json_each(a.categories) j where j.value = :{key})")
        return FilterArguments(clauses, params=params, human_descriptions=[f'category is "{c}"' for c in wanted])

    return inner


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def lighter_requests(scope, receive, send):
            if scope.get("type") == "http":
                query = scope.get("query_string", b"").decode("latin-1")
                pairs = parse_qsl(query, keep_blank_values=True)
                keys = {k for k, _ in pairs}
                extra = []
                if not scope.get("path", "").startswith("/-/"):
                    if "_next" in keys and "_nofacet" not in keys:
                        extra.append(("_nofacet", "1"))
                    if any(k.startswith("_search") for k in keys) and "_nocount" not in keys:
                        extra.append(("_nocount", "1"))
                if extra:
                    scope = {**scope, "query_string": urlencode([*pairs, *extra]).encode("latin-1")}
            await app(scope, receive, send)

        return lighter_requests

    return wrap
