"""YAML documents that remember the line of every key and item, for errors that name file and line.

The one place that loads data files with line numbers. `LinedYaml` for files checked key by key (crawl plans,
alert partners, site profiles, language data):

    doc = LinedYaml.read(path, error=PlanError, what="plan file", items=("jobs", "job"))
    doc.data                      # the plain Python value
    doc.line(("jobs", 0, "every"))  # 5: the line of that key (or of its nearest parent)
    doc.fail(("jobs", 0, "every"), "bad", "a")  # PlanError("plan.yaml:5: job 'a': every: bad")

`LineLoader` for large files read as plain values (the ruleset, places, markets, the demo board): every mapping
also holds "__line__" (its first line) and "__lines__" (key -> line); `data_keys(mapping)` leaves them out.

Example:

    LinedYaml(Path("plan.yaml"), "jobs:\\n  - name: a\\n", error=ValueError).line(("jobs", 0, "name"))  # 2
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")  # a named item of a list (a plan's job, a partner)


LINE_KEYS = ("__line__", "__lines__")


def _mapping_with_lines(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    seen: set = set()
    for key, _ in node.value:  # yaml keeps the last of two equal keys and drops the first without a word
        if isinstance(key, yaml.ScalarNode):
            if key.value in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key.value!r}", key.start_mark)
            seen.add(key.value)
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__lines__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return mapping


class LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: ~10x faster start-up
    """yaml.load(text, Loader=LineLoader): every mapping also holds "__line__" and "__lines__"."""


class PyLineLoader(yaml.SafeLoader):
    """LineLoader in pure Python: its errors quote the offending line."""


for _loader in (LineLoader, PyLineLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_lines)


def data_keys(mapping: dict) -> set:
    """The keys of a LineLoader mapping without its line bookkeeping."""
    return {k for k in mapping if k not in LINE_KEYS}


class LinedYaml:
    """A parsed YAML document; invalid YAML and duplicate keys raise `error` with "file:line: ...".

    `items=("jobs", "job")` names the document's list of items and what one is called, for `fail`."""

    def __init__(self, path: Path, text: str, *, error: type[Exception], unknown_line: int = 1,
                 items: tuple[str, str] | None = None):
        self.path = path
        self.error = error
        self.items = items
        self.lines: dict[tuple, int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else unknown_line
            raise error(f"{path}:{line}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
        self.empty = node is None
        self.data = self._convert(node, ()) if node is not None else None

    @classmethod
    def read(cls, path: Path, *, error: type[Exception], what: str, items: tuple[str, str] | None = None) -> "LinedYaml":
        """Read and parse `path`; `error` says "{path}: {what} not found" or "cannot read the {what}"."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise error(f"{path}: {what} not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise error(f"{path}: cannot read the {what}: {exc}") from None
        return cls(path, text, error=error, items=items)

    def fail(self, where: tuple, message: str, owner: str | None = None) -> Exception:
        """`error` with "file:line: item 'owner': key.path: message" (the key path inside the item)."""
        list_key, item = self.items or ("", "")
        who = f"{item} {owner!r}: " if owner else ""
        inside = len(where) >= 2 and where[0] == list_key
        key = ".".join(str(w) for w in (where[2:] if inside else where))
        return self.error(f"{self.path}:{self.line(where)}: {who}{key + ': ' if key else ''}{message}")

    def named_item(self, where: tuple, raw: Any, keys: tuple[str, ...], shape: str) -> str:
        """Check one item of the document's list: a mapping (else "each {item} must be a mapping ({shape})") with a
        `name` matching NAME_RE and only `keys`. Returns the name."""
        item = (self.items or ("", "item"))[1]
        if not isinstance(raw, dict):
            raise self.fail(where, f"each {item} must be a mapping ({shape})")
        name = raw.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise self.fail(where + ("name",), "required: lower-case letters, digits, '-' and '_' (up to 64), "
                                               f"not {name!r}")
        for key in raw:
            if key not in keys:
                raise self.fail(where + ((key,) if key else ()), f"unknown key (allowed: {', '.join(keys)})", name)
        return name

    def _convert(self, node: yaml.Node, where: tuple) -> Any:
        self.lines.setdefault(where, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict = {}
            for key_node, value_node in node.value:
                key = key_node.value
                if key in out:
                    raise self.error(f"{self.path}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
                self.lines[where + (key,)] = key_node.start_mark.line + 1
                out[key] = self._convert(value_node, where + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._convert(v, where + (i,)) for i, v in enumerate(node.value)]
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        finally:
            loader.dispose()

    def line(self, where: tuple) -> int:
        """The line of `where`, or of its nearest parent that has one."""
        while where and where not in self.lines:
            where = where[:-1]
        return self.lines.get(where, 1)
