"""Compiled regex code kept between processes, so a process skips `re`'s parser and compiler.

`re.compile` parses a pattern and turns the tree into the code `_sre` runs; for the ruleset's 7,000 branches and
the matcher's token filters that cost about 0.4 s of CPU in every process that meets them (each branch is compiled
the first time its trigger occurs). The code depends only on the pattern, the flags and the Python version, so
the ruleset cache (rules/ruleset_cache.py) computes it once for every branch and filter and stores it next to
its JSON: one file of a JSON index and the code words (`_sre.CODESIZE` bytes each). A process then builds each
regex with `_sre.compile` from the stored code, exactly as `re._compiler.compile` does from fresh code (and
`_sre` validates the code it is given). The file is data: the same Python version (`sys.version`, `_sre.MAGIC`)
must have written it, or it is ignored.

Example:

    store = RegexStore.build([("\\\\bvisa\\\\b", 0)])    # or RegexStore.read(path)
    regex = store.compile("\\\\bvisa\\\\b")             # None when the store lacks the pattern
"""
from __future__ import annotations

import atexit
import hashlib
import json
import mmap
import os
import re
import re._compiler as _compiler
import sys
import tempfile
from array import array
from pathlib import Path
from typing import Iterable

import _sre

FORMAT = 1
_WORD = {2: "H", 4: "I", 8: "L"}.get(_sre.CODESIZE, "I")
_MAGIC = b"LWSRE1\n"


def _stamp() -> dict:
    return {"format": FORMAT, "python": sys.version, "magic": _sre.MAGIC, "codesize": _sre.CODESIZE}


def pattern_key(pattern: str, flags: int = 0) -> str:
    """The store's key of a pattern: a digest of pattern and flags (a filter's pattern can be long)."""
    return hashlib.blake2b(f"{flags}\x00{pattern}".encode(), digest_size=12).hexdigest()


def fresh_code(pattern: str, flags: int = 0, parsed=None) -> tuple[list[int], int, int, dict]:
    """(code, flags as compiled, number of groups, group names) as `re._compiler.compile` makes them."""
    from ._prefilter import parse_cached

    parsed = parsed if parsed is not None else parse_cached(pattern, flags)
    code = _compiler._code(parsed, flags)
    return code, flags | parsed.state.flags, parsed.state.groups, dict(parsed.state.groupdict)


