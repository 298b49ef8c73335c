"""Why the replay's p10-p90 coverage misses 80% +- 3: its window, its cold start, and band variants.

    uv run python benchmarks/replay_bands.py --replay STORE [--cache /tmp/spotcast-intervals]

Reads two forecast streams and re-scores bands on them (no model is fitted here):

- the replay's (``benchmarks/replay.py --keep DIR``; STORE is ``DIR/store.duckdb``): the published
  p50 of every origin and, before the first one, the gate's rolling forecasts of the first model,
  which is what serve calibrated the published band on;
- the SE4 2024 rolling backtest of ``benchmarks/se4.py --fast`` (cached parquet), whose origins
  cover the replay's window with a year of history before it.

For each band method it prints the coverage per horizon day on the replay's origins, the same
window of the SE4 backtest with 28 days, 91 days and all of its earlier errors (what a cold start
with the 28-origin gate stream has, what a 91-origin stream would give, the year), and the whole SE4
year (coverage per horizon day, mean width, pinball loss): a method that fixes the window must not
widen the year.
"""

from __future__ import annotations

import argparse
import glob
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from spotcast_storage.intervals import OnlineSettings, conformal_quantile, online_bands

Band = Callable[[pd.DataFrame], tuple[np.ndarray, np.ndarray]]
UNIT = "roll7_std"


def replay_stream(store: Path, zone: str = "SE4") -> pd.DataFrame:
    from spotcast_storage.contracts.forecasts import published_sql

    con = duckdb.connect(str(store), read_only=True)
    try:
        pub = con.sql(published_sql()).df()
        gate = con.sql("select * from backtests where model = 'challenger' order by run_id").df()
        feats = con.sql(f"select origin, ts, horizon_day, {UNIT} from price_features where zone = '{zone}'").df()
        act = con.sql(f"select ts, price_eur_mwh as actual, known_at from prices_hourly where zone = '{zone}'").df()
    finally:
        con.close()
    for d in (pub, gate, feats, act):
        for c in ("origin", "ts", "known_at"):
            if c in d:
                d[c] = pd.to_datetime(d[c], utc=True)
    pub = pub[(pub["zone"] == zone) & pub["fallback_reason"].isna() & (pub["model"] != "naive-weekly")]
    first = pub["origin"].min()
    gate = gate[(gate["run_id"] == gate["run_id"].iloc[0]) & (gate["origin"] < first)]
    s = pd.concat([gate[["origin", "ts", "p50"]].assign(scored=False), pub[["origin", "ts", "p50"]].assign(scored=True)])
    s = s.merge(feats, on=["origin", "ts"]).merge(act, on="ts", how="left")
    s["known_at"] = s["known_at"].fillna(pd.Timestamp("2100-01-01", tz="UTC"))
    return s.sort_values(["origin", "ts"], ignore_index=True)


def se4_stream(cache: Path) -> pd.DataFrame:
    found = sorted(glob.glob(str(cache / f"se4_*_fast_{UNIT}_*d.parquet")))
    if not found:
        raise SystemExit(f"no SE4 stream in {cache}: run `uv run python benchmarks/se4.py --fast --model-unit {UNIT}` first")
    f = pd.read_parquet(found[0])
    f = f[~f["model"].str.startswith("naive")].reset_index(drop=True)
    for c in ("origin", "ts", "known_at"):
        f[c] = pd.to_datetime(f[c], utc=True)
    return f


