"""The studio for a group, through HTTP: two users with accounts, each seeing and fetching only
their own files (also by URL, and as a job's input), a wrong password getting nothing, and
each user's own limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from inceptionism.web.accounts import Limits, set_account

from .conftest import MAX_PIXELS, Server, small_photo

gradio_client = pytest.importorskip("gradio_client")
httpx = pytest.importorskip("httpx")

PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}


@pytest.fixture(scope="module")
def group(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("group")
    accounts = tmp / "accounts"
    set_account(accounts, "alice", PASSWORDS["alice"])
    set_account(accounts, "bob", PASSWORDS["bob"], Limits(max_steps=2))
    set_account(accounts, "carol", PASSWORDS["carol"], Limits(max_pixels=5000))
    srv = Server(tmp, "--auth", str(accounts), "--max-file-size", "1", "--max-pixels",
                 str(MAX_PIXELS))
    yield srv
    srv.stop()


class Browser:
    """An HTTP session, logged in as ``user`` (or not at all)."""

    def __init__(self, server, user: str | None = None, password: str | None = None):
        self.http = httpx.Client(base_url=server.url, timeout=60)
        self.login = None
        if user is not None:
            self.login = self.http.post("/login", data={"username": user,
                                                        "password": password}).status_code

    def get(self, url: str) -> httpx.Response:
        return self.http.get(url)

    def upload(self, name: str, payload: bytes) -> httpx.Response:
        return self.http.post("/gradio_api/upload", files={"files": (name, payload, "image/png")})


def client(server, user):
    return gradio_client.Client(server.url, auth=(user, PASSWORDS[user]), verbose=False,
                                download_files=False)


def dream_args(photo, steps=1):
    # photo, model, objective, steps, octaves, octave scale, step size, smoothing, growth,
    # cascade, pyramid, blend, jitter, seed, guide
    return [photo, "efficientnet_lite0", "b10", steps, 1, 1.4, 0.012, 0.5, 0, False, "octave",
            0.5, 32, 0, None]


def file_url(server, value) -> str:
    url = value["url"] if isinstance(value, dict) else value
    return url if url.startswith("http") else server.url + url.lstrip("/")


def test_users_fetch_only_their_own_files(group, tmp_path):
    photo = small_photo(tmp_path / "cat.png")
    status, _, download, _ = client(group, "alice").predict(
        *dream_args(gradio_client.handle_file(str(photo))), api_name="/dream")
    assert "Done" in status
    root = group.folders()[0]
    assert Path(download["path"]).is_relative_to(root / "uploads" / "users" / "alice")
    url = file_url(group, download)
    alice, bob = Browser(group, "alice", "alice-pw"), Browser(group, "bob", "bob-pw")
    assert alice.login == bob.login == 200
    mine = alice.get(url)
    assert mine.status_code == 200 and mine.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert bob.get(url).status_code == 403, "bob fetched alice's result by its URL"
    anonymous = Browser(group).get(url)  # Gradio's 401, or the guard's 403
    assert anonymous.status_code in (401, 403) and b"PNG" not in anonymous.content

    uploaded = alice.upload("mine.png", photo.read_bytes())
    assert uploaded.status_code == 200
    path = uploaded.json()[0]
    assert alice.get(f"/gradio_api/file={path}").status_code == 200
    assert bob.get(f"/gradio_api/file={path}").status_code == 403, "bob fetched alice's upload"


def test_a_job_cannot_name_another_users_file(group, tmp_path):
    """Bob's job names the path of Alice's upload as its photo (a raw request: a client
    would upload the file, if it had it, and get a path of its own)."""
    alice, bob = Browser(group, "alice", "alice-pw"), Browser(group, "bob", "bob-pw")
    theirs = alice.upload("private.png", small_photo(tmp_path / "p.png").read_bytes()).json()[0]
    own = bob.upload("own.png", small_photo(tmp_path / "o.png", size=(64, 48)).read_bytes())
    config = bob.get("/config").json()
    fn = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "dream")

    def join(path: str) -> httpx.Response:
        photo = {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": "x.png"}
        return bob.http.post("/gradio_api/queue/join", json={
            "data": dream_args(photo), "fn_index": fn, "session_hash": "bob-raw",
            "event_data": None, "trigger_id": None})

    refused = join(theirs)
    assert refused.status_code == 403 and "not yours" in refused.text
    assert join(own.json()[0]).status_code == 200, "the control: bob's own upload was refused"


def test_each_users_limits(group, tmp_path):
    own = gradio_client.handle_file(str(small_photo(tmp_path / "own.png")))
    bob = client(group, "bob")
    assert "Done" in bob.predict(*dream_args(own, steps=2), api_name="/dream")[0]
    with pytest.raises(Exception, match="3 steps is more than your limit of 2"):
        bob.predict(*dream_args(own, steps=3), api_name="/dream")
    assert "Done" in client(group, "alice").predict(*dream_args(own, steps=3),
                                                     api_name="/dream")[0]
    with pytest.raises(Exception, match=r"96x64 \(0.0061 megapixels\), more than the limit "
                                        r"of 0.005 megapixels"):  # carol's own limit
        client(group, "carol").predict(*dream_args(own), api_name="/dream")
    small = gradio_client.handle_file(str(small_photo(tmp_path / "small.png", size=(64, 48))))
    assert "Done" in client(group, "carol").predict(*dream_args(small), api_name="/dream")[0]


def test_a_wrong_password_gets_nothing(group, tmp_path):
    photo = small_photo(tmp_path / "cat.png")
    path = Browser(group, "alice", "alice-pw").upload("a.png", photo.read_bytes()).json()[0]
    for user, password in (("alice", "bob-pw"), ("alice", ""), ("mallory", "alice-pw")):
        intruder = Browser(group, user, password)
        assert intruder.login in (400, 422)  # wrong, or an empty password (a bad form)
        for url in ("/config", "/gradio_api/info", f"/gradio_api/file={path}"):
            answer = intruder.get(url)
            assert answer.status_code in (401, 403) and b"PNG" not in answer.content, url
        assert intruder.upload("x.png", photo.read_bytes()).status_code == 401
    with pytest.raises(Exception):
        gradio_client.Client(group.url, auth=("alice", "wrong"), verbose=False)


def test_with_accounts_no_warning_on_loopback(group):
    assert "warning" not in group.errors()


def test_uploads_expire_on_a_running_server(tmp_path):
    """--keep-results 2s: an upload is served, then removed from the disk and refused."""
    import time

    accounts = tmp_path / "accounts"
    set_account(accounts, "alice", PASSWORDS["alice"])
    srv = Server(tmp_path, "--auth", str(accounts), "--keep-results", "2s")
    try:
        alice = Browser(srv, "alice", "alice-pw")
        path = alice.upload("a.png", small_photo(tmp_path / "a.png").read_bytes()).json()[0]
        assert alice.get(f"/gradio_api/file={path}").status_code == 200
        deadline = time.monotonic() + 30
        while Path(path).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not Path(path).exists(), "the upload outlived --keep-results"
        assert alice.get(f"/gradio_api/file={path}").status_code in (403, 404)
    finally:
        srv.stop()


def test_with_accounts_another_host_gets_a_note_not_the_warning(tmp_path):
    accounts = tmp_path / "accounts"
    set_account(accounts, "alice", PASSWORDS["alice"])
    srv = Server(tmp_path, "--auth", str(accounts), "--host", "0.0.0.0")
    try:
        assert Browser(srv, "alice", "alice-pw").login == 200
    finally:
        srv.stop()
    assert "warning" not in srv.errors()
    assert "note: serving on 0.0.0.0 over plain HTTP" in srv.errors()


def test_a_missing_accounts_file_is_one_sentence(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "inceptionism", "serve", "--auth",
                           str(tmp_path / "none.txt"), "--port", "0"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "no such accounts file" in done.stderr
