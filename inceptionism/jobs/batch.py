"""The batch job: one recipe dreamed over many photos, in one process, N local processes or
on Ray.

    from inceptionism.jobs import BatchRequest, run_batch
    result = run_batch(BatchRequest(inputs=("holiday/",), outdir=Path("dreams"), recursive=True))

The unit of work is one photo: a :class:`PhotoTask` carries the input's *bytes* (never a
path, so a worker on another machine needs no shared file system) and a
:class:`PhotoWorker`, which loads the model once, runs the still-dream job
(:func:`~inceptionism.jobs.run_dream`) on it and returns a :class:`PhotoResult` holding the
encoded output file (parameters included). The driver, :func:`drive`, is the only
part that touches OUTDIR: it decides what is already done, feeds the workers with a bounded
number of tasks in flight, writes each result atomically and keeps the manifest.

Where the photos are dreamed (:func:`photo_backend`; all give the same images, see
tests/jobs/test_batch_ray.py), with the pools of ``inceptionism.parallel``:

* this process, one photo after another (``--workers 1``);
* N local worker processes (``--workers N``), each loading the model once and running
  ``cores / N`` threads;
* Ray actors (``--ray [ADDRESS]``).

Skipping: an output is done when the parameters stored in it match this batch's recipe and
the SHA-256 of the input it was made from matches the input's. So re-running a batch after
a crash, or Ctrl-C, does only what is missing, and changing any setting redoes everything.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..engine.runtime import use_threads
from ..errors import Cancelled, InceptionismError
from ..io.batch import (
    BatchItem,
    EncodedImage,
    Manifest,
    ManifestEntry,
    discover,
    plan_outputs,
    prepare_outdir,
    write_output,
)
from ..io.images import read_metadata, sidecar_path
from ..parallel.local import default_threads, local_pool
from ..parallel.ray import MAX_RESTARTS, RayPool
from ..settings import DEFAULT_MAX_PIXELS, DEFAULT_MODEL, DreamConfig, get_preset
from ..version import __version__
from .base import Hooks, require_file
from .recipe import Recipe
from .still import DreamRequest, run_dream


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to dream any photo of the batch; picklable, and carrying the
    bytes of the files the recipe names (weights, guide), since workers may have no access to
    the driver's files."""

    recipe: Recipe
    metadata: dict  # the recipe's stored parameters, computed once by the driver
    ext: str  # output extension, ".png"
    threads: int = 1  # torch threads per worker
    max_pixels: int = DEFAULT_MAX_PIXELS
    guide_bytes: bytes | None = None
    weights_bytes: bytes | None = None
    fast: bool = True


@dataclass(frozen=True)
class PhotoTask:
    index: int  # position in the batch
    name: str  # the input's path as the user sees it (for messages)
    data: bytes  # the input file


@dataclass(frozen=True)
class PhotoResult:
    index: int
    encoded: EncodedImage | None  # None when it failed
    seconds: float
    error: str | None = None
    worker: str = ""


