"""Connected groups of linked ads, and campaign ids that stay put.

A new group keeps the id of the old campaign most of its ads were in (the largest old group it contains;
ties: the lower id), each old id going to one new group at most (the one holding most of its ads). Other
groups get a new id from meta `campaign_next_id`: an id is never reused for another group.
"""
from __future__ import annotations

from array import array
from collections import Counter
from typing import Iterable

import numpy as np


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


def group_roots(edges: Iterable[tuple[int, int]], size: int) -> np.ndarray:
    """components() over int arrays for node ids below `size`: each node's group root (its smallest node), -1
    for a node on no edge. Memory: 17 bytes per id, whatever the number of edges."""
    parent = array("q", range(size))
    linked = bytearray(size)
    for a, b in edges:
        linked[a] = linked[b] = 1
        while parent[a] != a:  # path halving
            parent[a] = a = parent[parent[a]]
        while parent[b] != b:
            parent[b] = b = parent[parent[b]]
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    roots = np.frombuffer(parent, dtype=np.int64).copy()
    del parent
    while True:  # pointer jumping to the roots
        up = roots[roots]
        if np.array_equal(up, roots):
            break
        roots = up
    roots[np.frombuffer(bytes(linked), dtype=np.uint8) == 0] = -1
    return roots


def assign_ids_by_root(roots: np.ndarray, old: np.ndarray, next_id: int) -> tuple[np.ndarray, int]:
    """assign_ids() over arrays: (each node's new campaign id, 0 for none; the next free id). `roots` from
    group_roots, `old[x]` the campaign id of node x before this run (0: none)."""
    linked = roots >= 0
    members = np.flatnonzero(linked & (old > 0))
    codes, counts = np.unique(np.stack([roots[members], old[members]], axis=1), axis=0, return_counts=True) \
        if len(members) else (np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64))
    order = np.lexsort((codes[:, 0], codes[:, 1], -counts))  # most shared first; ties: lower old id, group
    campaign_of_root: dict[int, int] = {}
    taken: set[int] = set()
    for root, old_id in codes[order].tolist():
        if root not in campaign_of_root and old_id not in taken:
            campaign_of_root[root] = old_id
            taken.add(old_id)
    group_roots_sorted = np.unique(roots[linked])
    cid = np.zeros(len(group_roots_sorted), dtype=np.int64)
    for i, root in enumerate(group_roots_sorted.tolist()):  # groups in order of their smallest ad
        if root in campaign_of_root:
            cid[i] = campaign_of_root[root]
        else:
            cid[i] = next_id
            next_id += 1
    new = np.zeros(len(roots), dtype=np.int64)
    new[linked] = cid[np.searchsorted(group_roots_sorted, roots[linked])]
    return new, next_id
