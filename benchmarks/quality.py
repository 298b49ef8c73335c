"""Cost of the data-quality gate on the daily run (issue 13): the warm `spotcast run` after one
new day, with the gate and without it, measured in the same process on copies of the same store.

    uv run python benchmarks/quality.py [--history-days 730] [--zone SE3] [--repeat 7]

A cold run (synthetic source, ``--history-days`` of history, gate on) builds a store once. Each
repetition then copies that store twice and runs the next day's pipeline (the installed stages'
steps and handlers, as `spotcast run` runs them) on one copy with the gate and on the other without
(``options["quality_gate"] = False``: no day checks, no data_quality writes; prices outside the
market limits are refused either way), alternating which goes first. It prints the medians and
the ratio gated / ungated for the whole run and for the ingest step alone. Timing figures mean
something only on a quiet machine.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, median
from spotcast_storage import get_storage
from spotcast_storage.local import connection
from spotcast_storage.pipeline import RunContext, collect_steps
from spotcast_storage.runner import deliver


def run(store: Path, zone: str, now: pd.Timestamp, history: int, outputs: Path, gate: bool) -> tuple[float, float]:
    """Seconds for the whole run and for its ingest step."""
    ctx = RunContext(project=get_storage(mode="local", path=store), zones=[zone], sources=["synthetic"], now=now,
                     options={"history_days": history, "outputs": str(outputs), "quality_gate": gate},
                     log=lambda _: None)
    steps = collect_steps()
    assert steps, "no pipeline step is registered: is spotcast-ingest installed?"
    t = time.perf_counter()
    for step in steps:  # what run_once does, with the steps timed on their own
        step.run(ctx)
    ingest = time.perf_counter() - t
    deliver(ctx)
    total = time.perf_counter() - t
    connection.release(store)
    return total, ingest


def copy_store(src_dir: Path, dst_dir: Path) -> Path:
    if dst_dir.exists():
        shutil.rmtree(dst_dir)
    shutil.copytree(src_dir, dst_dir, ignore=shutil.ignore_patterns("outputs", "*.waiting", "*.run.lock"))
    return dst_dir / "store.duckdb"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--history-days", type=int, default=730)
    ap.add_argument("--zone", default="SE3")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="spotcast-quality-"))
    base = tmp / "base"
    base.mkdir()
    now = pd.Timestamp("2025-03-12T14:00Z")
    print(f"machine: {machine()}; date: {pd.Timestamp.now(tz='UTC'):%Y-%m-%d}")
    try:
        cold, _ = run(base / "store.duckdb", args.zone, now, args.history_days, tmp / "outputs", gate=True)
        print(f"[cold] {args.history_days} days of history, {args.zone}, gate on: {cold:.1f} s")
        times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for i in range(-1, args.repeat):  # -1: a warm-up pair (first loads of the model and modules), not counted
            order = (True, False) if i % 2 == 0 else (False, True)
            for gate in order:
                store = copy_store(base, tmp / f"copy-{int(gate)}")
                took = run(store, args.zone, now + pd.Timedelta(days=1), args.history_days, tmp / "outputs", gate)
                if i >= 0:
                    times[gate].append(took)
        on = [t for t, _ in times[True]], [i for _, i in times[True]]
        off = [t for t, _ in times[False]], [i for _, i in times[False]]
        print(f"[daily run, {args.repeat} repetitions] with the gate: median {median(on[0]):.3f} s "
              f"(ingest step {median(on[1]):.2f} s); without: {median(off[0]):.3f} s "
              f"(ingest step {median(off[1]):.2f} s)")
        print(f"ratio with/without the gate: whole run {median(on[0]) / median(off[0]):.3f}, "
              f"ingest step {median(on[1]) / median(off[1]):.3f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
