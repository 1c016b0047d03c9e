"""Which concepts each language pack gives words for, and what it is missing.

A pack covers a concept when it has patterns for it (or a pack it `extends` has), or says why it does not apply
(`not_applicable`).
Concepts with `scope: universal` (place names, links, handles) need no words and are not counted.

Example:

    report = coverage()
    report.packs["ko"].missing      # ['bait.it_roles', ...]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .ruleset import RULESET_DIR, UNIVERSAL, Pack, RulesetError, load_concepts, load_packs


@dataclass
class PackCoverage:
    language: str
    name: str
    path: Path
    covered: list[str] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    without_examples: list[str] = field(default_factory=list)  # covered, but no `match` example in this pack

    @property
    def share(self) -> float:
        total = len(self.covered) + len(self.not_applicable) + len(self.missing)
        return (len(self.covered) + len(self.not_applicable)) / total if total else 1.0


@dataclass
class Coverage:
    concepts: list[str]  # the language-scoped concepts, in file order
    packs: dict[str, PackCoverage]

    @property
    def clean(self) -> bool:
        return not any(p.missing for p in self.packs.values())


def pack_coverage(pack: Pack, concepts: list[str], packs: dict[str, Pack] | None = None) -> PackCoverage:
    """`packs`: every pack by language, for the ones `pack` extends."""
    out = PackCoverage(pack.language, pack.name, pack.path)
    parents = [packs[code] for code in pack.extends if packs and code in packs]
    for cid in concepts:
        entry = pack.entries.get(cid) or next((p.entries[cid] for p in parents if cid in p.entries), None)
        if entry is not None:
            out.covered.append(cid)
            if not entry.match and entry.language == pack.language:
                out.without_examples.append(cid)
        elif cid in pack.not_applicable:
            out.not_applicable.append(cid)
        else:
            out.missing.append(cid)
    return out


def coverage(directory: Path = RULESET_DIR) -> Coverage:
    """The concept x language matrix of the ruleset in `directory` (raises RulesetError on a bad file)."""
    concepts = load_concepts(directory)
    scoped = [c.id for c in concepts if c.scope == "language"]
    packs = {p.language: p for p in load_packs(directory, {c.id for c in concepts})}
    for p in packs.values():
        unknown = [code for code in p.extends if code not in packs]
        if unknown:
            raise RulesetError(f"{p.path}: extends unknown pack(s) {', '.join(unknown)}")
    return Coverage(scoped, {code: pack_coverage(p, scoped, packs) for code, p in packs.items() if code != UNIVERSAL})
