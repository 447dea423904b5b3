"""The dream studio: a Gradio page over the jobs layer (``inceptionism serve``).

``app.py`` builds the page, ``server.py`` serves it safely, ``slots.py`` runs one job at a
time with a bounded line, ``work.py`` streams a job's progress from its worker thread, and
``command.py`` is the CLI command. Only ``app.py`` and ``server.py`` import Gradio (the
``web`` extra).
"""
