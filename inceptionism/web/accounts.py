"""The studio's accounts: a file of user names with salted password hashes and, for each,
the limits an administrator set (``inceptionism passwd`` writes it; ``serve --auth`` reads
it).

One line per user, like ``/etc/shadow``::

    alice:scrypt$16384$8$1$<salt, base64>$<hash, base64>:max_pixels=250000,max_steps=20

The hash is ``hashlib.scrypt`` (RFC 7914) from the standard library: a key-derivation function
made for passwords that costs memory as well as time (16 MiB and about 60 ms a check here
with n=2**14, r=8, p=1, the parameters RFC 7914 suggests for interactive logins), so guessing
on a GPU gains far less than against PBKDF2; each entry has its own random 16-byte salt, and
the parameters are stored in the entry so they can be raised later without breaking old
ones. Passwords are compared in constant time (``hmac.compare_digest``) and never stored.

Nothing here knows Gradio: :class:`Accounts` is the ``auth=`` callable Gradio's launch takes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, fields, replace
from pathlib import Path

from ..errors import InceptionismError

SCRYPT = dict(n=2**14, r=8, p=1)  # RFC 7914's interactive-login cost: 16 MiB, ~60 ms
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")  # also a folder name on the server
MAX_PASSWORD = 1024  # characters; scrypt of a longer one is no safer, only slower


@dataclass(frozen=True)
class Limits:
    """What one user's jobs may use; None: the server's own limit."""

    max_pixels: int | None = None  # the most pixels a photo (or a frame) may have
    max_steps: int | None = None  # the most steps per octave (tour and video: per layer, frame)

    def text(self) -> str:
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                        if getattr(self, f.name) is not None)

    @classmethod
    def parse(cls, text: str, where: str) -> Limits:
        values = {}
        names = {f.name for f in fields(cls)}
        for item in filter(None, text.split(",")):
            key, _, value = item.partition("=")
            if key not in names or not value.isdigit() or int(value) < 1:
                raise InceptionismError(f"{where}: '{item}' is not a limit; expected "
                                        f"max_pixels=N or max_steps=N with N at least 1.")
            values[key] = int(value)
        return cls(**values)

    def within(self, server: Limits) -> Limits:
        """These limits, none above the server's."""
        def low(a, b):
            return b if a is None else a if b is None else min(a, b)
        return Limits(*(low(getattr(self, f.name), getattr(server, f.name))
                        for f in fields(self)))

    def check_steps(self, steps: int) -> None:
        if self.max_steps is not None and steps > self.max_steps:
            raise InceptionismError(f"{steps} steps is more than your limit of "
                                    f"{self.max_steps}; choose {self.max_steps} or fewer.")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """The stored form of ``password``: scrypt with its parameters and a new random salt."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, maxmem=64 * 2**20,
                            **SCRYPT)
    b64 = base64.b64encode
    return (f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}$"
            f"{b64(salt).decode()}${b64(digest).decode()}")


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches the stored hash (constant time; False if malformed)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt" or len(password) > MAX_PASSWORD:
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt, validate=True),
                                n=int(n), r=int(r), p=int(p), dklen=len(expected),
                                maxmem=256 * 2**20)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class Entry:
    name: str
    hash: str
    limits: Limits = Limits()

    def line(self) -> str:
        tail = self.limits.text()
        return f"{self.name}:{self.hash}" + (f":{tail}" if tail else "")


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise InceptionismError(f"'{name}' is not a user name: use 1 to 32 letters, digits, "
                                "'.', '_' or '-', starting with a letter or digit.")
    return name


def read_entries(path: Path) -> dict[str, Entry]:
    """The accounts in ``path`` by name (an error names the first bad line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InceptionismError(f"{path}: no such accounts file; make one with "
                                f"inceptionism passwd {path} NAME.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InceptionismError(f"{path}: cannot read the accounts file ({exc}).") from None
    entries = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        where = f"{path}, line {number}"
        name, hashed, *rest = line.split(":") + [""]
        if not NAME.fullmatch(name) or not hashed.startswith("scrypt$") or len(rest) > 2:
            raise InceptionismError(f"{where}: expected NAME:scrypt$...[:LIMITS], as "
                                    "inceptionism passwd writes it.")
        entries[name] = Entry(name, hashed, Limits.parse(rest[0], where))
    return entries


def write_entries(path: Path, entries: dict[str, Entry]) -> None:
    """Replace ``path`` with ``entries`` at once (a temporary file renamed over it), readable
    by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("# inceptionism studio accounts: NAME:scrypt hash[:limits]\n")
            f.writelines(e.line() + "\n" for e in entries.values())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def set_account(path: Path, name: str, password: str | None, limits: Limits | None = None,
                delete: bool = False) -> str:
    """Add, change (password, limits) or delete ``name`` in the accounts file ``path``;
    returns what was done, in a few words."""
    check_name(name)
    entries = read_entries(path) if path.exists() else {}
    if delete:
        if entries.pop(name, None) is None:
            raise InceptionismError(f"{path} has no user '{name}'.")
        write_entries(path, entries)
        return f"deleted {name}"
    old = entries.get(name)
    if password is None and old is None:
        raise InceptionismError(f"'{name}' is a new user: give a password.")
    if password is not None and not password.strip():
        raise InceptionismError("The password is empty; choose one with at least one "
                                "character that is not a space.")
    if password is not None and len(password) > MAX_PASSWORD:
        raise InceptionismError(f"The password is longer than {MAX_PASSWORD} characters.")
    entry = old or Entry(name, "")
    if password is not None:
        entry = replace(entry, hash=hash_password(password))
    if limits is not None:
        entry = replace(entry, limits=limits)
    entries[name] = entry
    write_entries(path, entries)
    return f"{'changed' if old else 'added'} {name}"


class Accounts:
    """The accounts of a file, read once: Gradio's ``auth=`` callable and each user's
    limits."""

    def __init__(self, path: Path):
        self.path = path
        self.entries = read_entries(path)
        if not self.entries:
            raise InceptionismError(f"{path} has no accounts; add one with "
                                    f"inceptionism passwd {path} NAME.")

    def __call__(self, name: str, password: str) -> bool:
        entry = self.entries.get(name)
        if entry is None:  # as slow as a wrong password, so names cannot be probed by time
            verify_password(password, hash_password("", salt=b"\0" * 16))
            return False
        return verify_password(password, entry.hash)

    def limits(self, name: str) -> Limits:
        entry = self.entries.get(name)
        return entry.limits if entry is not None else Limits()
