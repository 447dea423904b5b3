"""The studio through HTTP: the documented API (gradio_client), what the server refuses to
serve, the line of waiting jobs, videos, and a clean exit."""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import inceptionism
from inceptionism.io.images import read_metadata

from .conftest import Server, small_photo

gradio_client = pytest.importorskip("gradio_client")


def client(server):
    return gradio_client.Client(server.url, verbose=False, download_files=True)


def settings(steps=2, octaves=2, seed=0):
    # steps, octaves, octave scale, step size, smoothing, growth, cascade, pyramid, blend,
    # jitter, seed (the Dream tab's controls, in order)
    return [steps, octaves, 1.4, 0.012, 0.5, 0, False, "octave", 0.5, 32, seed]


def dream_args(photo, steps=2, octaves=2, objective="b10"):
    return [photo, "efficientnet_lite0", objective, *settings(steps, octaves), None]


def test_api_dreams_and_returns_the_png_with_its_parameters(server, tmp_path):
    photo = small_photo(tmp_path / "cat.png", size=(160, 112))
    status, shown, download, notes = client(server).predict(
        *dream_args(gradio_client.handle_file(str(photo))), api_name="/dream")
    assert "Done" in status
    data = Path(download).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (160, 112)
        dreamed = np.asarray(img.convert("RGB"), dtype=np.int16)
    with Image.open(photo) as img:
        assert np.abs(dreamed - np.asarray(img, dtype=np.int16)).mean() > 2  # it did dream
    meta = read_metadata(download)
    assert meta["objective"] == "b10" and meta["config"]["steps"] == 2
    assert meta["inceptionism"] == inceptionism.__version__


def test_api_guided_dream_stores_its_guide(server, tmp_path):
    photo = small_photo(tmp_path / "cat.png", size=(96, 64))
    guide = small_photo(tmp_path / "cup.png", size=(96, 64), name="coffee")
    args = dream_args(gradio_client.handle_file(str(photo)), steps=2, octaves=1, objective="b9")
    args[-1] = gradio_client.handle_file(str(guide))
    status, _, download, _ = client(server).predict(*args, api_name="/dream")
    meta = read_metadata(download)
    assert Path(meta["guide"]["file"]).name == "cup.png"
    assert meta["objective"] == "b9"


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.mark.parametrize("path", [
    "/etc/passwd",
    "{root}/../../../../etc/passwd",
    "{root}/uploads/../../../../../etc/passwd",
    "../../../../../../etc/passwd",
    "%2Fetc%2Fpasswd",
    "..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "{package}/cli.py",
    "{package}/data/chelsea.png",
    "{root}",
])
def test_server_files_are_never_served(server, path):
    root = server.folders()[0]
    package = Path(inceptionism.__file__).parent
    path = path.format(root=root, package=package)
    for route in ("gradio_api/file=", "file=", "static/", "assets/", "gradio_api/"):
        code, body = get(server.url + route + path)
        assert code >= 400, (route, path, code)
        assert b"root:" not in body and b"def " not in body[:2000]


def upload(server, name: str, payload: bytes) -> tuple[int, str]:
    boundary = "inceptionism-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n").encode() + payload + \
        f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(server.url + "gradio_api/upload", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; "
                                                              f"boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_the_page_own_files_are_served(server, tmp_path):
    """The control for the refusals above: an upload comes back by the same route."""
    payload = small_photo(tmp_path / "cat.png").read_bytes()
    code, body = upload(server, "cat.png", payload)
    assert code == 200
    stored = json.loads(body)[0]
    assert Path(stored).is_relative_to(server.folders()[0])
    assert get(server.url + "gradio_api/file=" + stored) == (200, payload)


def test_api_inputs_must_be_uploads(server):
    """A client naming a server path as the photo is refused before our code sees it."""
    fake = {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}, "orig_name": "x.png"}
    with pytest.raises(Exception) as info:
        client(server).predict(*dream_args(fake), api_name="/dream")
    assert "root:" not in str(info.value)


