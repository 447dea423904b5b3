"""Process-wide settings: the same dream whatever the thread count, fast on an idle machine
and graceful on a busy one.

**One thread per operation, tiles side by side.** A result must not depend on how many
threads computed it: a ``--params-from`` re-run, the studio's re-run, a batch worker and a
Ray actor must give the pixels of the CLI's dream. Most of PyTorch's CPU kernels are
thread-invariant, but oneDNN chooses a convolution's blocking, and with it the order of its
sums, from the thread count (measured: EfficientNet-Lite0's 1x1 convolutions with 480 or
672 input channels at 16x20 differ by up to 2.3e-5 between 1, 2 and 3 threads, forward and
backward, while its 3x3 and depthwise ones do not), and whole-tensor reductions split their
sums by thread. Gradient ascent amplifies such last bits: the same dream with 1 and 2 threads
differed by up to 184 levels. So every operation of a dream runs on **one** thread
(:func:`one_thread`; :func:`start_up` makes it the process's default), where each kernel's
order of work is fixed, and the cores are used by dreaming different tiles at the same time
on a small pool of worker threads (:func:`tile_pool`), each tile computed exactly as it would
be alone; the tiles' sums are added in a fixed order. The result is bit for bit the same
with 1, 2, 3 or any number of workers (tested).

What it costs and what it gains (measured on 2 cores, docs/performance.md): an octave with a
single tile runs on one core (for networks without depthwise convolutions the dream loop
cuts such an octave in two halves instead: ``loop.tile_spans``); a tile no longer pays
OpenMP's fork and barrier at each of its hundreds of operations; and a busy core slows only
the worker on it instead of stalling every operation at a barrier, so no load probe or
thread follower is needed.
Memory holds one tile's activations per busy worker.

Tried and taken back: a lone tile on a fixed two threads (a count fixed by the recipe, so
still the same pixels everywhere). Idle, a 192x144 step went 12.0 -> 9.2 ms; but with one
core busy elsewhere it took 41-50 ms against one thread's 12.7-12.9 ms (one and two threads
taking turns in one process), since every operation waits at a barrier for the thread that
lost its core, and the studio's browser tests timed out beside Chromium.

**Worker count.** ``INCEPTIONISM_THREADS=N`` (or ``OMP_NUM_THREADS``), else the CPUs this
process may use, at most :data:`MAX_WORKERS` (each working tile holds its activations). It
changes the speed and memory only, never the pixels.

**Allocator.** glibc's malloc hands every block larger than its mmap threshold (128 KiB at
start) straight back to the kernel when it is freed, so a dream, which allocates and frees
the same activation-sized buffers at every step, pays page faults for all of them again
and again. Raising the threshold to 64 MiB keeps tile-sized buffers in the heap for reuse,
while image-sized ones (an 8K frame is 400 MB) still go back at once, so peak memory stays
low. Measured on a 1 MP dream on 2 cores: 7.4 s -> 5.8 s.

This module imports torch only inside the functions that need it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

THREADS_ENV = "INCEPTIONISM_THREADS"
MAX_WORKERS = 8  # tiles dreamed at once at most, by default: each holds its activations
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which containers and ``taskset``
    narrow), not the machine's total."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ThreadChoice:
    threads: int  # how many tiles are dreamed at once (worker threads)
    reason: str  # one line: why


def choose_threads(env: dict[str, str] | None = None, cpus: int | None = None) -> ThreadChoice:
    """How many tiles to dream at once: ``INCEPTIONISM_THREADS``, else ``OMP_NUM_THREADS``,
    else the usable CPUs, at most :data:`MAX_WORKERS`. A bad ``INCEPTIONISM_THREADS`` is
    refused. The count changes speed and memory, never a dream's pixels."""
    from ..errors import InceptionismError

    env = os.environ if env is None else env
    if env.get(THREADS_ENV, "").strip():
        value = env[THREADS_ENV].strip()
        if not value.isdigit() or int(value) < 1:
            raise InceptionismError(
                f"{THREADS_ENV} must be a whole number of threads, 1 or more (got '{value}').")
        return ThreadChoice(int(value), f"{THREADS_ENV}={value}")
    omp = env.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) >= 1:
        return ThreadChoice(int(omp), f"OMP_NUM_THREADS={omp}")
    cpus = usable_cpus() if cpus is None else cpus
    if cpus > MAX_WORKERS:
        return ThreadChoice(MAX_WORKERS, f"{cpus} usable CPUs, at most {MAX_WORKERS} tiles at once")
    return ThreadChoice(cpus, f"{cpus} usable CPUs")


