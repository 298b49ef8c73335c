"""Failures that say what happened: the right store, usage errors, failed commits, bounded SQL,
one `spotcast run` per store. Several use real child processes (see procs.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from spotcast_storage import StoreLockedError, StoreWriteError, UsageError, config, get_storage
from spotcast_storage.cli import app as store_app
from spotcast_storage.local import connection
from spotcast_storage.runlock import RunLockedError, run_lock

PROCS = str(Path(__file__).with_name("procs.py"))
LONG_QUERY = "select sum(i * i % 7) from range(100000000000) t(i)"  # hours, unless interrupted


class _Runner(CliRunner):
    def invoke(self, *args, **kwargs):
        config.reset_defaults()  # a fresh process each time: flags unset, the store announced again
        return super().invoke(*args, **kwargs)


runner = _Runner()


def umbrella():
    from spotcast_storage.umbrella import app, mount_stage_apps

    if not getattr(app, "_spotcast_mounted", False):
        mount_stage_apps(app)
        app._spotcast_mounted = True
    return app


def spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, PROCS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for(proc: subprocess.Popen, word: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if word in proc.stdout.readline():
            return
        if proc.poll() is not None:
            raise AssertionError(f"child exited early: {proc.stderr.read()}")
    raise AssertionError(f"child never said {word!r}")


def day(zone: str, d: int, marker: int) -> pd.DataFrame:
    ts = pd.date_range(pd.Timestamp("2024-01-01T00:00Z") + pd.Timedelta(days=d), periods=24, freq="h")
    return pd.DataFrame({"zone": zone, "ts": ts, "price": float(marker), "marker": marker})


def make_store(path: Path) -> Path:
    fs = get_storage(mode="local", path=path).get_feature_store()
    fs.get_or_create_feature_group("prices", version=1, primary_key=["zone", "ts"], event_time="ts").insert(
        day("SE3", 0, 1))
    connection.release(path)
    return path


def one_line(text: str) -> bool:
    lines = [line for line in text.strip().splitlines() if not line.startswith("spotcast: using")]
    return len(lines) == 1 and lines[0].startswith("error: ")


# -- the right store, always ---------------------------------------------------------------------
def test_the_store_flag_beats_the_environment_for_spotcast_store(tmp_path):
    b = make_store(tmp_path / "b.duckdb")
    env = {"SPOTCAST_STORE": str(tmp_path / "a.duckdb")}
    r = runner.invoke(store_app, ["--store", str(b), "ls", "--format", "json"], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["rows"] == 24 and f"local store {b}" in r.stderr
    r = runner.invoke(store_app, ["ls"], env={"SPOTCAST_STORE": str(b)})  # without the flag: the environment
    assert r.exit_code == 0 and f"local store {b}" in r.stderr
    assert not (tmp_path / "a.duckdb").exists()


def test_the_umbrella_flag_beats_the_environment_at_every_level(tmp_path):
    """`spotcast --store b store ls` with SPOTCAST_STORE=a used to read a: the sub-command's own
    option took the environment's value as if it had been typed."""
    b = make_store(tmp_path / "b.duckdb")
    env = {"SPOTCAST_STORE": str(tmp_path / "a.duckdb"), "SPOTCAST_MODE": "hopsworks"}
    r = runner.invoke(umbrella(), ["--store", str(b), "--mode", "local", "store", "ls", "--format", "json"], env=env)
    assert r.exit_code == 0, r.output
    assert f"local store {b}" in r.stderr and json.loads(r.stdout)[0]["name"] == "prices"
    r = runner.invoke(umbrella(), ["--store", str(b), "status", "--format", "json"], env=env | {"SPOTCAST_MODE": None})
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["feature_groups"][0]["rows"] == 24
    assert not (tmp_path / "a.duckdb").exists()


# -- usage errors: one line, exit code 2 ----------------------------------------------------------
def test_read_commands_on_a_missing_store_fail_instead_of_listing_nothing(tmp_path):
    missing = tmp_path / "none.duckdb"
    for args in (["ls"], ["models"], ["events"], ["log", "prices"]):
        r = runner.invoke(store_app, ["--store", str(missing), *args])
        assert r.exit_code == 2 and "no spotcast store" in r.stderr and one_line(r.stderr), (args, r.output)
    r = runner.invoke(umbrella(), ["--store", str(missing), "status"])
    assert r.exit_code == 2 and "no spotcast store" in r.stderr and one_line(r.stderr)
    assert not missing.exists()


