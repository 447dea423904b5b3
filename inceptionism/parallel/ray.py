"""Workers on a Ray cluster (``--ray [ADDRESS]``); Ray is an optional extra.

What runs where:

* The **driver** (the machine where the command runs) hands out tasks and receives the
  results; it alone reads inputs and writes outputs. No shared file system is assumed:
  tasks (an input's bytes, a layer's name, a video segment) go to the workers through Ray's
  object store, and each result comes back the same way.
* Each **worker** is a Ray actor that makes its worker once with the factory (the model
  loads once) and then runs one task at a time.
* **Bounded work in flight:** at most two tasks per actor are submitted at once (one
  running, one waiting, so an actor never idles on the driver's round trip).
* **Failures:** a worker *process* that dies (killed, out of memory, its machine gone) is
  Ray's business: the actor is created with ``max_restarts`` and ``max_task_retries``, so Ray
  starts it again (the model loads again) and re-runs the tasks it held. Nothing is retried
  by us; a task whose actor died more often than that comes back as the exception.

Ray's own reference: Ray Core's actor fault tolerance ("max_restarts", "max_task_retries"),
``ray.wait`` for consuming results as they finish, and streaming generators
(``num_returns="streaming"``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from ..errors import InceptionismError

# Ray restarts a dead actor this many times, re-running the tasks it held each time; a task
# whose worker dies more often than that comes back as the exception.
MAX_RESTARTS = 4
TASKS_PER_ACTOR = 2  # in flight per actor: one running, one queued behind it


def import_ray():
    try:
        import ray
    except ImportError:
        raise InceptionismError(
            "Running on Ray needs Ray, an optional extra: pip install 'inceptionism[ray]'."
        ) from None
    return ray


class Connection:
    """``with Connection(address):`` joins the cluster at ``address`` (``auto``, ``ray://...``
    or ``HOST:PORT``), or starts a local one when ``address`` is None; leaves it on exit.
    A cluster this process did not start (or joined before) is left running."""

    def __init__(self, address: str | None = None):
        self.address = address
        self.started = False

    def __enter__(self):
        ray = import_ray()
        if ray.is_initialized():
            return ray
        options = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR",
                   "configure_logging": True}
        try:
            if self.address:
                ray.init(address=self.address, **options)
            else:
                ray.init(num_cpus=os.cpu_count() or 1, **options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"at {self.address}" if self.address else "on this machine"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InceptionismError(f"Cannot start or reach a Ray cluster {where} ({first}).") from None
        self.started = True
        return ray

    def __exit__(self, *exc) -> None:
        if self.started:
            import ray

            ray.shutdown()


class WorkerHost:
    """The body of every Ray actor: the worker its factory makes, once."""

    def __init__(self, factory: Callable[[], object]):
        self.worker = factory()

    def pid(self) -> int:
        return os.getpid()

    def run(self, task):
        return self.worker.run(task)

    def stream(self, task):
        yield from self.worker.stream(task)


def balanced(ray, actors: list, jobs: Iterator, submit) -> Iterator[tuple[object, object]]:
    """Feed ``jobs`` to ``actors`` with at most TASKS_PER_ACTOR in flight per actor; yield
    (job, value) as each finishes, in completion order. ``submit(actor, job)`` -> ObjectRef.
    A task whose actor died more often than Ray retries yields the exception as its value."""
    load = [0] * len(actors)
    in_flight: dict = {}
    exhausted = False
    while True:
        while not exhausted and len(in_flight) < TASKS_PER_ACTOR * len(actors):
            job = next(jobs, None)
            if job is None:
                exhausted = True
                break
            i = min(range(len(actors)), key=load.__getitem__)
            in_flight[submit(actors[i], job)] = (i, job)
            load[i] += 1
        if not in_flight:
            return
        ready, _ = ray.wait(list(in_flight), num_returns=1)
        for ref in ready:
            i, job = in_flight.pop(ref)
            load[i] -= 1
            try:
                value = ray.get(ref)
            except ray.exceptions.RayError as exc:
                value = exc
            yield job, value


class RayPool:
    """Ray actors, each hosting one worker made by ``factory``.

    ``workers``: how many actors (None: one per GPU of the cluster with ``gpu``, else its
    CPUs shared out at ``threads`` each), at most ``limit`` when given; each reserves
    ``threads`` CPUs and, with ``gpu``, a GPU. Entering waits until every actor has made its
    worker, so a factory that cannot load fails here, once, not once per task;
    :attr:`pids` are their processes.
    """

    def __init__(self, factory: Callable[[], object], address: str | None = None,
                 workers: int | None = None, threads: int = 1, gpu: bool = False,
                 limit: int | None = None):
        self.factory = factory
        self.connection = Connection(address)
        self.requested = workers
        self.threads = max(1, threads)
        self.gpu = gpu
        self.limit = limit
        self.actors: list = []
        self.pids: list[int] = []
        self.ray = None

    @property
    def workers(self) -> int:
        return len(self.actors)

    def _count(self) -> int:
        if self.requested:
            count = self.requested
        else:
            resources = self.ray.cluster_resources()
            count = int(resources.get("GPU", 0)) if self.gpu \
                else int(resources.get("CPU", 1)) // self.threads
        count = max(1, count)
        return min(count, self.limit) if self.limit else count

    def __enter__(self) -> RayPool:
        self.ray = self.connection.__enter__()
        actor = self.ray.remote(WorkerHost).options(
            num_cpus=self.threads, num_gpus=1 if self.gpu else 0, max_restarts=MAX_RESTARTS,
            max_task_retries=MAX_RESTARTS)
        # The factory goes by value: small ones travel inside the call; Ray itself moves a
        # large one (weights' bytes) through the object store and keeps it while an actor
        # may restart.
        self.actors = [actor.remote(self.factory) for _ in range(self._count())]
        try:
            self.pids = self.ray.get([a.pid.remote() for a in self.actors])
        except self.ray.exceptions.RayActorError as exc:
            self.__exit__(None, None, None)
            cause = getattr(exc, "cause", None) or exc
            raise InceptionismError(f"The Ray workers could not start ({cause}).") from None
        return self

    def results(self, tasks: Iterator) -> Iterator[tuple[object, object]]:
        """(task, value) for every task, in completion order; the value is the exception
        for a task whose worker kept dying."""
        yield from balanced(self.ray, self.actors, iter(tasks),
                            lambda actor, task: actor.run.remote(task))

    def streams(self, tasks: Iterator) -> Iterator[tuple[object, object]]:
        """(task, item) for every item each task's ``stream`` yields, as soon as it is made;
        one task per actor at a time. An item that cannot be had (its worker kept dying)
        comes as the exception."""
        ray = self.ray
        queue = list(tasks)
        free = list(range(len(self.actors)))
        streams: dict = {}
        while queue or streams:
            while queue and free:
                a = free.pop()
                task = queue.pop(0)
                gen = self.actors[a].stream.options(num_returns="streaming").remote(task)
                streams[gen] = (a, task)
            ready, _ = ray.wait(list(streams), num_returns=1)
            for gen in ready:
                a, task = streams[gen]
                try:
                    ref = next(gen)
                except StopIteration:
                    del streams[gen]
                    free.append(a)
                    continue
                try:
                    yield task, ray.get(ref)
                except ray.exceptions.RayError as exc:
                    yield task, exc

    def __exit__(self, *exc) -> None:
        for actor in self.actors:
            try:
                self.ray.kill(actor)
            except Exception:  # already gone
                pass
        self.actors = []
        self.connection.__exit__(*exc)