@contextmanager
def one_thread():
    """Run the enclosed PyTorch operations of this thread on one thread each (see the module
    docstring), restoring this thread's count afterwards."""
    import torch

    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)


_pool: tuple[int, ThreadPoolExecutor] | None = None  # (workers, pool)
_pool_lock = threading.Lock()


def tile_pool() -> ThreadPoolExecutor | None:
    """The process's pool of tile workers (one PyTorch thread each), or None when the count
    is 1 (tiles then run in the caller's thread). Made on first use with :func:`start_up`'s
    count; shared by concurrent dreams (a server's), whose tiles then take turns."""
    global _pool
    workers = start_up().threads
    if workers <= 1:
        return None
    with _pool_lock:
        if _pool is None or _pool[0] != workers:
            _pool = (workers, ThreadPoolExecutor(workers, thread_name_prefix="inceptionism-tile",
                                                 initializer=_worker_init))
        return _pool[1]


def close_tile_pool() -> None:
    """Let the tile workers finish their tiles and end (a later :func:`tile_pool` makes new
    ones): what a process that is about to exit does first."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool[1].shutdown(wait=True)


def tune_allocator(mmap_threshold: int = 64 << 20, trim_threshold: int = 64 << 20,
                   arenas: int = 2) -> bool:
    """Set glibc malloc's thresholds and its number of arenas (each tile worker would
    otherwise keep freed activations in an arena of its own: measured 864 -> 760 MiB peak for
    a 1 MP dream on 2 workers); returns False (and changes nothing) elsewhere."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return False
    return (bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold))
            and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
            and bool(mallopt(M_ARENA_MAX, arenas)))


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def native_bfloat16(device, flags: set[str] | None = None) -> bool:
    """Whether ``device`` computes bfloat16 natively: a GPU that says so, or a CPU with
    AMX or AVX512-BF16 (elsewhere oneDNN emulates it, slower than float32)."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    flags = cpu_flags() if flags is None else flags
    return bool(flags & {"amx_bf16", "avx512_bf16"})


_started: ThreadChoice | None = None


def reproducible_cuda() -> None:
    """Make dreams on CUDA repeatable: the same dream twice gives the same image.

    By default cuDNN may pick convolution algorithms whose backward pass adds partial sums
    with atomics, in an order that changes from run to run, and chooses among algorithms by
    timing them (``benchmark``). The differences are in the last bits, but gradient ascent
    amplifies them: on an H200, two runs of the same Lite0 dream differed by up to 0.87 per
    pixel, so ``--params-from`` could not re-run a CUDA dream and two threads did not match
    one after another. Deterministic algorithms remove that (the speed cost is small next to
    the tile loop's). Process-wide and one-way: set once, before the first CUDA dream, never
    toggled per call, so concurrent dreams all see the same setting. TF32 is turned off too.
    Max pooling's backward on CUDA still adds with atomics where windows overlap (GoogLeNet,
    Inception, VGG), so those models may differ in the last bits between runs on CUDA.
    """
    import torch

    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    # float32 means float32: TF32 tensor cores round convolution inputs to 10 mantissa bits,
    # which moved a 2-step Lite0 dream on an H200 by a quarter of its own change away from
    # the CPU's. Speed on GPUs comes from --precision bfloat16 (or auto), which says so.
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


def use_threads(threads: int) -> ThreadChoice:
    """Fix how many tiles this process dreams at once at ``threads`` (at least 1): what batch
    and cluster workers do, so that their share of the cores stays what the driver gave
    them. Their dreams are bit-identical to any other count's all the same."""
    global _started
    if _started is None:
        tune_allocator()
    _started = ThreadChoice(max(1, int(threads)), "asked for")
    _one_thread_default()
    return _started


def _one_thread_default() -> None:
    import torch

    torch.set_num_threads(1)  # also what new threads start with (module docstring)


def start_up(threads: int | None = None) -> ThreadChoice:
    """What every front end runs before dreaming: the allocator, one PyTorch thread per
    operation, and how many tiles to dream at once (:func:`choose_threads`, or ``threads``).

    Chosen once per process: later calls return that first choice and change nothing. Costs
    no measurable time (nothing is probed).
    """
    global _started
    if _started is None:
        tune_allocator()
        _started = ThreadChoice(threads, "asked for") if threads else choose_threads()
        _one_thread_default()
    return _started
