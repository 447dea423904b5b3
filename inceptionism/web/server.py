"""Serving the studio: a private folder, Gradio kept off the network, safe defaults.

- **Loopback by default.** Another ``host`` (or a public share link, Gradio's tunnel, only
  when asked for) is allowed, with a one-line warning when the studio has no accounts.
- **Accounts** (``auth``, a file ``inceptionism passwd`` writes; :mod:`.accounts`): Gradio's
  own login page, the password checked against its scrypt hash in a worker thread, and each
  user's files refused to every other user, also by URL (:mod:`.guard`).
- **No server file is readable.** Gradio serves only its upload folder, its example cache
  and ``allowed_paths``. Both folders are put inside one private temporary folder (mode
  0700) made for this server and removed when it stops, and ``allowed_paths`` stays empty:
  the page can fetch what it uploaded or produced, nothing else.
- **Offline.** Analytics and version checks off, no server-side rendering (it would start
  Node), and the page's fonts are the system's, so neither the server nor the browser
  reaches for the internet.
- **A fair line** (:class:`.slots.Slots`): ``concurrency`` jobs at once (one by default),
  a bounded line, one job per user; uploads larger than ``max_file_size`` are cut off by
  Gradio while they arrive; images larger than ``max_pixels`` (or the user's own limit) are
  refused by the library's loader with the CLI's message.
- **Bounded disk** (:mod:`.storage`): files older than ``keep_s`` go, and the oldest
  finished ones when the folder holds more than ``quota`` bytes.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEFAULT_PORT = 7860
DEFAULT_MAX_FILE_SIZE = 50 * 1024 * 1024  # bytes: a large photo or a short clip

# Set before Gradio is imported: some are read at import time.
OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "GRADIO_SSR_MODE": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}


def private_folder() -> Path:
    """A new folder only this user can read, for uploads and results."""
    return Path(tempfile.mkdtemp(prefix="inceptionism-studio-"))


def prepare_environment(root: Path) -> None:
    """Point Gradio's upload and cache folders into ``root`` and keep it offline."""
    os.environ.update(OFFLINE_ENV)
    os.environ["GRADIO_TEMP_DIR"] = str(root / "uploads")
    os.environ["GRADIO_EXAMPLES_CACHE"] = str(root / "cache")


def launch(root: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT, max_waiting: int = 4,
           max_pixels: int | None = None, max_file_size: int = DEFAULT_MAX_FILE_SIZE,
           share: bool = False, device: str = "cpu", accounts=None, concurrency: int = 1,
           max_steps: int | None = None, keep_s: float | None = None,
           quota: int | None = None):
    """Build and start the page in the background; return the Gradio app (``.local_url``).
    ``accounts`` is an :class:`.accounts.Accounts` (None: no login)."""
    prepare_environment(root)
    import gradio as gr

    from ..settings import DEFAULT_MAX_PIXELS
    from .app import CSS, build
    from .slots import Slots
    from .studio import RESULT_TTL, Studio

    studio = Studio(root=root, slots=Slots(max_waiting, concurrency), device=device,
                    max_pixels=max_pixels or DEFAULT_MAX_PIXELS, max_file_size=max_file_size,
                    accounts=accounts, max_steps=max_steps)
    page = build(studio)
    login, app_kwargs, grants = guarded(root, accounts)
    # The line is ours (Slots); Gradio's own queue only carries events, generously bounded.
    page.queue(max_size=64, default_concurrency_limit=None)
    font = ["ui-sans-serif", "system-ui", "sans-serif"]
    mono = ["ui-monospace", "monospace"]
    page.launch(server_name=host, server_port=port, share=share, prevent_thread_lock=True,
                quiet=True, show_error=False, max_file_size=max_file_size, allowed_paths=[],
                ssr_mode=False, inbrowser=False, footer_links=["api"], css=CSS,
                theme=gr.themes.Default(font=font, font_mono=mono), auth=login,
                auth_message="Log in with the name and password the studio's "
                             "administrator gave you.", app_kwargs=app_kwargs)
    page.janitor = janitor(root, studio, page, grants, RESULT_TTL if keep_s is None else keep_s,
                           quota).start()
    return page


def guarded(root: Path, accounts):
    """With ``accounts``: Gradio's ``auth`` callable (the scrypt check in a worker thread, so
    a login never stalls the page), and the guard that keeps each user's files theirs."""
    if accounts is None:
        return None, {}, None
    from starlette.middleware import Middleware

    from .guard import FileGuard, Grants

    async def login(name: str, password: str) -> bool:
        import asyncio  # here: every command imports this module's defaults, few serve

        return await asyncio.to_thread(accounts, name, password)

    grants = Grants(root)
    return login, {"middleware": [Middleware(FileGuard, grants=grants)]}, grants


def janitor(root: Path, studio, page, grants, keep_s: float | None, quota: int | None):
    """The thread that expires files and keeps the quota; what it removes is also dropped
    from Gradio's lists of served files and from the guard's, so neither grows."""
    from .storage import Janitor

    def forget(files: list[str]) -> None:
        if grants is not None:
            grants.forget_missing()
        gone = set(files)
        for served in page.temp_file_sets:
            served.difference_update(gone)
        prune_sessions(page)

    interval = 30.0 if keep_s is None else max(1.0, min(30.0, keep_s / 4))
    return Janitor(root, keep_s, quota, studio.busy, forget, interval)


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, **options) -> None:
    """Run the studio until interrupted; the private folder is removed on the way out."""
    open_to = host if host not in LOOPBACK else "a public link" if options.get("share") else None
    if open_to and options.get("accounts") is None:
        print(f"warning: serving on {open_to}: anyone who can reach it can use the studio and "
              "this machine's CPU; it has no accounts (see --auth).", file=sys.stderr,
              flush=True)
    elif host not in LOOPBACK:
        print(f"note: serving on {host} over plain HTTP: passwords cross the network "
              "unencrypted unless a proxy adds HTTPS.", file=sys.stderr, flush=True)
    def interrupt(signum, frame):  # `kill` cleans up as Ctrl-C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    root = private_folder()
    page = None
    try:
        page = launch(root, host, port, **options)
        print(f"inceptionism studio on {page.local_url} (Ctrl-C to stop)", flush=True)
        if getattr(page, "share_url", None):
            print(f"public link: {page.share_url}", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        if page is not None:
            page.janitor.stop()
            page.close()
        shutil.rmtree(root, ignore_errors=True)


def prune_sessions(page) -> int:
    """Drop the component copies Gradio leaves in each session's state, one for every output
    a handler leaves unchanged (``gr.skip()``, which Gradio treats as a property update and
    answers by building a new component that stays registered in the session under an id of
    its own, for as long as its page stays open): four per one-octave dream, as measured.
    The load benchmark's 30 users grew the server by
    10 MB in three minutes without this, 4 MB with it. The page's own components (its ids)
    stay; Gradio's structures are read defensively, so another Gradio version that lays
    them out differently only makes this a no-op. Returns how many were dropped."""
    own = set(getattr(page, "blocks", {}))
    holder = getattr(getattr(page, "server_app", None), "state_holder", None)
    dropped = 0
    for state in list(getattr(holder, "session_data", {}).values()):
        blocks = getattr(getattr(state, "blocks_config", None), "blocks", None)
        values = getattr(state, "config_values", None)
        if not isinstance(blocks, dict) or not own:
            continue
        for key in [k for k in list(blocks) if k not in own]:
            blocks.pop(key, None)
            dropped += 1
            if isinstance(values, dict):
                values.pop(key, None)
    return dropped
