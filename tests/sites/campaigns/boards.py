"""The three planted-campaign boards (see README.md here), rendered from their ads files and served on 127.0.0.1.

    site = serve_board("lokerasia")       # a started LocalSite; site.stop() when done
    ad_paths("mekong")                    # ['/ad/2001.html', ...]: the URL path of every ad on the board

Each board has its own markup, as three unrelated sites would:
  lokerasia  schema.org JobPosting in JSON-LD, two listing pages        (`lurewatch crawl URL`)
  mekong     plain HTML classifieds, no structured data, read by a site profile (mekong_profile.yaml)
  empleos    schema.org JobPosting in microdata, found through sitemap.xml only
"""
from __future__ import annotations

import html
import json
from pathlib import Path

import yaml

from crawler.localsite import LocalSite, Page

HERE = Path(__file__).resolve().parent
BOARDS = ("lokerasia", "mekong", "empleos")
PATHS = {"lokerasia": "/loker/{id}.html", "mekong": "/ad/{id}.html", "empleos": "/empleo/{id}.html"}
PER_LISTING_PAGE = 12


def load_ads(board: str) -> list[dict]:
    """The ads of BOARD (tests/sites/campaigns/BOARD.yaml), in listing order."""
    data = yaml.safe_load((HERE / f"{board}.yaml").read_text(encoding="utf-8"))
    return data["ads"]


def ad_paths(board: str) -> list[str]:
    return [PATHS[board].format(id=ad["id"]) for ad in load_ads(board)]


def ad_text(ad: dict) -> str:
    """Everything an ad shows, for finding the planted values in it."""
    link = ad.get("link") or {}
    return "\n".join(str(ad.get(k) or "") for k in ("title", "company", "description", "contact")) + "\n" + \
        str(link.get("href") or "")


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p.strip()).replace(chr(10), '<br>')}</p>"
                   for p in text.strip().split("\n\n") if p.strip())


def _hidden_link(ad: dict) -> str:
    link = ad.get("link")
    return f'<p><a href="{html.escape(link["href"])}">{html.escape(link["text"])}</a></p>' if link else ""


def _page(lang: str, title: str, body: str, head: str = "") -> str:
    return (f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"{head}</head>\n<body>\n{body}\n</body></html>")


def _lokerasia_ad(ad: dict) -> str:
    posting = {
        "@context": "https://schema.org", "@type": "JobPosting", "identifier": f"LA-{ad['id']}",
        "title": ad["title"], "datePosted": ad["posted"],
        "description": _paragraphs(ad["description"]) + _hidden_link(ad),
        "hiringOrganization": {"@type": "Organization", "name": ad["company"]},
        "jobLocation": {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": ad["location"],
                                                      "addressCountry": ad["country"]}},
    }
    if ad.get("salary"):
        posting["baseSalary"] = ad["salary"]
    if ad.get("contact"):
        posting["applicationContact"] = {"@type": "ContactPoint", "description": ad["contact"]}
    script = f'<script type="application/ld+json">{json.dumps(posting, ensure_ascii=False)}</script>'
    return _page(ad.get("lang", "id"), ad["title"] + " | LokerAsia", f"<h1>{html.escape(ad['title'])}</h1>", script)


def _mekong_ad(ad: dict) -> str:
    contact = f'<p class="contact">{html.escape(ad["contact"])}</p>' if ad.get("contact") else ""
    body = f"""<div class="post" id="post-{ad['id']}">
  <h1 class="post-title">{html.escape(ad['title'])}</h1>
  <dl class="meta">
    <dt>Company</dt><dd class="company">{html.escape(ad['company'])}</dd>
    <dt>Location</dt><dd class="loc">{html.escape(ad['location'])}</dd>
    <dt>Salary</dt><dd class="pay">{html.escape(ad.get('salary') or '')}</dd>
    <dt>Posted</dt><dd><time datetime="{ad['posted']}">{ad['posted']}</time></dd>
  </dl>
  <div class="body">{_paragraphs(ad['description'])}{_hidden_link(ad)}</div>
  {contact}
  <p class="ref">Ref. no. MK-{ad['id']}</p>
</div>"""
    return _page(ad.get("lang", "en"), ad["title"] + " | Mekong Classifieds", body)


