"""What a demo crawl found: flagged ads with the categories and text that flagged them, how the engine did
against the board's ground truth (the `label` of each ad in ads.yaml), and the campaigns the crawl's linking
found (crawler/campaigns/: ads that share a recruiter's contact or a reworded template)."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .board import DemoAd


@dataclass
class StoredAd:
    ad_id: int
    demo_id: str
    label: str
    title: str
    score: int
    level: str
    flagged: bool
    categories: list[str]
    matches: list[tuple[str, str]]  # (category, matched text)


@dataclass
class DemoCampaign:
    campaign_id: int
    demo_ids: list[str]  # the board's ad ids in it
    contacts: list[str]  # shared contacts as an analyst reads them ("Telegram @x")
    text_links: int  # near-duplicate text links among its ads


@dataclass
class DemoReport:
    ads: list[StoredAd] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # demo ad ids not in the database
    campaigns: list[DemoCampaign] = field(default_factory=list)

    @property
    def lures(self) -> list[StoredAd]:
        return [a for a in self.ads if a.label == "lure"]

    @property
    def legit(self) -> list[StoredAd]:
        return [a for a in self.ads if a.label == "legit"]

    @property
    def missed_lures(self) -> list[StoredAd]:
        return [a for a in self.lures if not a.flagged]

    @property
    def false_alarms(self) -> list[StoredAd]:
        return [a for a in self.legit if a.flagged]


def demo_id_of(url: str) -> str | None:
    """The demo ad id in a board URL /jobs/<id>/, else None."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    return parts[1] if len(parts) == 2 and parts[0] == "jobs" else None


def build_report(db_path: Path | str, board_url: str, demo_ads: list[DemoAd]) -> DemoReport:
    """Match the board's ads to the stored ones (through every URL each ad was reached by)."""
    root = board_url.rstrip("/") + "/"
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        by_demo_id: dict[str, int] = {}
        for r in conn.execute("select url, ad_id from ad_urls where url like ? order by ad_id", [root + "%"]):
            did = demo_id_of(r["url"])
            if did:
                by_demo_id.setdefault(did, r["ad_id"])
        report = DemoReport()
        for demo in demo_ads:
            ad_id = by_demo_id.get(demo.id)
            if ad_id is None:
                report.missing.append(demo.id)
                continue
            row = conn.execute("select * from ads where id = ?", [ad_id]).fetchone()
            ev = conn.execute("select category, matched_text from evidence where ad_id = ? order by weight desc, id",
                              [ad_id]).fetchall()
            report.ads.append(StoredAd(
                ad_id=ad_id, demo_id=demo.id, label=demo.label, title=row["title"] or "",
                score=row["risk_score"] or 0, level=row["risk_level"] or "none", flagged=bool(row["flagged"]),
                categories=json.loads(row["categories"] or "[]"),
                matches=[(e["category"], e["matched_text"]) for e in ev],
            ))
        report.campaigns = demo_campaigns(conn, {a.ad_id: a.demo_id for a in report.ads})
        return report
    finally:
        conn.close()


def demo_campaigns(conn: sqlite3.Connection, demo_ids: dict[int, str]) -> list[DemoCampaign]:
    """The campaigns holding the board's ads, largest first (none in a database without campaign tables)."""
    from crawler.campaigns.risk import describe

    tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    if not {"campaigns", "ad_links"} <= tables:
        return []
    members: dict[int, list[str]] = {}
    for ad_id, campaign_id in conn.execute("select id, campaign_id from ads where campaign_id is not null"):
        if ad_id in demo_ids:
            members.setdefault(int(campaign_id), []).append(demo_ids[ad_id])
    found = []
    for row in conn.execute("select id, contacts from campaigns order by ads desc, id"):
        if row["id"] not in members:
            continue
        contacts = [describe(c.get("kind"), str(c.get("value") or "")) for c in json.loads(row["contacts"] or "[]")
                    if isinstance(c, dict)]
        text = conn.execute("select count(*) from ad_links l join ads a on a.id = l.ad_id where l.kind = 'text'"
                            " and a.campaign_id = ?", [row["id"]]).fetchone()[0]
        found.append(DemoCampaign(row["id"], sorted(members[row["id"]]), contacts, text))
    return found


def print_report(report: DemoReport, console) -> None:
    from rich.table import Table

    flagged = sorted((a for a in report.ads if a.flagged), key=lambda a: -a.score)
    table = Table(title=f"Flagged ads: {len(flagged)} of {len(report.ads)}", show_lines=False, expand=True)
    table.add_column("score", justify="right")
    table.add_column("level")
    table.add_column("title", ratio=3, overflow="fold")
    table.add_column("why: category \u2192 matched text", ratio=4, overflow="fold")
    for a in flagged:
        seen, why = set(), []
        for cat, text in a.matches:
            if cat not in seen:
                seen.add(cat)
                why.append(f"{cat} \u2192 \u201c{text}\u201d")
        table.add_row(str(a.score), a.level, a.title, "; ".join(why[:5]))
    console.print(table)
    lures, legit = report.lures, report.legit
    console.print(
        f"Ground truth of the demo board: {len(lures) - len(report.missed_lures)}/{len(lures)} lures flagged, "
        f"{len(report.false_alarms)}/{len(legit)} legitimate ads flagged.", highlight=False)
    if report.missed_lures:
        console.print("  missed lures: " + ", ".join(a.demo_id for a in report.missed_lures), highlight=False)
    if report.false_alarms:
        console.print("  false alarms: " + ", ".join(a.demo_id for a in report.false_alarms), highlight=False)
    if report.missing:
        console.print(f"  [red]{len(report.missing)} board ads were not stored:[/red] " + ", ".join(report.missing))
    print_campaigns(report, console)


def print_campaigns(report: DemoReport, console) -> None:
    from rich.table import Table

    if not report.campaigns:
        console.print("Campaigns: no two demo ads are linked.", highlight=False)
        return
    table = Table(title=f"Campaigns: {len(report.campaigns)} groups of linked ads "
                        f"({sum(len(c.demo_ids) for c in report.campaigns)} ads)", expand=True)
    table.add_column("campaign", justify="right")
    table.add_column("ads", justify="right")
    table.add_column("linked by", ratio=2, overflow="fold")
    table.add_column("demo ads", ratio=3, overflow="fold")
    for c in report.campaigns:
        why = list(c.contacts) + ([f"near-duplicate text ({c.text_links})"] if c.text_links else [])
        table.add_row(f"#{c.campaign_id}", str(len(c.demo_ids)), ", ".join(why), ", ".join(c.demo_ids))
    console.print(table)
    console.print("One recruiter behind several ads: see each campaign's page, its contact graph and the risk that "
                  "travels to its ads in the review app (/-/lurewatch/campaigns).", highlight=False)
