"""The daily refit `spotcast run` makes between weekly retrains, end to end on a store: what it
costs against the weekly retrain on the same store (issue 14: "a daily refit of one zone's
default model ≤ 10 s of CPU").

    uv run python benchmarks/recalibrate.py [--history-days 730] [--zone SE3]

1. A cold `spotcast run` (synthetic source, ``--history-days`` of history) builds the store and
   fits the default ensemble through the promotion gate (it must be promoted: only a promoted
   model is recalibrated).
2. A `spotcast run` one day later with ``recalibrate=False`` ingests the next day and publishes
   its forecast (so the next step has a new labelled origin and nothing else to do).
3. Baseline, on that store: the weekly retrain's work, ``service.fit`` (the gate's rolling
   backtest over 28 origins with weekly refits, then the final fit), not registered.
4. ``service.recalibrate`` as the train handler calls it: the training frame read from the
   store, the serving model loaded, its LEAR members refitted, the new version registered.

Printed: wall and CPU seconds of 3 and 4 (this process's user + system time, every thread) and
their ratio, with the load average before and after: record figures from a quiet machine only.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see spotcast_train/__init__.py

import pandas as pd

from _common import machine
from spotcast_storage import get_storage, promotion
from spotcast_storage.pipeline import RunContext
from spotcast_storage.runner import run_once
from spotcast_storage.runoptions import RunOptions
from spotcast_train import service

NOW = pd.Timestamp("2025-03-12T14:00Z")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _timed(fn):
    w0, c0 = time.perf_counter(), _cpu()
    out = fn()
    return out, time.perf_counter() - w0, _cpu() - c0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--history-days", type=int, default=730)
    ap.add_argument("--zone", default="SE3")
    args = ap.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store.duckdb"
        project = get_storage(mode="local", path=store)

        def run(now: pd.Timestamp, **kw) -> None:
            opts = RunOptions(history_days=args.history_days, files=False, **kw)
            run_once(RunContext(project=project, zones=[args.zone], sources=["synthetic"], now=now, options=opts,
                                log=lambda _: None))

        _, w, c = _timed(lambda: run(NOW))
        st = promotion.serving_status(project, args.zone)
        print(f"cold run ({args.history_days} days): {w:.0f} s wall, {c:.0f} s CPU; {st.message}")
        if st.state != "promoted":
            print("the default model was not promoted: nothing to recalibrate; use more --history-days")
            return 1
        later = NOW + pd.Timedelta(days=1)
        run(later, recalibrate=False)
        _, fw, fc = _timed(lambda: service.fit(project, args.zone, now=later, register=False))
        print(f"baseline, the weekly retrain (gate + final fit, not registered): {fw:.1f} s wall, {fc:.1f} s CPU")
        r, rw, rc = _timed(lambda: service.recalibrate(project, args.zone, now=later))
        if not r.recalibrated:
            print(f"not recalibrated: {r.message}")
            return 1
        print(f"daily recalibration (read, LEAR refitted, registered): {rw:.1f} s wall, {rc:.1f} s CPU "
              f"= {rc / fc:.3f} of the weekly retrain's CPU ({fc / rc:.0f}x less)")
        print(r.message)
    print(f"load average after: {os.getloadavg()[0]:.2f}; {machine()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
