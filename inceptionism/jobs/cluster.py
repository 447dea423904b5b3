"""The same jobs on a Ray cluster (``--ray [ADDRESS]``); Ray is an optional extra.

What runs where:

* The **driver** (the machine where the command runs) finds the inputs, reads each one when
  its turn comes, and writes every output itself, atomically. No shared file system is
  assumed: inputs go to the workers as bytes through Ray's object store, and each result
  (the encoded output file) comes back the same way.
* Each **worker** is a Ray actor (:class:`inceptionism.jobs.batch.PhotoWorker` inside) that loads
  the model once and then dreams photos, or layers of the layer tour, one at a time.
* **Bounded work in flight:** at most two tasks per actor are submitted at once (one running,
  one waiting, so an actor never idles on the driver's round trip); a folder of a million
  photos holds only those in memory.
* **Failures:** a photo that cannot be dreamed comes back as a failed result with its one
  sentence. A worker *process* that dies (killed, out of memory, its machine gone) is Ray's
  business: the actor is created with ``max_restarts`` and ``max_task_retries``, so Ray starts
  it again (the model loads again) and re-runs the tasks it held. Nothing is retried by us.

Ray's own reference: Ray Core's actor fault tolerance ("max_restarts", "max_task_retries")
and ``ray.wait`` for consuming results as they finish.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from ..errors import InceptionismError
from .batch import PhotoResult, PhotoTask, PhotoWorker, WorkerSpec

# Ray restarts a dead actor this many times, re-running the tasks it held each time; a photo
# whose worker dies more often than that is recorded as failed.
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


class _DreamActor:
    """The body of a Ray actor: a :class:`PhotoWorker` (the model loaded once)."""

    def __init__(self, spec: WorkerSpec):
        import ray

        node = ray.get_runtime_context().get_node_id()[:8]
        self.worker = PhotoWorker(spec, f"ray-{node}-{os.getpid()}")

    def pid(self) -> int:
        return os.getpid()

    def run(self, task: PhotoTask) -> PhotoResult:
        return self.worker.run(task)

    def tour_layer(self, image: np.ndarray, layer_name: str, config) -> np.ndarray:
        """One tile of the layer tour: (1, 3, H, W) float array -> dreamed array."""
        import torch

        from ..engine.loop import dream
        from ..engine.objectives import layer

        dreamer = self.worker.dreamer
        x = torch.from_numpy(np.array(image)).to(dreamer.device)  # writable copy
        return dream(dreamer.model, x, layer(layer_name), config).cpu().numpy()


def _actor_count(ray, spec: WorkerSpec, workers: int | None) -> int:
    if workers:
        return workers
    resources = ray.cluster_resources()
    if spec.recipe.device.startswith("cuda"):
        return max(1, int(resources.get("GPU", 0)))
    return max(1, int(resources.get("CPU", 1)) // max(1, spec.threads))


def start_actors(ray, spec: WorkerSpec, workers: int | None) -> list:
    gpu = 1 if spec.recipe.device.startswith("cuda") else 0
    actor = ray.remote(_DreamActor).options(
        num_cpus=spec.threads, num_gpus=gpu, max_restarts=MAX_RESTARTS,
        max_task_retries=MAX_RESTARTS)
    # The spec goes by value: small ones travel inside the call; Ray itself moves a large one
    # (weights' bytes) through the object store and keeps it while an actor may restart.
    return [actor.remote(spec) for _ in range(_actor_count(ray, spec, workers))]


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


class RayBackend:
    """Batch backend on Ray actors (see :func:`inceptionism.jobs.batch.drive`)."""

    def __init__(self, spec: WorkerSpec, address: str | None = None, workers: int | None = None):
        self.spec = spec
        self.connection = Connection(address)
        self.requested = workers
        self.actors: list = []
        self.started_pids: list[int] = []
        self.ray = None

    @property
    def workers(self) -> int:
        return len(self.actors)

    def __enter__(self) -> RayBackend:
        self.ray = self.connection.__enter__()
        self.actors = start_actors(self.ray, self.spec, self.requested)
        # Waits until every actor has loaded its model (a spec that cannot load fails here,
        # once, not once per photo); the ids serve tests and benchmarks.
        try:
            self.started_pids = self.ray.get([a.pid.remote() for a in self.actors])
        except self.ray.exceptions.RayActorError as exc:
            self.__exit__(None, None, None)
            cause = getattr(exc, "cause", None) or exc
            raise InceptionismError(f"The Ray workers could not start ({cause}).") from None
        return self

    def results(self, tasks: Iterator[PhotoTask]) -> Iterator[PhotoResult]:
        for task, value in balanced(self.ray, self.actors, iter(tasks),
                                    lambda actor, task: actor.run.remote(task)):
            if isinstance(value, Exception):
                value = PhotoResult(task.index, None, 0.0,
                                    f"Its Ray worker died {MAX_RESTARTS + 1} times "
                                    f"({type(value).__name__}); it was not dreamed.")
            yield value

    def __exit__(self, *exc) -> None:
        for actor in self.actors:
            try:
                self.ray.kill(actor)
            except Exception:  # already gone
                pass
        self.actors = []
        self.connection.__exit__(*exc)


def tour_on_ray(spec: WorkerSpec, image, layers: list[str], config, address: str | None = None,
                workers: int | None = None, callback=None) -> dict:
    """The layer tour with one Ray task per layer: ``image`` (1, 3, H, W) tensor -> {layer:
    dream tensor}, the same tensors :func:`inceptionism.engine.tour.tour` gives."""
    import torch

    x = np.ascontiguousarray(image.detach().cpu().numpy(), dtype=np.float32)
    with Connection(address) as ray:
        actors = start_actors(ray, spec, workers)
        try:
            x_ref = ray.put(x)  # one copy in the object store, read by every task
            dreams = {}
            jobs = iter(layers)
            for name, value in balanced(ray, actors, jobs,
                                        lambda actor, name: actor.tour_layer.remote(x_ref, name, config)):
                if isinstance(value, Exception):
                    raise InceptionismError(f"The Ray worker dreaming layer {name} kept dying "
                                            f"({type(value).__name__}).")
                dreams[name] = torch.from_numpy(np.array(value))  # the store's copy is read-only
                if callback is not None:
                    callback(name, len(dreams), len(layers))
        finally:
            for actor in actors:
                ray.kill(actor)
    return {name: dreams[name] for name in layers}


def explore_on_ray(dreamer, rgb, names: list[str], config, size: int, address: str | None,
                   weights, device: str):
    """The layer tour job's dreams on Ray: an :class:`inceptionism.api.Tour` with the same
    tiles :meth:`inceptionism.Dreamer.explore` makes here."""
    from ..api import Tour, as_tensor
    from ..engine.tour import shrink
    from ..io.images import to_pil
    from .batch import make_spec
    from .recipe import Recipe

    x = shrink(as_tensor(rgb), size)
    recipe = Recipe(model=dreamer.spec.name, objective=names[0], config=config,
                    weights_file=str(weights) if weights else None, device=device)
    spec = make_spec(recipe, ".png", dreamer.weights_source, threads=1)
    dreams = tour_on_ray(spec, x, names, config, address=address)

    def pil(t):
        return to_pil(t[0].detach().cpu().permute(1, 2, 0).numpy())

    return Tour(pil(x), [(name, pil(d)) for name, d in dreams.items()])


# --- video segments on Ray ----------------------------------------------------------------


class _VideoActor:
    """The body of a Ray actor that dreams video segments with a model loaded once."""

    def __init__(self, model: str, weights: bytes | None, device: str, threads: int):
        import tempfile
        from pathlib import Path

        from ..api import Dreamer
        from ..engine.runtime import use_threads

        use_threads(threads)
        self.tmp = Path(tempfile.mkdtemp(prefix="inceptionism-video-"))
        path = None
        if weights is not None:
            path = self.tmp / "weights.pt"
            path.write_bytes(weights)
        self.dreamer = Dreamer(model, weights=path, device=device, progress=False)

    def segment(self, video: bytes, suffix: str, max_pixels: int, job):
        """Yield (index, uint8 frame) for each kept frame of ``job`` (a streaming generator:
        each frame goes back to the driver as soon as it is made)."""
        import tempfile

        from ..video.codec import read_frames
        from ..video.segments import run_job

        with tempfile.NamedTemporaryFile(suffix=suffix, dir=self.tmp) as f:
            f.write(video)
            f.flush()
            for i, x in run_job(self.dreamer, read_frames(f.name, max_pixels), job):
                yield i, (x[0].permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)


def ray_segment_runner(video, address: str | None, model: str, weights: str | None, device: str,
                       workers: int | None, threads: int, max_pixels: int):
    """A ``runner`` for :func:`inceptionism.video.segments.render_segments` on Ray actors: the clip
    goes to the object store once; each segment streams its frames back to the driver, which
    stores them (so the frames folder lives only where the command runs)."""
    from pathlib import Path

    def run(jobs, save, announce) -> None:
        if not jobs:
            return
        with Connection(address) as ray:
            gpu = 1 if device.startswith("cuda") else 0
            actor = ray.remote(_VideoActor).options(num_cpus=threads, num_gpus=gpu,
                                                     max_restarts=MAX_RESTARTS,
                                                     max_task_retries=MAX_RESTARTS)
            if workers:
                count = workers
            else:
                resources = ray.cluster_resources()
                count = int(resources.get("GPU", 0)) if gpu else int(resources.get("CPU", 1)) // threads
            weights_bytes = Path(weights).read_bytes() if weights else None
            actors = [actor.remote(model, weights_bytes, device, threads)
                      for _ in range(max(1, min(count, len(jobs))))]
            try:
                clip = ray.put(Path(video).read_bytes())
                queue = list(jobs)
                free = list(range(len(actors)))
                streams: dict = {}
                while queue or streams:
                    while queue and free:
                        a = free.pop()
                        gen = actors[a].segment.options(num_returns="streaming").remote(
                            clip, Path(video).suffix, max_pixels, queue.pop(0))
                        streams[gen] = a
                    ready, _ = ray.wait(list(streams), num_returns=1)
                    for gen in ready:
                        try:
                            ref = next(gen)
                        except StopIteration:
                            free.append(streams.pop(gen))
                            continue
                        try:
                            index, frame = ray.get(ref)
                        except ray.exceptions.RayError as exc:
                            raise InceptionismError(
                                f"A Ray worker failed on a video segment ({type(exc).__name__}); "
                                "the frames stored so far are kept, and running the same command "
                                "again goes on from there.") from None
                        save(index, frame.astype(np.float32) / 255)
            finally:
                for a in actors:
                    ray.kill(a)

    return run
