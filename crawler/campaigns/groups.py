"""Connected groups of linked ads, and campaign ids that stay put.

A new group keeps the id of the old campaign most of its ads were in (the largest old group it contains;
ties: the lower id), each old id going to one new group at most (the one holding most of its ads). Other
groups get a new id from meta `campaign_next_id`: an id is never reused for another group.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable



def components(edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Groups of the nodes connected by `edges` (each sorted, groups by their smallest node): union-find
    with path halving. A node on no edge is in no group."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = x = parent.get(parent[x], parent[x])
        return x

    linked: set[int] = set()
    for a, b in edges:
        linked.update((a, b))
        ra, rb = root(a), root(b)
        if ra != rb:
            if ra < rb:
                parent[rb] = ra
            else:
                parent[ra] = rb
    groups: dict[int, list[int]] = {}
    for x in sorted(linked):
        groups.setdefault(root(x), []).append(x)
    return sorted((g for g in groups.values() if len(g) >= 2), key=lambda g: g[0])


def assign_ids(groups: list[list[int]], old_ids: dict[int, int], next_id: int) -> tuple[list[int], int]:
    """(an id for each group, the next free id). `old_ids`: ad -> its campaign id before this run."""
    overlaps = []  # (ads shared, old id, group index)
    for gi, group in enumerate(groups):
        for old, shared in Counter(old_ids[a] for a in group if old_ids.get(a) is not None).items():
            overlaps.append((shared, old, gi))
    overlaps.sort(key=lambda t: (-t[0], t[1], t[2]))
    ids: list[int | None] = [None] * len(groups)
    taken: set[int] = set()
    for _, old, gi in overlaps:
        if ids[gi] is None and old not in taken:
            ids[gi] = old
            taken.add(old)
    for gi, group in enumerate(groups):  # groups in order of their smallest ad: new ids are reproducible
        if ids[gi] is None:
            ids[gi] = next_id
            next_id += 1
    return ids, next_id