class RegexStore:
    """Stored code per pattern key: `compile` builds a regex from it, `add` records fresh code."""

    def __init__(self):
        self._index: dict[str, list] = {}  # key -> [flags, groups, group names, offset, words]
        self._words = array(_WORD)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: str) -> bool:
        return key in self._index

    def add(self, pattern: str, flags: int = 0, parsed=None, key: str | None = None) -> None:
        """Record the code of `pattern` (under `key`, default `pattern_key(pattern, flags)`)."""
        entry_key = key or pattern_key(pattern, flags)
        if entry_key in self._index:
            return
        code, final_flags, groups, names = fresh_code(pattern, flags, parsed)
        if not isinstance(self._words, array):  # read from a file: copied before it grows
            self._words = array(_WORD, self._words)
        self._index[entry_key] = [final_flags, groups, names, len(self._words), len(code)] + ([pattern] if key else [])
        self._words.extend(code)

    def compile(self, pattern: str, flags: int = 0, key: str | None = None) -> re.Pattern | None:
        """`re.compile(pattern, flags)` from the stored code, or None when the pattern is not stored."""
        entry = self._index.get(key or pattern_key(pattern, flags))
        if entry is None:
            return None
        final_flags, groups, names, offset, size = entry[:5]
        pattern = entry[5] if len(entry) > 5 else pattern  # stored under a key of its own: its own text
        index_group = [None] * groups
        for name, i in names.items():
            index_group[i] = name
        code = self._words[offset: offset + size].tolist()  # an array's or a memoryview's slice
        return _sre.compile(pattern, final_flags, code, groups - 1, names, tuple(index_group))

    def copy_from(self, other: "RegexStore", key: str) -> None:
        """Take `other`'s entry `key` (code and all) unless this store has one."""
        if key in self._index:
            return
        entry = list(other._index[key])
        if not isinstance(self._words, array):
            self._words = array(_WORD, self._words)
        code = other._words[entry[3]: entry[3] + entry[4]]
        entry[3] = len(self._words)
        self._index[key] = entry
        self._words.extend(code)

    @classmethod
    def build(cls, patterns: Iterable[tuple[str, int]]) -> "RegexStore":
        store = cls()
        for pattern, flags in patterns:
            store.add(pattern, flags)
        return store

    # -- file ------------------------------------------------------------------------------------------------
    def write(self, path: Path) -> None:
        """Atomically (a temporary file, then a rename): concurrent readers never see half a file."""
        head = json.dumps({**_stamp(), "index": self._index}, separators=(",", ":")).encode()
        fd, tmp = tempfile.mkstemp(prefix=".regex-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC + len(head).to_bytes(8, "little") + head)
                fh.write(self._words)  # an array, or a memoryview of the file it was read from
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def read(cls, path: Path) -> "RegexStore | None":
        """The store in `path`, or None when it was written by another Python or format (ValueError when
        the file is damaged)."""
        with open(path, "rb") as fh:  # mapped, not read: a process reads only the pages of the code it uses
            try:
                data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # an empty file
                raise ValueError(f"{path}: not a regex store") from None
        if not data[:len(_MAGIC)] == _MAGIC:
            raise ValueError(f"{path}: not a regex store")
        at = len(_MAGIC)
        size = int.from_bytes(data[at: at + 8], "little")
        head = json.loads(data[at + 8: at + 8 + size])
        if {k: head.get(k) for k in _stamp()} != _stamp():
            return None
        store = cls()
        store._index = head["index"]
        body = memoryview(data)[at + 8 + size:]
        if len(body) % store._words.itemsize:
            raise ValueError(f"{path}: truncated regex store")
        store._words = body.cast(_WORD)
        if any(entry[3] + entry[4] > len(store._words) for entry in store._index.values()):
            raise ValueError(f"{path}: truncated regex store")
        return store


# -- the regexes of the engine's modules -------------------------------------------------------------------------
def cache_dir() -> Path | None:
    """Where the engine caches data between processes: $LUREWATCH_CACHE_DIR (`off`: nowhere), else
    $XDG_CACHE_HOME/lurewatch, else ~/.cache/lurewatch."""
    configured = os.environ.get("LUREWATCH_CACHE_DIR", "")
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lurewatch"


MODULE_STORE = "regex-modules.sre"
_modules: RegexStore | None = None
_modules_new = 0  # regexes compiled by this process and not in the file


def module_regex(key: str, make) -> re.Pattern:
    """The regex stored under `key` (e.g. "guarded:" + pattern) in the store of the engine modules' own regexes,
    else `make()` -> (pattern, flags), compiled, recorded, and written to the store when the process exits. Its
    patterns are the modules' constants and data files (markets, places), not ads: after one process, every
    later one reads them."""
    global _modules, _modules_new
    if _modules is None:
        _modules = _read_modules()
    regex = _modules.compile("", 0, key=key)
    if regex is None:
        pattern, flags = make()
        regex = re.compile(pattern, flags)
        if _modules_new == 0:
            atexit.register(_write_modules)
        _modules.add(pattern, flags, key=key)
        _modules_new += 1
    return regex


def _read_modules() -> RegexStore:
    where = cache_dir()
    try:
        return (RegexStore.read(where / MODULE_STORE) if where else None) or RegexStore()
    except (OSError, ValueError, KeyError, TypeError):
        return RegexStore()


def _write_modules() -> None:
    """Merged with what other processes wrote meanwhile; skipped silently when the cache is not writable."""
    where = cache_dir()
    if where is None or _modules is None:
        return
    merged = _read_modules()
    missing = [key for key in _modules._index if key not in merged]
    if not missing:
        return  # another process wrote them meanwhile
    for key in missing:
        merged.copy_from(_modules, key)
    try:
        where.mkdir(parents=True, exist_ok=True)
        merged.write(where / MODULE_STORE)
    except OSError:
        pass


def stored_compile(pattern: str, flags: int = 0) -> re.Pattern:
    """`re.compile(pattern, flags)` through the store of the modules' regexes (see `module_regex`)."""
    return module_regex("re:" + pattern_key(pattern, flags), lambda: (pattern, flags))
