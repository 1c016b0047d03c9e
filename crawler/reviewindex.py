"""What keeps the review app fast at millions of ads (schema 7, facet_pairs 8): the ad_categories table,
facet_counts, facet_pairs and the indexes of every default view, facet and sort of output/review/ (metadata.yaml,
triage.py, casepage.py).

- ad_categories(ad_id, category): one row per category of an ad's `categories` JSON list; the review app facets
  and filters on it instead of scanning JSON arrays.
- facet_counts(tbl, col, value, n): how many rows of `tbl` have `value` in `col`, for each default facet of an
  unfiltered table page (FACET_COLUMNS); a filtered page counts with the indexes instead.
- facet_pairs(fcol, fval, col, value, n): how many ads have `fval` in `fcol` and `value` in `col`, for every two
  facet dimensions of the ads page (PAIR_DIMENSIONS: its counted columns and `category`), so the page filtered
  by one facet value (a facet link) reads every other facet from it instead of recounting the matching ads.
- contact_counts(kind, value, ads): how many distinct ads name each contact, for "Contacts shared by several ads".
All four are kept by SQLite triggers, so every write path (save_ad, update_assessment, batched writers, bulk SQL)
maintains them in its own transaction and nothing else writes them (a large Store.add_many batch suspends the
other tables' triggers in its transaction and makes the same changes in bulk: crawler/bulkindex.py).
"""
from __future__ import annotations

import sqlite_utils

AD_CATEGORIES_SQL = ("CREATE TABLE IF NOT EXISTS ad_categories (ad_id INTEGER NOT NULL REFERENCES ads(id),"
                     " category TEXT NOT NULL, PRIMARY KEY (ad_id, category)) WITHOUT ROWID")


def _categories_insert(row: str, source: str = "") -> str:
    """INSERT of the categories of `row` (new, or ads when `source` is "ads, "): text items of a JSON array only."""
    return ("INSERT OR IGNORE INTO ad_categories (ad_id, category) SELECT {r}.id, j.value FROM {s}json_each("
            "CASE WHEN json_valid({r}.categories) AND json_type({r}.categories) = 'array' THEN {r}.categories"
            " ELSE '[]' END) AS j WHERE j.type = 'text'").format(r=row, s=source)


_CATEGORIES_OF_NEW = _categories_insert("new") + ";"
TRIGGERS = {
    "ads_categories_ai": f"AFTER INSERT ON ads BEGIN {_CATEGORIES_OF_NEW} END",
    "ads_categories_au": ("AFTER UPDATE OF categories ON ads WHEN new.categories IS NOT old.categories BEGIN"
                          f" DELETE FROM ad_categories WHERE ad_id = old.id; {_CATEGORIES_OF_NEW} END"),
    "ads_categories_ad": "AFTER DELETE ON ads BEGIN DELETE FROM ad_categories WHERE ad_id = old.id; END",
}
FACET_COUNTS_SQL = ("CREATE TABLE IF NOT EXISTS facet_counts (tbl TEXT NOT NULL, col TEXT NOT NULL, value NOT NULL,"
                    " n INTEGER NOT NULL, PRIMARY KEY (tbl, col, value)) WITHOUT ROWID")
# table -> the columns of its default facets (metadata.yaml) whose counts facet_counts keeps
FACET_COLUMNS = {
    "ads": ("risk_level", "country", "source", "language", "review_status"),
    "ad_categories": ("category",),
    "evidence": ("category", "rule_id", "field"),
    "contacts": ("kind",),
    "ad_history": ("event",),
    "reviews": ("verdict", "reviewer"),
}


def _count(table: str, column: str, row: str, step: int, guard: str = "") -> str:
    value = f"{row}.[{column}]"
    if step > 0:
        return (f"INSERT INTO facet_counts (tbl, col, value, n) SELECT '{table}', '{column}', {value}, 1"
                f" WHERE {value} IS NOT NULL{guard} ON CONFLICT (tbl, col, value) DO UPDATE SET n = n + 1;")
    return f"UPDATE facet_counts SET n = n - 1 WHERE tbl = '{table}' AND col = '{column}' AND value = {value}{guard};"


def _facet_triggers() -> dict[str, str]:
    triggers = {}
    for table, columns in FACET_COLUMNS.items():
        moved = {c: f" AND old.[{c}] IS NOT new.[{c}]" for c in columns}
        triggers[f"{table}_facets_ai"] = (f"AFTER INSERT ON [{table}] BEGIN "
                                          + " ".join(_count(table, c, "new", 1) for c in columns) + " END")
        triggers[f"{table}_facets_ad"] = (f"AFTER DELETE ON [{table}] BEGIN "
                                          + " ".join(_count(table, c, "old", -1) for c in columns) + " END")
        triggers[f"{table}_facets_au"] = (
            f"AFTER UPDATE OF {', '.join(f'[{c}]' for c in columns)} ON [{table}] BEGIN "
            + " ".join(_count(table, c, "old", -1, moved[c]) + " " + _count(table, c, "new", 1, moved[c])
                       for c in columns) + " END")
    return triggers


TRIGGERS.update(_facet_triggers())

