"""Replay `spotcast run` on real Nordic data through a local server in the real APIs' formats.

A local HTTP server answers elprisetjustnu's day files (real SE4 prices) and Open-Meteo's
archive and forecast endpoints (real Malmö weather) *as they would have answered at a moving
"now"*: a day's prices exist from 13:00 Stockholm time the day before delivery (404 before), the
archive holds observations up to two days before now, the forecast endpoint answers from now's
GMT day on. A cold `spotcast run` fills an empty store; then one run per day at the same clock
time; then an idle rerun. It prints what a trader would judge:

- realised MAE and rMAE against the weekly naive (the price 7 days before each target hour) of
  the forecasts as published (the stored published vintage), per horizon day;
- p10-p90 coverage and mean width per horizon day;
- values of an already-published forecast that a later run changed (must be 0), and forecast
  files that no longer match the store;
- commits made by an idle rerun (must be 0);
- the lines of the runs' logs where the promotion gate or the data-quality gate spoke.

What the data cannot give, said here rather than hidden: the weather file holds observations
only, so the server's "forecast" is the observation itself (perfect weather foresight: the
realised error is optimistic by whatever real weather-forecast errors would cost), and Open-Meteo's
archived-forecast endpoints (Previous Runs, Historical Forecast) answer nulls, as the real ones do
where no archive exists. The data has no SEK price: SEK values are derived with one constant
rate (``--sek-per-eur``), so the SEK columns are illustrative.

Usage: uv run python benchmarks/replay.py [--data ../shared/data/nordic] [--days 182]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine
from spotcast_ingest.testing import FakeApis

ROOT = Path(__file__).resolve().parent.parent
STOCKHOLM = "Europe/Stockholm"
ARCHIVE_DELAY = pd.Timedelta(days=2)
_ELPRIS = re.compile(r"^/api/v1/prices/(\d{4})/(\d{2})-(\d{2})_(SE[1-4])\.json$")
WEATHER_COLUMNS = {"temperature": "temperature_2m", "precipitation": "precipitation",
                   "cloud_cover": "cloud_cover", "wind_speed_10m": "wind_speed_10m"}


def load_prices(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, sep=";", decimal=",")
    df["ts"] = pd.to_datetime(df["HourUTC"]).dt.tz_localize("UTC")
    return df[["ts", "SpotPriceEUR"]].rename(columns={"SpotPriceEUR": "eur"}).sort_values("ts").reset_index(drop=True)


def load_weather(path: Path) -> pd.DataFrame:
    head = pd.read_csv(path, nrows=1)
    offset = pd.Timedelta(seconds=int(head["utc_offset_seconds"].iloc[0]))
    df = pd.read_csv(path, skiprows=3)
    df["ts"] = pd.to_datetime(df["time"]).dt.tz_localize("UTC") - offset  # fixed UTC+1 all year
    return df.rename(columns=WEATHER_COLUMNS).set_index("ts")[list(WEATHER_COLUMNS.values())].astype(float)


class ReplayServer(FakeApis):
    """elprisetjustnu + Open-Meteo answers from real data, as known at ``self.now`` (the HTTP side
    is spotcast_ingest.testing.FakeApis; only the answers differ)."""

    def __init__(self, prices: pd.DataFrame, weather: pd.DataFrame, sek_per_eur: float) -> None:
        super().__init__(now=pd.Timestamp("2000-01-01", tz="UTC"))
        self.answered: dict[str, int] = {}
        local = prices["ts"].dt.tz_convert(STOCKHOLM)
        self.days: dict[dt.date, list[dict[str, Any]]] = {}
        for t, eur in zip(local, prices["eur"], strict=True):
            self.days.setdefault(t.date(), []).append({
                "SEK_per_kWh": round(eur * sek_per_eur / 1000, 5), "EUR_per_kWh": round(eur / 1000, 5),
                "EXR": sek_per_eur, "time_start": t.isoformat(), "time_end": (t + pd.Timedelta(hours=1)).isoformat()})
        self.weather = weather

    def _count(self, what: str) -> None:
        self.answered[what] = self.answered.get(what, 0) + 1

    def answer(self, path: str) -> tuple[int, Any]:
        parts = urlsplit(path)
        m = _ELPRIS.match(parts.path)
        if m:
            self._count("elprisetjustnu")
            y, mo, d, _zone = m.groups()
            day = dt.date(int(y), int(mo), int(d))
            published = pd.Timestamp(day - dt.timedelta(days=1)).tz_localize(STOCKHOLM) + pd.Timedelta(hours=13)
            if self.now < published or day not in self.days:
                return 404, {"message": "Not Found"}
            return 200, self.days[day]
        if parts.path in ("/v1/archive", "/v1/forecast"):
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            return 200, self.weather_answer(parts.path, q)
        self._count("unknown")
        return 404, {"error": True, "reason": f"no such path {parts.path}"}

    def weather_answer(self, path: str, q: dict[str, str]) -> dict[str, Any]:
        variables = q["hourly"].split(",")
        if "start_date" in q:
            first = pd.Timestamp(q["start_date"], tz="UTC")
            last = pd.Timestamp(q["end_date"], tz="UTC") + pd.Timedelta(hours=23)
        else:  # the live forecast: today (GMT) and the next forecast_days - 1 days
            first = self.now.floor("D")
            last = first + pd.Timedelta(days=int(q.get("forecast_days", 7))) - pd.Timedelta(hours=1)
        times = pd.date_range(first, last, freq="h")
        frame = self.weather.reindex(times)
        if path == "/v1/archive":
            self._count("open-meteo archive")
            frame[times > self.now - ARCHIVE_DELAY] = np.nan
        elif "start_date" in q or any("_previous_day" in v for v in variables):
            self._count("open-meteo archived forecasts")
            frame[:] = np.nan  # the data holds no archived forecasts: the real API answers nulls there
        else:
            self._count("open-meteo forecast")
        hourly: dict[str, Any] = {"time": [int(t.timestamp()) for t in times] if q.get("timeformat") == "unixtime"
                                  else [t.strftime("%Y-%m-%dT%H:%M") for t in times]}
        for v in variables:
            base = v.split("_previous_day")[0]
            col = frame[base] if base in frame else pd.Series(np.nan, index=times)
            hourly[v] = [None if pd.isna(x) else round(float(x), 2) for x in col]
        return {"latitude": float(q["latitude"]), "longitude": float(q["longitude"]), "generationtime_ms": 0.5,
                "utc_offset_seconds": 0, "timezone": "GMT", "timezone_abbreviation": "GMT", "elevation": 12.0,
                "hourly_units": {"time": "unixtime" if q.get("timeformat") == "unixtime" else "iso8601",
                                 **{v: "" for v in variables}}, "hourly": hourly}


def run(store: Path, outputs: Path, now: pd.Timestamp, zone: str, extra: list[str], env: dict[str, str],
        log: Path) -> tuple[float, str]:
    exe = shutil.which("spotcast") or str(Path(sys.executable).parent / "spotcast")
    cmd = [exe, "--store", str(store), "run", "--zone", zone, "--now", now.strftime("%Y-%m-%dT%H:%MZ"),
           "--outputs", str(outputs), *extra]
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t
    text = proc.stdout + proc.stderr
    with log.open("a") as f:
        f.write(f"$ {' '.join(cmd)}\n{text}\n")
    if proc.returncode != 0:
        raise SystemExit(f"spotcast run failed at {now} (exit {proc.returncode}):\n{text[-3000:]}")
    return took, text


CHALLENGERS = (["--no-linear"], ["--window", "120d"])
"""What a user might try on the replay's challenger day: the default model without its linear
members, and one trained on the last 120 days only (to follow a regime change). The promotion
gate decides; the replay prints what it said."""


def fit_challenger(store: Path, now: pd.Timestamp, zone: str, extra: list[str], env: dict[str, str],
                   log: Path) -> str:
    exe = shutil.which("spotcast-train") or str(Path(sys.executable).parent / "spotcast-train")
    cmd = [exe, "--store", str(store), "fit", "--zone", zone, "--now", now.strftime("%Y-%m-%dT%H:%MZ"),
           "--no-progress", *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    text = proc.stdout + proc.stderr
    with log.open("a") as f:
        f.write(f"$ {' '.join(cmd)}\n{text}\n")
    if proc.returncode != 0:
        raise SystemExit(f"spotcast-train fit failed at {now} (exit {proc.returncode}):\n{text[-3000:]}")
    return text.strip()


def published_forecasts(store: Path) -> pd.DataFrame:
    """The stored published vintage of every origin (the first before gate closure), as the
    default read gives it."""
    try:
        from spotcast_storage.contracts.forecasts import published_sql  # forecasts v2 (vintages)
        sql = published_sql()
    except ImportError:  # forecasts v1: one row set per origin
        sql = "select * from forecasts"
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.sql(sql).df()
    finally:
        con.close()


def commit_count(store: Path) -> int:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return int(con.execute("select count(*) from _spotcast.commits").fetchone()[0])
    finally:
        con.close()


def compare_files(outputs: Path, published: pd.DataFrame, zone: str) -> tuple[int, int]:
    """(files checked, files whose p50 differs from the stored published vintage)."""
    checked = differ = 0
    for path in sorted(outputs.glob(f"forecast_{zone}_*.csv")):
        f = pd.read_csv(path)
        if "ts" not in f or "p50" not in f:
            continue
        f = f[f["p50"].notna()].copy()  # rows with only an actual (prices published before it was made)
        f["ts"] = pd.to_datetime(f["ts"], utc=True)
        f["origin"] = pd.to_datetime(f["origin"], utc=True)
        store = published.assign(ts=pd.to_datetime(published["ts"], utc=True),
                                 origin=pd.to_datetime(published["origin"], utc=True))
        merged = f.merge(store[["origin", "ts", "p50"]], on=["origin", "ts"], how="left",
                         suffixes=("_file", "_store"))
        checked += 1
        differ += int(merged["p50_store"].isna().any() or (np.abs(merged["p50_file"] - merged["p50_store"]) > 1e-3).any())
    return checked, differ


def scores(fc: pd.DataFrame, prices: pd.DataFrame, tz: str) -> pd.DataFrame:
    actual = prices.set_index("ts")["eur"]
    df = fc.copy()
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    df["origin"] = pd.to_datetime(df["origin"], utc=True)
    df["actual"] = actual.reindex(df["ts"]).to_numpy()
    df["naive7"] = actual.reindex(df["ts"] - pd.Timedelta(days=7)).to_numpy()
    df = df.dropna(subset=["actual", "p50"])
    local_day = df["ts"].dt.tz_convert(tz).dt.date
    first_day = df.groupby("origin")["ts"].transform("min").dt.tz_convert(tz).dt.date
    df["horizon_day"] = [(a - b).days + 1 for a, b in zip(local_day, first_day, strict=True)]
    df["err"] = (df["p50"] - df["actual"]).abs()
    df["nerr"] = (df["naive7"] - df["actual"]).abs()
    df["inside"] = (df["actual"] >= df["p10"]) & (df["actual"] <= df["p90"])
    df["width"] = df["p90"] - df["p10"]
    rows = []
    for label, g in [*df.groupby("horizon_day"), ("all", df)]:
        g = g.dropna(subset=["naive7"])
        lo, hi = coverage_interval(g)
        rows.append({"horizon day": label, "hours": len(g), "MAE": g["err"].mean(),
                     "rMAE (weekly naive)": g["err"].mean() / g["nerr"].mean(),
                     "p10-p90 coverage": g["inside"].mean(), "coverage 90% interval": f"{lo:.2f}-{hi:.2f}",
                     "mean width": g["width"].mean()})
    return pd.DataFrame(rows)


def coverage_interval(g: pd.DataFrame, block: int = 7, draws: int = 2000, seed: int = 0) -> tuple[float, float]:
    """5th-95th percentile of the coverage over a moving-block bootstrap of origins (blocks of
    ``block`` consecutive origins, drawn with replacement until as many origins as the replay has).
    Why: misses come in regimes lasting days and every hour of an origin shares its regime, so
    29 origins hold far fewer independent misses than their 4,872 hours suggest; the interval
    says how far the replay's coverage can land from the band's true coverage by chance alone."""
    per = g.groupby("origin")["inside"].agg(["sum", "count"]).sort_index()
    n = len(per)
    if n == 0:
        return float("nan"), float("nan")
    k = min(block, n)
    starts = np.arange(n - k + 1)
    rng = np.random.default_rng(seed)
    s, c = per["sum"].to_numpy(dtype="float64"), per["count"].to_numpy(dtype="float64")
    cs, cc = np.concatenate([[0], np.cumsum(s)]), np.concatenate([[0], np.cumsum(c)])
    picks = rng.choice(starts, size=(draws, -(-n // k)))
    covers = (cs[picks + k] - cs[picks]).sum(axis=1) / (cc[picks + k] - cc[picks]).sum(axis=1)
    return float(np.percentile(covers, 5)), float(np.percentile(covers, 95))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "nordic")
    ap.add_argument("--zone", default="SE4")
    # Half a year of daily runs: 80% +- 3 per horizon day cannot be told from chance on fewer origins
    # (benchmarks/README.md, "Why the replay's coverage misses"); the data ends 2024-12-31.
    ap.add_argument("--cold", default="2024-06-20T14:00Z", help="time of the cold run (UTC)")
    ap.add_argument("--days", type=int, default=182, help="daily runs after the cold one")
    ap.add_argument("--history-days", type=int, default=530, help="days of history the cold run fetches")
    ap.add_argument("--sek-per-eur", type=float, default=11.43,
                    help="constant rate for the SEK columns (the data has no SEK; ECB 2024 mean 11.43)")
    ap.add_argument("--keep", type=Path, help="keep the store, files and log in this folder")
    ap.add_argument("--challenger-day", type=int, default=10,
                    help="day of the replay on which the challengers of CHALLENGERS are fitted (0: none)")
    ap.add_argument("--score", type=Path, metavar="STORE",
                    help="only score the published forecasts of a kept replay store (no runs)")
    args = ap.parse_args()

    prices = load_prices(args.data / "Elspotprices_SE4_2023-2024.csv")
    if args.score is not None:
        pub = published_forecasts(args.score)
        pub = pub[(pub["zone"] == args.zone) & (pd.to_datetime(pub["origin"], utc=True)
                                                >= pd.Timestamp(args.cold) - pd.Timedelta(days=1))]
        with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 200):
            print(scores(pub, prices, STOCKHOLM).to_string(index=False))
        return
    weather = load_weather(args.data / "Hourly_weather_malmo.csv")
    server = ReplayServer(prices, weather, args.sek_per_eur).__enter__()  # serves until the process ends
    work = args.keep or Path(tempfile.mkdtemp(prefix="spotcast-replay-"))
    work.mkdir(parents=True, exist_ok=True)
    store, outputs, log = work / "store.duckdb", work / "outputs", work / "replay.log"
    for p in (store, log):
        p.unlink(missing_ok=True)
    shutil.rmtree(outputs, ignore_errors=True)
    env = {**os.environ, "SPOTCAST_ELPRISETJUSTNU_BASE_URL": server.url,
           "SPOTCAST_OPEN_METEO_BASE_URL": server.url, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("SPOTCAST_STORE", None)

    print(f"machine: {machine()}; date: {dt.date.today()}; work folder: {work}")
    cold = pd.Timestamp(args.cold)
    server.now = cold
    took, _ = run(store, outputs, cold, args.zone, ["--history-days", str(args.history_days), "--yes"], env, log)
    print(f"[cold] {cold:%Y-%m-%d %H:%M}Z, {args.history_days} days of history: {took:.1f} s")

    seen: pd.DataFrame | None = None
    rewritten = 0
    daily_times = []
    for i in range(1, args.days + 1):
        now = cold + pd.Timedelta(days=i)
        server.now = now
        if i == args.challenger_day:
            for extra in CHALLENGERS:
                said = fit_challenger(store, now, args.zone, extra, env, log)
                print(f"[challenger] {now:%Y-%m-%d} spotcast-train fit {' '.join(extra)}: " + " / ".join(said.splitlines()))
        took, _ = run(store, outputs, now, args.zone, [], env, log)
        daily_times.append(took)
        pub = published_forecasts(store)[["zone", "origin", "ts", "p10", "p50", "p90"]]
        if seen is not None:
            both = seen.merge(pub, on=["zone", "origin", "ts"], suffixes=("_then", "_now"))
            for q in ("p10", "p50", "p90"):
                a, b = both[f"{q}_then"], both[f"{q}_now"]
                rewritten += int(((a - b).abs() > 1e-9).sum() + (a.isna() != b.isna()).sum())
        seen = pub if seen is None else pd.concat([seen, pub]).drop_duplicates(["zone", "origin", "ts"], keep="first")
    print(f"[daily] {args.days} runs: median {np.median(daily_times):.1f} s, max {max(daily_times):.1f} s")

    before = commit_count(store)
    run(store, outputs, now, args.zone, [], env, log)
    idle_commits = commit_count(store) - before

    pub = published_forecasts(store)
    pub = pub[pub["zone"] == args.zone]
    in_replay = pub[pd.to_datetime(pub["origin"], utc=True) >= cold - pd.Timedelta(days=1)]
    table = scores(in_replay, prices, STOCKHOLM)
    files, differ = compare_files(outputs, pub, args.zone)

    print(f"\nforecasts published during the replay: {in_replay['origin'].nunique()} origins, "
          f"{len(in_replay)} hourly rows (scored where the actual exists)")
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 200):
        print(table.to_string(index=False))
    print(f"\nvalues of published forecasts rewritten by a later run: {rewritten} (must be 0)")
    print(f"forecast files checked against the store: {files}, differing: {differ} (must be 0)")
    print(f"commits made by an idle rerun: {idle_commits} (must be 0)")
    print(f"requests answered: {server.answered}")
    text = log.read_text()
    said = [ln.strip() for ln in text.splitlines()
            if re.search(r"reject|promot|challenger|fallback|naive serves|keeps serving|data.quality: .*fail", ln, re.I)]
    print(f"\ngate lines in the runs' logs ({len(said)}):")
    for ln in said[:40]:
        print("  " + ln[:220])
    print(f"\nfull log: {log}")


if __name__ == "__main__":
    main()