def test_a_folder_or_a_non_duckdb_file_as_the_store_is_a_usage_error(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database\n" * 200)
    for path, words in ((folder, "is a folder"), (junk, "not a DuckDB database file")):
        r = runner.invoke(store_app, ["--store", str(path), "ls"])
        assert r.exit_code == 2 and words in r.stderr and one_line(r.stderr), r.output
        fs = get_storage(mode="local", path=path).get_feature_store()
        with pytest.raises(UsageError, match=words):
            fs.get_or_create_feature_group("x", version=1, primary_key=["zone", "ts"], event_time="ts").insert(
                day("SE3", 0, 1))
    assert junk.read_text().startswith("not a database")


def test_bad_arguments_get_one_line_and_exit_code_2(tmp_path):
    store = make_store(tmp_path / "s.duckdb")
    cases = [
        (store_app, ["log", "prices", "--limit", "-1"], "--limit must be at least 1"),
        (store_app, ["sql", "select 1", "--output", "/no/such/dir/x.csv"], "/no/such/dir does not exist"),
        (store_app, ["sql", "select 1", "--timeout", "0"], "--timeout must be a positive"),
        (umbrella(), ["run", "--now", "2024-02-30T00:00Z"], "--now '2024-02-30T00:00Z' is not a valid time"),
        (umbrella(), ["run", "--history-days", "0"], "--history-days must be at least 1"),
    ]
    for app, args, words in cases:
        r = runner.invoke(app, ["--store", str(store), *args])
        assert r.exit_code == 2, (args, r.output)
        assert words in r.stderr and one_line(r.stderr), (args, r.stderr)
        assert "Traceback" not in r.output
    assert not Path("/no/such/dir").exists()


# -- a failed commit reports its first error ---------------------------------------------------------
def test_a_commit_in_a_read_only_folder_names_the_real_cause(tmp_path):
    """The folder is not writable, so DuckDB cannot create the .wal at commit. The error must be
    that (Permission denied on the .wal), not the rollback's 'no transaction is active'. CI runs
    as root, who may write anywhere, so the writing child drops to user nobody."""
    root = Path(tempfile.mkdtemp(prefix="spotcast-ro-"))
    try:
        folder = root / "store"
        folder.mkdir()
        store = make_store(folder / "s.duckdb")
        out = root / "result.json"
        if os.geteuid() == 0:
            import pwd

            nobody = pwd.getpwnam("nobody")
            os.chmod(root, 0o755)
            os.chown(store, nobody.pw_uid, -1)  # the file is writable for nobody, its folder is not
            os.chmod(folder, 0o755)
            os.chown(root, nobody.pw_uid, -1)  # where the child writes its result
            uid = nobody.pw_uid
        else:
            os.chmod(folder, 0o555)
            uid = -1
        child = subprocess.run([sys.executable, PROCS, "insert_as", str(store), str(uid), str(out)],
                               capture_output=True, text=True, timeout=120)
        assert child.returncode == 0, child.stderr
        result = json.loads(out.read_text())
        assert result["type"] == "StoreWriteError", result
        msg = result["error"]
        assert "Permission denied" in msg and "s.duckdb.wal" in msg and "writable" in msg
        assert "rollback" not in msg.lower() and "no transaction is active" not in msg
        os.chmod(folder, 0o755)
        assert get_storage(mode="local", path=store).get_feature_store().get_feature_group("prices").read() \
            .marker.eq(1).all()  # nothing of the failed write
        connection.release(store)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_transaction_helper_keeps_the_first_error(tmp_path):
    store = make_store(tmp_path / "s.duckdb")
    with connection.connect(store, write=True) as con:
        with pytest.raises(StoreWriteError, match="disk is full"), connection.transaction(con, store):
            con.execute("ROLLBACK")  # DuckDB ends a transaction itself when a commit fails
            raise OSError(28, "disk is full")
        assert con.execute("select count(*) from prices_v1").fetchone() == (24,)


# -- bounded SQL ---------------------------------------------------------------------------------------
def store_cli() -> str:
    return str(Path(sys.executable).with_name("spotcast-store"))


def wait_until_open(proc: subprocess.Popen, path: Path, timeout: float = 60) -> None:
    """Until the child has the store file open (it then runs its query at once)."""
    fd_dir = Path(f"/proc/{proc.pid}/fd")
    if not fd_dir.exists():
        pytest.skip("needs /proc to see when the child has opened the store")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for fd in fd_dir.iterdir():
            try:
                if Path(os.readlink(fd)) == path.resolve():
                    time.sleep(0.2)
                    return
            except OSError:
                continue
        if proc.poll() is not None:
            raise AssertionError(f"child exited early: {proc.stderr.read()}")
        time.sleep(0.02)
    raise AssertionError("the child never opened the store")


def test_sql_timeout_interrupts_the_query_and_lets_writers_in(tmp_path, monkeypatch):
    store = make_store(tmp_path / "s.duckdb")
    child = subprocess.Popen([store_cli(), "--store", str(store), "sql", LONG_QUERY, "--timeout", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_open(child, store)
        monkeypatch.setenv("SPOTCAST_LOCK_TIMEOUT", "60")
        fs = get_storage(mode="local", path=store).get_feature_store()
        c = fs.get_feature_group("prices").insert(day("SE3", 1, 2))  # waits for the query's timeout at most
        assert c.rows_inserted == 24
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 1 and "stopped after 2 s" in err and "--timeout" in err


def test_a_ctrl_c_that_lands_before_the_query_began_still_stops_it():
    """DuckDB's interrupt does nothing while no query runs: a Ctrl-C that landed before the SQL
    helper thread began its query (a loaded machine) was lost, and the query ran on (for hours,
    holding the store). Here the thread starts
    its query 1 s after the Ctrl-C; it must still stop within seconds, not run to its end."""
    import threading

    import duckdb

    from spotcast_storage.local.project import _interruptible

    con = duckdb.connect()
    con.execute("SET threads = 1")
    began = threading.Event()

    def work():
        time.sleep(1.0)  # the Ctrl-C lands while the query has not begun
        began.set()
        # ~25 minutes here, so it cannot end within the 5 s asserted below on any machine without the fix
        return con.execute("select sum(i * i % 7) from range(100000000000) t(i)").fetchall()

    main = threading.main_thread().ident
    # Ctrl-C as in `spotcast-store sql` run from a terminal, whatever this process inherited (a
    # background job of a non-interactive shell ignores SIGINT)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Timer(0.2, lambda: signal.pthread_kill(main, signal.SIGINT)).start()
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            _interruptible(con, work, None)
        took = time.monotonic() - t0
    finally:
        signal.signal(signal.SIGINT, before)
    con.close()
    assert began.is_set(), "the Ctrl-C returned before the query began: its thread then runs it to the end"
    assert took < 5, f"the query ran on after the Ctrl-C ({took:.1f} s)"



def test_stopping_a_query_thread_that_never_started_returns():
    """A Ctrl-C inside ``Thread.start`` can leave the SQL helper thread unstarted: nothing will
    ever say it is done, and stopping it must not interrupt forever."""
    import threading

    import duckdb

    from spotcast_storage.local.project import _stop

    stopper = threading.Thread(target=_stop, args=(duckdb.connect(), threading.Event(),
                                                    threading.Thread(target=lambda: None)), daemon=True)
    stopper.start()
    stopper.join(10)
    assert not stopper.is_alive(), "_stop kept interrupting a query thread that never ran"

def test_a_writer_blocked_by_a_sql_query_is_not_told_to_use_sql(tmp_path, monkeypatch):
    store = make_store(tmp_path / "s.duckdb")
    child = subprocess.Popen([store_cli(), "--store", str(store), "sql", LONG_QUERY, "--timeout", "300"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_open(child, store)
        monkeypatch.setenv("SPOTCAST_LOCK_TIMEOUT", "1.5")
        with pytest.raises(StoreLockedError) as err:
            get_storage(mode="local", path=store).get_feature_store().get_feature_group("prices").insert(
                day("SE3", 1, 2))
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)
    msg = str(err.value)
    assert f"process {child.pid}" in msg and "spotcast-store" in msg
    assert "--timeout" in msg and "use `spotcast-store sql`" not in msg


# -- one run per store -----------------------------------------------------------------------------
def test_the_run_lock_fails_at_once_with_no_wait_and_a_killed_holder_releases_it(tmp_path):
    store = make_store(tmp_path / "s.duckdb")
    holder = spawn("hold_run_lock", str(store), "600")
    try:
        wait_for(holder, "locked")
        project = get_storage(mode="local", path=store)
        with pytest.raises(RunLockedError, match=rf"process {holder.pid} .*--no-wait"), \
                run_lock(project, wait=False):
            pass
        r = runner.invoke(umbrella(), ["--store", str(store), "run", "--no-wait"])
        assert r.exit_code == 1 and "another `spotcast run`" in r.stderr and one_line(r.stderr)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        with run_lock(project, wait=False) as path:  # the kernel released the dead holder's lock
            assert path.read_text().startswith(f"{os.getpid()} ")
    finally:
        holder.kill()
        holder.wait()


def test_a_second_run_waits_for_the_first_and_says_so(tmp_path):
    store = make_store(tmp_path / "s.duckdb")
    holder = spawn("hold_run_lock", str(store), "3")
    said = []
    try:
        wait_for(holder, "locked")
        with run_lock(get_storage(mode="local", path=store), wait=True, on_wait=said.append):
            assert holder.wait(timeout=30) == 0  # it finished its work undisturbed
    finally:
        holder.kill()
        holder.wait()
    assert len(said) == 1 and f"process {holder.pid}" in said[0] and "waiting" in said[0]
