"""Process-wide settings for dreaming fast on an idle machine and gracefully on a busy one.

:func:`start_up` runs once per process when the first :class:`~inceptionism.Dreamer` is made,
so every front end (the CLI, the web server, batch and cluster workers) gets it without
importing torch for light commands; :func:`openmp_defaults` already ran when the package was
imported, before torch.

**OpenMP waiting.** PyTorch's CPU kernels split each operation across OpenMP threads, and
by default a thread that finishes its share *spins* (busy-waits, about 300 000 rounds in
GNU libgomp) for the others. On a machine where another process keeps a core busy, one of
our threads is often descheduled, its partners spin through their time slices waiting for
it, and a step becomes 10-25x slower (measured: 0.2 s -> 5 s on 2 cores beside one
``while True: pass``; user CPU 8x). Sleeping at once (``OMP_WAIT_POLICY=PASSIVE``) cures
that but costs an idle machine a lot: each of the hundreds of parallel regions in a step
then wakes its threads through the kernel (measured on 2 cores, Inception v3 at 1 MP: 1.05 s
a step passive against 0.86 s spinning). So the package's ``__init__`` sets
``GOMP_SPINCOUNT=20000`` (:data:`SPIN_COUNT`): a waiting thread spins briefly, long enough
to catch its partners within an operation on an idle machine (the step is as fast as with
spinning: 0.86 s), then sleeps, and the thread count below keeps our threads off busy
cores. (``KMP_BLOCKTIME=0`` does the passive thing for Intel's OpenMP, which PyTorch's pip
wheels do not use; not measured.) It must be in the environment before the OpenMP runtime
loads, i.e. before ``import torch``; a value the user set (``OMP_WAIT_POLICY`` or
``GOMP_SPINCOUNT``) is kept.

**Thread count.** Two threads sharing one free core wait for each other at every
operation: one thread is faster then (measured beside one busy process on 2 cores,
Inception v3 at 1 MP: 1.51 s a step with one thread, 2.67 s with two spinning briefly,
1.59 s with two passive, against 0.86 s idle). So :func:`choose_threads` looks at how much
CPU *other* processes use and leaves those cores to them: at start-up over a short window,
and then again while dreaming (:func:`follow_load`, called between steps, at most once a
second, over the time since it last looked), so a program started beside the dream, or
one that ends, is followed within a step or two. When no core is free at all (others keep
every CPU busy), every thread is time-sliced whatever we do, and more threads win a larger
share: measured at a load of 10 on 2 cores, two threads took 1.1-1.4 s a step against
1.9-3.7 s for one, so then all CPUs are used. The user's choice wins and is never changed:
``INCEPTIONISM_THREADS=N`` (or ``OMP_NUM_THREADS``, which torch itself reads), set before
start-up or since, and a program's own ``torch.set_num_threads`` after start-up (from then
on, in the thread that called it).

A thread count changes the last bits of a result (oneDNN splits some sums differently;
measured after two steps: up to 1e-3 of a pixel on GoogLeNet, 6e-8 on Inception v3), so
runs are bit-identical when they use the same thread count: pin it with
``INCEPTIONISM_THREADS`` where that matters.

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
import resource
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

THREADS_ENV = "INCEPTIONISM_THREADS"
SPIN_COUNT = "20000"  # libgomp spin rounds before a waiting thread sleeps (module docstring)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def openmp_defaults() -> dict[str, str]:
    """Make idle OpenMP threads spin briefly, then sleep (``GOMP_SPINCOUNT``), unless the
    user chose a policy or a spin count.

    Effective only before torch (and with it the OpenMP runtime) is loaded. Returns the
    variables it set.
    """
    if "torch" in sys.modules:
        return {}
    chosen = {}
    user_chose = any(k in os.environ for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"))
    if not user_chose:
        chosen["GOMP_SPINCOUNT"] = SPIN_COUNT
    if "KMP_BLOCKTIME" not in os.environ:
        chosen["KMP_BLOCKTIME"] = "0"
    os.environ.update(chosen)
    return chosen


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which containers and ``taskset``
    narrow), not the machine's total."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) jiffies summed over all CPUs, from /proc/stat; None where there is none."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [int(v) for v in fields[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values[:8]) - idle, sum(values[:8])


@dataclass(frozen=True)
class CpuSample:
    """A moment's CPU counters: the machine's busy time (s), ours, and the wall clock."""

    busy_s: float
    own_s: float
    wall_s: float

    @staticmethod
    def now() -> "CpuSample | None":
        """None where /proc/stat is missing (not Linux)."""
        jiffies = _cpu_jiffies()
        if jiffies is None:
            return None
        hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        own = resource.getrusage(resource.RUSAGE_SELF)
        return CpuSample(jiffies[0] / hz, own.ru_utime + own.ru_stime, time.perf_counter())

    def others_since(self, earlier: "CpuSample") -> float:
        """CPUs' worth of work other processes did between ``earlier`` and this sample (all
        CPUs' busy time minus this process's own, per second of wall clock)."""
        elapsed = self.wall_s - earlier.wall_s
        if elapsed <= 0:
            return 0.0
        busy = (self.busy_s - earlier.busy_s) - (self.own_s - earlier.own_s)
        return max(0.0, busy / elapsed)


def others_busy(window: float = 0.2) -> float | None:
    """How many CPUs' worth of work *other* processes did over the next ``window`` seconds
    (all CPUs' busy time minus this process's own), or None where /proc/stat is missing."""
    before = CpuSample.now()
    if before is None:
        return None
    time.sleep(window)
    return CpuSample.now().others_since(before)


@dataclass(frozen=True)
class ThreadChoice:
    threads: int  # what torch was set to
    reason: str  # one line: why
    automatic: bool = False  # chosen from the load (so :func:`follow_load` may change it)


def choose_threads(env: dict[str, str] | None = None, busy: float | None = None,
                   cpus: int | None = None) -> ThreadChoice:
    """How many threads to compute with: ``INCEPTIONISM_THREADS``, else ``OMP_NUM_THREADS``,
    else the usable CPUs minus those other processes keep busy, or all of them when others
    keep every CPU busy (see the module docstring).

    ``busy`` (CPUs used by others) is measured when not given; a CPU counts as taken when
    others use more than 0.5 of one. A bad ``INCEPTIONISM_THREADS`` is refused.
    """
    from .errors import InceptionismError

    env = os.environ if env is None else env
    cpus = usable_cpus() if cpus is None else cpus
    if env.get(THREADS_ENV, "").strip():
        value = env[THREADS_ENV].strip()
        if not value.isdigit() or int(value) < 1:
            raise InceptionismError(
                f"{THREADS_ENV} must be a whole number of threads, 1 or more (got '{value}').")
        return ThreadChoice(int(value), f"{THREADS_ENV}={value}")
    if env.get("OMP_NUM_THREADS", "").strip().isdigit() and int(env["OMP_NUM_THREADS"]) >= 1:
        return ThreadChoice(int(env["OMP_NUM_THREADS"]), f"OMP_NUM_THREADS={env['OMP_NUM_THREADS']}")
    if cpus == 1:
        return ThreadChoice(1, "1 usable CPU")
    if busy is None:
        busy = others_busy()
    if busy is None:
        return ThreadChoice(cpus, f"{cpus} usable CPUs (load unknown)")
    taken = int(busy + 0.5)
    if taken >= cpus:  # no core is free: every thread is time-sliced anyway, and with
        # sleeping waits more threads means a larger share of a contested machine (measured
        # with passive waiting)
        return ThreadChoice(cpus, f"{cpus} usable CPUs, all contested (others busy on {busy:.1f})",
                            automatic=True)
    return ThreadChoice(cpus - taken, f"{cpus} usable CPUs, other processes busy on {busy:.1f}",
                        automatic=True)


def configure_threads(threads: int | None = None) -> ThreadChoice:
    """Set torch's thread count: ``threads`` if given, else :func:`choose_threads`."""
    import torch

    choice = ThreadChoice(threads, "asked for") if threads else choose_threads()
    torch.set_num_threads(choice.threads)
    return choice


