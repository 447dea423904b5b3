"""Downloaded weights: the cache folder, the download, its checks, and the errors a user sees.

Everything is served locally: a ``file://`` URL, or an HTTP server on 127.0.0.1 that cuts the
transfer short. Expected checksums are computed here with hashlib, not by the code under test.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from inceptionism.errors import WeightsError
from inceptionism.models.weights import UrlWeights, cache_dir

PAYLOAD = os.urandom(3 * 1024 * 1024 + 123)  # several download chunks, an odd tail
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("INCEPTIONISM_CACHE", str(folder))
    return folder


@pytest.fixture
def served(tmp_path) -> Path:
    path = tmp_path / "server" / "weights-file.pth"
    path.parent.mkdir()
    path.write_bytes(PAYLOAD)
    return path


def files_in(folder: Path) -> list[str]:
    """Every entry, hidden temporary files included."""
    return sorted(os.listdir(folder)) if folder.exists() else []


def weights_for(url: str, prefix: str = PAYLOAD_SHA[:8]) -> UrlWeights:
    return UrlWeights(url=url, filename="weights-file.pth", sha256_prefix=prefix, size_mb=3.0)


def test_cache_folder_is_torch_hubs_unless_set(tmp_path, monkeypatch):
    for name in ("INCEPTIONISM_CACHE", "XDG_CACHE_HOME", "TORCH_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "torch" / "hub" / "checkpoints"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert cache_dir() == tmp_path / "torch" / "hub" / "checkpoints"
    monkeypatch.setenv("INCEPTIONISM_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


def test_a_file_torchvision_already_downloaded_is_used_not_fetched_again(tmp_path, monkeypatch):
    monkeypatch.delenv("INCEPTIONISM_CACHE", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "weights-file.pth").write_bytes(PAYLOAD)  # as torchvision leaves it
    weights = weights_for("http://127.0.0.1:9/never-asked.pth")  # a download would fail
    assert weights.status() == "cached"
    assert weights.resolve(progress=False) == checkpoints / "weights-file.pth"


def test_a_file_in_the_old_cache_folder_is_still_used(tmp_path, monkeypatch):
    monkeypatch.delenv("INCEPTIONISM_CACHE", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    old = tmp_path / "xdg" / "inceptionism" / "weights-file.pth"
    old.parent.mkdir(parents=True)
    old.write_bytes(PAYLOAD)
    assert weights_for("http://127.0.0.1:9/never-asked.pth").resolve(progress=False) == old


def test_download_verifies_caches_and_is_reused(cache, served, capsys):
    weights = weights_for(served.as_uri())
    assert weights.status() == "downloadable"
    path = weights.resolve()
    assert path == cache / "weights-file.pth"
    assert path.read_bytes() == PAYLOAD
    assert files_in(cache) == ["weights-file.pth"]  # no temporary file left
    assert weights.status() == "cached"
    assert "weights-file.pth" in capsys.readouterr().err  # the progress bar, on stderr

    served.unlink()  # the source is gone: only the cache can answer now
    assert weights.resolve(progress=False) == path
    assert path.read_bytes() == PAYLOAD


def test_checksum_mismatch_is_an_error_and_caches_nothing(cache, served):
    wrong = "0" * 8 if not PAYLOAD_SHA.startswith("0" * 8) else "f" * 8
    weights = weights_for(served.as_uri(), prefix=wrong)
    with pytest.raises(WeightsError) as err:
        weights.resolve(progress=False)
    message = str(err.value)
    assert "incomplete or not the expected file" in message
    assert f"starts with {PAYLOAD_SHA[:8]}, expected {wrong}" in message
    assert served.as_uri() in message
    assert files_in(cache) == []
    assert weights.status() == "downloadable"


class TruncatingHandler(BaseHTTPRequestHandler):
    """Announces the whole payload, sends half of it, then hangs up."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def truncating_server():
    server = HTTPServer(("127.0.0.1", 0), TruncatingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/weights-file.pth"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_interrupted_transfer_is_an_error_and_caches_nothing(cache, truncating_server, served):
    weights = weights_for(truncating_server)
    with pytest.raises(WeightsError) as err:
        weights.resolve(progress=False)
    message = str(err.value)
    # torch.hub reads until the connection closes, then the hash check catches the short file
    assert "incomplete or not the expected file" in message and "run again" in message
    assert files_in(cache) == []
    assert weights.status() == "downloadable"
    # Nothing half-done is in the way: a complete source then succeeds.
    assert weights_for(served.as_uri()).resolve(progress=False).read_bytes() == PAYLOAD


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/weights-file.pth"  # nothing listens there now


def test_offline_error_names_the_file_its_url_and_where_to_put_it(cache):
    url = closed_port_url()
    with pytest.raises(WeightsError) as err:
        weights_for(url).resolve(progress=False)
    message = str(err.value)
    assert message.startswith("Cannot download weights-file.pth (3 MB) from " + url)
    assert f"put it at {cache / 'weights-file.pth'}" in message
    assert "from a file of your own" in message and err.value.remedy == "weights_file"
    # The CLI words that remedy as its option (tests/models/test_classic_models.py).
    from inceptionism.cli import cli_message

    assert cli_message(err.value).endswith(", or pass it with --weights FILE.")
    assert files_in(cache) == []


def test_a_corrupt_cached_file_is_refused_and_removed(cache, served):
    cache.mkdir()
    (cache / "weights-file.pth").write_bytes(PAYLOAD[:-1])
    weights = weights_for(served.as_uri())
    assert weights.status() == "cached"
    with pytest.raises(WeightsError, match="cached weights file .* is corrupt"):
        weights.resolve(progress=False)
    assert files_in(cache) == []
    assert weights.resolve(progress=False).read_bytes() == PAYLOAD  # downloaded afresh


def test_unwritable_cache_folder_is_a_clear_error(tmp_path, monkeypatch, served):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("INCEPTIONISM_CACHE", str(blocker / "cache"))
    with pytest.raises(WeightsError, match="set INCEPTIONISM_CACHE to a writable folder"):
        weights_for(served.as_uri()).resolve(progress=False)