def test_oversized_upload_is_refused_with_the_message(server):
    code, body = upload(server, "big.png", b"\0" * (2 * 2**20))  # the limit here: 1 MiB
    assert code == 413
    assert "maximum allowed size of 1048576 bytes" in body
    assert not list(server.folders()[0].rglob("big.png"))


def test_one_job_at_a_time_with_a_bounded_line(server, tmp_path):
    """max-waiting 1: a second job waits ("1 ahead"), a third is told the studio is busy."""
    photo = gradio_client.handle_file(str(small_photo(tmp_path / "cat.png", size=(300, 200))))
    first = client(server).submit(*dream_args(photo, steps=40, octaves=3), api_name="/dream")
    deadline = time.monotonic() + 120
    while not any("step" in str(o[0]) for o in first.outputs()):
        assert time.monotonic() < deadline and not first.done(), "the first job never started"
        time.sleep(0.1)
    second = client(server).submit(*dream_args(photo, steps=1, octaves=1), api_name="/dream")
    while not any("Waiting: 1 ahead" in str(o[0]) for o in second.outputs()):
        assert not first.done(), "the second job never said it was waiting"
        time.sleep(0.1)
    t0 = time.monotonic()
    with pytest.raises(Exception, match=r"Busy: 2 jobs are ahead of you"):
        client(server).predict(*dream_args(photo, steps=1, octaves=1), api_name="/dream")
    assert time.monotonic() - t0 < 30, "the busy answer was not immediate"
    assert not first.done(), "make the first job longer: it ended before the third was refused"
    assert "Done" in first.result()[0]
    assert "Done" in second.result()[0]


def test_zoom_and_clip_videos(server, tmp_path):
    import imageio_ffmpeg  # the video extra's writer (imageio itself is not a dependency)

    photo = gradio_client.handle_file(str(small_photo(tmp_path / "cat.png", size=(96, 64))))
    # photo, clip, objective, model, frames, zoom, rotate, size, fps, steps, carry
    status, last, video = client(server).predict(
        photo, None, "b7", "efficientnet_lite0", 3, 1.05, 1.0, "64x64", 8, 1, 0.6,
        api_name="/zoom")
    assert "Done: 3 frames" in status
    path = video["video"] if isinstance(video, dict) else video
    assert Path(path).read_bytes()[4:8] == b"ftyp"
    rgb = np.asarray(Image.open(small_photo(tmp_path / "f.png", size=(64, 48))).convert("RGB"))
    clip = tmp_path / "clip.mp4"
    writer = imageio_ffmpeg.write_frames(str(clip), (64, 48), fps=8, codec="libx264",
                                         macro_block_size=1)
    writer.send(None)
    for i in range(4):
        writer.send(np.ascontiguousarray(np.roll(rgb, 2 * i, axis=1)))
    writer.close()
    status, last, video = client(server).predict(
        None, gradio_client.handle_file(str(clip)), "b7", "efficientnet_lite0", 3, 1.05, 0, "",
        8, 1, 0.6, api_name="/video")
    assert "Done: 3 frames" in status
    path = video["video"] if isinstance(video, dict) else video
    assert Path(path).read_bytes()[4:8] == b"ftyp"


def test_other_hosts_get_a_warning_and_the_folder_goes_on_exit(tmp_path):
    srv = Server(tmp_path, "--host", "0.0.0.0")
    try:
        assert len(srv.folders()) == 1
        assert srv.folders()[0].stat().st_mode & 0o077 == 0, "the folder is not private"
    finally:
        code = srv.stop()
    assert "warning: serving on 0.0.0.0" in srv.errors()
    assert srv.errors().count("\n") <= 2, srv.errors()
    assert code == 0
    assert srv.folders() == [], "the private folder was left behind"


def test_loopback_by_default(server):
    assert server.first_line.startswith(f"inceptionism studio on http://127.0.0.1:{server.port}")
    assert "warning" not in server.errors()
