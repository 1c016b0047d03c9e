"""Analyst verdicts in the store: the `reviews` rows and the corpora they feed.

A `lure` verdict copies the ad's text (title + description, what the similarity stage compares) into
`confirmed_lures`, which joins the shipped known-lure corpus in the next crawl, `assess --db` and `rescan`
(crawler/lureindex.py); a `not_lure` verdict copies it into `confirmed_negatives`. Only the rows of ads whose
LATEST verdict is still that one count: a later verdict withdraws them, the rows stay (append-only).

Called by crawler.store.Store only (inside its write transactions); nothing here opens the database.
"""
from __future__ import annotations

from typing import Any

import sqlite_utils

VERDICTS = ("lure", "not_lure", "fraud", "unsure")
VERDICT_TABLES = {"lure": "confirmed_lures", "not_lure": "confirmed_negatives"}
LABELLED_COLUMNS = {"id": int, "ad_id": int, "review_id": int, "url": str, "text": str, "language": str,
                    "added": str, "reviewer": str}


class ReviewInputError(ValueError):
    """A verdict that cannot be recorded: unknown verdict, unknown ad id or no reviewer."""


def labelled_text(ad: dict[str, Any]) -> str:
    """The text of an ad that the corpora keep: title and description, one per line."""
    return "\n".join(t for t in ((ad.get("title") or "").strip(), (ad.get("description") or "").strip()) if t)


def check_review(ad_id: Any, verdict: Any, reviewer: Any) -> str:
    """The reviewer's name, stripped; ReviewInputError naming the bad value otherwise."""
    if verdict not in VERDICTS:
        raise ReviewInputError(f"unknown verdict {verdict!r}: use one of {', '.join(VERDICTS)}")
    if isinstance(ad_id, bool) or not isinstance(ad_id, int):
        raise ReviewInputError(f"ad id must be a whole number, not {ad_id!r}")
    name = str(reviewer or "").strip()
    if not name:
        raise ReviewInputError("a verdict needs the reviewer's name")
    return name


def insert_review(db: sqlite_utils.Database, path: Any, ad_id: int, verdict: str, reviewer: str, note: str,
                  at: str) -> int:
    """Append the review, set ads.review_status, copy the text for lure / not_lure; returns the review id."""
    if db.execute("SELECT 1 FROM ads WHERE id = ?", [ad_id]).fetchone() is None:
        raise ReviewInputError(f"no ad with id {ad_id} in {path}")
    review = {"ad_id": ad_id, "at": at, "reviewer": reviewer, "verdict": verdict, "note": note or ""}
    review["id"] = db["reviews"].insert(review).last_pk
    db["ads"].update(ad_id, {"review_status": verdict})
    if verdict in VERDICT_TABLES:
        label(db, VERDICT_TABLES[verdict], review)
    return review["id"]


def label(db: sqlite_utils.Database, table: str, review: dict[str, Any]) -> None:
    """Copy the reviewed ad's text as it is now into `table` (once per review)."""
    ad = db.execute("SELECT url, title, description, language FROM ads WHERE id = ?", [review["ad_id"]]).fetchone()
    if ad is None:
        return
    url, title, description, language = ad
    db.execute(f"INSERT OR IGNORE INTO {table} (ad_id, review_id, url, text, language, added, reviewer)"
               " VALUES (?,?,?,?,?,?,?)",
               [review["ad_id"], review["id"], url, labelled_text({"title": title, "description": description}),
                language, review["at"], review["reviewer"]])


def migrate(db: sqlite_utils.Database, created: set[str]) -> None:
    """Indexes; a corpus table created just now (schema 2 -> 3) gets the verdicts recorded before it existed."""
    for verdict, table in VERDICT_TABLES.items():
        db[table].create_index(["ad_id"], if_not_exists=True)
        db[table].create_index(["review_id"], unique=True, if_not_exists=True)
        if table in created:
            for review in db["reviews"].rows_where("verdict = ?", [verdict], order_by="id"):
                label(db, table, review)


def labelled(db: sqlite_utils.Database, verdict: str) -> list[dict[str, Any]]:
    """Rows of VERDICT_TABLES[verdict] whose ad's latest verdict is still `verdict`, oldest first."""
    sql = (f"SELECT c.* FROM {VERDICT_TABLES[verdict]} c JOIN ads a ON a.id = c.ad_id"
           " WHERE a.review_status = ? AND c.text != '' ORDER BY c.id")
    return [dict(r) for r in db.query(sql, [verdict])]


def known_lure_entry(row: dict[str, Any]) -> dict[str, Any]:
    """A confirmed_lures row as a known-lure corpus entry (rules/known_lures/README.md schema) with the
    confirmed ad's `ad_id`, `url` and `review_id` as metadata."""
    return {"id": f"confirmed-review-{row['review_id']}", "text": row["text"], "lang": row["language"] or "",
            "source_note": f"confirmed lure #{row['ad_id']}, review #{row['review_id']} by {row['reviewer']}",
            "added": (row["added"] or "")[:10], "origin": "review", "ad_id": row["ad_id"], "url": row["url"],
            "review_id": row["review_id"]}
