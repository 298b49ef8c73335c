"""Promotion-gate benchmark (issue 12, measurement 4): what the gate costs on a fit, and how
often it refuses a new model on the synthetic tour.

    uv run python benchmarks/gate.py [--history-days 730] [--days 28] [--zone SE3] [--repeat 1]

1. **Cost.** A cold `spotcast run` (synthetic source) builds the store. Then, on that store, the
   default model's fit is timed two ways: ``service.fit`` with the gate (a rolling backtest over
   the newest 28 origins with weekly refits, against the serving recipe and both naive
   baselines, then the final fit) and the work a fit did before the gate (one fit on a 28-day
   holdout, one final fit). Printed: both times and their ratio. Timings mean something only on
   a quiet machine: the script prints the load average before and after; do not record a ratio
   measured while other jobs ran.
2. **Refusals.** From the cold run on, ``--days`` daily `spotcast run`s at a moving ``now``
   (one day later each); the train stage retrains when its policy says so, every retrain goes
   through the gate. Printed: every gate decision (promoted / rejected / fallback) in words and
   the count of each. Decisions do not depend on the load.
3. **The README tour.** The package tour's store (90 synthetic days for SE3 and SE4 from the
   features stage, `spotcast-features build`), then `spotcast-train fit` for each zone, as
   commands: where issue 12 saw a model with holdout rMAE 1.020 registered and used. Printed:
   each fit's output (the gate's decision in words). Skip with ``--no-tour``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_of, machine
from spotcast_storage import get_storage
from spotcast_storage.pipeline import RunContext
from spotcast_storage.promotion import ModelKey, describe, record_of
from spotcast_storage.runner import run_once
from spotcast_train import service
from spotcast_train.data import TIME_COL, candidate_features, known_at, load_training_frame
from spotcast_train.models import DEFAULT_MODEL, get_model_type

NOW = pd.Timestamp("2025-03-12T14:00Z")


def run(store: Path, zone: str, now: pd.Timestamp, history: int, outputs: Path) -> list[str]:
    lines: list[str] = []
    ctx = RunContext(project=get_storage(mode="local", path=store), zones=[zone], sources=["synthetic"], now=now,
                     options={"history_days": history, "outputs": str(outputs)}, log=lines.append)
    run_once(ctx)
    return lines


def fit_without_gate(project, zone: str, now: pd.Timestamp, holdout_days: int = 28) -> None:
    """The model work of a fit before the gate: one holdout fit at ``last origin - 28 days``,
    one final fit on everything (the naive holdout scores cost next to nothing)."""
    mt = get_model_type(DEFAULT_MODEL)
    frame, _ = load_training_frame(project, zone)
    labelled = known_at(frame, now)
    last = pd.Timestamp(labelled[TIME_COL].max())
    labelled = labelled[labelled[TIME_COL] >= last - pd.Timedelta(days=service.DEFAULT_WINDOW_DAYS)]
    features = candidate_features(frame.columns)
    cut = last - pd.Timedelta(days=holdout_days)
    held = service._fit(mt, known_at(labelled, cut), cut, features, {})
    held.predict(labelled[labelled[TIME_COL] > cut])
    service._fit(mt, labelled, now, features, {})


def decisions(project, zone: str) -> list[tuple[str, str]]:
    out = []
    for m in project.get_model_registry().get_models():
        rec = record_of(m)
        if rec is not None and rec.get("role") == "challenger" and rec.get("zone") == zone:
            out.append((rec["decision"], describe(rec, ModelKey(m.name, int(m.version)))))
    return out


def tour(tmp: Path) -> None:
    store = tmp / "tour.duckdb"
    cli = [sys.executable, "-m", "spotcast_storage", "--store", str(store)]
    subprocess.run([sys.executable, "-c", "import sys; from spotcast_storage import get_storage; "
                    "from spotcast_features import synthetic; "
                    "synthetic.write_all(get_storage(mode='local', path=sys.argv[1]), ['SE3', 'SE4'], '2024-03-01', 90)",
                    str(store)], check=True, capture_output=True)
    subprocess.run([*cli, "features", "build", "--no-progress"], check=True, capture_output=True)
    for zone in ("SE3", "SE4"):
        r = subprocess.run([*cli, "train", "fit", "--zone", zone, "--no-progress"], capture_output=True, text=True)
        print(f"[tour] spotcast-train fit --zone {zone} (exit {r.returncode}):")
        for line in (r.stdout + r.stderr).splitlines():
            if not line.startswith("spotcast: using"):
                print("   ", line[:260])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--history-days", type=int, default=730)
    ap.add_argument("--days", type=int, default=28, help="daily runs after the cold one")
    ap.add_argument("--zone", default="SE3")
    ap.add_argument("--repeat", type=int, default=1, help="best of N for each timed fit")
    ap.add_argument("--no-tour", action="store_true", help="skip the README tour part")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="spotcast-gate-"))
    store, outputs = tmp / "store.duckdb", tmp / "outputs"
    print(f"machine: {machine()}; date: {pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M} UTC; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    try:
        for line in run(store, args.zone, NOW, args.history_days, outputs):
            print("   ", line[:220])
        project = get_storage(mode="local", path=store)
        copy = tmp / "copy.duckdb"  # the timed gated fit registers there, so the tour below is undisturbed
        shutil.copy(store, copy)
        scratch = get_storage(mode="local", path=copy)
        t_gate, r = best_of(lambda: service.fit(scratch, args.zone, now=NOW), args.repeat)
        t_plain, _ = best_of(lambda: fit_without_gate(project, args.zone, NOW), args.repeat)
        print(f"[cost] fit with the gate {t_gate:.1f} s ({r.training_window['gate_origins']} origins, refit every "
              f"{r.training_window['gate_refit_days']} days); fit without (holdout + final) {t_plain:.1f} s; "
              f"ratio {t_gate / t_plain:.2f}; load average after: {os.getloadavg()[0]:.2f}")
        print(f"       {r.status}")
        scratch.close()

        for day in range(1, args.days + 1):
            lines = run(store, args.zone, NOW + pd.Timedelta(days=day), args.history_days, outputs)
            for line in lines:
                if line.startswith("train:"):
                    print(f"   day {day:2d}", line[:260])
        found = decisions(project, args.zone)
        counts = Counter(d for d, _ in found)
        print(f"[refusals] {len(found)} gated fits over the cold run and {args.days} daily runs: "
              + ", ".join(f"{k} {counts.get(k, 0)}" for k in ("promoted", "rejected", "fallback")))
        for _, text in found:
            print("   ", text)
        project.close()
        if not args.no_tour:
            tour(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