def _empleos_ad(ad: dict) -> str:
    contact = f"\n\n{ad['contact']}" if ad.get("contact") else ""
    salary = ""
    if ad.get("salary"):
        salary = f'<p>Salario / Salary: <span itemprop="baseSalary">{html.escape(ad["salary"])}</span></p>'
    body = f"""<a href="/">Horizonte Empleos</a>
<article itemscope itemtype="http://schema.org/JobPosting">
  <h1 itemprop="title">{html.escape(ad['title'])}</h1>
  <meta itemprop="identifier" content="HE-{ad['id']}">
  <time itemprop="datePosted" datetime="{ad['posted']}">{ad['posted']}</time>
  <div itemprop="hiringOrganization" itemscope itemtype="http://schema.org/Organization"><span itemprop="name">{html.escape(ad['company'])}</span></div>
  <div itemprop="jobLocation" itemscope itemtype="http://schema.org/Place">
    <div itemprop="address" itemscope itemtype="http://schema.org/PostalAddress">
      <span itemprop="addressLocality">{html.escape(ad['location'])}</span>, <span itemprop="addressCountry">{ad['country']}</span>
    </div>
  </div>
  {salary}
  <div itemprop="description">{_paragraphs(ad['description'] + contact)}</div>
</article>"""
    return _page(ad.get("lang", "es"), ad["title"] + " | Horizonte Empleos", body)


def _listing(board: str, title: str, ads: list[dict], page: int, pages: int) -> str:
    items = "\n".join(f'    <li class="ad"><a class="ad-link" href="{PATHS[board].format(id=ad["id"])}">'
                      f'{html.escape(ad["title"])}</a></li>' for ad in ads)
    nxt = f'<a class="next" href="/page/{page + 1}.html">Next &raquo;</a>' if page < pages else ""
    return _page("en", f"{title} - page {page}",
                 f'<h1>{title}</h1>\n<ul class="ads">\n{items}\n  </ul>\n<nav class="pager"><span class="current">{page}</span> {nxt}</nav>')


def board_pages(board: str, base_url: str) -> dict[str, Page]:
    """Every page of BOARD, by path."""
    ads = load_ads(board)
    render = {"lokerasia": _lokerasia_ad, "mekong": _mekong_ad, "empleos": _empleos_ad}[board]
    pages = {PATHS[board].format(id=ad["id"]): Page(render(ad)) for ad in ads}
    robots = "User-agent: *\nDisallow: /admin/\n"
    if board == "empleos":  # no listing links to the ads: only the sitemap does
        urls = "".join(f"<url><loc>{base_url}{path}</loc></url>" for path in pages)
        pages["/sitemap.xml"] = Page('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns='
                                     f'"http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
                                     content_type="application/xml")
        pages["/"] = Page(_page("es", "Horizonte Empleos", "<h1>Horizonte Empleos Globales</h1><p>Ofertas en el mapa del sitio.</p>"))
        robots += f"Sitemap: {base_url}/sitemap.xml\n"
    else:
        title = {"lokerasia": "LokerAsia", "mekong": "Mekong Classifieds"}[board]
        chunks = [ads[i:i + PER_LISTING_PAGE] for i in range(0, len(ads), PER_LISTING_PAGE)]
        for n, chunk in enumerate(chunks, 1):
            pages["/" if n == 1 else f"/page/{n}.html"] = Page(_listing(board, title, chunk, n, len(chunks)))
    pages["/robots.txt"] = Page(robots, content_type="text/plain")
    return pages


def serve_board(board: str) -> LocalSite:
    """A started LocalSite serving BOARD (stop it when done)."""
    site = LocalSite()
    site.pages.update(board_pages(board, site.base_url))
    return site.start()
