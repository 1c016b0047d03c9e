"""YAML documents that remember the line of every key and item, for errors that name file and line.

One loader for every data file with a schema (crawl plans, site profiles, language data):

    doc = LinedYaml(path, text, error=PlanError)
    doc.data                      # the plain Python value
    doc.line(("jobs", 0, "every"))  # 5: the line of that key (or of its nearest parent)

Example:

    LinedYaml(Path("plan.yaml"), "jobs:\\n  - name: a\\n", error=ValueError).line(("jobs", 0, "name"))  # 2
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class LinedYaml:
    """A parsed YAML document; invalid YAML and duplicate keys raise `error` with "file:line: ..."."""

    def __init__(self, path: Path, text: str, *, error: type[Exception], unknown_line: int = 1):
        self.path = path
        self.error = error
        self.lines: dict[tuple, int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else unknown_line
            raise error(f"{path}:{line}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
        self.empty = node is None
        self.data = self._convert(node, ()) if node is not None else None

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
