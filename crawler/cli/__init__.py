"""The `lurewatch` command line: a thin click layer over the library.

Each command lives in its own module here and registers itself on `cli`.
Every command's docstring ends with an `Example:`.
"""
import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lurewatch")
def cli():
    """Lurewatch: find fake job ads that lure people into scam compounds.

    Example:

        lurewatch demo
    """


def _register() -> None:
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")


_register()
