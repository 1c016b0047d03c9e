"""Partner exports: flagged ads with the evidence behind each score.

    from output.export import Selection, export
    n = export("lurewatch.db", "jsonl", "flagged.jsonl", Selection(min_score=60))

A format is a Writer subclass registered under a name (see base.py); add STIX 2.1, MISP or a signed
webhook as a new module with `@register` and it appears in `lurewatch export --format`.
"""
from .base import ExportError, Selection, Writer, FileWriter, WRITERS, export, get_writer, iter_ad_records, iter_records, register


def _register_formats() -> None:
    """Import every module of this package, so each format registers itself (as the CLI commands do)."""
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_") and mod.name != "base":
            importlib.import_module(f"{__name__}.{mod.name}")


_register_formats()

__all__ = ["ExportError", "Selection", "Writer", "FileWriter", "WRITERS", "export", "get_writer", "iter_ad_records", "iter_records", "register"]
