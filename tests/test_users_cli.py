"""`lurewatch users add|list|remove` in a subprocess: passwords from stdin or a terminal prompt, hashed; clear errors."""
from __future__ import annotations

import os
import pty
import select
import sqlite3
import subprocess
import time

import pytest

from output.review.users import verify_password
from reviewapp import LUREWATCH
from test_review_auth import make_db


def users_cli(*args, password=None):
    return subprocess.run([str(LUREWATCH), "users", *args], input=password, capture_output=True, text=True, timeout=60)


def test_users_add_list_remove(tmp_path):
    db = str(make_db(tmp_path / "cli.db"))
    added = users_cli("add", "ana", "--role", "analyst", "--db", db, password="long-password-1\n")
    assert added.returncode == 0, added.stderr
    assert "Added analyst 'ana'" in added.stdout
    assert users_cli("add", "vic", "--role", "viewer", "--db", db, password="long-password-2").returncode == 0
    [(role, stored)] = sqlite3.connect(db).execute("select role, password_hash from users where name = 'ana'").fetchall()
    assert role == "analyst" and stored.startswith("pbkdf2_sha256$480000$")
    assert verify_password("long-password-1", stored)  # the newline ended the password
    listed = users_cli("list", "--db", db)
    assert listed.returncode == 0
    assert [line.split("\t")[:2] for line in listed.stdout.splitlines()] == [["ana", "analyst"], ["vic", "viewer"]]
    assert "pbkdf2" not in listed.stdout
    removed = users_cli("remove", "vic", "--db", db)
    assert removed.returncode == 0 and "Removed 'vic'" in removed.stdout
    assert [line.split("\t")[0] for line in users_cli("list", "--db", db).stdout.splitlines()] == ["ana"]


@pytest.mark.parametrize("args, password, message", [
    (("remove", "nobody"), None, "no user 'nobody' in"),
    (("add", "ana", "--role", "analyst"), "long-password-9\n", "user 'ana' already exists"),
    (("add", "bob", "--role", "analyst"), "short\n", "password too short: at least 8 characters"),
    (("add", "bob", "--role", "analyst"), "", "password too short"),
    (("add", "bob", "--role", "admin"), "long-password-9\n", "'admin' is not one of 'analyst', 'viewer'"),
    (("add", "bad name", "--role", "viewer"), "long-password-9\n", "invalid user name 'bad name'"),
])
def test_users_errors_are_clear(tmp_path, args, password, message):
    db = str(make_db(tmp_path / "cli.db"))
    assert users_cli("add", "ana", "--role", "analyst", "--db", db, password="long-password-1\n").returncode == 0
    result = users_cli(*args, "--db", db, password=password)
    assert result.returncode != 0
    assert message in result.stderr
    assert verify_password("long-password-1", dict(sqlite3.connect(db).execute(
        "select name, password_hash from users").fetchall())["ana"])  # unchanged


def test_users_on_a_missing_database(tmp_path):
    result = users_cli("list", "--db", str(tmp_path / "none.db"))
    assert result.returncode != 0 and f"database not found: {tmp_path / 'none.db'}" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_users_add_prompts_twice_on_a_terminal(tmp_path):
    db = str(make_db(tmp_path / "tty.db"))
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(str(LUREWATCH), [str(LUREWATCH), "users", "add", "tia", "--role", "viewer", "--db", db])
    output = b""

    def read_until(marker: bytes):
        nonlocal output
        deadline = time.monotonic() + 60
        while marker not in output and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                try:
                    output += os.read(fd, 1024)
                except OSError:
                    break

    read_until(b"Password: ")
    os.write(fd, b"typed-password\n")
    read_until(b"Repeat for confirmation: ")
    os.write(fd, b"typed-password\n")
    read_until(b"Added viewer")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output
    assert b"typed-password" not in output  # not echoed
    stored = sqlite3.connect(db).execute("select password_hash from users where name = 'tia'").fetchone()[0]
    assert verify_password("typed-password", stored)