class PhotoWorker:
    """Loads the model once, then runs the still-dream job on one photo per :meth:`run`.
    Errors in a photo become a failed :class:`PhotoResult` with one sentence; they never
    escape."""

    def __init__(self, spec: WorkerSpec, name: str = "local"):
        from ..api import Dreamer

        use_threads(spec.threads)  # fixed: the load is not followed (runtime.use_threads)
        self.spec = spec
        self.name = name
        self.tmp = Path(tempfile.mkdtemp(prefix="inceptionism-worker-"))
        # The files the recipe names, from their bytes: this worker may not see the driver's.
        self.weights = self.guide = None
        if spec.weights_bytes is not None:
            self.weights = self.tmp / "weights.pt"
            self.weights.write_bytes(spec.weights_bytes)
        if spec.guide_bytes is not None:
            self.guide = self.tmp / ("guide" + Path(spec.recipe.guide or "guide.png").suffix)
            self.guide.write_bytes(spec.guide_bytes)
        self.dreamer = Dreamer(spec.recipe.model, weights=self.weights, device=spec.recipe.device,
                               progress=False, fast=spec.fast)

    def run(self, task: PhotoTask) -> PhotoResult:
        t0 = time.perf_counter()
        try:
            encoded = self._dream(task)
        except InceptionismError as exc:
            return PhotoResult(task.index, None, time.perf_counter() - t0, str(exc), self.name)
        except MemoryError:
            return PhotoResult(task.index, None, time.perf_counter() - t0,
                               "Out of memory; try smaller tiles.", self.name)
        except Exception as exc:  # a bug of ours: recorded, and the batch goes on
            return PhotoResult(task.index, None, time.perf_counter() - t0,
                               f"Unexpected {type(exc).__name__}: {exc}.", self.name)
        return PhotoResult(task.index, encoded, time.perf_counter() - t0, None, self.name)

    def _dream(self, task: PhotoTask) -> EncodedImage:
        # The job reads files: the input gets its own name (in a folder of its own), and a
        # message names the input as the user knows it.
        recipe = self.spec.recipe
        folder = Path(tempfile.mkdtemp(dir=self.tmp))
        path = folder / Path(task.name).name
        try:
            path.write_bytes(task.data)
            request = DreamRequest(input=path, model=recipe.model, objective=recipe.objective,
                                   weights=self.weights, guide=self.guide, device=recipe.device,
                                   config=recipe.config, max_pixels=self.spec.max_pixels,
                                   download_progress=False)
            try:
                result = run_dream(request, dreamer=self.dreamer)
            except InceptionismError as exc:
                raise InceptionismError(str(exc).replace(str(path), task.name)) from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        # The files are stored as the driver named them (same SHA-256), and the preset the
        # settings came from, so every output re-runs from the driver's machine.
        metadata = {**result.metadata,
                    **{k: self.spec.metadata[k] for k in ("weights", "weights_file", "guide",
                                                         "preset")}}
        result = dataclasses.replace(result, metadata=metadata)
        # Written here exactly as `dream` writes it (parameters, ICC profile, EXIF, depth),
        # then sent as bytes; the driver writes them where they belong.
        out = Path(tempfile.mkdtemp(dir=self.tmp)) / f"dream{self.spec.ext}"
        try:
            notes = result.save(out)
            side = sidecar_path(out)
            return EncodedImage(self.spec.ext, out.read_bytes(),
                                side.read_text().rstrip("\n") if side.exists() else None,
                                tuple(notes))
        finally:
            shutil.rmtree(out.parent, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- where the photos are dreamed: one pool of workers (parallel/), this worker in each ----


def photo_worker(spec: WorkerSpec, where: str = "local") -> PhotoWorker:
    """A :class:`PhotoWorker` named after the process it runs in (``local-PID``, or
    ``ray-NODE-PID`` on Ray), which the manifest records for each photo."""
    name = f"local-{os.getpid()}"
    if where == "ray":
        import ray

        name = f"ray-{ray.get_runtime_context().get_node_id()[:8]}-{os.getpid()}"
    return PhotoWorker(spec, name)


def photo_backend(spec: WorkerSpec, workers: int | None = 1, ray: str | None = None):
    """The pool that dreams a batch's photos: this process (``workers`` 1), ``workers``
    local processes, or Ray actors (``ray``: "" a local cluster, else its address; there
    ``workers`` actors, None: one per CPU of the cluster, or per GPU with cuda)."""
    if ray is not None:
        return RayPool(partial(photo_worker, spec, "ray"), address=ray or None, workers=workers,
                       threads=spec.threads, gpu=spec.recipe.device.startswith("cuda"))
    return local_pool(partial(photo_worker, spec), workers or 1)


# --- the driver ----------------------------------------------------------------------------


@dataclass
class BatchProgress:
    """Sent to the progress callback after each input is settled."""

    total: int  # inputs in the batch
    done: int = 0  # dreamed by this run
    skipped: int = 0  # already done by an earlier run
    failed: int = 0
    started: float = field(default_factory=time.time)
    last: ManifestEntry | None = None

    @property
    def settled(self) -> int:
        return self.done + self.skipped + self.failed

    @property
    def per_minute(self) -> float:
        """Images dreamed per minute by this run (skipped ones cost nothing, so do not count)."""
        elapsed = max(time.time() - self.started, 1e-9)
        return (self.done + self.failed) * 60 / elapsed

    @property
    def eta(self) -> float | None:
        """Seconds left at this run's rate; None before the first image is finished."""
        rate = self.per_minute
        return (self.total - self.settled) * 60 / rate if rate > 0 else None


BatchCallback = Callable[[BatchProgress], None]


@dataclass(frozen=True)
class BatchSummary:
    total: int
    done: int
    skipped: int
    failed: int
    seconds: float
    manifest: Path

    @property
    def ok(self) -> bool:
        return self.failed == 0


def recipe_metadata(recipe: Recipe, weights_description: str) -> dict:
    """The stored parameters every output of the batch shares (before the input's own)."""
    return {"inceptionism": __version__, **recipe.to_metadata(weights_description)}


# DreamConfig fields added after outputs were first stored: an output without one was made
# with its default (off), so it counts as made with the batch's value only if that is off.
LATER_SETTINGS = {"lapnorm": 0}


def already_done(output: Path, metadata: dict, input_sha256: str) -> bool:
    """Whether ``output`` holds a dream of this input made with exactly these parameters.
    The device and the precision are compared only where the recipe names one (``auto`` may
    resolve either way, and an output stores what it resolved to)."""
    if not output.is_file():
        return False
    try:
        stored = read_metadata(output)
    except InceptionismError:
        return False

    def same(key: str) -> bool:
        want, got = metadata[key], stored.get(key)
        if key == "device" and want == "auto":
            return True
        if key == "config" and isinstance(got, dict):
            # A setting added since the output was made is at its default there (new
            # settings are off by default: the output's pixels are what it gives).
            got = {**{k: d for k, d in LATER_SETTINGS.items() if k in want}, **got}
            if want.get("precision") == "auto":
                return {**got, "precision": "auto"} == want
        return got == want

    return stored.get("input_sha256") == input_sha256 and all(same(k) for k in metadata)


def drive(
    items: list[BatchItem],
    outdir: Path,
    spec: WorkerSpec,
    backend,
    force: bool = False,
    callback: BatchCallback | None = None,
    cancel=None,
) -> BatchSummary:
    """Dream every item into ``outdir`` with ``backend`` (a pool from :func:`photo_backend`:
    a context manager whose ``results(tasks)`` yields (task, result)); return counts. One bad input is recorded in the manifest
    and the batch goes on; a folder that cannot be written stops it (OutputFolderError).
    ``cancel`` (a CancelToken) stops it between photos with :class:`Cancelled`."""
    outputs = plan_outputs(items, outdir, spec.ext)
    prepare_outdir(outdir)
    progress = BatchProgress(total=len(items))
    t0 = time.time()
    with Manifest(outdir) as manifest:

        def settle(entry: ManifestEntry) -> None:
            manifest.add(entry)
            progress.done += entry.status == "done"
            progress.skipped += entry.status == "skipped"
            progress.failed += entry.status == "failed"
            progress.last = entry
            if callback is not None:
                callback(progress)

        def tasks() -> Iterator[PhotoTask]:
            """Read each input when its turn comes (memory holds only the tasks in flight);
            settle the ones already done, or unreadable, on the way."""
            for index, (item, out) in enumerate(zip(items, outputs)):
                if cancel is not None and cancel.cancelled:
                    raise Cancelled(f"cancelled; the outputs in {outdir} are complete, and the "
                                    "same batch again does only the photos still missing.")
                try:
                    data = item.path.read_bytes()
                except OSError as exc:
                    settle(ManifestEntry(str(item.path), "failed", None, 0.0,
                                         f"Input {item.path} cannot be read: "
                                         f"{exc.strerror or exc}."))
                    continue
                digest = hashlib.sha256(data).hexdigest()
                if already_done(out, spec.metadata, digest):
                    settle(ManifestEntry(str(item.path), "skipped", str(out), 0.0))
                    continue
                if not force and (out.exists() or out.with_name(out.name + ".json").exists()):
                    settle(ManifestEntry(str(item.path), "failed", None, 0.0,
                                         f"Output {out} already exists and was not made from "
                                         "this input with these parameters; it is replaced only "
                                         "when overwriting is allowed."))
                    continue
                yield PhotoTask(index, str(item.path), data)

        with backend:
            for task, result in backend.results(tasks()):
                if isinstance(result, Exception):  # its Ray worker kept dying
                    result = PhotoResult(task.index, None, 0.0,
                                         f"Its Ray worker died {MAX_RESTARTS + 1} times "
                                         f"({type(result).__name__}); it was not dreamed.")
                item, out = items[result.index], outputs[result.index]
                if result.encoded is None:
                    settle(ManifestEntry(str(item.path), "failed", None, round(result.seconds, 3),
                                         result.error, result.worker))
                    continue
                write_output(out, result.encoded, outdir)
                settle(ManifestEntry(str(item.path), "done", str(out), round(result.seconds, 3),
                                     None, result.worker))
    return BatchSummary(len(items), progress.done, progress.skipped, progress.failed,
                        time.time() - t0, manifest.path)


def make_spec(recipe: Recipe, ext: str, weights_description: str, threads: int = 1,
              max_pixels: int = DEFAULT_MAX_PIXELS, fast: bool = True) -> WorkerSpec:
    """A :class:`WorkerSpec` for ``recipe``: its stored parameters, and the bytes of the files
    it names, read once here on the driver."""
    recipe.config.validate()
    ext = ext if ext.startswith(".") else f".{ext}"
    guide = weights = None
    try:
        if recipe.guide is not None:
            guide = Path(recipe.guide).read_bytes()
        if recipe.weights_file is not None:
            weights = Path(recipe.weights_file).read_bytes()
    except OSError as exc:
        raise InceptionismError(f"Cannot read {exc.filename}: {exc.strerror or exc}.") from None
    return WorkerSpec(recipe, recipe_metadata(recipe, weights_description), ext, threads,
                      max_pixels, guide, weights, fast)


@dataclass(frozen=True)
class BatchRequest:
    """Dream every photo of ``inputs`` (files, folders, glob patterns) with one recipe into
    ``outdir``, as ``OUTDIR/<path below the input folder>`` with ``ext``. The recipe fields
    mean what they mean in :class:`~inceptionism.jobs.DreamRequest`."""

    inputs: Sequence[str | Path]
    outdir: Path
    recursive: bool = False  # also sub-folders (and ** in patterns)
    ext: str = ".png"  # output format
    model: str | None = None
    objective: str | None = None
    weights: Path | None = None
    guide: Path | None = None
    device: str | None = None
    params_from: Path | None = None  # an earlier output whose stored recipe to use
    config: DreamConfig | None = None
    preset: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    max_pixels: int = DEFAULT_MAX_PIXELS
    overwrite: bool = False  # replace outputs made from another input or with other settings
    workers: int = 1  # local worker processes (with ray: Ray actors; 1 there: one per CPU/GPU)
    threads: int | None = None  # torch threads per worker (None: cores shared out; 1 on Ray)
    ray: str | None = None  # None: this machine; "": a local Ray cluster; else its address


@dataclass(frozen=True)
class BatchResult:
    total: int
    done: int  # dreamed by this run
    skipped: int  # already done by an earlier run (same recipe, same photo)
    failed: int
    seconds: float
    manifest: Path  # OUTDIR/manifest.jsonl: every input with status, output, seconds, error
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.failed == 0


def batch_recipe(request: BatchRequest) -> Recipe:
    """The one recipe of the batch, its objective in canonical spec form, checked against the
    model's layers (the architecture only: no weights are loaded here)."""
    from ..models import get_spec
    from ..engine.objectives import check_given, parse

    check_given(request.objective)  # None: the stored or default one; "" is no objective
    if request.params_from is not None:
        if request.preset is not None:
            raise InceptionismError("Use either a preset or stored parameters, not both.")
        require_file(request.params_from, "Earlier output")
        stored = Recipe.from_metadata(read_metadata(request.params_from), request.params_from)
        w, g = request.weights, request.guide
        recipe = dataclasses.replace(
            stored, model=request.model or stored.model,
            objective=request.objective if request.objective is not None else stored.objective,
            device=request.device or stored.device,
            weights_file=str(w) if w is not None else stored.weights_file,
            weights_sha256=None if w is not None else stored.weights_sha256,
            guide=str(g) if g is not None else stored.guide,
            guide_sha256=None if g is not None else stored.guide_sha256)
        recipe.verify_files(request.params_from)
        config = recipe.config
    else:
        config = request.config or DreamConfig()
        if request.preset is not None:
            config = get_preset(request.preset).apply(config)
        recipe = Recipe(model=request.model or DEFAULT_MODEL, objective="", config=config,
                        weights_file=str(request.weights) if request.weights else None,
                        guide=str(request.guide) if request.guide else None,
                        device=request.device or "cpu", preset=request.preset)
    require_file(Path(recipe.guide) if recipe.guide else None, "Guide image")
    config = dataclasses.replace(config, **request.overrides)
    config.validate()
    spec = get_spec(recipe.model)
    objective = parse(recipe.objective or ",".join(spec.default_layers),
                      logits_layer=spec.logits_layer)
    spec.build().check_layers(objective.layers)
    return dataclasses.replace(recipe, objective=objective.spec, config=config)


def run_batch(request: BatchRequest, hooks: Hooks | None = None) -> BatchResult:
    """Run a batch: check inputs, names and output folder before any work, then dream what is
    not done yet, here, on local worker processes or on Ray. ``hooks.on_photo`` gets a
    :class:`BatchProgress` after each photo is settled; ``hooks.cancel`` stops between photos."""
    from ..models import get_spec

    hooks = hooks or Hooks()
    recipe = batch_recipe(request)
    outdir = Path(request.outdir)
    ext = request.ext if request.ext.startswith(".") else f".{request.ext}"
    items = discover(list(request.inputs), recursive=request.recursive, exclude=outdir)
    plan_outputs(items, outdir, ext)  # refuses collisions and outputs onto inputs
    prepare_outdir(outdir)
    description = recipe.weights_file or get_spec(recipe.model).weights.describe()
    if request.ray is not None:
        threads = request.threads or 1
    else:
        threads = request.threads or default_threads(request.workers)
    spec = make_spec(recipe, ext, description, threads, request.max_pixels)
    on_ray_default = request.ray is not None and request.workers <= 1  # one actor per CPU/GPU
    backend = photo_backend(spec, None if on_ray_default else request.workers, request.ray)
    summary = drive(items, outdir, spec, backend, force=request.overwrite,
                    callback=hooks.on_photo, cancel=hooks.cancel)
    return BatchResult(summary.total, summary.done, summary.skipped, summary.failed,
                       summary.seconds, summary.manifest)


__all__ = [
    "BatchProgress", "BatchRequest", "BatchResult", "BatchSummary", "PhotoResult", "PhotoTask",
    "PhotoWorker", "WorkerSpec", "already_done", "batch_recipe", "drive", "make_spec",
    "photo_backend", "photo_worker", "run_batch",
]