def online(gamma: float) -> Band:
    def band(s: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        b = online_bands(s.assign(unit=s[UNIT]), OnlineSettings(gamma=gamma))
        return b["lo"].to_numpy(), b["hi"].to_numpy()
    return band


def tracked(eta: float) -> Band:
    """Quantile tracking on the score (conformal PID's P term, Angelopoulos et al. 2023): each
    origin's newly known misses move both offsets by ``eta`` units, shared by every horizon day,
    on top of the 91-day conformal quantiles. Unlike ACI on the levels it can widen beyond the
    largest error in the window."""
    def band(s: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        o, k, g = s["origin"].to_numpy(), s["known_at"].to_numpy(), s["horizon_day"].to_numpy()
        u, p, y = s[UNIT].to_numpy(), s["p50"].to_numpy(), s["actual"].to_numpy()
        r = (y - p) / u
        lo, hi = np.full(len(s), np.nan), np.full(len(s), np.nan)
        fed = np.zeros(len(s), dtype=bool)
        a_lo = a_hi = 0.0
        for t in np.unique(o):
            new = (k <= t) & ~fed & np.isfinite(lo) & np.isfinite(y)
            fed |= (k <= t) & np.isfinite(lo)
            if new.any():
                a_lo += eta * (np.mean(y[new] < lo[new]) - 0.1)
                a_hi += eta * (np.mean(y[new] > hi[new]) - 0.1)
            now = o == t
            for gv in np.unique(g[now]):
                avail = (k <= t) & (o > t - np.timedelta64(91, "D")) & np.isfinite(r) & (g == gv)
                if avail.sum() < 48:
                    continue
                idx = now & (g == gv)
                lo[idx] = p[idx] + u[idx] * min(conformal_quantile(r[avail], 0.1) - a_lo, 0.0)
                hi[idx] = p[idx] + u[idx] * max(conformal_quantile(r[avail], 0.9) + a_hi, 0.0)
        return lo, hi
    return band


def bias_shifted(days: int, shrink: float) -> Band:
    """The online band centred on p50 plus ``shrink`` times the median scaled error of the last
    ``days`` days known at the origin: follows a run of same-signed errors."""
    def band(s: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        o, ts, k = s["origin"].to_numpy(), s["ts"].to_numpy(), s["known_at"].to_numpy()
        r = ((s["actual"] - s["p50"]) / s[UNIT]).to_numpy()
        bias = np.zeros(len(s))
        for t in np.unique(o):
            m = (k <= t) & (ts >= t - np.timedelta64(days, "D")) & np.isfinite(r)
            if m.sum() >= 24:
                bias[o == t] = np.median(r[m]) * shrink
        x = s.assign(unit=s[UNIT], p50=s["p50"] + s[UNIT] * bias)
        b = online_bands(x, OnlineSettings())
        p = s["p50"].to_numpy()
        return np.minimum(b["lo"].to_numpy(), p), np.maximum(b["hi"].to_numpy(), p)
    return band


METHODS: dict[str, Band] = {
    "online 91 d, ACI 0.005": online(0.005),
    "online 91 d, ACI 0.02 (serve's band)": online(0.02),
    "quantile tracking 0.3": tracked(0.3),
    "quantile tracking 1.0": tracked(1.0),
    "bias-shifted 7 d x 0.5": bias_shifted(7, 0.5),
}


def coverage(s: pd.DataFrame, lo: np.ndarray, hi: np.ndarray, rows: np.ndarray) -> tuple[str, float, float, float]:
    d = s[rows].assign(lo=lo[rows], hi=hi[rows]).dropna(subset=["actual", "lo", "hi"])
    y, a, b = d["actual"].to_numpy(), d["lo"].to_numpy(), d["hi"].to_numpy()
    inside = (y >= a) & (y <= b)
    by_day = pd.Series(inside).groupby(d["horizon_day"].to_numpy()).mean()
    pin = np.mean(np.r_[np.maximum(0.1 * (y - a), 0.9 * (a - y)), np.maximum(0.9 * (y - b), 0.1 * (b - y))])
    return " ".join(f"{v:.2f}" for v in by_day), float(inside.mean()), float(np.mean(b - a)), float(pin)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replay", type=Path, required=True, help="store.duckdb of a kept replay")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/spotcast-intervals"))
    args = ap.parse_args(argv)
    rep, year = replay_stream(args.replay), se4_stream(args.cache)
    w0, w1 = rep.loc[rep["scored"], "origin"].min(), rep.loc[rep["scored"], "origin"].max()
    print(f"replay origins {w0:%Y-%m-%d}..{w1:%Y-%m-%d}; coverage per horizon day 1..7 | all-day coverage, mean width")
    for name, band in METHODS.items():
        print(f"\n{name}")
        lo, hi = band(rep)
        days, cov, width, _ = coverage(rep, lo, hi, rep["scored"].to_numpy())
        print(f"  replay (its own history)      {days} | {cov:.3f} {width:6.1f}")
        for hist in (28, 91, 400):
            x = year[year["origin"] >= w0 - pd.Timedelta(days=hist)].reset_index(drop=True)
            lo, hi = band(x)
            days, cov, width, _ = coverage(x, lo, hi, ((x["origin"] >= w0) & (x["origin"] <= w1)).to_numpy())
            print(f"  SE4 backtest, same window, {hist} d of errors before it  {days} | {cov:.3f} {width:6.1f}")
        lo, hi = band(year)
        rows = (year["origin"] >= year["origin"].min() + pd.Timedelta(days=35)).to_numpy()
        days, cov, width, pin = coverage(year, lo, hi, rows)
        print(f"  SE4 backtest, the year        {days} | {cov:.3f} {width:6.1f} pinball {pin:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
