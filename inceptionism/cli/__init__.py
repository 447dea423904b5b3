"""The command line: a thin layer that parses options, calls a job (inceptionism.jobs) and
reports.

``main`` holds the command group and the exit statuses; each command lives with the job it
calls (``still``: dream, ``tour``: explore, ``video``: zoom and video, ``batch``, ``info``:
models, layers, classes, sample); ``options`` holds the option types and shared option
groups, ``report`` the progress bars and the wording of errors.
"""

from .main import cli, entry_point, main
from .report import REMEDIES, cli_message

__all__ = ["REMEDIES", "cli", "cli_message", "entry_point", "main"]
