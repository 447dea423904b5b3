"""The server's memory stays flat: what Gradio keeps of each session's updates is dropped by
the janitor, and the session still works afterwards. The server runs in this process here,
so its Gradio state can be looked at; the load benchmark measures the RSS itself."""

from __future__ import annotations

import os

import pytest

from .conftest import free_port, small_photo

gradio_client = pytest.importorskip("gradio_client")


def test_pruning_keeps_each_session_to_the_pages_own_components(tmp_path, monkeypatch):
    from inceptionism.web.server import OFFLINE_ENV, launch, prune_sessions

    for key in (*OFFLINE_ENV, "GRADIO_TEMP_DIR", "GRADIO_EXAMPLES_CACHE"):  # restored after
        monkeypatch.setenv(key, os.environ.get(key, ""))
    page = launch(tmp_path / "root", port=free_port(), keep_s=3600)
    try:
        client = gradio_client.Client(page.local_url, verbose=False)
        photo = gradio_client.handle_file(str(small_photo(tmp_path / "cat.png")))
        args = [photo, "efficientnet_lite0", "b10", 1, 1, 1.4, 0.012, 0.5, 0, False, "octave",
                0.5, 32, 0, None]
        sessions = page.server_app.state_holder.session_data

        def held() -> int:
            return max(len(s.blocks_config.blocks) for s in sessions.values())

        for _ in range(3):
            assert "Done" in client.predict(*args, api_name="/dream")[0]
        prune_sessions(page)
        assert held() <= len(page.blocks)
        assert "Done" in client.predict(*args, api_name="/dream")[0], "pruning broke the session"
        for _ in range(5):
            client.predict(*args, api_name="/dream")
            prune_sessions(page)
        assert held() <= len(page.blocks)
    finally:
        page.janitor.stop()
        page.close()
