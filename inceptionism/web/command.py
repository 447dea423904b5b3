"""``inceptionism serve`` and ``inceptionism passwd``: the click commands, importable without
Gradio installed."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import InceptionismError
from ..settings import DEFAULT_MAX_PIXELS
from .accounts import Accounts, Limits, read_entries, set_account
from .server import DEFAULT_MAX_FILE_SIZE, DEFAULT_PORT
from .storage import parse_duration, parse_size


class Text(click.ParamType):
    """An option read by ``parse`` (a size, a duration), its error as click's usage error."""

    def __init__(self, name: str, parse):
        self.name, self.parse = name, parse

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        try:
            return self.parse(value)
        except InceptionismError as exc:
            self.fail(str(exc), param, ctx)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The default serves this machine only; another "
                   "(e.g. 0.0.0.0) lets others in, with a warning unless --auth is given.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on.")
@click.option("--auth", "auth_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Accounts file (written by inceptionism passwd): visitors log in, and "
                   "each sees only their own uploads and results.")
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True,
              help="Jobs run at once; more than 1 only where the device has room (a GPU).")
@click.option("--max-waiting", type=click.IntRange(min=0), default=4, show_default=True,
              help="Jobs that may wait while others run (one per user; a user's new job "
                   "replaces their waiting one); beyond that a visitor is told the studio is "
                   "busy.")
@click.option("--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS,
              show_default=True, help="Refuse uploaded images larger than this many pixels "
                                      "(an account's own limit may be lower).")
@click.option("--max-steps", type=click.IntRange(min=1), default=None,
              help="Refuse jobs with more steps per octave (per layer, per frame) than this "
                   "(no limit by default); an account's own limit may be lower.")
@click.option("--max-file-size", type=click.IntRange(min=1), default=DEFAULT_MAX_FILE_SIZE // 2**20,
              show_default=True, metavar="MB", help="Refuse uploads larger than this many MiB.")
@click.option("--keep-results", "keep_s", type=Text("duration", parse_duration), default="24h",
              show_default=True, metavar="DURATION",
              help="Delete uploads and results this long after their last change (30m, 1h, 2d).")
@click.option("--disk-quota", "quota", type=Text("size", parse_size), default=None,
              metavar="SIZE", help="Most disk the uploads and results may use (500MB, 2GB); the "
                                   "oldest finished go first.  [default: no limit]")
@click.option("--device", default="cpu", show_default=True,
              help="cpu, cuda, cuda:N, or auto (CUDA when available).")
@click.option("--share", is_flag=True,
              help="Also open a public gradio.live link (needs internet; anyone with the link "
                   "can use the studio unless --auth is given).")
def serve(host: str, port: int, auth_file: Path | None, concurrency: int, max_waiting: int,
          max_pixels: int, max_steps: int | None, max_file_size: int, keep_s: float,
          quota: int | None, device: str, share: bool) -> None:
    """Open the dream studio, a web page for dreaming on photos, at http://127.0.0.1:7860.

    Needs the web extra: pip install 'inceptionism[web]'. Stop it with Ctrl-C; the
    uploads and results it kept in a private temporary folder are deleted then (and
    while it runs, after --keep-results). The accounts file is read when it starts.
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
    accounts = Accounts(auth_file) if auth_file is not None else None
    run(host=host, port=port, max_waiting=max_waiting, max_pixels=max_pixels,
        max_file_size=max_file_size * 2**20, share=share, device=device, accounts=accounts,
        concurrency=concurrency, max_steps=max_steps, keep_s=keep_s, quota=quota)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("name")
@click.option("--max-pixels", type=click.IntRange(min=1), default=None,
              help="This user's largest photo, in pixels (never above the server's).")
@click.option("--max-steps", type=click.IntRange(min=1), default=None,
              help="This user's most steps per octave (never above the server's).")
@click.option("--no-limits", is_flag=True, help="Remove this user's own limits.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts) "
                   "instead of asking for it.")
@click.option("--delete", is_flag=True, help="Remove the user.")
def passwd(file: Path, name: str, max_pixels: int | None, max_steps: int | None,
           no_limits: bool, password_stdin: bool, delete: bool) -> None:
    """Add a studio user to the accounts FILE, or change their password or limits.

    FILE keeps each name with a salted scrypt hash of the password (never the password
    itself), readable by its owner only; `inceptionism serve --auth FILE` reads it. A new
    user needs a password; for an existing one, a password is asked only when neither
    limits nor --delete are given.
    """
    limits = Limits() if no_limits else \
        Limits(max_pixels, max_steps) if (max_pixels or max_steps) else None
    password = None
    existing = file.exists() and name in read_entries(file)
    if not delete and (password_stdin or limits is None or not existing):
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt(f"Password for {name}", hide_input=True,
                                    confirmation_prompt=True, err=True)
    done = set_account(file, name, password, limits, delete=delete)
    click.echo(f"{file}: {done}.")
