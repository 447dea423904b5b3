"""The studio under load: many users at once through the HTTP API. Prints figures, writes JSON.

    python -m benchmarks.studio_load                      # 30 users for 3 minutes
    python -m benchmarks.studio_load --users 4 --seconds 20 --json /tmp/load.json

Starts `inceptionism serve --auth` on a free loopback port (127.0.0.1 only) with one account
per simulated user, and runs each user in a thread of its own with `gradio_client` (the
documented API, as a program would use it): log in, then until the time is up, dream on a
small photo (each job with a seed of its own), wait a little, and again. Some users press
Stop mid-job (the client cancels its event), some upload a broken file. Every job ends in
exactly one way:

* **completed**: the PNG came back, and its stored seed is the job's own (no mix-ups);
* **busy**: the line was full and the user was told so at once (they try again later);
* **stopped**: the user cancelled it;
* **refused**: the broken file got its one-sentence message;
* **error**: anything else (a server error); **lost**: a job with no outcome at all.

Also measured: the wait (submit to the job's start, from the statuses streamed back) and the
total time (submit to result) of completed jobs, the server's resident memory (RSS) after a
warm-up job and at the end, and the disk its private folder uses at the end. Bounded: the
users stop at the deadline and the server is stopped after at most one more minute.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from inceptionism.io.images import read_metadata
from inceptionism.web.accounts import set_account
from inceptionism.web.storage import folder_size
from tests.web.conftest import Server, small_photo

OUTCOMES = ("completed", "busy", "stopped", "refused", "error")


@dataclass
class Job:
    user: str
    seed: int
    kind: str  # dream, stop, broken
    outcome: str = "lost"
    wait_s: float | None = None
    total_s: float | None = None
    message: str = ""


@dataclass
class Load:
    users: int
    seconds: float
    stop_share: float = 0.15
    broken_share: float = 0.1
    think_s: tuple[float, float] = (0.5, 2.0)
    size: tuple[int, int] = (64, 48)
    steps: int = 2
    octaves: int = 1
    server_args: tuple[str, ...] = ("--max-waiting", "8", "--keep-results", "2m",
                                    "--disk-quota", "20MB")
    jobs: list[Job] = field(default_factory=list)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dream_args(photo, seed: int, load: Load) -> list:
    # photo, model, objective, steps, octaves, octave scale, step size, smoothing, growth,
    # cascade, pyramid, blend, jitter, seed, guide
    return [photo, "efficientnet_lite0", "b10", load.steps, load.octaves, 1.4, 0.012, 0.5, 0,
            False, "octave", 0.5, 32, seed, None]


def run_job(client, job: Job, photo, load: Load) -> None:
    """Submit one job, follow its statuses, and record how it ended."""
    from gradio_client import handle_file

    t0 = time.monotonic()
    handle = client.submit(*dream_args(handle_file(str(photo)), job.seed, load),
                           api_name="/dream")
    seen = 0
    while not handle.done():
        outputs = handle.outputs()
        for out in outputs[seen:]:
            if job.wait_s is None and "Waiting" not in str(out[0]):
                job.wait_s = time.monotonic() - t0
                if job.kind == "stop":
                    handle.cancel()
                    job.outcome = "stopped"
                    return
        seen = len(outputs)
        time.sleep(0.05)
    try:
        status, _, png, _ = handle.result()
    except Exception as exc:  # the server's sentence, raised by the client
        job.message = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else repr(exc)
        job.outcome = "busy" if "Busy:" in job.message else \
            "refused" if job.kind == "broken" and "broken" in job.message else "error"
        return
    job.total_s = time.monotonic() - t0
    if job.wait_s is None:
        job.wait_s = job.total_s
    if "Done" in str(status) and png and read_metadata(png)["config"]["seed"] == job.seed:
        job.outcome = "completed"
    else:
        job.message = f"ended without its result: {str(status)[:120]}"


def user_loop(server, name: str, password: str, load: Load, deadline: float, photos: dict,
              seeds, lock: threading.Lock, out: Path) -> None:
    from gradio_client import Client

    rng = random.Random(name)
    client = Client(server.url, auth=(name, password), verbose=False,
                    download_files=str(out / name))
    while time.monotonic() < deadline:
        roll = rng.random()
        kind = "broken" if roll < load.broken_share else \
            "stop" if roll < load.broken_share + load.stop_share else "dream"
        with lock:
            job = Job(name, next(seeds), kind)
            load.jobs.append(job)
        try:
            run_job(client, job, photos["broken" if kind == "broken" else "photo"], load)
        except Exception as exc:  # the client itself failed: counted, never hidden
            job.outcome, job.message = "error", f"client: {type(exc).__name__}: {exc}"[:200]
        time.sleep(rng.uniform(*load.think_s))


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def summary(load: Load, rss: dict, disk: int, log: str, wall: float) -> dict:
    counts = {o: sum(j.outcome == o for j in load.jobs) for o in (*OUTCOMES, "lost")}
    done = [j for j in load.jobs if j.outcome == "completed"]
    waits = [j.wait_s for j in done]
    totals = [j.total_s for j in done]
    return {
        "users": load.users, "seconds": load.seconds, "jobs": len(load.jobs), **counts,
        "duplicated": len(done) - len({j.seed for j in done}),
        "wait_p50_s": percentile(waits, 0.5), "wait_p95_s": percentile(waits, 0.95),
        "total_p50_s": percentile(totals, 0.5), "total_p95_s": percentile(totals, 0.95),
        "total_mean_s": statistics.fmean(totals) if totals else None,
        "wall_s": wall, **rss, "disk_end_mb": disk / 2**20,
        "server_tracebacks": log.count("Traceback"),
        "errors": sorted({j.message for j in load.jobs if j.outcome in ("error", "lost")})[:10],
    }


def run(load: Load, tmp: Path) -> dict:
    """Start the server, run the users until ``load.seconds`` have passed, stop it."""
    accounts = tmp / "accounts"
    passwords = {f"user{i:02d}": f"pw-{i}-{random.random()}" for i in range(load.users)}
    for name, password in passwords.items():
        set_account(accounts, name, password)
    photos = {"photo": small_photo(tmp / "photo.png", size=load.size),
              "broken": tmp / "broken.png"}
    photos["broken"].write_bytes(photos["photo"].read_bytes()[:200])  # truncated PNG
    server = Server(tmp, "--auth", str(accounts), *load.server_args)
    try:
        warm = Load(1, 0, server_args=())  # load the model once, then measure from there
        from gradio_client import Client

        run_job(Client(server.url, auth=("user00", passwords["user00"]), verbose=False,
                       download_files=str(tmp / "warm")), Job("user00", -1, "dream"),
                photos["photo"], warm)
        rss = {"rss_start_mb": rss_mb(server.proc.pid)}
        series = [(0.0, rss["rss_start_mb"])]
        seeds, lock = iter(range(10**9)), threading.Lock()
        t0 = time.monotonic()
        deadline = t0 + load.seconds
        threads = [threading.Thread(target=user_loop, daemon=True, args=(
            server, name, pw, load, deadline, photos, seeds, lock, tmp / "downloads"))
            for name, pw in passwords.items()]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline + 60:
            time.sleep(1)
            series.append((round(time.monotonic() - t0, 1), rss_mb(server.proc.pid)))
        wall = time.monotonic() - t0
        rss.update(rss_end_mb=rss_mb(server.proc.pid), rss_peak_mb=max(m for _, m in series),
                   rss_every_10s_mb=[round(m) for t, m in series[::10]])
        disk = folder_size(server.folders()[0])
    finally:
        server.stop()
    return summary(load, rss, disk, server.errors(), wall)


def report(result: dict) -> str:
    def s(v):
        return "n/a" if v is None else f"{v:.2f} s"
    return "\n".join([
        f"users {result['users']}, {result['seconds']:.0f} s: {result['jobs']} jobs, "
        f"{result['completed']} completed, {result['busy']} refused as busy, "
        f"{result['stopped']} stopped, {result['refused']} broken files refused, "
        f"{result['error']} errors, {result['lost']} lost, {result['duplicated']} duplicated",
        f"wait p50 {s(result['wait_p50_s'])}, p95 {s(result['wait_p95_s'])}; total p50 "
        f"{s(result['total_p50_s'])}, p95 {s(result['total_p95_s'])}; wall {result['wall_s']:.0f} s",
        f"server RSS {result['rss_start_mb']:.0f} MB after warm-up, {result['rss_end_mb']:.0f} MB "
        f"at the end (peak {result['rss_peak_mb']:.0f} MB); disk at the end "
        f"{result['disk_end_mb']:.1f} MB; tracebacks in the server log: "
        f"{result['server_tracebacks']}",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--json", type=Path,
                        default=Path("benchmarks/results") /
                        f"studio-load-{time.strftime('%Y-%m-%d')}.json")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 100 or not 1 <= args.seconds <= 600:
        sys.exit("error: --users must be 1 to 100 and --seconds 1 to 600 (the run is bounded).")
    load = Load(args.users, args.seconds)
    with tempfile.TemporaryDirectory(prefix="studio-load-") as tmp:
        result = run(load, Path(tmp))
    result.update(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  machine=f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
                  loadavg_end=os.getloadavg(), command=" ".join(["python -m benchmarks.studio_load",
                                                               *(argv or sys.argv[1:])]),
                  settings={k: v for k, v in asdict(load).items() if k != "jobs"})
    print(report(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
