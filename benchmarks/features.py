"""Features stage: full build vs the daily incremental update.

Generates synthetic prices, weather (hourly observations + daily 9-day forecasts) and
exogenous series (daily 2-day load/wind forecasts) for ``--zones`` over ``--years`` years in
a fresh local store, then times

1. the full build (``rebuild`` into an empty price_features), the baseline;
2. the daily incremental ``build`` after one more day of inputs is inserted (as the daily
   pipeline would: next day's prices, that day's forecasts and observations), for
   ``--days`` consecutive days.

The incremental update must cost at most 5% of the full build. Finally a rebuild of the
updated store checks that incremental and full give the same table (0 rows changed).

    uv run python benchmarks/features.py                    # 4 zones x 3 years
    uv run python benchmarks/features.py --years 1 --zones SE3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SPOTCAST_LOAD_PLUGINS", "")

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine
from spotcast_features import build as fb
from spotcast_features import synthetic
from spotcast_features.builtins.calendar import holiday_dates
from spotcast_storage import get_storage
from spotcast_storage.contracts.market import EXOGENOUS, PRICES, WEATHER


def _local_day(ts: pd.Series) -> pd.Series:
    return ts.dt.tz_convert("Europe/Stockholm").dt.tz_localize(None).dt.normalize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zones", default="SE1,SE2,SE3,SE4")
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--days", type=int, default=3, help="incremental daily updates to time")
    ap.add_argument("--dir", type=Path, default=None, help="where to put the store (default: a temp dir)")
    args = ap.parse_args()
    zones = [z.strip() for z in args.zones.split(",")]
    start = pd.Timestamp("2022-01-01")
    n_days = 365 * args.years + args.days
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="spotcast-bench-features-"))
    workdir.mkdir(parents=True, exist_ok=True)
    store = workdir / "store.duckdb"
    if store.exists():
        sys.exit(f"{store} exists; pass an empty --dir")

    print(f"machine: {machine()} (shared with other work: timings are noisy)")
    print(f"inputs: {len(zones)} zones x {args.years} years ({n_days - args.days} days) + {args.days} daily updates")
    t = time.perf_counter()
    prices = synthetic.prices(zones, start, n_days + 1)
    weather = synthetic.weather(zones, start, n_days)
    exo = synthetic.exogenous(zones, start, n_days)
    pday, wday, eday = _local_day(prices["ts"]), _local_day(weather["issued_at"]), _local_day(exo["issued_at"])
    cut = start + pd.Timedelta(days=n_days - args.days)
    project = get_storage(mode="local", path=store)
    fs = project.get_feature_store()
    PRICES.get_or_create(fs).insert(prices[pday <= cut])  # day D's prices were published on D-1
    WEATHER.get_or_create(fs).insert(weather[wday < cut])
    EXOGENOUS.get_or_create(fs).insert(exo[eday < cut])
    print(f"setup: {len(prices)} price, {len(weather)} weather, {len(exo)} exogenous rows "
          f"generated and inserted in {time.perf_counter() - t:.1f} s")

    # warm up one-time imports (plugins, the holidays registry) so the baseline is the build itself
    fb.list_transformations()
    holiday_dates("SE", range(2024, 2025))

    t = time.perf_counter()
    full = fb.rebuild(project)
    t_full = time.perf_counter() - t
    print(f"full build:  {t_full:8.2f} s  {full.line()}")

    incs = []
    for day in pd.date_range(cut, periods=args.days, freq="D"):
        PRICES.get_or_create(fs).insert(prices[pday == day + pd.Timedelta(days=1)])
        WEATHER.get_or_create(fs).insert(weather[wday == day])
        EXOGENOUS.get_or_create(fs).insert(exo[eday == day])
        t = time.perf_counter()
        inc = fb.build(project)
        dt = time.perf_counter() - t
        incs.append(dt)
        print(f"incremental {day:%Y-%m-%d}: {dt:6.2f} s  ({dt / t_full:6.2%} of full)  {inc.line()}")
    med = statistics.median(incs)
    print(f"daily incremental update, median of {len(incs)}: {med:.2f} s = {med / t_full:.2%} of the full build "
          f"({'within' if med / t_full <= 0.05 else 'ABOVE'} the 5% budget)")

    t = time.perf_counter()
    check = fb.rebuild(project)
    print(f"rebuild after the updates: {time.perf_counter() - t:.2f} s, rows changed "
          f"{check.inserted + check.updated + check.deleted} (0 = incremental equals full)")


if __name__ == "__main__":
    main()
