"""The studio under test: a real `inceptionism serve` on a free loopback port, and Debian's
chromium driven by Playwright (the system browser; browsers are never downloaded). The
handlers' own tests call them directly, on a :class:`Studio` of their own (no server).

The server runs as the CLI command in its own process, with its temporary folder under a
folder of the test's, so the tests can check it is removed on exit. Small limits make the
refusals cheap to trigger: 1 MiB uploads, 200 000 pixels, one job waiting.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read when Gradio is imported
pytest.importorskip("gradio", reason="the web extra is not installed")

MAX_PIXELS = 200_000
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path, *args: str):
        self.tmp = tmp
        self.port = free_port()
        env = {**os.environ, "TMPDIR": str(tmp), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        self.log = open(tmp / "server.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inceptionism", "serve", "--port", str(self.port), *args],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env, cwd=tmp,
            # Ctrl-C reaches it even when this suite runs in the background of a shell
            # without job control, which ignores SIGINT for its children.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.first_line = self.proc.stdout.readline()  # printed once it listens
        if "studio on" not in self.first_line:
            self.stop()
            raise RuntimeError(f"the server did not start: {self.first_line!r}\n{self.errors()}")
        self.url = f"http://127.0.0.1:{self.port}/"

    def errors(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def folders(self) -> list[Path]:
        return sorted(self.tmp.glob("inceptionism-studio-*"))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("studio"), "--max-waiting", "1", "--max-file-size", "1",
                 "--max-pixels", str(MAX_PIXELS))
    yield srv
    srv.stop()


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("The browser tests need Debian's chromium: apt-get install -y chromium "
                    "(.ci/run installs it).")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


# Records, in the page itself, every text the status and notes show and every picture the
# result shows, so a test can tell that a preview appeared even if it was soon replaced.
RECORDER = """
window.__seen = {status: [], notes: [], result: []};
new MutationObserver(() => {
  const add = (list, v) => { if (v && list[list.length - 1] !== v) list.push(v); };
  const s = document.querySelector('#status'); if (s) add(__seen.status, s.innerText);
  const n = document.querySelector('#notes'); if (n) add(__seen.notes, n.innerText);
  const r = document.querySelector('#result img'); if (r) add(__seen.result, r.src);
}).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so a fixture's teardown can tell it failed."""
    outcome = yield
    setattr(item, f"report_{outcome.get_result().when}", outcome.get_result())


# What a failed browser test adds to its report: the texts the page showed at the end.
SHOWN = ("status", "notes", "tour-status", "atlas-status", "video-status", "rerun-note")


@pytest.fixture
def page(browser, server, request):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    context.add_init_script(RECORDER)
    pg = context.new_page()
    pg.set_default_timeout(120_000)  # a slow, shared machine: wait generously, never sleep
    pg.goto(server.url)
    pg.wait_for_selector("#dream-btn")
    yield pg
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:  # what the page and the server said, for the report
        shown = pg.evaluate("ids => ids.map(i => [i, document.getElementById(i)?.innerText ?? null])",
                            list(SHOWN))
        report.sections.append(("page at the end", "\n".join(f"#{i}: {t!r}" for i, t in shown)))
        report.sections.append(("studio server log, last lines", "\n".join(server.errors().splitlines()[-40:])))
    context.close()


def small_photo(path: Path, size=(96, 64), name: str = "chelsea") -> Path:
    from importlib import resources

    from PIL import Image

    with Image.open(resources.files("inceptionism.data") / f"{name}.png") as img:
        img.convert("RGB").resize(size).save(path)
    return path


@pytest.fixture(scope="session")
def studio(tmp_path_factory):
    """The server's state, as `inceptionism serve` makes it, for calling handlers directly
    (the same small pixel limit as the server's; one job may wait)."""
    from inceptionism.web.slots import Slots
    from inceptionism.web.studio import Studio

    return Studio(root=tmp_path_factory.mktemp("studio-root"), slots=Slots(1),
                  max_pixels=MAX_PIXELS)


class Visitor:
    """What Gradio hands a handler as its ``gr.Request``: the session is all it reads."""

    def __init__(self, session_hash: str):
        self.session_hash = session_hash


def is_skip(update) -> bool:
    """Whether a handler's update leaves its component as it is on the page."""
    import gradio as gr

    return update == gr.skip()
