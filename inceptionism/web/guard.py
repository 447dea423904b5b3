"""Each user's files are theirs alone, also by URL: a guard in front of Gradio's routes.

Gradio checks that a visitor is logged in, but serves any file of its upload folder to any
logged-in visitor who names it (``/gradio_api/file=PATH``), and accepts any such path as a
job's input. With accounts, this ASGI middleware keeps a list of who was handed which file
(:class:`Grants`) and refuses the rest with 403:

1. **What a user is handed** is theirs: the paths in the answer to their upload
   (``/gradio_api/upload``) and every file in the events streamed back to them (a job's
   previews, results and videos), read from the answers as they pass.
2. **A file request** (``/gradio_api/file=``, ``/file=``, ``/gradio_api/file/``) for a
   path in the studio's folder is served only to a user it was handed to.
3. **A job's inputs** (the JSON body of ``/gradio_api/queue/join``, ``/run/``, ``/call/``,
   ``/stream/``): each file named there must have been handed to the same user, so nobody
   dreams on another's upload by naming its path.

Results also live in a folder of their owner's (``Studio.new_folder``), so the disk can be
counted per user; the grants, not the folder names, decide what is served. The list
forgets files the janitor deleted (:meth:`Grants.forget_missing`), so it does not grow.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

FILE_ROUTES = ("/gradio_api/file=", "/file=", "/gradio_api/file/", "/file/")
JOB_ROUTES = ("/gradio_api/queue/join", "/gradio_api/run/", "/gradio_api/call/",
              "/gradio_api/api/", "/gradio_api/stream/", "/run/", "/call/", "/api/")
UPLOAD_ROUTES = ("/gradio_api/upload", "/upload")
STREAM_ROUTES = ("/gradio_api/queue/data", "/gradio_api/call/", "/queue/data", "/call/")
MAX_BODY = 1 << 20  # bytes of a job request read to find its files (forms are small)


class Grants:
    """Which user was handed which file (absolute paths inside ``root``)."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._owners: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def inside(self, path: str) -> Path | None:
        """``path`` resolved, if it lies in the studio's folder (else None)."""
        try:
            resolved = Path(path).resolve()
        except (OSError, ValueError):
            return None
        return resolved if resolved.is_relative_to(self.root) else None

    def grant(self, user: str, path: str) -> None:
        resolved = self.inside(path)
        if resolved is not None:
            with self._lock:
                self._owners.setdefault(str(resolved), set()).add(user)

    def allowed(self, user: str | None, path: str) -> bool:
        """Whether ``user`` may read ``path``: always outside the studio's folder (Gradio's
        own checks decide there), inside only if it was handed to them."""
        resolved = self.inside(path)
        if resolved is None:
            return True
        with self._lock:
            return user is not None and user in self._owners.get(str(resolved), ())

    def forget_missing(self) -> int:
        """Forget the files that no longer exist; how many were forgotten."""
        with self._lock:
            gone = [p for p in self._owners if not Path(p).exists()]
            for p in gone:
                del self._owners[p]
            return len(gone)

    def __len__(self) -> int:
        with self._lock:
            return len(self._owners)


def file_paths(value) -> Iterator[str]:
    """Every file path in a JSON value: Gradio's FileData dicts (``{"path": ...}``)."""
    if isinstance(value, dict):
        if isinstance(value.get("path"), str):
            yield value["path"]
        for item in value.values():
            yield from file_paths(item)
    elif isinstance(value, list):
        for item in value:
            yield from file_paths(item)


def user_of(scope) -> str | None:
    """The logged-in user of a request: Gradio's login cookie, looked up in its app."""
    app = scope.get("app")
    tokens = getattr(app, "tokens", None)
    cookie_id = getattr(app, "cookie_id", None)
    if not tokens or cookie_id is None:
        return None
    from starlette.requests import HTTPConnection

    cookies = HTTPConnection(scope).cookies
    token = cookies.get(f"access-token-{cookie_id}") or \
        cookies.get(f"access-token-unsecure-{cookie_id}")
    return tokens.get(token)


class FileGuard:
    """The ASGI middleware (see the module's docstring); ``grants`` is shared with the
    studio's janitor."""

    def __init__(self, app, grants: Grants):
        self.app = app
        self.grants = grants

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        user = user_of(scope)
        for route in FILE_ROUTES:
            if path.startswith(route):
                if not self.grants.allowed(user, path[len(route):]):
                    return await refuse(send, "File not allowed.")
                return await self.app(scope, receive, send)
        if scope["method"] == "POST" and path.startswith(JOB_ROUTES):
            body = await read_body(receive)
            if body is None:
                return await refuse(send, "The request is too large.", 413)
            if any(not self.grants.allowed(user, p) for p in paths_in_json(body)):
                return await refuse(send, "A file named in this request is not yours.")
            receive = replay(body, receive)
        if user is not None and path.startswith(UPLOAD_ROUTES + STREAM_ROUTES):
            send = self.granting(send, user, streaming=not path.startswith(UPLOAD_ROUTES))
        return await self.app(scope, receive, send)

    def granting(self, send: Callable, user: str, streaming: bool) -> Callable:
        """``send``, granting ``user`` every file in the answer as it passes."""
        pending = bytearray()

        async def wrapped(message):
            if message["type"] == "http.response.body":
                pending.extend(message.get("body", b""))
                if streaming:  # server-sent events: whole "data: ..." blocks
                    *blocks, rest = bytes(pending).split(b"\n\n")
                    pending[:] = rest
                    for block in blocks:
                        for line in block.split(b"\n"):
                            if line.startswith(b"data:"):
                                self.grant_all(user, line[5:])
                elif not message.get("more_body"):
                    self.grant_all(user, bytes(pending))
            await send(message)

        return wrapped

    def grant_all(self, user: str, data: bytes) -> None:
        for p in paths_in_json(data):
            self.grants.grant(user, p)


def paths_in_json(data: bytes) -> list[str]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value  # the upload route's answer: a list of paths
    return list(file_paths(value))


async def read_body(receive) -> bytes | None:
    """The whole body of a request; None past ``MAX_BODY`` bytes."""
    body = bytearray()
    while True:
        message = await receive()
        body.extend(message.get("body", b""))
        if len(body) > MAX_BODY:
            return None
        if message["type"] != "http.request" or not message.get("more_body"):
            return bytes(body)


def replay(body: bytes, receive: Callable) -> Callable:
    """A ``receive`` that gives ``body`` first, then whatever the client sends next (its
    disconnect)."""
    sent = False

    async def replayed():
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def refuse(send, text: str, status: int = 403) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": text.encode()})
