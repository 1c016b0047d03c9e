"""The contact graph of one campaign as inline SVG, laid out and drawn by our own code (no script, no fonts or
images from anywhere): ads and the contact values that link them are the nodes, links the edges.

- an ad is a circle coloured by its risk level, a link to its case page, labelled `#id`;
- a shared contact (phone, Telegram, email, ...) is a square labelled with its kind and value;
- an edge joins an ad to each contact it shares; a near-duplicate text joins two ads directly (dashed).
The layout is a force-directed one (Fruchterman-Reingold, numpy) from a fixed start: the same campaign is drawn the
same way every time. Every label and tooltip is escaped (values come from crawled ads).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from markupsafe import Markup

from crawler.campaigns.risk import describe

WIDTH, HEIGHT, MARGIN = 860, 520, 24
LABEL_ROOM = 190  # a contact's label (at most LABEL_CHARS) is written right of its square
LEVEL_COLOURS = {"high": "#b3261e", "medium": "#c25e00", "low": "#8a7400", "none": "#5f6b73"}
CONTACT_COLOUR = "#0072B2"
LABEL_CHARS = 30
MAX_NODES = 240  # ads + contacts drawn; a larger campaign is drawn in part (the page says so)
ITERATIONS = 120


@dataclass
class Graph:
    nodes: list[dict[str, Any]] = field(default_factory=list)  # {key, type: ad|contact, label, title, ...}
    edges: list[tuple[int, int, str]] = field(default_factory=list)  # (node index, node index, ad-contact | text)
    cut: bool = False  # not every ad or contact is drawn


def build_graph(ads: list[dict[str, Any]], links: list[dict[str, Any]], max_nodes: int = MAX_NODES) -> Graph:
    """Nodes and edges from the campaign's ads (riskiest first) and its `ad_links` rows."""
    graph = Graph()
    index: dict[tuple, int] = {}
    drawn_ads = {}
    for ad in ads:
        if len(index) >= max_nodes:
            graph.cut = True
            break
        index[("ad", ad["id"])] = len(graph.nodes)
        drawn_ads[ad["id"]] = ad
        level = ad.get("risk_level") or "none"
        graph.nodes.append({"key": f"ad-{ad['id']}", "type": "ad", "id": ad["id"], "label": f"#{ad['id']}",
                            "level": level if level in LEVEL_COLOURS else "none",
                            "title": f"#{ad['id']} {ad.get('title') or '(no title)'} - score "
                                     f"{ad.get('risk_score') if ad.get('risk_score') is not None else '?'}"
                                     f" ({level}), {ad.get('source') or '?'}"})
    edges: set[tuple[int, int, str]] = set()
    for link in links:
        a, b = link["ad_id"], link["other_ad_id"]
        if a not in drawn_ads or b not in drawn_ads:
            continue
        if link["kind"] == "text":
            edges.add((min(index[("ad", a)], index[("ad", b)]), max(index[("ad", a)], index[("ad", b)]), "text"))
            continue
        key = ("contact", link["kind"], link["value"] or "")
        if key not in index:
            if len(index) >= max_nodes:
                graph.cut = True
                continue
            index[key] = len(graph.nodes)
            label = describe(link["kind"], link["value"])
            graph.nodes.append({"key": f"contact-{link['kind']}:{link['value']}", "type": "contact", "label": label,
                                "title": label, "kind": link["kind"]})
        for ad_id in (a, b):
            edges.add((index[("ad", ad_id)], index[key], "contact"))
    graph.edges = sorted(edges)
    return graph


