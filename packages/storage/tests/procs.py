"""Child processes for the multi-process tests (run as a script, not collected by pytest)."""

from __future__ import annotations

import json
import sys
import time

import pandas as pd


def day(zone: str, d: int, marker: int) -> pd.DataFrame:
    ts = pd.date_range(pd.Timestamp("2024-01-01T00:00Z") + pd.Timedelta(days=d), periods=24, freq="h")
    return pd.DataFrame({"zone": zone, "ts": ts, "price": float(marker), "marker": marker})


def fg_of(path: str):
    from spotcast_storage import get_storage

    fs = get_storage(mode="local", path=path).get_feature_store()
    return fs.get_or_create_feature_group("prices", version=1, primary_key=["zone", "ts"], event_time="ts")


def hold_raw(path: str, seconds: float) -> None:
    """A user's own duckdb session holding the file read-write."""
    import duckdb

    con = duckdb.connect(path)
    print("holding", flush=True)
    time.sleep(seconds)
    con.close()


def idle_spotcast_writer(path: str, seconds: float) -> None:
    """A spotcast process that wrote once and keeps its instance open while idle."""
    from spotcast_storage.local import connection

    connection.manager(path).idle_timeout = 3600
    fg_of(path).insert(day("SE1", 0, 1))
    print("committed", flush=True)
    time.sleep(seconds)


def big_insert(path: str, rows: int) -> None:
    fg = fg_of(path)
    fg.insert(day("SE3", 0, 1))
    ts = pd.date_range("2030-01-01", periods=rows, freq="min", tz="UTC")
    big = pd.DataFrame({"zone": "SE4", "ts": ts, "price": 2.0, "marker": 2})
    print("inserting", flush=True)
    fg.insert(big)
    print("done", flush=True)


def reader_loop(path: str, out: str, seconds: float) -> None:
    """Read the whole group again and again; every read must show whole commits only."""
    from spotcast_storage import get_storage

    project = get_storage(mode="local", path=path)
    reads, errors, sizes = 0, [], []
    end = time.monotonic() + seconds
    print("reading", flush=True)
    import os

    while time.monotonic() < end and not os.path.exists(out + ".stop"):
        try:
            fg = project.get_feature_store().get_feature_group("prices")
            df = fg.read()
            per_day = df.groupby(df.ts.dt.floor("D")).marker.agg(["count", "nunique"])
            if not ((per_day["count"] == 24) & (per_day["nunique"] == 1)).all():
                errors.append(f"partial commit seen: {per_day.to_dict()}")
            sizes.append(len(df))
            reads += 1
        except Exception as exc:  # record, the test asserts there were none
            if "does not exist" in str(exc) or "no spotcast store" in str(exc):
                continue  # before the writer's first commit
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.005)
    with open(out, "w") as f:
        json.dump({"reads": reads, "errors": errors, "sizes": sizes}, f)


def insert_as_another_user(path: str, uid: int, out: str) -> None:
    """Insert a changed day with the privileges of ``uid`` (the test runs as root in CI, and root
    writes into read-only folders). Everything is imported and opened before privileges drop:
    the interpreter's own files may not be readable by that user."""
    import os
    import tempfile

    from spotcast_storage.local import connection
    from spotcast_storage.plugins import get_plugin_manager

    get_plugin_manager()
    with tempfile.TemporaryDirectory() as scratch:  # the same insert once, so every lazy import is done
        warm = os.path.join(scratch, "warm.duckdb")
        fg_of(warm).insert(day("SE3", 0, 1))
        fg_of(warm).insert(day("SE3", 0, 99))
        connection.release(warm)
    fg = fg_of(path)
    fg.read()
    connection.release(path)
    frame = day("SE3", 0, 99)
    if uid >= 0:
        os.setgid(uid)
        os.setuid(uid)
    result: dict = {}
    try:
        fg.insert(frame)
        result["error"] = None
    except Exception as exc:  # reported to the parent, which asserts on it
        result = {"type": type(exc).__name__, "error": str(exc)}
    with open(out, "w") as f:
        json.dump(result, f)


def insert_once(path: str, marker: int) -> None:
    """One insert; says on stdout whether it committed or which error stopped it."""
    try:
        fg_of(path).insert(day("SE3", marker, marker))
        print(json.dumps({"error": None}), flush=True)
    except Exception as exc:  # reported to the parent, which asserts on it
        print(json.dumps({"type": type(exc).__name__, "error": str(exc)}), flush=True)


def hold_run_lock(path: str, seconds: float) -> None:
    from spotcast_storage import get_storage
    from spotcast_storage.runlock import run_lock

    with run_lock(get_storage(mode="local", path=path)):
        print("locked", flush=True)
        time.sleep(seconds)


if __name__ == "__main__":
    cmd, path, arg = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == "hold_raw":
        hold_raw(path, float(arg[0]))
    elif cmd == "idle_writer":
        idle_spotcast_writer(path, float(arg[0]))
    elif cmd == "big_insert":
        big_insert(path, int(arg[0]))
    elif cmd == "reader":
        reader_loop(path, arg[0], float(arg[1]))
    elif cmd == "insert_as":
        insert_as_another_user(path, int(arg[0]), arg[1])
    elif cmd == "insert_once":
        insert_once(path, int(arg[0]))
    elif cmd == "hold_run_lock":
        hold_run_lock(path, float(arg[0]))
