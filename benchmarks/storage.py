"""Storage benchmarks (issue 2). Prints each measurement beside a baseline measured in the same run.

    uv run python benchmarks/storage.py [--quick]

1. daily appends stay flat: 1,095 one-day commits of 96 rows (4 zones x 24 h)
2. one daily upsert of 1,200 rows into 2,000,000 rows vs read-concat-rewrite of one Parquet file
3. fg.read() of 1,000,000 x 20 vs duckdb.sql("select * from t").df() on the same table
4. point-in-time join of ~2,000,000 label rows against ~2,000,000 feature rows vs pandas.merge_asof
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_of, machine, median
from spotcast_storage import get_storage
from spotcast_storage.local import connection


def fresh(tmp: Path, name: str):
    path = tmp / name / "store.duckdb"
    return get_storage(mode="local", path=path), path


def zones_frame(zones: list[str], start: pd.Timestamp, hours: int, rng: np.random.Generator, cols: int = 1) -> pd.DataFrame:
    ts = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    df = pd.DataFrame({"zone": np.repeat(zones, hours), "ts": np.tile(ts, len(zones))})
    for i in range(cols):
        df[f"f{i}"] = rng.normal(50, 20, len(df))
    return df


def bench_appends(tmp: Path, days: int) -> dict:
    project, _ = fresh(tmp, "appends")
    fg = project.get_feature_store().get_or_create_feature_group(
        "prices", version=1, primary_key=["zone", "ts"], event_time="ts")
    rng = np.random.default_rng(1)
    zones = ["SE1", "SE2", "SE3", "SE4"]
    start = pd.Timestamp("2022-01-01T00:00Z")
    frames = [zones_frame(zones, start + pd.Timedelta(days=d), 24, rng) for d in range(days)]
    times = []
    for df in frames:
        t = time.perf_counter()
        fg.insert(df)
        times.append(time.perf_counter() - t)
    first, last = median(times[:100]), median(times[-100:])
    assert fg.count() == days * 96
    return {"commits": days, "median_ms": median(times) * 1e3, "first100_ms": first * 1e3,
            "last100_ms": last * 1e3, "ratio_last_first": last / first}


def prices_frame(zones: list[str], start: pd.Timestamp, hours: int, rng: np.random.Generator) -> pd.DataFrame:
    """Rows shaped like the `prices` contract (what the replaced system kept in one Parquet file)."""
    ts = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    n = hours * len(zones)
    price = rng.normal(50, 20, n)
    tsz = np.tile(ts, len(zones))
    return pd.DataFrame({"zone": np.repeat(zones, hours), "ts": tsz, "price_eur_mwh": price,
                         "price_sek_kwh": price * 0.0115, "resolution_minutes": 60,
                         "known_at": pd.DatetimeIndex(tsz).floor("D") - pd.Timedelta(hours=11),
                         "source": "elprisetjustnu"})


def bench_upsert_vs_parquet(tmp: Path, rows: int) -> dict:
    project, path = fresh(tmp, "upsert")
    fg = project.get_feature_store().get_or_create_feature_group(
        "prices", version=1, primary_key=["zone", "ts"], event_time="ts", known_at="known_at")
    rng = np.random.default_rng(2)
    zones = [f"Z{i:02d}" for i in range(50)]
    hours = rows // len(zones)
    start = pd.Timestamp("2020-01-01T00:00Z")
    base = prices_frame(zones, start, hours, rng).sort_values(["ts", "zone"], ignore_index=True)
    fg.insert(base)
    pq = tmp / "upsert" / "prices.parquet"
    base.to_parquet(pq, index=False)
    day0 = start + pd.Timedelta(hours=hours)
    days = [prices_frame(zones, day0 + pd.Timedelta(days=d), 24, rng) for d in range(7)]
    connection.release(path)
    t = time.perf_counter()
    fg.insert(days[0])  # the first commit in a process also opens the DuckDB file
    first = time.perf_counter() - t
    spotcast_times = []
    for day in days[1:]:
        t = time.perf_counter()
        fg.insert(day)
        spotcast_times.append(time.perf_counter() - t)
    parquet_times = []
    for day in days[1:]:
        t = time.perf_counter()
        old = pd.read_parquet(pq)
        new = pd.concat([old, day]).drop_duplicates(["zone", "ts"], keep="last")
        new.to_parquet(pq, index=False)
        parquet_times.append(time.perf_counter() - t)
    s, p = median(spotcast_times), median(parquet_times)
    return {"rows": len(base), "spotcast_ms": s * 1e3, "first_ms": first * 1e3, "parquet_rewrite_ms": p * 1e3,
            "speedup": p / s, "speedup_first": p / first}


def bench_read(tmp: Path, rows: int) -> dict:
    project, path = fresh(tmp, "read")
    fg = project.get_feature_store().get_or_create_feature_group(
        "wide", version=1, primary_key=["zone", "ts"], event_time="ts", time_travel=False)
    rng = np.random.default_rng(3)
    zones = [f"Z{i:02d}" for i in range(10)]
    df = zones_frame(zones, pd.Timestamp("2000-01-01T00:00Z"), rows // len(zones), rng, cols=18)
    fg.insert(df)
    connection.release(path)

    def raw():
        con = duckdb.connect(str(path), read_only=True)
        try:
            con.execute("SET TimeZone = 'UTC'")
            return con.sql("select * from wide_v1").df()
        finally:
            con.close()

    def api():
        out = fg.read()
        connection.release(path)  # pay the open each time, as the baseline does
        return out

    raw()
    api()
    t_raw, a = best_of(raw)
    t_api, b = best_of(api)
    assert a.shape == b.shape == (len(df), 20)
    return {"rows": len(df), "cols": 20, "duckdb_df_s": t_raw, "fg_read_s": t_api, "ratio": t_api / t_raw}


def bench_pit(tmp: Path, rows: int) -> dict:
    project, _path = fresh(tmp, "pit")
    fs = project.get_feature_store()
    rng = np.random.default_rng(4)
    zones = [f"Z{i}" for i in range(8)]
    n = rows // len(zones)
    start = pd.Timestamp("2015-01-01T00:00Z")
    # features every 60 s with jitter; labels at random times in the same span
    f_ts = start + pd.to_timedelta(np.arange(n) * 60 + rng.integers(0, 30, n), unit="s")
    feats = pd.DataFrame({"zone": np.repeat(zones, n), "ts": np.tile(f_ts, len(zones)),
                          "temp": rng.normal(0, 1, n * len(zones)), "wind": rng.normal(0, 1, n * len(zones))})
    l_ts = start + pd.to_timedelta(np.sort(rng.integers(-600, n * 60, n)), unit="s")
    labels = pd.DataFrame({"zone": np.repeat(zones, n), "ts": np.tile(l_ts, len(zones)),
                           "y": rng.normal(0, 1, n * len(zones))}).drop_duplicates(["zone", "ts"])
    ffg = fs.get_or_create_feature_group("feats", version=1, primary_key=["zone", "ts"], event_time="ts", time_travel=False)
    lfg = fs.get_or_create_feature_group("labels", version=1, primary_key=["zone", "ts"], event_time="ts", time_travel=False)
    ffg.insert(feats)
    lfg.insert(labels)

    def ours():
        return lfg.select_all().join(ffg.select(["temp", "wind"]), on=["zone"]).read()

    def pandas_baseline():
        left = labels.sort_values("ts", kind="stable")
        right = feats.sort_values("ts", kind="stable")
        return pd.merge_asof(left, right, on="ts", by="zone", direction="backward", allow_exact_matches=True)

    def in_engine():
        # the same join, kept inside DuckDB (no conversion of the result to pandas)
        sql = lfg.select_all().join(ffg.select(["temp", "wind"]), on=["zone"]).to_string()
        with project.read() as con:
            return con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]

    ours()
    t_engine, _ = best_of(in_engine)
    t_ours, a = best_of(ours)
    t_pd, b = best_of(pandas_baseline)
    key = ["zone", "ts"]
    a = a.sort_values(key, ignore_index=True)
    b = b.sort_values(key, ignore_index=True)[a.columns]
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    return {"label_rows": len(labels), "feature_rows": len(feats), "spotcast_s": t_ours, "merge_asof_s": t_pd,
            "in_engine_s": t_engine,
            "speedup": t_pd / t_ours, "equal": True}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = ap.parse_args()
    q = args.quick
    tmp = Path(tempfile.mkdtemp(prefix="spotcast-bench-"))
    print(f"machine: {machine()}; date: {pd.Timestamp.now(tz='UTC'):%Y-%m-%d}")
    try:
        r = bench_appends(tmp, 200 if q else 1095)
        print(f"[appends] {r['commits']} daily commits of 96 rows: median {r['median_ms']:.1f} ms; "
              f"first 100 {r['first100_ms']:.1f} ms, last 100 {r['last100_ms']:.1f} ms, "
              f"ratio last/first {r['ratio_last_first']:.2f} (target <= 1.5; median target < 20 ms)")
        r = bench_upsert_vs_parquet(tmp, 200_000 if q else 2_000_000)
        print(f"[upsert] 1,200-row daily commit into {r['rows']:,} price rows: spotcast {r['spotcast_ms']:.1f} ms "
              f"(first commit of a process, file open included: {r['first_ms']:.0f} ms), Parquet read-concat-rewrite "
              f"{r['parquet_rewrite_ms']:.0f} ms, speedup {r['speedup']:.0f}x ({r['speedup_first']:.0f}x for a first "
              f"commit; target >= 50x)")
        r = bench_read(tmp, 100_000 if q else 1_000_000)
        print(f"[read] {r['rows']:,} x {r['cols']}: fg.read() {r['fg_read_s']:.3f} s, duckdb .df() {r['duckdb_df_s']:.3f} s, "
              f"ratio {r['ratio']:.2f} (target <= 1.5)")
        r = bench_pit(tmp, 200_000 if q else 2_000_000)
        print(f"[pit] {r['label_rows']:,} labels x {r['feature_rows']:,} features: spotcast {r['spotcast_s']:.2f} s, "
              f"pandas.merge_asof {r['merge_asof_s']:.2f} s, speedup {r['speedup']:.1f}x (target >= 2), results equal; "
              f"the join alone inside DuckDB {r['in_engine_s']:.2f} s ({r['merge_asof_s'] / r['in_engine_s']:.1f}x)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
