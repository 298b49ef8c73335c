"""Pipeline benchmark (issue 7): a cold `spotcast run` from an empty store (two years of
history, one zone, synthetic source) and the warm daily run after one new day.

    uv run python benchmarks/pipeline.py [--history-days 730] [--zone SE3]

Both runs go through the same code as `spotcast run` (run_once with the installed stages'
steps and handlers), in one process so that the interpreter's start-up is not counted; the
script also times the warm run as a fresh `spotcast run` command, start-up included.
Target: the warm run costs under 10% of the cold one.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine
from spotcast_storage import get_storage
from spotcast_storage.pipeline import RunContext
from spotcast_storage.runner import run_once


def timed_run(store: Path, zone: str, now: pd.Timestamp, history: int, outputs: Path) -> tuple[float, list[str]]:
    lines: list[str] = []
    ctx = RunContext(project=get_storage(mode="local", path=store), zones=[zone], sources=["synthetic"], now=now,
                     options={"history_days": history, "outputs": str(outputs)}, log=lines.append)
    t = time.perf_counter()
    run_once(ctx)
    return time.perf_counter() - t, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--history-days", type=int, default=730)
    ap.add_argument("--zone", default="SE3")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="spotcast-pipeline-"))
    store, outputs = tmp / "store.duckdb", tmp / "outputs"
    now = pd.Timestamp("2025-03-12T14:00Z")
    print(f"machine: {machine()}; date: {pd.Timestamp.now(tz='UTC'):%Y-%m-%d}")
    try:
        cold, lines = timed_run(store, args.zone, now, args.history_days, outputs)
        print(f"[cold] {args.history_days} days of history, {args.zone}, empty store: {cold:.1f} s")
        for line in lines:
            print("   ", line[:160])
        warm, lines = timed_run(store, args.zone, now + pd.Timedelta(days=1), args.history_days, outputs)
        print(f"[warm] one new day: {warm:.2f} s = {100 * warm / cold:.1f}% of cold (target < 10%)")
        for line in lines:
            print("   ", line[:160])
        idle, _ = timed_run(store, args.zone, now + pd.Timedelta(days=1), args.history_days, outputs)
        print(f"[idle] nothing new: {idle:.2f} s")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "spotcast_storage", "--store", str(store), "run", "--zone",
                        args.zone, "--source", "synthetic", "--now", (now + pd.Timedelta(days=2)).isoformat(),
                        "--outputs", str(outputs)], check=True, capture_output=True)
        cmd = time.perf_counter() - t
        print(f"[warm command] `spotcast run` for the next day as a new process: {cmd:.1f} s "
              f"= {100 * cmd / cold:.1f}% of cold (start-up and imports included)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
