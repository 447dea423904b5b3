"""Accounts: salted scrypt hashes on disk (never the password), the check Gradio calls, the
limits an administrator sets, and the `passwd` command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from inceptionism.errors import InceptionismError
from inceptionism.web.accounts import (
    Accounts,
    Limits,
    hash_password,
    read_entries,
    set_account,
    verify_password,
)


def test_a_hash_checks_its_password_only_and_is_salted():
    stored = hash_password("correct horse")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsE", stored)
    assert not verify_password("", stored)
    assert hash_password("correct horse") != stored, "two hashes of one password are equal"
    assert "correct horse" not in stored
    assert not verify_password("x", "scrypt$garbage")


def test_the_file_keeps_hashes_and_limits_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "accounts"
    set_account(path, "alice", "s3cret-alice")
    set_account(path, "bob", "s3cret-bob", Limits(max_pixels=5000, max_steps=3))
    text = path.read_text()
    assert "s3cret" not in text
    assert path.stat().st_mode & 0o077 == 0
    accounts = Accounts(path)
    assert accounts("alice", "s3cret-alice") and accounts("bob", "s3cret-bob")
    assert not accounts("alice", "s3cret-bob"), "one user's password opened another's account"
    assert not accounts("carol", "s3cret-alice")
    assert accounts.limits("bob") == Limits(5000, 3)
    assert accounts.limits("alice") == Limits()
    set_account(path, "bob", None, Limits(max_steps=7))  # new limits keep the password
    assert Accounts(path)("bob", "s3cret-bob") and Accounts(path).limits("bob") == Limits(None, 7)
    set_account(path, "bob", None, delete=True)
    assert list(read_entries(path)) == ["alice"]


def test_limits_never_exceed_the_servers():
    server = Limits(max_pixels=10_000, max_steps=None)
    assert Limits(max_pixels=50_000, max_steps=4).within(server) == Limits(10_000, 4)
    assert Limits().within(server) == server
    Limits(max_steps=4).check_steps(4)
    with pytest.raises(InceptionismError, match="5 steps is more than your limit of 4"):
        Limits(max_steps=4).check_steps(5)


@pytest.mark.parametrize("line", ["alice", "alice:plain-password", "bad name:scrypt$1",
                                  "alice:scrypt$1$8$1$x$y:max_steps=0",
                                  "alice:scrypt$1$8$1$x$y:colour=red"])
def test_a_bad_line_is_named(tmp_path, line):
    path = tmp_path / "accounts"
    path.write_text(line + "\n")
    with pytest.raises(InceptionismError, match="line 1"):
        read_entries(path)


def passwd(*args, stdin=""):
    return subprocess.run([sys.executable, "-m", "inceptionism", "passwd", *args], input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_the_passwd_command(tmp_path):
    path = tmp_path / "accounts"
    done = passwd(str(path), "alice", "--password-stdin", "--max-steps", "5", stdin="pw-a\n")
    assert done.returncode == 0 and "added alice" in done.stdout
    assert Accounts(path)("alice", "pw-a") and Accounts(path).limits("alice").max_steps == 5
    bad = passwd(str(path), "no good", "--password-stdin", stdin="pw\n")
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1 and "not a user name" in bad.stderr
    empty = passwd(str(path), "bob", "--password-stdin", stdin="  \n")
    assert empty.returncode != 0 and "password is empty" in empty.stderr
    assert list(read_entries(path)) == ["alice"], "a refused command changed the file"