def layout(graph: Graph, width: int = WIDTH, height: int = HEIGHT, iterations: int = ITERATIONS) -> np.ndarray:
    """(x, y) per node inside the drawing box: Fruchterman-Reingold from nodes placed on a sunflower spiral."""
    n = len(graph.nodes)
    if n == 0:
        return np.zeros((0, 2))
    golden = math.pi * (3 - math.sqrt(5))
    pos = np.array([[math.sqrt(i + 0.5) * math.cos(i * golden), math.sqrt(i + 0.5) * math.sin(i * golden)]
                    for i in range(n)], dtype=float)
    if n > 1:
        k = 1.0 / math.sqrt(n) * 2.0  # ideal edge length in the unit box
        pos = pos / (np.abs(pos).max() or 1.0)
        adjacency = np.zeros((n, n))
        for a, b, _ in graph.edges:
            adjacency[a, b] = adjacency[b, a] = 1.0
        temperature = 0.2
        for _ in range(iterations):
            delta = pos[:, None, :] - pos[None, :, :]
            dist = np.sqrt((delta ** 2).sum(axis=2))
            np.fill_diagonal(dist, 1.0)
            dist = np.maximum(dist, 0.01)
            force = (k * k / dist ** 2 - adjacency * dist / k)  # repulsion - attraction, per unit of delta
            np.fill_diagonal(force, 0.0)
            move = (delta * force[:, :, None]).sum(axis=1)
            move -= pos * 0.1 * math.sqrt(n)  # gravity: unlinked parts stay near the middle
            length = np.maximum(np.sqrt((move ** 2).sum(axis=1)), 1e-9)
            pos += move / length[:, None] * np.minimum(length, temperature)[:, None]
            temperature *= 0.96
    lo, hi = pos.min(axis=0), pos.max(axis=0)
    span = np.where(hi - lo > 1e-9, hi - lo, 1.0)
    box = np.array([width - 2 * MARGIN - LABEL_ROOM, height - 2 * MARGIN - 20])  # contact labels go right
    centred = np.where(hi - lo > 1e-9, (pos - lo) / span, 0.5)
    return centred * box + np.array([MARGIN, MARGIN])


def contact_graph(ads: list[dict[str, Any]], links: list[dict[str, Any]], case_url: Callable[[int], str]) -> Markup:
    """The campaign's contact graph as an inline <svg> element."""
    graph = build_graph(ads, links)
    pos = layout(graph)
    parts = [Markup('<svg xmlns="http://www.w3.org/2000/svg" class="contact-graph" role="img" width="{w}" '
                    'height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11" '
                    'aria-label="Contact graph: {ads} ads, {contacts} shared contacts" data-cut="{cut}">')
             .format(w=WIDTH, h=HEIGHT, ads=sum(n["type"] == "ad" for n in graph.nodes),
                     contacts=sum(n["type"] == "contact" for n in graph.nodes), cut=int(graph.cut))]
    for a, b, kind in graph.edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        dash = ' stroke-dasharray="5 4"' if kind == "text" else ""
        parts.append(Markup('<line class="edge edge-{kind}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"'
                            ' stroke="#888" stroke-width="1.4"{dash} data-from="{f}" data-to="{t}"/>')
                     .format(kind=kind, x1=x1, y1=y1, x2=x2, y2=y2, dash=Markup(dash),
                             f=graph.nodes[a]["key"], t=graph.nodes[b]["key"]))
    for node, (x, y) in zip(graph.nodes, pos):
        if node["type"] == "contact":
            parts.append(Markup('<g class="node node-contact" data-node="{key}"><title>{title}</title>'
                                '<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" fill="{c}"/>'
                                '<text x="{tx:.1f}" y="{ty:.1f}" fill="#123">{label}</text></g>')
                         .format(key=node["key"], title=node["title"], x=x - 6, y=y - 6, c=CONTACT_COLOUR,
                                 tx=x + 9, ty=y + 4, label=_short(node["label"])))
        else:
            parts.append(Markup('<a href="{href}" class="node node-ad" data-node="{key}"><title>{title}</title>'
                                '<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="{c}" stroke="#fff" stroke-width="1.5"/>'
                                '<text x="{x:.1f}" y="{ty:.1f}" text-anchor="middle" fill="#000">{label}</text></a>')
                         .format(href=case_url(int(node["id"])), key=node["key"], title=node["title"], x=x, y=y,
                                 c=LEVEL_COLOURS[node["level"]], ty=y + 21, label=node["label"]))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
