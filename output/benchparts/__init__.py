"""`make bench` parts beyond the engine: one module per part in this package, found by its file name.

A part module defines
    TITLE: str                     the heading of its section in BENCHMARKS.md
    def run(quick: bool) -> str    measures, and returns the section's markdown (without the heading);
                                   quick=True runs tiny sizes, for the smoke test (no numbers to keep)
`python -m output.bench --part NAME` runs one part; with no --part, the engine bench and every part run.
Each section sits between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in BENCHMARKS.md: running one part
rewrites only its own section, and text outside the markers (notes on earlier passes) is kept.

Example: python -m output.bench --part campaigns
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType


def part_names() -> list[str]:
    """Every part module of this package, sorted. Example: part_names() -> ['campaigns', 'store']"""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def load(name: str) -> ModuleType:
    """The part module `name`, checked to have TITLE and run(). Example: load("store").run(quick=True)"""
    module = importlib.import_module(f"{__name__}.{name}")
    if not isinstance(getattr(module, "TITLE", None), str) or not callable(getattr(module, "run", None)):
        raise TypeError(f"output/benchparts/{name}.py must define TITLE (str) and run(quick) -> str")
    return module


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def replace_section(document: str, name: str, body: str) -> str:
    """`document` with part `name`'s section set to `body`; a new section goes after the last generated one
    (before the hand-written notes), or at the end. Example: replace_section(text, "store", "## Store ...")"""
    start, end = markers(name)
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(document):
        return pattern.sub(lambda _m: block, document, count=1)
    last_end = None
    for last_end in re.finditer(r"<!-- /bench:[\w-]+ -->", document):
        pass
    if last_end is None:
        return (document.rstrip() + "\n\n" if document.strip() else "") + block + "\n"
    cut = last_end.end()
    return document[:cut] + "\n\n" + block + document[cut:]
