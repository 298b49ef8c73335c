"""Serve benchmarks (issue 6). Prints each measurement beside a baseline measured in the same run.

    uv run python benchmarks/serve.py [--quick] [--duration 10] [--connections 50]

1. batch `predict` for 4 zones with a real XGBoost quantile model (3 quantiles) on
   price_features rows with 40 feature columns: cold (first call in the process: model load,
   matplotlib import), warm with a new origin (writes the store, CSV and PNG), an unchanged
   re-run, and the `spotcast-serve predict` command as a user runs it (process start included).
   Baseline: the model's bare ``predict`` on the same rows.
2. GET /forecast?zone=SE3 on loopback against `spotcast-serve api` with 50 concurrent
   connections, by wrk (Debian's package; an async httpx client when wrk is absent):
   p50/p99 latency and requests/s. Baseline: the same server with its answer cache off
   (`--cache-seconds 0`: every request reads the store).

Targets: p99 < 50 ms; predict for 4 zones < 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine
from spotcast_storage import get_storage
from spotcast_storage.local import connection

ZONES = ["SE1", "SE2", "SE3", "SE4"]
TZ = "Europe/Stockholm"
N_FEATURES = 40


def features(zones: list[str], origin_days: list[pd.Timestamp], rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    for z in zones:
        for d in origin_days:
            origin = (d + pd.Timedelta(hours=10)).tz_convert("UTC")
            ts = pd.date_range((d + pd.DateOffset(days=1)).tz_convert("UTC"),
                               (d + pd.DateOffset(days=8)).tz_convert("UTC"), freq="h", inclusive="left")
            f = pd.DataFrame({"zone": z, "origin": origin, "ts": ts})
            hour = ts.tz_convert(TZ).hour.to_numpy()
            f["price_lag_7d"] = 60 + 25 * np.sin((hour - 6) / 24 * 2 * np.pi) + rng.normal(0, 5, len(ts))
            for i in range(N_FEATURES - 1):
                f[f"f{i:02d}"] = rng.normal(0, 1, len(ts))
            frames.append(f)
    return pd.concat(frames, ignore_index=True)


def register_xgb_model(project, train: pd.DataFrame, tmp: Path) -> None:
    """A real quantile XGBoost model in spotcast's artifact format, registered in the store."""
    import xgboost as xgb

    from spotcast_storage.boosted import Member, ModelSpec, save_artifact

    cols = ["price_lag_7d"] + [f"f{i:02d}" for i in range(N_FEATURES - 1)]
    y = train["price_lag_7d"].to_numpy() + 3 * train["f00"].to_numpy() + np.random.default_rng(2).normal(0, 4, len(train))
    dm = xgb.DMatrix(train[cols].to_numpy(dtype="float32"), label=y, feature_names=cols)
    booster = xgb.train({"objective": "reg:quantileerror", "quantile_alpha": [0.1, 0.5, 0.9], "max_depth": 5,
                         "eta": 0.1, "nthread": 2, "seed": 0}, dm, num_boost_round=100)
    spec = ModelSpec(kind="xgboost", features=cols, members=[Member(file="member-00.ubj")],
                     lineage={"feature_groups": [{"name": "price_features", "version": 1}]})
    folder = save_artifact(tmp / "artifact", spec, [booster])
    project.get_model_registry().python.create_model(
        "bench_xgb", metrics={"mae": 1.0}, lineage={"feature_groups": [{"name": "price_features", "version": 1}]}
    ).save(folder)


def bench_predict(project, store: Path, tmp: Path, days: int) -> dict:
    from spotcast_serve import service

    rng = np.random.default_rng(0)
    start = pd.Timestamp("2024-01-01", tz=TZ)
    origin_days = [start + pd.DateOffset(days=i) for i in range(days)]
    fg = project.get_feature_store().get_or_create_feature_group(
        "price_features", version=1, primary_key=["zone", "origin", "ts"], event_time="origin")
    t = time.perf_counter()
    df = features(ZONES, origin_days, rng)
    fg.insert(df)
    print(f"  store: {len(df):,} price_features rows ({len(ZONES)} zones x {days} origins x 168 h, "
          f"{N_FEATURES} features) written in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    register_xgb_model(project, df.sample(5_000, random_state=0), tmp)
    print(f"  model: xgboost, 3 quantiles, 100 rounds, trained and registered in {time.perf_counter() - t:.1f} s")

    out = tmp / "outputs"
    res: dict[str, float] = {}
    t = time.perf_counter()
    for z in ZONES:
        service.predict(project, z, outputs=out)
    res["cold"] = time.perf_counter() - t

    def new_origin(k: int) -> None:
        fg.insert(features(ZONES, [start + pd.DateOffset(days=days + k)], rng))

    new_origin(0)
    t = time.perf_counter()
    written = [service.predict(project, z, outputs=out).written for z in ZONES]
    res["warm"] = time.perf_counter() - t
    assert all(written)
    t = time.perf_counter()
    unchanged = [service.predict(project, z, outputs=out).written for z in ZONES]
    res["unchanged"] = time.perf_counter() - t
    assert not any(unchanged)

    # Baseline: the bare model on the same 4 x 168 rows, already in memory.
    rows = pd.concat([service.newest_feature_rows(project, z) for z in ZONES], ignore_index=True)
    predictor = service.load_predictor(service.resolve_model(project, "SE3"))
    bare = []
    for _ in range(5):
        t = time.perf_counter()
        predictor.predict(rows)
        bare.append(time.perf_counter() - t)
    res["bare"] = min(bare)

    connection.release(store)
    # The command as a user runs it (its console script), each time on a new origin: median of 5
    # (all five printed: the spread says how much one run can be trusted).
    cmd = [str(Path(sys.executable).with_name("spotcast-serve")), "--store", str(store),
           "predict", *[a for z in ZONES for a in ("--zone", z)], "--outputs", str(out)]
    runs = []
    for k in range(1, 6):
        new_origin(k)
        connection.release(store)
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        runs.append(time.perf_counter() - t)
    res["cli"] = sorted(runs)[len(runs) // 2]
    res["cli_runs"] = sorted(runs)
    return res


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_api(store: Path, cache_seconds: float) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from spotcast_serve.cli import main; main()", "--store", str(store), "api",
         "--port", str(port), "--cache-seconds", str(cache_seconds)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("the API did not start")
        time.sleep(0.2)
    return proc, url


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    assert m, text
    return float(m.group(1)) * _UNITS[m.group(2)]


def run_wrk(url: str, connections: int, duration: int) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url],
                         check=True, capture_output=True, text=True).stdout
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, flags=re.M))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    return {"p50": _ms(lat["50"]), "p99": _ms(lat["99"]), "rps": rps,
            "errors": int(errors.group(1)) if errors else 0, "socket": sock.group(1) if sock else "none",
            "tool": "wrk"}