# facet_pairs: for two facet dimensions of the ads page (an ads column of FACET_COLUMNS or "category", one per item
# of the ad's categories list) and a value of each, how many ads have both. Pairs of one column with itself are not
# kept (facet_counts has them), except two different categories.
PAIR_DIMENSIONS = (*FACET_COLUMNS["ads"], "category")
FACET_PAIRS_SQL = ("CREATE TABLE IF NOT EXISTS facet_pairs (fcol TEXT NOT NULL, fval NOT NULL, col TEXT NOT NULL,"
                   " value NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (fcol, fval, col, value)) WITHOUT ROWID")
_PAIRED = "(a.d != b.d OR (a.d = 'category' AND a.v != b.v))"


def _dimensions(row: str) -> str:
    """(d, v) of every facet dimension value of ads row `row` (new or old)."""
    columns = " UNION ALL ".join(f"SELECT '{c}' AS d, {row}.[{c}] AS v WHERE {row}.[{c}] IS NOT NULL"
                                 for c in FACET_COLUMNS["ads"])
    return (f"({columns} UNION ALL SELECT DISTINCT 'category', j.value FROM json_each(CASE WHEN json_valid("
            f"{row}.categories) AND json_type({row}.categories) = 'array' THEN {row}.categories ELSE '[]' END) AS j"
            " WHERE j.type = 'text')")


def _pairs(row: str, step: int) -> str:
    """+1 (or -1) for every pair of facet dimension values of ads row `row`."""
    pairs = f"FROM {_dimensions(row)} AS a, {_dimensions(row)} AS b WHERE {_PAIRED}"
    if step > 0:
        return (f"INSERT INTO facet_pairs (fcol, fval, col, value, n) SELECT a.d, a.v, b.d, b.v, 1 {pairs}"
                " ON CONFLICT (fcol, fval, col, value) DO UPDATE SET n = n + 1;")
    # a join on the whole key: `(fcol, fval, col, value) IN (SELECT ...)` searched on fcol alone (~1 ms per row)
    return (f"UPDATE facet_pairs SET n = n - 1 FROM (SELECT a.d AS d1, a.v AS v1, b.d AS d2, b.v AS v2 {pairs}) AS p"
            " WHERE facet_pairs.fcol = p.d1 AND facet_pairs.fval = p.v1 AND facet_pairs.col = p.d2"
            " AND facet_pairs.value = p.v2;")


_PAIR_COLUMNS = (*FACET_COLUMNS["ads"], "categories")
RETIRED_TRIGGERS = ("ads_pairs_ad", "ads_pairs_au")  # their decrement searched facet_pairs by fcol alone
TRIGGERS.update({
    "ads_pairs_ai": f"AFTER INSERT ON ads BEGIN {_pairs('new', 1)} END",
    "ads_pairs_delete": f"AFTER DELETE ON ads BEGIN {_pairs('old', -1)} END",
    "ads_pairs_update": (f"AFTER UPDATE OF {', '.join(f'[{c}]' for c in _PAIR_COLUMNS)} ON ads WHEN "
                         + " OR ".join(f"old.[{c}] IS NOT new.[{c}]" for c in _PAIR_COLUMNS)
                         + f" BEGIN {_pairs('old', -1)} {_pairs('new', 1)} END"),
})


def _fill_facet_pairs(db: sqlite_utils.Database) -> None:
    """facet_pairs from the stored ads: ads grouped by all their facet values at once (one read of ads), then the
    pairs of each group's values, weighted by its number of ads."""
    columns = ", ".join(f"[{c}]" for c in FACET_COLUMNS["ads"])
    for name in ("lw_groups", "lw_dims"):
        db.execute(f"DROP TABLE IF EXISTS temp.{name}")
    db.execute(f"CREATE TEMP TABLE lw_groups AS SELECT row_number() OVER () AS g, * FROM (SELECT {columns},"
               f" categories, count(*) AS n FROM ads GROUP BY {columns}, categories)")
    arms = [f"SELECT g, '{c}' AS d, [{c}] AS v FROM temp.lw_groups WHERE [{c}] IS NOT NULL"
            for c in FACET_COLUMNS["ads"]]
    arms.append("SELECT DISTINCT g, 'category', j.value FROM temp.lw_groups, json_each(CASE WHEN json_valid(categories)"
                " AND json_type(categories) = 'array' THEN categories ELSE '[]' END) AS j WHERE j.type = 'text'")
    db.execute(f"CREATE TEMP TABLE lw_dims AS {' UNION ALL '.join(arms)}")
    db.execute("CREATE INDEX temp.lw_dims_g ON lw_dims (g)")
    db.execute("INSERT INTO facet_pairs (fcol, fval, col, value, n) SELECT a.d, a.v, b.d, b.v, sum(x.n)"
               f" FROM temp.lw_dims a JOIN temp.lw_dims b ON b.g = a.g JOIN temp.lw_groups x ON x.g = a.g"
               f" WHERE {_PAIRED} GROUP BY a.d, a.v, b.d, b.v")
    for name in ("lw_groups", "lw_dims"):
        db.execute(f"DROP TABLE temp.{name}")


