"""`lurewatch users add|list|remove`: the review app's accounts (output/review/users.py)."""
from __future__ import annotations

import sys

import click

from . import cli

MIN_PASSWORD = 8
DB_OPTION = click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False),
                         help="Lurewatch SQLite database the review app serves.")


@cli.group()
def users():
    """Accounts of the review app (`lurewatch review`): analysts read ads and
    record verdicts, viewers only read. Passwords are stored hashed
    (PBKDF2-SHA256) in the database's users table, which the app never shows.

    Example:

        lurewatch users add ana --role analyst --db lurewatch.db
    """


def read_password() -> str:
    """The password: prompted twice on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    return line[:-1] if line.endswith("\n") else line


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["analyst", "viewer"]),
              help="analyst: read and record verdicts; viewer: read only.")
@click.option("--replace", is_flag=True, help="Set a new role and password for an existing account.")
@DB_OPTION
def add(name, role, replace, db_path):
    """Add a review account. The password is read from stdin when stdin is
    not a terminal (first line), else prompted for twice. At least 8 characters.

    Example:

    \b
        lurewatch users add ana --role analyst --db lurewatch.db
        printf '%s\\n' "$PASSWORD" | lurewatch users add vic --role viewer --db lurewatch.db
    """
    from output.review.users import UserError, add_user, check_name

    try:
        check_name(name)
        password = read_password()
        if len(password) < MIN_PASSWORD:
            raise UserError(f"password too short: at least {MIN_PASSWORD} characters")
        user = add_user(db_path, name, role, password, replace=replace)
    except UserError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"{'Updated' if replace else 'Added'} {user.role} {user.name!r} in {db_path}")


@users.command("list")
@DB_OPTION
def list_(db_path):
    """List the review accounts: name, role, when added (never the password).

    Example:

        lurewatch users list --db lurewatch.db
    """
    from output.review.users import UserError, list_users

    try:
        found = list_users(db_path)
    except UserError as exc:
        raise click.ClickException(str(exc))
    if not found:
        click.echo(f"No review accounts in {db_path}: add one with `lurewatch users add NAME --role analyst --db {db_path}`")
    for user in found:
        click.echo(f"{user.name}\t{user.role}\t{user.created_at}")


@users.command("remove")
@click.argument("name")
@DB_OPTION
def remove(name, db_path):
    """Remove a review account; its open sessions end at their next request.

    Example:

        lurewatch users remove vic --db lurewatch.db
    """
    from output.review.users import UserError, remove_user

    try:
        remove_user(db_path, name)
    except UserError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Removed {name!r} from {db_path}")
