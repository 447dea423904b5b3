"""Spreading work over processes: one local process pool and one Ray backend, shared by the
batch (a photo per task), the layer tour on Ray (a layer per task) and split videos (a
segment per task).

Both take a *worker factory*: a picklable callable (a class and its arguments, e.g.
``functools.partial(PhotoWorker, spec)``) that each worker process calls once to load what
it needs (a model) and whose result answers ``run(task)`` for every task it is given, or
``stream(task)`` (a generator) for tasks whose results should come back piece by piece.
Nothing here knows what a task is; the workflows in ``jobs/`` and ``video/`` do.
"""
