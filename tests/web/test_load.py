"""A small load test: a few users at once dreaming, pressing Stop and uploading a broken
file through the HTTP API (`benchmarks.studio_load`, made small); every job gets exactly one
outcome, none is lost or mixed up, and the server logs no error."""

from __future__ import annotations

import pytest

pytest.importorskip("gradio_client")

from benchmarks.studio_load import OUTCOMES, Load, run  # noqa: E402


def test_a_few_users_at_once_lose_nothing(tmp_path):
    load = Load(users=3, seconds=12, stop_share=0.2, broken_share=0.2, think_s=(0.1, 0.4),
                server_args=("--max-waiting", "1", "--keep-results", "1m"))
    result = run(load, tmp_path)
    assert result["jobs"] >= 6, result
    assert result["lost"] == 0 and result["error"] == 0, result["errors"]
    assert sum(result[o] for o in OUTCOMES) == result["jobs"]
    assert result["completed"] >= 1 and result["duplicated"] == 0
    assert result["server_tracebacks"] == 0
