"""The studio's latency and overhead: prints figures and writes JSON. Not a test.

    python -m benchmarks.web                     # 3 rounds, the chelsea photo, 4 octaves x 10
    python -m benchmarks.web --rounds 5 --json benchmarks/results/web.json

Needs the test extra (Gradio, Playwright) and Debian's chromium. Starts `inceptionism serve`
on a free loopback port, drives the page in headless chromium, and for the same dream
(same photo, objective and settings) measures, alternating between them in each round:

* **page**: from the click on Dream to the first progress line, to the first preview (the
  picture after octave 1), and to the result shown with its download; the model is already
  loaded (a warm-up dream runs first), as it is for every visitor after the first;
* **the job itself**: the server's own time for that dream (run_dream in its worker thread,
  shown in the page's "Done in N s"); page minus job is what the page adds (the line,
  threads, events, encoding previews, the browser);
* **engine**: the same dream through the jobs layer in this benchmark's process;
* **CLI**: `inceptionism dream` as a fresh process (start-up and model load included);
* **Stop**: a 4 x 100-step dream stopped at its second step: from the click on Stop until
  the page says "Stopped" (the job is over by then: the slot is free).

Every process runs with the same number of threads (``--threads``). On a shared machine the
figures move with the load, which is recorded with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from tests.web.conftest import CHROMIUM_ARGS, Server


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()
    except OSError:
        return "n/a"


def page_dream(page, steps: int, octaves: int) -> dict:
    """Click Dream; time the first progress line, the first preview and the result."""
    for elem_id, value in (("steps", steps), ("octaves", octaves)):
        box = page.locator(f"#{elem_id} input[type=number]")
        box.fill(str(value))
        box.press("Tab")
    page.evaluate("""() => {
      const t0 = performance.now();
      const marks = window.__marks = {};
      const mark = (k) => { if (!(k in marks)) marks[k] = (performance.now() - t0) / 1000; };
      const before = document.querySelector('#result img');
      const old = before ? before.src : null;  // a picture left by an earlier dream
      const obs = new MutationObserver(() => {
        const s = document.querySelector('#status').innerText;
        const r = document.querySelector('#result img');
        if (s.includes('step')) mark('progress');
        if (r && r.src !== old && r.src.includes('preview-')) mark('preview');
        if ('progress' in marks && s.includes('Done')) { mark('done'); obs.disconnect(); }
      });
      obs.observe(document, {subtree: true, childList: true, attributes: true,
                             characterData: true});
      document.querySelector('#dream-btn').click();
    }""")
    page.wait_for_function("'done' in window.__marks", timeout=600_000)
    marks = page.evaluate("window.__marks")
    text = page.locator("#status").inner_text()  # "Done in 2.9 s: ...": the job's own time
    marks["job"] = float(re.search(r"Done in ([0-9.]+) s", text).group(1))
    return marks


def page_stop(page) -> float:
    """Start a long dream, press Stop at its second step: seconds until the page says so."""
    for elem_id, value in (("steps", 100), ("octaves", 4)):
        box = page.locator(f"#{elem_id} input[type=number]")
        box.fill(str(value))
        box.press("Tab")
    page.click("#dream-btn")
    page.wait_for_function("document.querySelector('#status').innerText.includes('ETA')",
                           timeout=600_000)
    page.evaluate("""() => {
      const t0 = performance.now();
      const marks = window.__stop = {};
      const obs = new MutationObserver(() => {
        if (document.querySelector('#status').innerText.includes('Stopped')) {
          marks.stopped = (performance.now() - t0) / 1000; obs.disconnect(); }
      });
      obs.observe(document, {subtree: true, childList: true, characterData: true});
      document.querySelector('#stop-btn').click();
    }""")
    page.wait_for_function("'stopped' in window.__stop", timeout=600_000)
    return page.evaluate("window.__stop.stopped")


def engine_dream(photo: Path, steps: int, octaves: int, dreamer) -> float:
    from inceptionism.jobs import DreamRequest, run_dream

    out = Path(tempfile.mkdtemp()) / "engine.png"
    t0 = time.perf_counter()
    run_dream(DreamRequest(input=photo, output=out, objective="b10",
                           overrides=dict(steps=steps, octaves=octaves),
                           download_progress=False), dreamer=dreamer)
    elapsed = time.perf_counter() - t0
    shutil.rmtree(out.parent)
    return elapsed


def cli_dream(photo: Path, steps: int, octaves: int, env: dict) -> float:
    out = Path(tempfile.mkdtemp()) / "cli.png"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "inceptionism", "dream", str(photo), "-o", str(out),
                    "-l", "b10", "--steps", str(steps), "--octaves", str(octaves), "-q"],
                   check=True, env=env)
    elapsed = time.perf_counter() - t0
    shutil.rmtree(out.parent)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--octaves", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import torch
    from playwright.sync_api import sync_playwright

    from inceptionism.api import Dreamer
    from inceptionism.engine.runtime import tune_allocator

    tune_allocator()  # as the CLI (and so the server) does at start-up
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    torch.set_num_threads(args.threads)
    env = {**os.environ}
    work = Path(tempfile.mkdtemp(prefix="inceptionism-bench-"))
    photo = work / "chelsea.png"
    shutil.copyfile(resources.files("inceptionism.data") / "chelsea.png", photo)
    dreamer = Dreamer(progress=False)
    server = Server(work)
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                        args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(server.url)
            page.wait_for_selector("#dream-btn")
            page.locator("#photo input[type=file]").set_input_files(str(photo))
            page.locator("#photo-view img").wait_for()
            first = page_dream(page, 1, 1)  # loads the model in the server
            print(f"warm-up (model load + a 1x1 dream): {first['done']:.2f} s", flush=True)
            engine_dream(photo, 1, 1, dreamer)
            for r in range(args.rounds):
                marks = page_dream(page, args.steps, args.octaves)
                engine = engine_dream(photo, args.steps, args.octaves, dreamer)
                cli = cli_dream(photo, args.steps, args.octaves, env)
                stop = page_stop(page)
                row = {"round": r + 1, "page_stop_s": stop, "server_job_s": marks["job"],
                       "page_first_progress_s": marks["progress"],
                       "page_first_preview_s": marks["preview"], "page_done_s": marks["done"],
                       "engine_s": engine, "cli_s": cli, "loadavg": loadavg()}
                rows.append(row)
                print(f"round {r + 1}: page first progress {marks['progress']:.2f} s, first "
                      f"preview {marks['preview']:.2f} s, done {marks['done']:.2f} s (the job itself "
                      f"{marks['job']:.1f} s) | engine "
                      f"{engine:.2f} s | CLI {cli:.2f} s | Stop -> stopped {stop:.2f} s | load "
                      f"{row['loadavg']}", flush=True)
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    def med(key):
        return statistics.median(r[key] for r in rows)

    summary = {
        "photo": "chelsea 451x300", "objective": "b10", "steps": args.steps,
        "octaves": args.octaves, "threads": args.threads, "rounds": rows,
        "median": {k: med(k) for k in ("page_first_progress_s", "page_first_preview_s",
                                        "page_done_s", "server_job_s", "engine_s", "cli_s",
                                        "page_stop_s")},
        "machine": {"cpu": platform.processor() or platform.machine(),
                    "cores": os.cpu_count(), "torch": torch.__version__},
    }
    m = summary["median"]
    print(f"\nmedian of {len(rows)}: Dream -> first progress {m['page_first_progress_s']:.2f} s, "
          f"-> first preview {m['page_first_preview_s']:.2f} s, -> result "
          f"{m['page_done_s']:.2f} s, of which the job itself took {m['server_job_s']:.1f} s "
          f"(the page adds {m['page_done_s'] - m['server_job_s']:+.2f} s); the same dream in "
          f"this process {m['engine_s']:.2f} s; through the CLI "
          f"{m['cli_s']:.2f} s (page {m['page_done_s'] - m['cli_s']:+.2f} s vs CLI); Stop at step 2 "
          f"of a 4 x 100 dream -> the page says stopped in {m['page_stop_s']:.2f} s")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
