"""Shared by the bench parts: the realistic board's page template and JSON-LD posting (store, crawl), and the CPU
time of child processes (crawl, scaleout).

Example: head, foot = page_template(random.Random(16)); before = children_cpu(); ...; cpu = children_cpu() - before
"""
from __future__ import annotations

import random
import resource
from typing import Any


def children_cpu() -> float:
    """User + system seconds of every child process this process has waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def job_posting(ad: dict[str, Any], n: int, date_posted: str) -> dict[str, Any]:
    """The schema.org JobPosting of a synthetic ad (output.bench.synthetic_ads), number `n` on the board."""
    return {"@context": "https://schema.org", "@type": "JobPosting", "identifier": f"JB-{n}", "title": ad["title"],
            "description": ad["description"], "datePosted": date_posted,
            "hiringOrganization": {"@type": "Organization", "name": ad["company"] or "Recruiter"},
            "jobLocation": {"@type": "Place", "address": {"addressLocality": ad["location"] or "Remote"}},
            "baseSalary": ad["salary"]}


def page_template(rng: random.Random) -> tuple[str, str]:
    """(head, foot) of the board's pages: ~25 KB of CSS, script, menus and footer shared by every page."""
    css = "\n".join(f".c{n} .{rng.choice(['card', 'nav', 'btn', 'row', 'col'])}-{n} {{ margin: {n % 17}px {n % 11}px; "
                    f"color: #{rng.randrange(16**6):06x}; font-size: {10 + n % 9}px; }}" for n in range(180))
    script = "\n".join(f"function h{n}(e){{var t=document.querySelector('#w{n}');if(t){{t.classList.toggle('open');"
                       f"track('{rng.choice(['click', 'view', 'apply'])}',{n});}}}}" for n in range(90))
    categories = ["Customer service", "Sales", "IT", "Hospitality", "Logistics", "Finance", "Marketing", "Admin"]
    nav = "".join(f'<li><a href="/jobs/{c.lower().replace(" ", "-")}/{n}">{c} jobs in city {n}</a></li>'
                  for c in categories for n in range(10))
    foot = "".join(f'<a href="/page/{n}">Footer link {n}: about, privacy, help</a> ' for n in range(40))
    head = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>{css}</style>'
            f'<script>{script}</script></head><body><header><ul class="nav">{nav}</ul></header><main>')
    return head, f'</main><footer>{foot}</footer></body></html>'