# contact_counts(kind, value, ads): how many distinct ads name each contact (the "shared contacts" query)
CONTACT_COUNTS_SQL = ("CREATE TABLE IF NOT EXISTS contact_counts (kind TEXT NOT NULL, value TEXT NOT NULL,"
                      " ads INTEGER NOT NULL, PRIMARY KEY (kind, value)) WITHOUT ROWID")
_OTHER_ROW = "SELECT 1 FROM contacts o WHERE o.kind = {r}.kind AND o.value = {r}.value AND o.ad_id = {r}.ad_id"
_CONTACT_IN = ("INSERT INTO contact_counts (kind, value, ads) SELECT new.kind, new.value, 1 WHERE new.kind IS NOT NULL"
               " AND new.value IS NOT NULL AND new.ad_id IS NOT NULL AND NOT EXISTS ("
               + _OTHER_ROW.format(r="new") + " AND o.id != new.id)"
               " ON CONFLICT (kind, value) DO UPDATE SET ads = ads + 1;")
_CONTACT_OUT = ("UPDATE contact_counts SET ads = ads - 1 WHERE kind = old.kind AND value = old.value"
                " AND old.ad_id IS NOT NULL AND NOT EXISTS (" + _OTHER_ROW.format(r="old") + ");")
TRIGGERS.update({
    "contacts_counts_ai": f"AFTER INSERT ON contacts BEGIN {_CONTACT_IN} END",
    "contacts_counts_ad": f"AFTER DELETE ON contacts BEGIN {_CONTACT_OUT} END",
    "contacts_counts_au": f"AFTER UPDATE OF kind, value, ad_id ON contacts BEGIN {_CONTACT_OUT} {_CONTACT_IN} END",
})

# (table, columns): each default facet (metadata.yaml `facets`), default sort and join of the review app.
# A column written "name desc" is a descending index column: its entries run (risk_score desc, id), the ads
# table's default order.
INDEXES = (
    ("ad_categories", ["category", "ad_id"]),
    ("ads", ["risk_score desc"]), ("ads", ["review_status", "risk_score desc"]),
    ("ads", ["country"]), ("ads", ["language"]),
    # the ads page filtered on a risk level (the usual first click): its rows and its other facets as range scans
    ("ads", ["risk_level", "risk_score desc"]), ("ads", ["risk_level", "country"]), ("ads", ["risk_level", "source"]),
    ("ads", ["risk_level", "language"]), ("ads", ["risk_level", "review_status"]),
    ("evidence", ["category"]), ("evidence", ["rule_id"]), ("evidence", ["field"]),
    ("contacts", ["kind", "value", "ad_id"]), ("contact_counts", ["ads desc", "kind", "value"]),
    ("ad_history", ["event"]),
    ("reviews", ["verdict"]),
)


def index_name(table: str, columns: list[str]) -> str:
    return "idx_" + "_".join([table, *(c.replace(" desc", "_desc") for c in columns)])


def current(db: sqlite_utils.Database) -> bool:
    """True when ad_categories, its triggers and every index exist (opening the store then writes nothing)."""
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index', 'trigger')")}
    tables = {"ad_categories", "facet_counts", "facet_pairs", "contact_counts"}
    wanted = {*tables, *TRIGGERS, *(index_name(t, c) for t, c in INDEXES)}
    return wanted <= names and not names & set(RETIRED_TRIGGERS)


def migrate(db: sqlite_utils.Database) -> None:
    """Create ad_categories, facet_counts, facet_pairs and contact_counts (filled from the stored rows the first
    time), their triggers and the indexes."""
    fresh = not db["ad_categories"].exists()
    db.execute(AD_CATEGORIES_SQL)
    if fresh:
        db.execute(_categories_insert("ads", "ads, "))
    if not db["facet_counts"].exists():
        db.execute(FACET_COUNTS_SQL)
        for table, columns in FACET_COLUMNS.items():
            for column in columns:
                db.execute(f"INSERT INTO facet_counts (tbl, col, value, n) SELECT '{table}', '{column}', [{column}],"
                           f" count(*) FROM [{table}] WHERE [{column}] IS NOT NULL GROUP BY [{column}]")
    if not db["facet_pairs"].exists():
        db.execute(FACET_PAIRS_SQL)
        _fill_facet_pairs(db)
    if not db["contact_counts"].exists():
        db.execute(CONTACT_COUNTS_SQL)
        db.execute("INSERT INTO contact_counts (kind, value, ads) SELECT kind, value, count(DISTINCT ad_id)"
                   " FROM contacts WHERE kind IS NOT NULL AND value IS NOT NULL AND ad_id IS NOT NULL"
                   " GROUP BY kind, value")
    for name in RETIRED_TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    for name, body in TRIGGERS.items():
        db.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
    for table, columns in INDEXES:
        cols = ", ".join(f"[{c[:-5]}] DESC" if c.endswith(" desc") else f"[{c}]" for c in columns)
        db.execute(f"CREATE INDEX IF NOT EXISTS {index_name(table, columns)} ON [{table}] ({cols})")
