"""Serving the studio: a private folder, Gradio kept off the network, safe defaults.

- **Loopback by default.** Another ``host`` is allowed, with a one-line warning, since the
  page has no accounts; public share links (Gradio's tunnel) only when asked for.
- **No server file is readable.** Gradio serves only its upload folder, its example cache
  and ``allowed_paths``. Both folders are put inside one private temporary folder (mode
  0700) made for this server and removed when it stops, and ``allowed_paths`` stays empty:
  the page can fetch what it uploaded or produced, nothing else.
- **Offline.** Analytics and version checks off, no server-side rendering (it would start
  Node), and the page's fonts are the system's, so neither the server nor the browser
  reaches for the internet.
- **One job at a time** (:class:`.slots.Slots`), with a bounded line; uploads larger than
  ``max_file_size`` are cut off by Gradio while they arrive; images larger than
  ``max_pixels`` are refused by the library's loader with the CLI's message.
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
           share: bool = False, device: str = "cpu"):
    """Build and start the page in the background; return the Gradio app (``.local_url``)."""
    prepare_environment(root)
    import gradio as gr

    from ..settings import DEFAULT_MAX_PIXELS
    from .app import CSS, build
    from .slots import Slots
    from .studio import Studio

    studio = Studio(root=root, slots=Slots(max_waiting), device=device,
                    max_pixels=max_pixels or DEFAULT_MAX_PIXELS, max_file_size=max_file_size)
    page = build(studio)
    # The line is ours (Slots); Gradio's own queue only carries events, generously bounded.
    page.queue(max_size=64, default_concurrency_limit=None)
    font = ["ui-sans-serif", "system-ui", "sans-serif"]
    mono = ["ui-monospace", "monospace"]
    page.launch(server_name=host, server_port=port, share=share, prevent_thread_lock=True,
                quiet=True, show_error=False, max_file_size=max_file_size, allowed_paths=[],
                ssr_mode=False, inbrowser=False, footer_links=["api"], css=CSS,
                theme=gr.themes.Default(font=font, font_mono=mono))
    return page


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, **options) -> None:
    """Run the studio until interrupted; the private folder is removed on the way out."""
    if host not in LOOPBACK:
        print(f"warning: serving on {host}: anyone who can reach this address can use the "
              "studio and this machine's CPU; it has no accounts.", file=sys.stderr, flush=True)
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
            page.close()
        shutil.rmtree(root, ignore_errors=True)
