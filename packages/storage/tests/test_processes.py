"""Two real processes on one store file: lock waits, a killed writer, readers beside a writer."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from spotcast_storage import StoreLockedError, get_storage
from spotcast_storage.local import connection

PROCS = str(Path(__file__).with_name("procs.py"))


def spawn(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, PROCS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})


def wait_for(proc: subprocess.Popen, word: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if word in line:
            return
        if proc.poll() is not None:
            raise AssertionError(f"child exited early: {proc.stderr.read()}")
    raise AssertionError(f"child never said {word!r}")


def day(zone: str, d: int, marker: int) -> pd.DataFrame:
    ts = pd.date_range(pd.Timestamp("2024-01-01T00:00Z") + pd.Timedelta(days=d), periods=24, freq="h")
    return pd.DataFrame({"zone": zone, "ts": ts, "price": float(marker), "marker": marker})


def fg_of(path):
    fs = get_storage(mode="local", path=path).get_feature_store()
    return fs.get_or_create_feature_group("prices", version=1, primary_key=["zone", "ts"], event_time="ts")


def test_a_writer_blocked_by_a_foreign_holder_fails_in_bounded_time_naming_it(store_path, monkeypatch):
    fg_of(store_path).insert(day("SE3", 0, 1))
    connection.release(store_path)
    holder = spawn("hold_raw", str(store_path), "60")
    try:
        wait_for(holder, "holding")
        monkeypatch.setenv("SPOTCAST_LOCK_TIMEOUT", "1.5")
        with pytest.raises(StoreLockedError) as err:
            fg_of(store_path).insert(day("SE3", 1, 2))
        msg = str(err.value)
        assert f"process {holder.pid}" in msg and "procs.py" in msg and "SPOTCAST_LOCK_TIMEOUT" in msg
    finally:
        holder.kill()
        holder.wait()
    assert len(fg_of(store_path).read()) == 24  # nothing of the refused write


def test_an_idle_spotcast_process_lets_a_waiting_writer_in(store_path):
    idle = spawn("idle_writer", str(store_path), "60")
    try:
        wait_for(idle, "committed")
        c = fg_of(store_path).insert(day("SE3", 1, 2))  # default lock timeout: succeeds because the child yields
        assert c.rows_inserted == 24
    finally:
        idle.kill()
        idle.wait()


def test_sigkill_in_the_middle_of_a_large_insert_leaves_the_previous_commit(store_path):
    child = spawn("big_insert", str(store_path), "3000000")
    try:
        wait_for(child, "inserting")
        time.sleep(1.0)
        assert child.poll() is None, "the large insert finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    fg = fg_of(store_path)
    df = fg.read()
    assert len(df) == 24 and set(df.zone) == {"SE3"}
    assert len(fg.commit_details()) == 1
    assert [e.commit_id for e in get_storage(mode="local", path=store_path).get_event_log().read()] == [1]
    assert fg.insert(day("SE3", 1, 2)).rows_inserted == 24  # and the store keeps working


def test_readers_in_another_process_see_whole_commits_while_a_writer_commits(store_path, tmp_path):
    out = tmp_path / "reader.json"
    fg = fg_of(store_path)
    fg.insert(day("SE3", 0, 0))
    reader = spawn("reader", str(store_path), str(out), "60")
    try:
        wait_for(reader, "reading")
        for d in range(1, 120):
            fg.insert(day("SE3", d, d))
    finally:
        Path(str(out) + ".stop").touch()
        reader.wait(timeout=120)
    result = json.loads(out.read_text())
    assert result["errors"] == []
    assert result["reads"] > 5
    assert all(n % 24 == 0 for n in result["sizes"])
    assert len(set(result["sizes"])) > 3, "the reader never saw the writer make progress"
    assert len(fg.read()) == 120 * 24


def insert_in_child(store_path, marker: int, lock_timeout: str) -> dict:
    child = spawn("insert_once", str(store_path), str(marker), env={"SPOTCAST_LOCK_TIMEOUT": lock_timeout})
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_a_reader_keeps_writers_out_after_another_descriptor_of_the_file_closes(store_path, tmp_path):
    """DuckDB's own lock is a POSIX record lock, which a process loses as soon as it closes any
    descriptor of the file: here a copy of the store taken in the reading process (as one takes a
    snapshot for analysis). Without spotcast's own lock on ``<store>.lock`` a writer in another
    process got in and checkpointed under the open reader, whose next read of a moved block
    failed (``Could not read enough bytes``, seen once in CI in the API beside a writer)."""
    fg_of(store_path).insert(day("SE3", 0, 1))
    connection.release(store_path)
    reader = get_storage(mode="local", path=store_path, read_only=True)
    with reader.read() as con:
        shutil.copyfile(store_path, tmp_path / "snapshot.duckdb")  # opens and closes the store file
        refused = insert_in_child(store_path, 1, lock_timeout="1")
        assert refused.get("type") == "StoreLockedError", refused  # without the lock: {"error": None}
        assert f"process {os.getpid()}" in refused["error"]  # the holder is named, from the lock file
        assert con.execute("SELECT count(*) FROM prices").fetchone() == (24,)  # the reader read on, unharmed
    connection.release(store_path)
    assert insert_in_child(store_path, 1, lock_timeout="30") == {"error": None}  # closed: the writer gets in
    assert len(fg_of(store_path).read()) == 48


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_a_child_forked_while_the_store_is_open_holds_neither_instance_nor_lock(store_path):
    """A fork copies the lock file's descriptor, and an ``flock`` lives as long as any copy: the
    child must drop its copy (and the parent's DuckDB instance, which is not fork-safe), or a
    long-lived child would keep writers out after the parent let go."""
    fg_of(store_path).insert(day("SE3", 0, 1))
    connection.release(store_path)
    reader = get_storage(mode="local", path=store_path, read_only=True)
    with reader.read():
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report what it inherited, then stay alive while the parent goes on
            m = connection.manager(store_path)
            os.write(w, b"clean" if m.con is None and m.file_lock.fd is None else b"dirty")
            time.sleep(20)
            os._exit(0)
        os.close(w)
        try:
            assert os.read(r, 5) == b"clean"
        finally:
            os.close(r)
    connection.release(store_path)
    try:
        assert insert_in_child(store_path, 1, lock_timeout="10") == {"error": None}  # the child does not hold it
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
