"""Bounded disk: expiry and the quota delete the right files (the oldest finished first,
never those of a job in the line), and sizes and durations read as written."""

from __future__ import annotations

import os

import pytest

from inceptionism.errors import InceptionismError
from inceptionism.web.storage import folder_size, parse_duration, parse_size, sweep

NOW = 1_000_000.0


def unit(root, rel: str, age_s: float, size: int = 1000):
    """A folder of the studio's with one file of ``size`` bytes, last changed ``age_s`` ago."""
    folder = root / "uploads" / rel
    folder.mkdir(parents=True)
    path = folder / "picture.png"
    path.write_bytes(b"x" * size)
    os.utime(path, (NOW - age_s, NOW - age_s))
    os.utime(folder, (NOW - age_s, NOW - age_s))
    return folder


def test_expiry_removes_what_is_older_than_the_limit(tmp_path):
    old_upload = unit(tmp_path, "a" * 64, age_s=7200)
    old_result = unit(tmp_path, "users/alice/job1", age_s=3700)
    fresh = unit(tmp_path, "users/bob/job2", age_s=60)
    anonymous = unit(tmp_path, "jobs/job3", age_s=4000)
    swept = sweep(tmp_path, keep_s=3600, quota=None, now=NOW)
    assert {u.path for u in swept.removed} == {old_upload, old_result, anonymous}
    assert fresh.exists() and not old_result.exists() and (tmp_path / "uploads/users").exists()
    assert swept.size == folder_size(tmp_path) == 1000


def test_the_quota_removes_the_oldest_first_and_spares_jobs_in_the_line(tmp_path):
    oldest = unit(tmp_path, "users/alice/j1", age_s=500)
    busy = unit(tmp_path, "users/bob/j2", age_s=400)  # old, but its job is still waiting
    middle = unit(tmp_path, "b" * 64, age_s=300)
    newer = unit(tmp_path, "users/alice/j3", age_s=200)
    newest = unit(tmp_path, "jobs/j4", age_s=100)
    swept = sweep(tmp_path, keep_s=None, quota=2500, busy=[busy / "picture.png"], now=NOW)
    assert [u.path for u in swept.removed] == [oldest, middle, newer]
    assert busy.exists() and newest.exists()
    assert swept.size == folder_size(tmp_path) == 2000 <= 2500


def test_under_the_quota_and_within_the_time_nothing_goes(tmp_path):
    folders = [unit(tmp_path, f"users/u/j{i}", age_s=10 * i) for i in range(3)]
    assert sweep(tmp_path, keep_s=3600, quota=3000, now=NOW).removed == []
    assert all(f.exists() for f in folders)


def test_sizes_and_durations():
    assert parse_size("500MB") == 500 * 2**20 and parse_size("2g") == 2 * 2**30
    assert parse_size("1024") == 1024
    assert parse_duration("90s") == 90 and parse_duration("30m") == 1800
    assert parse_duration("1h") == 3600 and parse_duration("2d") == 172800
    for bad in ("", "-1h", "0", "1 week", "5x"):
        with pytest.raises(InceptionismError):
            parse_duration(bad)
    with pytest.raises(InceptionismError, match="not a size"):
        parse_size("lots")


def test_the_janitor_tells_what_it_removed_and_spares_what_is_busy(tmp_path):
    from inceptionism.web.storage import Janitor

    old = unit(tmp_path, "users/alice/j1", age_s=10**6)  # NOW is in 1970: both are old
    held = unit(tmp_path, "users/bob/j2", age_s=10**6)
    told = []
    janitor = Janitor(tmp_path, keep_s=60, quota=None, busy=lambda: [held],
                      forget=told.extend)
    swept = janitor.run_once()
    assert [u.path for u in swept.removed] == [old] and held.exists()
    assert told == [str(old / "picture.png")]
