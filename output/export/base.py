"""Export core: which ads (Selection), as what records (iter_records), written how (Writer subclasses).

A record is a plain dict: the ads columns an outside reader needs, `categories` as a list,
`nearest_lure` as a dict, `evidence` / `contacts` as lists of dicts, `campaign_id` as a number and `campaign`
(its campaigns row: ref, id, ads, first/last seen, status, shared contacts) or None. Writers never query the
database; selections never know formats. Later formats plug in as Writer subclasses:

    @register
    class StixWriter(FileWriter):
        name = "stix"; suffix = ".json"; description = "STIX 2.1 bundle"
        def write(self, record): ...   # collect objects
        def finish(self): ...          # dump the bundle to self.stream

Partner alerts (output/alerts) take `iter_ad_records` plus an `alert` key, and deliver with `Writer.write_dir`
(a directory) or `Writer.dumps` (one webhook body). Selections and records live in records.py (re-exported here).
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, TextIO

from .records import (CAMPAIGN_FIELDS, CONTACT_COLUMNS, EVIDENCE_COLUMNS, EXPORT_COLUMNS,  # noqa: F401 re-exported
                      REJECTED_VERDICT, ExportError, Selection, iter_ad_records, iter_records)


class Writer(ABC):
    """One export format. Used as a context manager: on error nothing half-written is left behind."""

    name: ClassVar[str]
    description: ClassVar[str] = ""

    def __init__(self, out: Path | str, **options: Any):
        self.out = out
        self.options = options
        self.count = 0

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def write(self, record: dict[str, Any]) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Finish and publish the output."""

    def abort(self) -> None:
        """Discard whatever was written."""

    @classmethod
    def write_dir(cls, records: list[dict[str, Any]], out_dir: Path, delivery_id: str, **options: Any) -> list[Path]:
        """Deliver `records` into the directory `out_dir` (created if missing); returns the files written.
        Default: one file `<delivery_id><suffix>`, written atomically. A feed format overrides this."""
        out_dir = Path(out_dir)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(f"{out_dir}: cannot create the directory: {exc.strerror or exc}") from None
        target = out_dir / f"{delivery_id}{getattr(cls, 'suffix', '')}"
        try:
            with cls(target, **options) as writer:
                for record in records:
                    writer.write(record)
                    writer.count += 1
        except OSError as exc:
            raise ExportError(f"{target}: cannot write: {exc.strerror or exc}") from None
        return [target]

    @classmethod
    def dumps(cls, records: list[dict[str, Any]], **options: Any) -> str:
        """The format's single-file serialisation of `records`, as text (a webhook body)."""
        raise ExportError(f"export format {cls.name!r} cannot be serialised to one text")

    def __enter__(self) -> "Writer":
        self.open()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class FileWriter(Writer):
    """A format written to a file (or "-" for stdout). The file appears only once complete
    (written to a temporary file beside it, then renamed), so a failed export keeps the old file."""

    suffix: ClassVar[str] = ""
    newline: ClassVar[str | None] = None

    stream: TextIO

    def open(self) -> None:
        if str(self.out) == "-":
            import sys

            self.stream = sys.stdout
            self._tmp = None
            self.begin()
            return
        target = Path(self.out)
        if target.is_dir():
            raise ExportError(f"{target}: is a directory (give a file name)")
        if target.exists() and not target.is_file():
            raise ExportError(f"{target}: not a regular file (a device or pipe would be replaced)")
        if not target.parent.is_dir():
            raise ExportError(f"output directory does not exist: {target.parent}")
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise ExportError(f"{target}: cannot write: {exc.strerror or exc}") from None
        self._tmp = Path(tmp)
        self.stream = os.fdopen(fd, "w", encoding="utf-8", newline=self.newline)
        self.begin()

    def begin(self) -> None:
        """Write a header, if the format has one."""

    def finish(self) -> None:
        """Write a footer, if the format has one."""

    def close(self) -> None:
        self.finish()
        if self._tmp is None:
            self.stream.flush()
            return
        try:
            self.stream.close()
            os.replace(self._tmp, self.out)
        except OSError as exc:
            self._tmp.unlink(missing_ok=True)
            raise ExportError(f"{self.out}: cannot write: {exc.strerror or exc}") from None

    @classmethod
    def dumps(cls, records: list[dict[str, Any]], **options: Any) -> str:
        import io

        writer = cls("-", **options)
        writer.stream, writer._tmp = io.StringIO(), None
        writer.begin()
        for record in records:
            writer.write(record)
            writer.count += 1
        writer.finish()
        return writer.stream.getvalue()

    def abort(self) -> None:
        if self._tmp is not None:
            try:
                self.stream.close()
            except OSError:
                pass  # the write already failed; the temporary file goes either way
            self._tmp.unlink(missing_ok=True)



