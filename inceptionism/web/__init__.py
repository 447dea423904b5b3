"""The dream studio: a Gradio page over the jobs layer (``inceptionism serve``).

``app.py`` composes the page from ``tabs/`` (one module per tab: its components and its
module-level handlers), ``studio.py`` holds what the tabs share (the server's state, the
status line, running a job in the line), ``server.py`` serves it safely, ``slots.py`` runs
one job at a time with a bounded line, ``work.py`` streams a job's progress from its worker
thread, and ``command.py`` is the CLI command. ``command.py``, ``slots.py``, ``work.py`` and
``motifs.py`` do not import Gradio (the ``web`` extra).
"""
