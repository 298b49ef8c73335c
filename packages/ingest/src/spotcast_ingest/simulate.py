"""A synthetic but plausible Nordic market: weather, load, wind and solar output, day-ahead prices.

Pure and deterministic: every random number is a hash of (seed, stream, time index), and
every persistent process is a finite moving average of such numbers. So a value depends
only on its time and zone, never on the window it is computed in: fetching January alone
gives the same rows as fetching two years, which makes overlapping backfills idempotent.

What it captures (so models have something real to learn and features something to break):
- seasonal and daily temperature with multi-day weather anomalies and week-long cold
  spells, correlated across zones (a shared factor plus each zone's own);
- wind with persistence, cloud, precipitation, and radiation from the sun's elevation;
- load that rises with heating demand and has daily and weekly shape;
- prices driven by residual load (load minus wind and solar): cold, calm winter evenings are
  dear, windy nights at low demand cheap and occasionally negative, rare scarcity spikes;
  northern zones cheaper and calmer (hydro), southern zones dearer and more volatile;
- known-in-advance series that behave like forecasts: day-ahead load, wind and solar
  forecasts (issued 10:00 CET the day before, with errors) and weather forecasts issued daily
  at 06:00 UTC for 72 hours, with errors that grow with lead time.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spotcast_ingest import frames, timeutil
from spotcast_storage.zones import parse_zone

ORIGIN = pd.Timestamp("1990-01-01", tz="UTC")
FORECAST_ISSUE_HOUR_UTC = 6
FORECAST_HORIZON_HOURS = 72
SOURCE = "synthetic"
_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class ZoneParams:
    t_mean: float  # yearly mean temperature, °C
    t_amp: float  # half the summer-winter difference, °C
    wind: float  # typical 100 m wind, km/h
    load: float  # mean load, MW
    wind_cap: float  # installed wind, MW
    solar_cap: float  # installed solar, MW
    price_factor: float  # zone level relative to the system price
    sensitivity: float  # how strongly the price reacts to residual load
    sek: bool  # the zone is Swedish: SEK/kWh is given
    negative_from: float  # renewable share of load above which prices are pushed below zero


PARAMS: dict[str, ZoneParams] = {
    "SE1": ZoneParams(1.5, 11.5, 20.0, 1100, 1400, 40, 0.62, 0.55, True, 1.0),
    "SE2": ZoneParams(3.5, 10.5, 22.0, 1900, 4200, 120, 0.66, 0.65, True, 1.9),
    "SE3": ZoneParams(7.0, 9.5, 21.0, 9500, 4500, 1500, 1.00, 1.15, True, 0.42),
    "SE4": ZoneParams(8.5, 8.5, 24.0, 2700, 2100, 700, 1.22, 1.50, True, 0.85),
    "DK1": ZoneParams(9.0, 7.5, 27.0, 2300, 5000, 2200, 1.28, 1.45, False, 2.4),
    "DK2": ZoneParams(9.0, 8.0, 24.0, 1500, 1300, 900, 1.30, 1.50, False, 1.0),
    "NO1": ZoneParams(6.0, 10.0, 16.0, 4200, 300, 150, 0.90, 0.80, False, 0.5),
    "NO2": ZoneParams(7.5, 8.0, 22.0, 3900, 1100, 80, 1.05, 0.90, False, 0.6),
    "NO3": ZoneParams(5.0, 8.5, 22.0, 3000, 1500, 30, 0.70, 0.60, False, 0.55),
    "NO4": ZoneParams(3.0, 8.0, 20.0, 2100, 800, 10, 0.55, 0.50, False, 0.5),
    "NO5": ZoneParams(7.5, 7.0, 20.0, 2200, 50, 20, 0.95, 0.80, False, 0.3),
    "FI": ZoneParams(5.5, 11.0, 20.0, 9300, 7000, 900, 1.10, 1.20, False, 0.6),
}
ZONES = tuple(PARAMS)


# -- deterministic noise ---------------------------------------------------------------------
def _mix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _stream_key(seed: int, stream: str) -> np.uint64:
    k = (int(seed) * 0x632BE59BD9B4E019 + zlib.crc32(stream.encode()) * 0x85EBCA77C2B2AE63) & _MASK
    return _mix(np.array([k], dtype=np.uint64))[0]


def uniform(seed: int, stream: str, idx: np.ndarray) -> np.ndarray:
    """Uniform (0, 1) numbers, one per integer in ``idx``, fixed by (seed, stream, idx)."""
    with np.errstate(over="ignore"):
        x = np.asarray(idx).astype(np.int64).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x = _mix(_mix(x + _stream_key(seed, stream)))
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / (1 << 53))


def normal(seed: int, stream: str, idx: np.ndarray) -> np.ndarray:
    u1 = uniform(seed, stream + "/a", idx)
    u2 = uniform(seed, stream + "/b", idx)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def smooth(seed: int, stream: str, lo: int, hi: int, tau: float) -> np.ndarray:
    """Unit-variance persistent noise at integer times ``lo..hi``: an exponentially weighted
    moving average of fixed length, so each value depends on its time only."""
    k = int(3 * tau) + 1
    w = np.exp(-np.arange(k) / tau)
    w /= np.sqrt((w * w).sum())
    e = normal(seed, stream, np.arange(lo - k + 1, hi + 1))
    return np.convolve(e, w, mode="valid")


def _daily_smooth_at_hours(seed: int, stream: str, h0: int, h1: int, tau_days: float) -> np.ndarray:
    d0, d1 = h0 // 24 - 1, h1 // 24 + 1
    daily = smooth(seed, stream, d0, d1, tau_days)
    hours = np.arange(h0, h1 + 1)
    return np.interp(hours / 24.0, np.arange(d0, d1 + 1) + 0.5, daily)


# -- the physical truth at hour indexes h0..h1 (hours since ORIGIN) -------------------------------
def hour_index(ts: pd.Timestamp | pd.DatetimeIndex) -> np.ndarray | int:
    if isinstance(ts, pd.Timestamp):
        return int((ts - ORIGIN) // pd.Timedelta(hours=1))
    return np.asarray((pd.DatetimeIndex(ts) - ORIGIN) // pd.Timedelta(hours=1), dtype=np.int64)


def hour_times(h0: int, h1: int) -> pd.DatetimeIndex:
    return pd.date_range(ORIGIN + pd.Timedelta(hours=h0), periods=h1 - h0 + 1, freq="h").as_unit("us")


def truth(zone: str, h0: int, h1: int, seed: int = 0) -> pd.DataFrame:
    """Hourly weather, load, wind and solar output and the hourly day-ahead price, hours h0..h1."""
    p = PARAMS[zone]
    where = parse_zone(zone).location
    lat, lon = where.lat, where.lon
    ts = hour_times(h0, h1)
    hours = np.arange(h0, h1 + 1)
    days = hours / 24.0
    phase = 2 * np.pi * (days - 15.0) / 365.2425
    summer = (1 - np.cos(phase)) / 2  # 0 mid-January, 1 mid-July
    hour_utc = hours % 24

    # temperature: climate + daily cycle + weather anomalies (shared and own) + cold spells
    anomaly = 0.8 * smooth(seed, "temp/common", h0, h1, 60) + 0.6 * smooth(seed, f"temp/{zone}", h0, h1, 40)
    spell = _daily_smooth_at_hours(seed, "cold-spell/common", h0, h1, 12)
    temp = (p.t_mean - p.t_amp * np.cos(phase)
            + (1.5 + 3.0 * summer) * np.cos(2 * np.pi * (hour_utc + lon / 15 - 15) / 24)
            + (4.5 - 2.0 * summer) * anomaly + 3.5 * (1 - summer) * spell)

    # wind, cloud, precipitation, radiation
    wind_f = 0.75 * smooth(seed, "wind/common", h0, h1, 30) + 0.66 * smooth(seed, f"wind/{zone}", h0, h1, 20)
    w100 = p.wind * (1 + 0.2 * np.cos(phase)) * np.exp(0.5 * wind_f - 0.125)
    w10 = 0.66 * w100 * (1 + 0.08 * np.cos(2 * np.pi * (hour_utc + lon / 15 - 14) / 24))
    cloud_f = 0.7 * smooth(seed, "cloud/common", h0, h1, 20) + 0.71 * smooth(seed, f"cloud/{zone}", h0, h1, 14)
    cloud = 100 / (1 + np.exp(-(1.3 * cloud_f + 0.4 + 0.5 * np.cos(phase))))
    rain = np.maximum(0.0, 1.2 * normal(seed, f"rain/{zone}", hours) + (cloud - 80) / 8 - 0.8)
    precip = np.where(cloud > 75, np.round(0.6 * rain, 1), 0.0)
    decl = np.deg2rad(23.44) * np.sin(2 * np.pi * (days - 80) / 365.2425)
    hour_angle = 2 * np.pi * (hour_utc + 0.5 + lon / 15 - 12) / 24
    la = np.deg2rad(lat)
    sin_elev = np.sin(la) * np.sin(decl) + np.cos(la) * np.cos(decl) * np.cos(hour_angle)
    clear = 1050 * np.maximum(sin_elev, 0) ** 1.15
    radiation = clear * (1 - 0.72 * (cloud / 100) ** 2.5)

    # load, wind and solar output
    local = ts.tz_convert(parse_zone(zone).tz)
    lh = local.hour.to_numpy() + local.minute.to_numpy() / 60
    profile = (0.95 + 0.10 * np.exp(-(((lh - 8.5) / 2.0) ** 2)) + 0.14 * np.exp(-(((lh - 18) / 2.5) ** 2))
               - 0.12 * np.exp(-(((lh - 3.5) / 3.0) ** 2)))
    weekly = np.select([local.day_of_week.to_numpy() == 5, local.day_of_week.to_numpy() == 6], [0.92, 0.87], 1.0)
    hdd = np.maximum(16 - temp, 0)
    load = (p.load * 0.8 * (1 + 0.03 * hdd) * profile * weekly
            * (1 + 0.015 * smooth(seed, f"load/{zone}", h0, h1, 6)))
    v = w100 / 3.6
    wind_mw = p.wind_cap * np.where(v > 25, 0.0, np.clip((v - 3) / 10, 0, 1) ** 2.2)
    solar_mw = p.solar_cap * radiation / 1000 * 0.85

    # price: system level x zone reaction to demand and to the renewable share, spikes, negative hours
    level = 46 * np.exp(0.4 * _daily_smooth_at_hours(seed, "fuel/common", h0, h1, 45)) + 14 * (1 - summer)
    share = (wind_mw + solar_mw) / load
    noise = 0.07 * smooth(seed, "price/common", h0, h1, 8) + 0.05 * smooth(seed, f"price/{zone}", h0, h1, 5)
    price = (level * p.price_factor * np.exp(p.sensitivity * (load / p.load - 1.0))
             * np.exp(-0.9 * p.sensitivity * np.minimum(share, 1.5)) * np.exp(noise))
    surplus = np.clip(share - p.negative_from, 0, None)
    price -= 60 * surplus * (1 + uniform(seed, f"neg/{zone}", hours))
    spike_p = 0.0012 * p.sensitivity * (1 + 4 * np.clip(load / p.load - 1.2, 0, None))
    spike = uniform(seed, f"spike/{zone}", hours) < spike_p
    price = np.where(spike, price * (2.0 + 3.0 * uniform(seed, f"spike-size/{zone}", hours)), price)
    price = np.clip(price, -500, 4000)
    exr = 11.3 + 0.45 * _daily_smooth_at_hours(seed, "exr/common", h0, h1, 60)

    return pd.DataFrame({
        "ts": ts, "temperature_2m": temp, "wind_speed_10m": w10, "wind_speed_100m": w100,
        "shortwave_radiation": radiation, "cloud_cover": cloud, "precipitation": precip,
        "clear_sky": clear, "load": load, "wind_mw": wind_mw, "solar_mw": solar_mw,
        "price": price, "exr": exr,
    })


# -- frames in contract shape -------------------------------------------------------------------
def _prices(zone: str, tr: pd.DataFrame, h0: int, periods: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    p = PARAMS[zone]
    tz = parse_zone(zone).tz
    hi = hour_index(periods.floor("h")) - h0
    hourly = tr["price"].to_numpy()
    price = hourly[hi].copy()
    minute = periods.minute.to_numpy()
    res = np.where(periods.tz_convert(tz).normalize().date >= timeutil.QUARTER_HOUR_FROM, 15, 60)
    q = res == 15
    if q.any():
        # quarter-hours ramp towards the next hour and wiggle around it
        nxt = hourly[np.minimum(hi + 1, len(hourly) - 1)]
        qidx = hour_index(periods.floor("h")) * 4 + minute // 15
        price = np.where(q, price + (nxt - price) * (minute / 60 - 0.375)
                         + 0.04 * np.abs(price) * normal(seed, f"quarter/{zone}", qidx), price)
    eur = np.round(price, 2)
    sek = np.round(eur / 1000 * tr["exr"].to_numpy()[hi], 5) if p.sek else None
    return frames.prices_frame(zone, periods, eur, sek, res, SOURCE, tz)


def _observed(zone: str, tr: pd.DataFrame) -> pd.DataFrame:
    values = {v: tr[v].to_numpy() for v in frames.WEATHER_VARIABLES}
    return frames.weather_frame(zone, pd.DatetimeIndex(tr["ts"]), values, "observed", None, SOURCE)


def _forecasts(zone: str, tr: pd.DataFrame, h0: int, issues: pd.DatetimeIndex, seed: int) -> pd.DataFrame | None:
    if len(issues) == 0:
        return None
    n = FORECAST_HORIZON_HOURS
    issue_h = hour_index(issues)
    lead = np.arange(n)
    rows = (issue_h[:, None] + lead[None, :]).ravel() - h0
    key = (issue_h[:, None] // 24 * 128 + lead[None, :]).ravel()

    def walk(var: str) -> np.ndarray:
        steps = normal(seed, f"fc/{var}/{zone}", key).reshape(len(issues), n)
        return (np.cumsum(steps, axis=1) / np.sqrt(n)).ravel()

    t = tr.iloc[rows]
    temp = t["temperature_2m"].to_numpy() + 0.4 * normal(seed, f"fc/t0/{zone}", key) + 2.5 * walk("temp")
    wind_err = np.exp(0.3 * walk("wind") - 0.02)
    cloud = np.clip(t["cloud_cover"].to_numpy() + 25 * walk("cloud"), 0, 100)
    values = {
        "temperature_2m": temp,
        "wind_speed_10m": t["wind_speed_10m"].to_numpy() * wind_err,
        "wind_speed_100m": t["wind_speed_100m"].to_numpy() * wind_err,
        "cloud_cover": cloud,
        "shortwave_radiation": t["clear_sky"].to_numpy() * (1 - 0.72 * (cloud / 100) ** 2.5),
        "precipitation": np.round(t["precipitation"].to_numpy() * np.exp(0.5 * walk("rain")), 1),
    }
    return frames.weather_frame(zone, pd.DatetimeIndex(t["ts"]), values, "forecast", issues.repeat(n), SOURCE)


def _exogenous(zone: str, tr: pd.DataFrame, h0: int, hours: pd.DatetimeIndex, seed: int) -> pd.DataFrame | None:
    if len(hours) == 0:
        return None
    p = PARAMS[zone]
    tz = parse_zone(zone).tz
    h = hour_index(hours)
    t = tr.iloc[h - h0]
    issued = timeutil.publication_times(hours, tz, timeutil.FORECAST_ISSUE_HOUR)
    lo, hi = int(h.min()), int(h.max())
    load = t["load"].to_numpy() * (1 + 0.02 * smooth(seed, f"xfc/load/{zone}", lo, hi, 6)[h - lo])
    wind = np.clip(t["wind_mw"].to_numpy() + 0.08 * p.wind_cap * smooth(seed, f"xfc/wind/{zone}", lo, hi, 8)[h - lo],
                   0, p.wind_cap)
    solar = np.clip(t["solar_mw"].to_numpy() * (1 + 0.15 * smooth(seed, f"xfc/solar/{zone}", lo, hi, 5)[h - lo]),
                    0, p.solar_cap)
    parts = [frames.exogenous_frame(zone, hours, name, np.round(vals, 1), "MW", issued, SOURCE)
             for name, vals in (("load_forecast", load), ("wind_forecast", wind), ("solar_forecast", solar))]
    return pd.concat(parts, ignore_index=True)


def generate(zone: str, start: dt.date, end: dt.date, now: pd.Timestamp, seed: int = 0,
             forecasts: bool = True) -> dict[str, pd.DataFrame]:
    """Everything published about local delivery days ``[start, end]`` of ``zone`` by ``now``.

    prices: periods of those days whose auction result is out (13:00 CET the day before);
    weather: observed hours that are over, forecasts issued 06:00 UTC on those days (72 h);
    exogenous: day-ahead load, wind, solar forecasts for those days, issued 10:00 CET the day before.
    """
    if zone not in PARAMS:
        raise KeyError(zone)
    tz = parse_zone(zone).tz
    lo, hi = timeutil.day_bounds(start, tz)[0], timeutil.day_bounds(end, tz)[1]
    hours = pd.date_range(lo, hi, freq="h", inclusive="left").as_unit("us")
    issue0 = lo.floor("D") + pd.Timedelta(hours=FORECAST_ISSUE_HOUR_UTC)
    issues = pd.date_range(issue0, hi, freq="D").as_unit("us") if forecasts else pd.DatetimeIndex([], tz="UTC")
    issues = issues[(issues >= lo) & (issues < hi) & (issues <= now)]
    h0 = hour_index(lo)
    h1 = hour_index(hi) + (FORECAST_HORIZON_HOURS if len(issues) else 1)
    tr = truth(zone, h0, h1, seed)

    periods = timeutil.periods(start, end, tz)
    periods = periods[timeutil.publication_times(periods, tz) <= now]
    observed = tr.iloc[: len(hours)]
    observed = observed[observed["ts"] + pd.Timedelta(hours=1) <= now]
    exo_hours = hours[timeutil.publication_times(hours, tz, timeutil.FORECAST_ISSUE_HOUR) <= now]

    out: dict[str, pd.DataFrame] = {}
    if len(periods):
        out["prices"] = _prices(zone, tr, h0, periods, seed)
    weather = frames.concat([_observed(zone, observed) if len(observed) else None,
                             _forecasts(zone, tr, h0, issues, seed)])
    if weather is not None:
        out["weather"] = weather
    exo = _exogenous(zone, tr, h0, exo_hours, seed)
    if exo is not None:
        out["exogenous"] = exo
    return out