class DocumentIndex:
    """Bookkeeping of one document over any number of records, in a private temporary SQLite database (spilled
    to disk, so memory stays flat): which object ids were written already, and the records' version keys,
    whose sorted "|"-joined text names the document (`uuid5_of_sorted`)."""

    def __init__(self):
        self.db = sqlite3.connect("")  # "": a private temporary database, deleted on close
        self.db.execute("create table seen (key text primary key) without rowid")
        self.db.execute("create table versions (key text)")

    def first(self, key: str) -> bool:
        """True the first time `key` is seen."""
        return self.db.execute("insert or ignore into seen values (?)", [key]).rowcount == 1

    def add_version(self, key: str) -> None:
        self.db.execute("insert into versions values (?)", [key])

    def uuid5_of_sorted(self, namespace: uuid.UUID, prefix: str) -> uuid.UUID:
        """uuid5(namespace, prefix + "|".join(sorted(versions))), hashed while streaming the sorted keys
        (SQLite's binary order of UTF-8 is Python's code point order)."""
        digest = hashlib.sha1(namespace.bytes + prefix.encode("utf-8"))
        for i, (key,) in enumerate(self.db.execute("select key from versions order by key")):
            digest.update((key if i == 0 else "|" + key).encode("utf-8"))
        return uuid.UUID(bytes=digest.digest()[:16], version=5)

    def close(self) -> None:
        self.db.close()


class SpooledDocumentWriter(FileWriter):
    """A format whose output is one document over all records (a STIX bundle, a MISP event) and whose head
    depends on all of them (id, counts, dates). Each record's parts are rendered as the record comes and
    spooled to a temporary file (beside the output; the system's temporary directory for stdout); `finish`
    writes the head, the spooled parts and the tail. Memory stays flat at any size."""

    separator: ClassVar[str] = ",\n"

    def begin(self) -> None:
        spool_dir = self._tmp.parent if getattr(self, "_tmp", None) is not None else None
        self.spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="", dir=spool_dir)
        self.parts = 0
        self.index = DocumentIndex()
        self.tlp = self.options.get("tlp") or "amber"
        self.producer = self.options.get("producer") or "Lurewatch"
        self.start()

    def start(self) -> None:
        """Set up the document's state (options are read)."""

    def add_part(self, text: str) -> None:
        """One part of the document's list (an object), rendered; parts are joined by `separator`."""
        if self.parts:
            self.spool.write(self.separator)
        self.spool.write(text)
        self.parts += 1

    def copy_parts(self, transform=None) -> None:
        """Write the spooled parts to the output, each line through `transform` if given."""
        self.spool.flush()
        self.spool.seek(0)
        for line in self.spool:
            self.stream.write(transform(line) if transform else line)

    def splice(self, frame_text: str, sentinel: str, transform=None) -> None:
        """Write `frame_text` (the document rendered with `sentinel` as the last item of its list) with the
        parts in the sentinel's place; without parts, the frame must have been rendered without it."""
        before, after = frame_text.split(json.dumps(sentinel), 1)
        self.stream.write(before)
        self.copy_parts(transform)
        self.stream.write(after)

    def finish(self) -> None:
        try:
            self.write_document()
        finally:
            self._drop_spool()

    @abstractmethod
    def write_document(self) -> None:
        """Write the whole document to self.stream (use `splice`)."""

    def _drop_spool(self) -> None:
        if getattr(self, "spool", None) is not None:
            self.spool.close()
            self.index.close()
            self.spool = None

    def abort(self) -> None:
        self._drop_spool()
        super().abort()


def indented(text: str, depth: int) -> str:
    """JSON text (indent=1) of a value placed `depth` levels deep in an indent=1 document."""
    return text.replace("\n", "\n" + " " * depth)


WRITERS: dict[str, type[Writer]] = {}


def register(cls: type[Writer]) -> type[Writer]:
    """Class decorator: make a Writer available by its `name`."""
    if cls.name in WRITERS and WRITERS[cls.name] is not cls:
        raise ValueError(f"export format {cls.name!r} is already registered by {WRITERS[cls.name].__name__}")
    WRITERS[cls.name] = cls
    return cls


def get_writer(name: str) -> type[Writer]:
    try:
        return WRITERS[name]
    except KeyError:
        raise ExportError(f"unknown export format {name!r} (known: {', '.join(sorted(WRITERS))})") from None


def export(db_path: Path | str, fmt: str, out: Path | str, selection: Selection = Selection(), progress=None,
           **options: Any) -> int:
    """Write the selected ads to `out` in format `fmt`. Returns the number of ads written."""
    writer_cls = get_writer(fmt)
    try:
        with writer_cls(out, **options) as writer:
            for record in iter_records(db_path, selection):
                writer.write(record)
                writer.count += 1
                if progress:
                    progress()
    except OSError as exc:  # disk full, I/O error while writing
        raise ExportError(f"{out}: cannot write: {exc.strerror or exc}") from None
    return writer.count
