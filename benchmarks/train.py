"""One spotcast-train fit on three years of hourly data, 7-day horizon, one zone: time and memory.

    uv run python benchmarks/train.py [--days 1095] [--json]

Builds price_features-shaped rows for ``--days`` daily origins x 168 target hours (synthetic
prices, spotcast_train.synthetic), then times, in this process:

- baseline: fitting the naive-weekly model on the same rows (reads one column, no trees);
- the xgboost model with spotcast-train's default settings, as ``spotcast-train fit`` builds it:
  the ensemble of families (tree booster plus the out-of-sample calibration booster for p10/p90,
  LEAR members of four windows and DNN members of four seeds on horizon day 1). With
  ``--parts`` each family is also timed alone on the same rows (trees alone; trees + LEAR;
  trees + DNN), so the cost of each member is visible;
- the daily recalibration `spotcast run` makes between weekly retrains
  (``builtins.xgboost.recalibrate``: the LEAR members refitted on the same rows, the trees and
  DNN members kept), as a ratio of the full fit measured just before.

Peak memory is the process's peak resident set size (ru_maxrss), before and after the fit.
The machine is shared with other engineers' jobs: wall times are noisy; CPU seconds are printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see spotcast_train/__init__.py

import pandas as pd

from _common import machine
from spotcast_storage.contracts.features import LABEL
from spotcast_train.builtins import xgboost as builtin
from spotcast_train.data import candidate_features
from spotcast_train.models import FitRequest
from spotcast_train.naive import fit_naive
from spotcast_train.synthetic import features_frame, price_matrix
from spotcast_train.xgbmodel import fit_xgb, usable_features


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _networks(model) -> int:
    dnn = getattr(model.spec, "dnn", None)
    return sum(len(m.nets) for m in dnn.members) if dnn is not None else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=1095, help="daily origins of history (default: 3 years)")
    ap.add_argument("--parts", action="store_true", help="also time trees alone, trees + LEAR, trees + DNN")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    P = price_matrix(args.days + 40)
    frame = features_frame("SE3", "2021-01-01", P, first_origin_day=28, last_origin_day=28 + args.days - 1)
    # labels: the price of each target hour (rows beyond the generated prices stay unlabelled)
    ts0 = pd.Timestamp("2021-01-01", tz="UTC")
    idx = ((frame["ts"] - ts0) / pd.Timedelta(hours=1)).astype("int64").to_numpy()
    flat = P.ravel()
    frame[LABEL] = [flat[i] if i < len(flat) else float("nan") for i in idx]
    frame["label_known_at"] = frame["ts"].dt.floor("D") - pd.Timedelta(hours=12)
    features = usable_features(frame, candidate_features(frame.columns))
    until = frame["origin"].max() + pd.Timedelta(days=8)
    rows = len(frame)
    peak_before = _peak_mb()

    w0, c0 = time.perf_counter(), _cpu()
    fit_naive(frame, "price_lag_7d", LABEL)
    base_wall = time.perf_counter() - w0

    settings = builtin.STAGE_SETTINGS  # exactly what `spotcast-train fit` uses by default
    w0, c0 = time.perf_counter(), _cpu()
    model = fit_xgb(frame, features, LABEL, "origin", settings, until=until)
    wall, cpu = time.perf_counter() - w0, _cpu() - c0
    peak_after = _peak_mb()

    req = FitRequest(frame=frame, features=features, target=LABEL, time_col="origin",
                     until=until + pd.Timedelta(days=1), options={"settings": settings})
    w0, c0 = time.perf_counter(), _cpu()
    recal = builtin.recalibrate(model, req)
    rwall, rcpu = time.perf_counter() - w0, _cpu() - c0
    assert recal is not None and recal[1] == ["linear"], recal

    out = {
        "rows": rows, "origins": args.days, "features": len(features), "members": len(model.spec.members),
        "linear_members": len(model.spec.linear.members) if model.spec.linear is not None else 0,
        "dnn_networks": _networks(model),
        "fit_wall_seconds": round(wall, 2), "fit_cpu_seconds": round(cpu, 2),
        "baseline_naive_wall_seconds": round(base_wall, 4),
        "recalibrate_wall_seconds": round(rwall, 2), "recalibrate_cpu_seconds": round(rcpu, 2),
        "recalibrate_cpu_ratio_vs_fit": round(rcpu / cpu, 3) if cpu > 0 else None,
        "ratio_vs_naive": round(wall / base_wall, 1) if base_wall > 0 else None,
        "peak_rss_mb_before_fit": round(peak_before, 1), "peak_rss_mb_after_fit": round(peak_after, 1),
        "settings": settings.to_dict(), "machine": machine(),
    }
    print(f"{rows:,} rows ({args.days} origins x 168 h), {len(features)} features, "
          f"{len(model.spec.members)} tree member(s) + calibration booster, {out['linear_members']} linear member(s), "
          f"{out['dnn_networks']} DNN network(s)")
    print(f"baseline naive-weekly fit: {base_wall * 1000:.1f} ms wall")
    print(f"default model fit: {wall:.1f} s wall, {cpu:.1f} s CPU ({out['ratio_vs_naive']}x the naive fit)")
    print(f"daily recalibration (LEAR refitted, trees and DNN kept): {rwall:.1f} s wall, {rcpu:.1f} s CPU "
          f"({out['recalibrate_cpu_ratio_vs_fit']} of the full fit's CPU)")
    print(f"peak RSS: {peak_before:.0f} MB with the rows loaded, {peak_after:.0f} MB after the fit")
    if args.parts:
        out["parts"] = {}
        for name, part in (("trees alone", settings.with_(linear=None, dnn=None)),
                           ("trees + LEAR", settings.with_(dnn=None)), ("trees + DNN", settings.with_(linear=None))):
            w0, c0 = time.perf_counter(), _cpu()
            fit_xgb(frame, features, LABEL, "origin", part, until=until)
            pw, pc = time.perf_counter() - w0, _cpu() - c0
            out["parts"][name] = {"wall_seconds": round(pw, 2), "cpu_seconds": round(pc, 2)}
            print(f"  {name}: {pw:.1f} s wall, {pc:.1f} s CPU")
    print(f"{machine()}; shared machine: wall times are noisy")
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