def run_async_client(url: str, connections: int, duration: int) -> dict:
    import httpx

    async def main() -> dict:
        lat: list[float] = []
        errors = 0
        stop = time.perf_counter() + duration
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=30) as c:
            async def worker() -> None:
                nonlocal errors
                while time.perf_counter() < stop:
                    t = time.perf_counter()
                    r = await c.get(url)
                    lat.append((time.perf_counter() - t) * 1e3)
                    errors += r.status_code != 200
            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(connections)))
            elapsed = time.perf_counter() - t0
        q = statistics.quantiles(lat, n=100)
        return {"p50": q[49], "p99": q[98], "rps": len(lat) / elapsed, "errors": errors, "socket": "n/a",
                "tool": "httpx async client"}

    return asyncio.run(main())


def bench_api(store: Path, connections: int, duration: int) -> dict:
    load = run_wrk if shutil.which("wrk") else run_async_client
    res = {}
    for name, cache in (("cached", 5.0), ("uncached", 0.0)):
        proc, url = start_api(store, cache)
        try:
            target = url + "/forecast?zone=SE3"
            load(target, 4, 2)  # warm-up
            res[name] = load(target, connections, duration)
        finally:
            proc.terminate()
            proc.wait(10)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="60 origins instead of 365, 5 s load runs")
    ap.add_argument("--duration", type=int, default=10, help="seconds per load run")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--predict-only", action="store_true", help="part 1 only (no HTTP load runs)")
    args = ap.parse_args()
    days = 60 if args.quick else 365
    duration = 5 if args.quick else args.duration

    print(f"serve benchmarks — {machine()} — shared, noisy machine: numbers vary run to run")
    tmp = Path(tempfile.mkdtemp(prefix="spotcast-bench-serve-"))
    try:
        store = tmp / "store.duckdb"
        project = get_storage(mode="local", path=store)
        print("\n1. batch predict, 4 zones (SE1-SE4), newest origin, 168 hours each")
        p = bench_predict(project, store, tmp, days)
        print(f"  baseline: bare model predict on 4 x 168 rows    {p['bare'] * 1e3:8.1f} ms")
        for key, label in (("cold", "predict 4 zones, first in process      "),
                           ("warm", "predict 4 zones, new origin (writes)   "),
                           ("unchanged", "predict 4 zones again (idempotent)     "),
                           ("cli", "`spotcast-serve predict` 4 zones (CLI)")):
            target = 2.5 if key == "cli" else 3.0  # issue 17: the command in <= 2.5 s
            ok = "meets" if p[key] <= target else "MISSES"
            print(f"  {label}  {p[key]:8.2f} s  = {p[key] / p['bare']:7.0f}x baseline   ({ok} target <= {target} s)")
        print(f"  the command's five runs (median above): {', '.join(f'{t:.2f}' for t in p['cli_runs'])} s")
        if args.predict_only:
            return

        connection.release(store)
        print(f"\n2. GET /forecast?zone=SE3, {args.connections} concurrent connections, {duration} s per run")
        a = bench_api(store, args.connections, duration)
        base, c = a["uncached"], a["cached"]
        print(f"  load tool: {c['tool']}")
        for name, r in (("baseline: answer cache off", base), ("spotcast-serve api       ", c)):
            print(f"  {name}  p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  {r['rps']:8.0f} req/s  "
                  f"non-2xx {r['errors']}  socket errors {r['socket']}")
        print(f"  ratio vs baseline: p99 {base['p99'] / c['p99']:.1f}x lower, throughput {c['rps'] / base['rps']:.1f}x "
              f"higher   ({'meets' if c['p99'] < 50 else 'MISSES'} target p99 < 50 ms)")
    finally:
        connection.release(tmp / "store.duckdb")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
