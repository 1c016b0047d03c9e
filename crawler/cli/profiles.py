"""`lurewatch profiles list|check`: the site profiles in spiders/profiles/ (or any YAML path)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import cli


def spider_for_profile(profile: str, urls: tuple[str, ...] = (), max_pages: int | None = None) -> tuple[str, dict]:
    """(spider name, spider arguments) to crawl with a site profile; raises ClickException on a bad profile."""
    from spiders.profiles_schema import ProfileError, load_profile

    try:
        loaded = load_profile(profile)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from None
    kwargs: dict = {"name": str(loaded.path)}
    if urls:
        kwargs["urls"] = ",".join(urls)
    if max_pages:
        kwargs["max_pages"] = max_pages
    return "profile", kwargs


@cli.group()
def profiles():
    """Site profiles: job boards described as YAML (selectors, fields, politeness).

    Example:

        lurewatch profiles check jobsdb_hk --against saved_search_page.html
    """


@profiles.command("list")
def list_profiles():
    """List the shipped profiles (spiders/profiles/*.yaml) and whether they are valid.

    Example:

        lurewatch profiles list
    """
    from rich.console import Console
    from rich.table import Table

    from spiders.profiles_schema import PROFILES_DIR, ProfileError, iter_profiles

    table = Table(title=f"Site profiles in {PROFILES_DIR}", show_lines=False)
    for col in ("name", "mode", "browser", "max pages", "start URLs", "description"):
        table.add_column(col, overflow="fold")
    bad = 0
    for path, profile in iter_profiles():
        if isinstance(profile, ProfileError):
            bad += 1
            table.add_row(path.stem, "[red]INVALID[/red]", "", "", "", str(profile))
            continue
        cards = "api" if profile.api else "listing"
        mode = cards if profile.listing_only else f"{cards}+detail" if profile.has_cards else "detail"
        table.add_row(profile.name, mode, "yes" if profile.browser else "no", str(profile.max_pages or "-"),
                      "\n".join(profile.start_urls), profile.description)
    Console().print(table)
    if bad:
        sys.exit(1)


@profiles.command("check")
@click.argument("profile", required=False, metavar="[NAME|PATH]")
@click.option("--against", "page", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A saved HTML page (or JSON response, for an api: profile): show what the profile extracts.")
@click.option("--url", "page_url", default=None, help="URL the saved page came from (resolves relative links; "
              "default: the profile's first start URL).")
@click.option("--json", "as_json", is_flag=True, help="Print the extraction as JSON.")
def check(profile, page, page_url, as_json):
    """Validate a profile (or, without NAME|PATH, every shipped profile); errors name file, line
    and key. With --against, run its listing and detail selectors on a saved page (for an api:
    profile, its JSON field paths on a saved JSON response).

    Example:

        lurewatch profiles check jobsdb_hk --against jobsdb_search.html
    """
    from spiders.profiles_schema import ProfileError, iter_profiles, load_profile

    if profile is None:
        if page:
            raise click.UsageError("--against needs a profile NAME or PATH")
        bad = 0
        for path, loaded in iter_profiles():
            if isinstance(loaded, ProfileError):
                bad += 1
                click.echo(f"INVALID {loaded}", err=True)
            else:
                click.echo(f"ok      {loaded.name} ({path})")
        if bad:
            sys.exit(1)
        return
    try:
        loaded = load_profile(profile)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from None
    if not page:
        click.echo(f"ok      {loaded.name} ({loaded.path})")
        return
    try:
        html = page.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise click.ClickException(f"{page}: cannot read: {exc}") from None
    url = page_url or loaded.start_urls[0]
    result = {
        "profile": loaded.name,
        "page": str(page),
        "listing_ads": _api_ads(loaded, html, url) if loaded.api else loaded.listing_items(html, url),
        "detail_links": loaded.detail_links(html, url),
        "next_page": loaded.next_page_url(html, url),
        "detail_fields": loaded.detail_fields(html, url) if loaded.detail else {},
    }
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _print_extraction(result)


def _api_ads(profile, text: str, url: str) -> list[dict]:
    """Ads of an `api:` profile in a saved JSON response."""
    from spiders.profile_api import ApiDataError, parse_json

    try:
        return profile.api.ads(parse_json(text, url), url)
    except ApiDataError as exc:
        raise click.ClickException(f"{exc} (an api: profile is checked against a saved JSON response)") from None


def _print_extraction(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    ads = result["listing_ads"]
    console.print(f"[bold]{result['profile']}[/bold] on {result['page']}: {len(ads)} listing ads, "
                  f"{len(result['detail_links'])} detail links, next page: {result['next_page'] or '-'}")
    if ads:
        table = Table(show_lines=True)
        cols = [c for c in ("title", "company", "location", "salary_text", "posted_at", "external_id", "url")
                if any(c in a for a in ads)]
        for col in cols:
            table.add_column(col, overflow="fold")
        for ad in ads:
            table.add_row(*[str(ad.get(c, "")) for c in cols])
        console.print(table)
    for link in result["detail_links"]:
        console.print(f"  detail: {link}", markup=False, highlight=False)
    if result["detail_fields"]:
        console.print("[bold]detail fields on this page[/bold]")
        for key, value in result["detail_fields"].items():
            console.print(f"  {key}: {value}", markup=False, highlight=False)
    if not ads and not result["detail_links"] and not result["detail_fields"]:
        console.print("[yellow]nothing extracted: the selectors match nothing on this page[/yellow]")
        sys.exit(1)
