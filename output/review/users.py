"""Review app accounts: a `users` table in the Lurewatch database, passwords hashed with PBKDF2-SHA256.

The hash format is datasette-auth-passwords' (and Django's): `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`.
Writes go through `crawler.store.Store`; the review app reads the table through its own Datasette connection
(`lookup`), whose SQLite authorizer (`deny_users_table`) keeps every page, query and JSON endpoint from reading it.

    from output.review.users import add_user, list_users, remove_user
    add_user("lurewatch.db", "ana", "analyst", "a long passphrase")
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

ROLES = ("analyst", "viewer")
TABLE = "users"
ITERATIONS = 480_000  # datasette-auth-passwords' default
ALGORITHM = "pbkdf2_sha256"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
COLUMNS = {"name": str, "role": str, "password_hash": str, "created_at": str, "updated_at": str}


class UserError(ValueError):
    """A bad user name, role or password, an unknown user, or a database that cannot hold users."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: str = ""


# -- hashing ----------------------------------------------------------------------------------------------------
def hash_password(password: str, *, salt: str | None = None, iterations: int = ITERATIONS) -> str:
    """`pbkdf2_sha256$iterations$salt$hash` (hash in base64), as datasette-auth-passwords stores it."""
    salt = salt or secrets.token_urlsafe(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("utf-8"), iterations)
    return f"{ALGORITHM}${iterations}${salt}${base64.b64encode(digest).decode('ascii')}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored` (constant-time comparison); False for a malformed hash."""
    try:
        algorithm, iterations, salt, _ = stored.split("$", 3)
        iterations = int(iterations)
    except (AttributeError, ValueError):
        return False
    if algorithm != ALGORITHM or iterations < 1:
        return False
    return hmac.compare_digest(hash_password(password, salt=salt, iterations=iterations), stored)


_DUMMY_HASH = hash_password("lurewatch: no such user", salt="dummy-salt")


def check_login(password: str, stored: str | None) -> bool:
    """Verify `password`; for an unknown user (`stored` None) hash anyway, so both take the same time."""
    if stored is None:
        verify_password(password, _DUMMY_HASH)
        return False
    return verify_password(password, stored)


# -- validation ---------------------------------------------------------------------------------------------------
def check_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise UserError(f"invalid user name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-' "
                        "(starting with a letter or digit)")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"invalid role {role!r}: expected one of {', '.join(ROLES)}")
    return role


# -- the table, through the store --------------------------------------------------------------------------------
def _open_store(db_path: Path | str):
    from crawler.store import Store, StoreError

    path = Path(db_path)
    if not path.is_file():
        raise UserError(f"database not found: {path} (create one with `lurewatch demo` or `lurewatch crawl`)")
    try:
        store = Store(path)
    except StoreError as exc:
        raise UserError(str(exc)) from exc
    if not store.db[TABLE].exists():
        store.write(lambda: store.db[TABLE].create(COLUMNS, pk="name", not_null={"role", "password_hash"},
                                                   if_not_exists=True))
    return store


def add_user(db_path: Path | str, name: str, role: str, password: str, *, replace: bool = False) -> User:
    """Add an account (or, with `replace`, set the role and password of an existing one)."""
    from crawler.store import now

    check_name(name)
    check_role(role)
    if not password:
        raise UserError("empty password")
    hashed = hash_password(password)
    store = _open_store(db_path)
    try:
        def work() -> str:
            table = store.db[TABLE]
            existing = list(table.rows_where("name = ?", [name]))
            if existing and not replace:
                raise UserError(f"user {name!r} already exists in {db_path} "
                                f"(`lurewatch users remove {name} --db {db_path}` first)")
            stamp = now()
            created = existing[0]["created_at"] if existing else stamp
            table.upsert({"name": name, "role": role, "password_hash": hashed, "created_at": created,
                          "updated_at": stamp}, pk="name")
            return created

        created = store.write(work)
    finally:
        store.close()
    return User(name, role, created)


def list_users(db_path: Path | str) -> list[User]:
    store = _open_store(db_path)
    try:
        return [User(r["name"], r["role"], r["created_at"] or "")
                for r in store.db[TABLE].rows_where(order_by="name", select="name, role, created_at")]
    finally:
        store.close()


def remove_user(db_path: Path | str, name: str) -> None:
    """Remove an account; UserError when there is none by that name. Its sessions end at its next request."""
    store = _open_store(db_path)
    try:
        def work() -> int:
            return store.db.execute(f"delete from {TABLE} where name = ?", [name]).rowcount

        if not store.write(work):
            raise UserError(f"no user {name!r} in {db_path}")
    finally:
        store.close()


# -- inside the review app -----------------------------------------------------------------------------------------
def deny_users_table(action, arg1, arg2, db_name, source):
    """SQLite authorizer for the review app's connections: no statement may read a column of the users table
    (counting its rows, as Datasette does for every table, reads none)."""
    if action == sqlite3.SQLITE_READ and arg1 == TABLE and arg2:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def lookup(conn: sqlite3.Connection, name: str) -> tuple[str, str] | None:
    """(role, password hash) of `name`, read on a review-app connection (the authorizer is lifted meanwhile;
    Datasette gives each connection to one function at a time). None for an unknown user or no users table."""
    conn.set_authorizer(None)
    try:
        row = conn.execute(f"select role, password_hash from {TABLE} where name = ?", [name]).fetchone()
    except sqlite3.OperationalError:  # no users table yet
        row = None
    finally:
        conn.set_authorizer(deny_users_table)
    return (row[0], row[1]) if row else None