class LoadFollower:
    """Re-chooses an automatic thread count from the load seen since it last looked (see
    the module docstring). One per process (:func:`follow_load`); safe to call from several
    threads (a server's dreams): each call sets the count for the thread that calls it,
    which is the thread whose next operations it concerns."""

    def __init__(self, min_interval: float = 1.0, cpus: int | None = None,
                 sample: Callable[[], CpuSample | None] = CpuSample.now):
        self.min_interval = min_interval
        self.cpus = cpus
        self._sample = sample
        self._last = sample()
        self._lock = threading.Lock()

    def threads_now(self, current: int) -> int:
        """The thread count for the load since the last look, or ``current`` when it is
        too soon to tell (less than ``min_interval`` seconds) or the load is unknown."""
        with self._lock:
            if self._last is None:  # no /proc/stat here
                return current
            sample = self._sample()
            if sample is None or sample.wall_s - self._last.wall_s < self.min_interval:
                return current
            busy = sample.others_since(self._last)
            self._last = sample
        return choose_threads(env={}, busy=busy, cpus=self.cpus).threads


_follower: LoadFollower | None = None
_applied = threading.local()  # .threads: the count follow_load last left in this thread


def follow_load() -> int | None:
    """Between the steps of a CPU dream: when the thread count was chosen from the load
    (not set by the user), choose it again from the load since the last look, at most once
    a second, and apply it. Returns the count now in force, or None when it is not ours to
    change: the user set it (``INCEPTIONISM_THREADS`` or ``OMP_NUM_THREADS`` at start-up or
    since, :func:`use_threads`), or something changed torch's count in this thread since
    this function last set it (``torch.set_num_threads`` by the caller: from then on that
    thread's count is left alone)."""
    global _follower
    if _started is None or not _started.automatic:
        return None
    if any(os.environ.get(name, "").strip() for name in (THREADS_ENV, "OMP_NUM_THREADS")):
        return None
    import torch

    current = torch.get_num_threads()
    applied = getattr(_applied, "threads", None)
    if applied is not None and applied != current:
        _applied.threads = 0  # set by someone else: theirs for good in this thread (counts >= 1)
        return None
    if _follower is None:
        _follower = LoadFollower()
    threads = _follower.threads_now(current)
    if threads != current:
        torch.set_num_threads(threads)
    _applied.threads = threads
    return threads


def tune_allocator(mmap_threshold: int = 64 << 20, trim_threshold: int = 64 << 20) -> bool:
    """Set glibc malloc's thresholds; returns False (and changes nothing) elsewhere."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        mallopt(M_TRIM_THRESHOLD, trim_threshold))


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
    """Fix this process's thread count at ``threads`` (at least 1), replacing a choice made
    from the load: what batch and cluster workers do, so that their share of the cores
    stays what the driver gave them and their dreams are bit-identical to a one-process
    run with that count. The load is no longer followed."""
    import torch

    global _started
    if _started is None:
        tune_allocator()
    _started = ThreadChoice(max(1, threads), "asked for")
    torch.set_num_threads(_started.threads)
    return _started


def start_up(threads: int | None = None) -> ThreadChoice:
    """What every front end runs before dreaming: allocator and thread count.

    The thread count is chosen once per process (later calls return that first choice and
    change nothing), so a server or worker that calls it per request, or a caller that set
    torch's threads itself afterwards, is not second-guessed.
    """
    global _started
    if _started is None:
        tune_allocator()
        _started = configure_threads(threads)
        _applied.threads = _started.threads  # a later torch.set_num_threads here is the caller's
    return _started
