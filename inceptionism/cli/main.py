"""The command line: a thin layer that parses options, calls a job (inceptionism.jobs) and reports.

Every failure a user can cause ends as one sentence on stderr and a non-zero exit status:
1 for a problem with the inputs or environment, 2 for a malformed command line, 130 when
interrupted (143 when terminated by SIGTERM, which is handled like Ctrl-C). Set
INCEPTIONISM_DEBUG=1 to see a traceback for unexpected errors.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import warnings
from typing import NoReturn

import click

from ..errors import InceptionismError, Interrupted
from ..version import __version__
from ..web.command import passwd as passwd_command
from ..web.command import serve as serve_command
from .atlas import atlas
from .batch import batch
from .info import classes, layers, models, sample
from .report import cli_message
from .still import dream
from .tour import explore
from .video import video, zoom

# Nothing above imports PyTorch (nor numpy): `--help`, `classes` and bad command lines answer
# at once. The jobs, models and io are imported inside the commands that use them.

# click >= 8.2 raises this for a bare `inceptionism`; older versions print the help themselves
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _err(message: str) -> None:
    click.echo(f"error: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="inceptionism")
def cli() -> None:
    """Dream on photos with pretrained ImageNet networks (DeepDream)."""


for command in (dream, explore, layers, classes, zoom, video, sample, models, batch, atlas):
    cli.add_command(command)
cli.add_command(serve_command)  # the web studio (inceptionism/web)
cli.add_command(passwd_command)  # the studio's accounts


def _warning_note(message, category, filename, lineno, file=None, line=None) -> None:
    """A library's warning (Pillow, imageio) as one ``note:`` line, not two lines of source."""
    text = str(message).strip()
    click.echo(f"note: {text.splitlines()[0] if text else category.__name__}", err=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, systemd, ``docker stop``), raised where Python is at the time,
    so every clean-up that Ctrl-C runs (temporary files removed, frames kept) runs too."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status instead of raising.

    SIGTERM is handled like Ctrl-C (SIGINT) for every command: the same clean-up, the same
    one line, exit status 143 (128 + 15) instead of 130.
    """
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (embedded): leave signals to the host
        previous = None
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_note
            return _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _status(exc: BaseException | None) -> int:
    """130 for Ctrl-C, 143 for SIGTERM (seen in ``exc`` or what it was raised from)."""
    while exc is not None:
        if isinstance(exc, Terminated):
            return 143
        exc = exc.__context__
    return 130


def _main(argv: list[str] | None) -> int:
    try:
        from ..engine.runtime import tune_allocator

        tune_allocator()  # threads are chosen when a Dreamer is made (runtime.start_up)
        cli.main(args=argv, prog_name="inceptionism", standalone_mode=False)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort as exc:
        _err("interrupted; nothing was written.")
        return _status(exc)
    except _NO_ARGS_IS_HELP as exc:  # bare `inceptionism`: just the help
        click.echo(exc.ctx.get_help())
        return 0
    except click.ClickException as exc:
        _err(exc.format_message())
        return exc.exit_code
    except Interrupted as exc:  # a long render stopped: the message says what was kept
        _err(str(exc))
        return _status(exc)
    except InceptionismError as exc:
        _err(cli_message(exc))
        return 1
    except KeyboardInterrupt as exc:
        _err("interrupted; nothing was written.")
        return _status(exc)
    except MemoryError:
        _err("out of memory; try a smaller --tile-size or a smaller image.")
        return 1
    except Exception as exc:  # a bug of ours: say so in one line, traceback on request
        if os.environ.get("INCEPTIONISM_DEBUG"):
            raise
        _err(f"unexpected {type(exc).__name__}: {exc} (set INCEPTIONISM_DEBUG=1 for a traceback).")
        return 1


def entry_point() -> None:
    """The ``inceptionism`` command: :func:`main`, then :func:`quick_exit`."""
    quick_exit(main())


def quick_exit(status: int) -> NoReturn:
    """End the process without tearing the interpreter down, once the work is done.

    An interpreter that has imported PyTorch takes about a third of a second to take its
    modules apart at exit (measured on 2 cores: ``python -c "import torch"`` 1.25 s, the same
    ending in ``os._exit`` 0.92 s), and nothing of that teardown is needed: every output is
    already written, closed and renamed into place. So the tile workers are let finish, the
    exit handlers run (``atexit``: temporary folders, log files, child processes), the
    standard streams are flushed and the process ends with ``os._exit``. Where another
    thread of ours or a library's still runs, the ordinary exit waits for it instead.
    """
    from ..engine.runtime import close_tile_pool

    close_tile_pool()
    first = threading.main_thread()
    if any(t is not first and not t.daemon and t.is_alive() for t in threading.enumerate()):
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or a closed stream
            pass
    os._exit(status)
