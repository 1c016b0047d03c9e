"""Connected groups of linked ads, and campaign ids that stay put.

A new group keeps the id of the old campaign most of its ads were in (the largest old group it contains;
ties: the lower id), each old id going to one new group at most (the one holding most of its ads). Other
groups get a new id from meta `campaign_next_id`: an id is never reused for another group.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable

import numpy as np


def components(nodes: Iterable[int], edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Groups of two or more nodes connected by `edges` (each sorted, groups by their smallest node)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ids = np.unique(np.fromiter(nodes, dtype=np.int64))
    pairs = np.array(list(edges), dtype=np.int64).reshape(-1, 2)
    if not len(ids) or not len(pairs):
        return []
    a, b = np.searchsorted(ids, pairs[:, 0]), np.searchsorted(ids, pairs[:, 1])
    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (a, b)), shape=(len(ids), len(ids)))
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    groups = [ids[part].tolist() for part in np.split(order, cuts) if len(part) >= 2]
    return sorted(groups, key=lambda g: g[0])


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
