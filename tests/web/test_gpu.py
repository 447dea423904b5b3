"""The studio on a GPU: it serves with ``--device cuda``, dreams through its HTTP API and
returns a PNG whose stored parameters name the GPU. Marked `gpu`: skipped where there is no
CUDA device."""

from __future__ import annotations

import pytest

from inceptionism.io.images import read_metadata

from .conftest import Server, small_photo
from .test_http import client, dream_args, gradio_client

pytestmark = pytest.mark.gpu


def test_the_studio_dreams_on_the_gpu(tmp_path, gpu):
    server = Server(tmp_path, "--device", str(gpu))
    try:
        photo = small_photo(tmp_path / "cat.png", size=(160, 112))
        status, _, download, _ = client(server).predict(
            *dream_args(gradio_client.handle_file(str(photo))), api_name="/dream")
        assert "Done" in status, server.errors()
        assert read_metadata(download)["device"].startswith(gpu.type)
    finally:
        server.stop()
