"""``inceptionism serve``: the click command, importable without Gradio installed."""

from __future__ import annotations

import click

from ..errors import InceptionismError
from ..settings import DEFAULT_MAX_PIXELS
from .server import DEFAULT_MAX_FILE_SIZE, DEFAULT_PORT


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The default serves this machine only; another "
                   "(e.g. 0.0.0.0) lets others in, with a warning: the page has no accounts.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on.")
@click.option("--max-waiting", type=click.IntRange(min=0), default=4, show_default=True,
              help="Jobs that may wait while one runs; beyond that a visitor is told the "
                   "studio is busy.")
@click.option("--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS,
              show_default=True, help="Refuse uploaded images larger than this many pixels.")
@click.option("--max-file-size", type=click.IntRange(min=1), default=DEFAULT_MAX_FILE_SIZE // 2**20,
              show_default=True, metavar="MB", help="Refuse uploads larger than this many MiB.")
@click.option("--device", default="cpu", show_default=True,
              help="cpu, cuda, cuda:N, or auto (CUDA when available).")
@click.option("--share", is_flag=True,
              help="Also open a public gradio.live link (needs internet; anyone with the link "
                   "can use the studio).")
def serve(host: str, port: int, max_waiting: int, max_pixels: int, max_file_size: int,
          device: str, share: bool) -> None:
    """Open the dream studio, a web page for dreaming on photos, at http://127.0.0.1:7860.

    Needs the web extra: pip install 'inceptionism[web]'. Stop it with Ctrl-C; the
    uploads and results it kept in a private temporary folder are deleted then.
    """
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise InceptionismError(
            "The studio needs Gradio; install it with: pip install 'inceptionism[web]'."
        ) from None
    from ..api import resolve_device
    from .server import serve as run

    resolve_device(device)  # refuse a bad device before starting
    run(host=host, port=port, max_waiting=max_waiting, max_pixels=max_pixels,
        max_file_size=max_file_size * 2**20, share=share, device=device)
