"""Answers in each real API's format, built from the synthetic market, for tests and benchmarks.

A test serves these from a local HTTP server (pytest-httpserver, or :func:`serve` below) and
points a source at it with ``base_url``; the values are plausible and deterministic, and the
shapes (field names, time formats, offsets, wrappers) are those the real APIs document.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

from spotcast_ingest import simulate, timeutil
from spotcast_storage.zones import parse_zone

FAR_FUTURE = pd.Timestamp("2100-01-01", tz="UTC")


def _prices(zone: str, first: dt.date, last: dt.date, seed: int, minutes: int | None) -> pd.DataFrame:
    df = simulate.generate(zone, first, last, FAR_FUTURE, seed, forecasts=False)["prices"]
    if minutes == 60 and (df["resolution_minutes"] == 15).any():
        hourly = df.assign(ts=df["ts"].dt.floor("h")).groupby("ts", as_index=False)[
            ["price_eur_mwh", "price_sek_kwh"]].mean()
        df = hourly.assign(resolution_minutes=60)
    return df


def elprisetjustnu_days(zone: str, first: dt.date, last: dt.date, seed: int = 0) -> dict[dt.date, list[dict[str, Any]]]:
    """``GET /api/v1/prices/{YYYY}/{MM}-{DD}_{ZONE}.json`` for every day: periods with Stockholm offsets."""
    df = _prices(zone, first, last, seed, None)
    start = df["ts"].dt.tz_convert("Europe/Stockholm")
    end = start + pd.to_timedelta(df["resolution_minutes"], unit="min")
    exr = (df["price_sek_kwh"] / (df["price_eur_mwh"] / 1000)).fillna(11.3)
    out: dict[dt.date, list[dict[str, Any]]] = {}
    for s, e, x, a, b in zip(df["price_sek_kwh"], df["price_eur_mwh"], exr, start, end, strict=True):
        out.setdefault(a.date(), []).append(
            {"SEK_per_kWh": round(float(s), 5), "EUR_per_kWh": round(float(e) / 1000, 5), "EXR": round(float(x), 6),
             "time_start": a.isoformat(), "time_end": b.isoformat()})
    return out


def elprisetjustnu_day(zone: str, day: dt.date, seed: int = 0) -> list[dict[str, Any]]:
    return elprisetjustnu_days(zone, day, day, seed)[day]


def energidataservice(dataset: str, zone: str, first: dt.date, last: dt.date, seed: int = 0) -> dict[str, Any]:
    """``GET /dataset/Elspotprices`` (hourly, HourUTC/HourDK/SpotPriceDKK/SpotPriceEUR) or
    ``/dataset/DayAheadPrices`` (TimeUTC/TimeDK/DayAheadPriceDKK/DayAheadPriceEUR), ``records`` newest first."""
    df = _prices(zone, first, last, seed, 60 if dataset == "Elspotprices" else None)
    utc = df["ts"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S")
    local = df["ts"].dt.tz_convert("Europe/Copenhagen").dt.strftime("%Y-%m-%dT%H:%M:%S")
    t, p = ("HourUTC", "SpotPrice") if dataset == "Elspotprices" else ("TimeUTC", "DayAheadPrice")
    tdk = "HourDK" if dataset == "Elspotprices" else "TimeDK"
    records = [{t: u, tdk: loc, "PriceArea": zone, f"{p}DKK": round(float(e) * 7.46, 2), f"{p}EUR": round(float(e), 2)}
               for u, loc, e in zip(utc, local, df["price_eur_mwh"], strict=True)][::-1]
    return {"total": len(records), "filters": json.dumps({"PriceArea": [zone]}), "limit": 0,
            "dataset": dataset, "records": records}


def openmeteo(zone: str, first: dt.date, last: dt.date, variables: list[str], unixtime: bool = True,
              seed: int = 0, latitude: float = 59.33, longitude: float = 18.07) -> dict[str, Any]:
    """Open-Meteo archive/forecast answer for UTC days ``[first, last]`` with ``timezone=GMT``."""
    h0 = simulate.hour_index(pd.Timestamp(first, tz="UTC"))
    h1 = simulate.hour_index(pd.Timestamp(last, tz="UTC")) + 23
    tr = simulate.truth(zone, h0, h1, seed)
    times = tr["ts"]
    hourly: dict[str, Any] = {
        "time": [int(t.timestamp()) for t in times] if unixtime else [t.strftime("%Y-%m-%dT%H:%M") for t in times]}
    for v in variables:
        hourly[v] = [None if np.isnan(x) else round(float(x), 1) for x in tr[v]]
    units = {"temperature_2m": "°C", "wind_speed_10m": "km/h", "wind_speed_100m": "km/h",
             "shortwave_radiation": "W/m²", "cloud_cover": "%", "precipitation": "mm"}
    return {
        "latitude": latitude, "longitude": longitude, "generationtime_ms": 1.2, "utc_offset_seconds": 0,
        "timezone": "GMT", "timezone_abbreviation": "GMT", "elevation": 20.0,
        "hourly_units": {"time": "unixtime" if unixtime else "iso8601", **{v: units.get(v, "") for v in variables}},
        "hourly": hourly,
    }


def openmeteo_previous_runs(zone: str, first: dt.date, last: dt.date, variables: list[str],
                            days: tuple[int, ...] = tuple(range(1, 8)), unixtime: bool = True, seed: int = 0,
                            archived_from: dt.date | None = None, latitude: float = 59.33,
                            longitude: float = 18.07) -> dict[str, Any]:
    """Previous Runs API answer (``previous-runs-api.open-meteo.com/v1/forecast``, the forecast
    API's format) for UTC days ``[first, last]``: one array per variable and lead day,
    ``<var>_previous_day<N>``, the truth plus an error that grows with N; null before
    ``archived_from`` (the archive's start), as the real API answers for hours it has no run for."""
    body = openmeteo(zone, first, last, variables, unixtime, seed, latitude, longitude)
    hourly, units = body["hourly"], body["hourly_units"]
    times = pd.to_datetime(pd.Series(hourly["time"]), unit="s", utc=True) if unixtime else \
        pd.to_datetime(pd.Series(hourly["time"]), utc=True)
    k = np.arange(len(times))
    before = np.asarray(times < pd.Timestamp(archived_from, tz="UTC")) if archived_from else np.zeros(len(k), bool)
    for v in variables:
        truth = np.array([np.nan if x is None else x for x in hourly.pop(v)], dtype="float64")
        unit = units.pop(v)
        for d in days:
            err = 0.4 * d * np.sin(k / 7.0 + d + len(v))
            vals = np.where(before, np.nan, truth + err)
            if v in ("cloud_cover",):
                vals = np.clip(vals, 0, 100)
            if v in ("precipitation", "shortwave_radiation", "wind_speed_10m", "wind_speed_100m"):
                vals = np.clip(vals, 0, None)
            name = f"{v}_previous_day{d}"
            hourly[name] = [None if np.isnan(x) else round(float(x), 1) for x in vals]
            units[name] = unit
    return body


def _entsoe_period(values: pd.Series, minutes: int, tag: str, skip_repeats: bool) -> str:
    start, end = values.index[0], values.index[-1] + pd.Timedelta(minutes=minutes)
    points, last = [], None
    for i, v in enumerate(values.to_numpy(), start=1):
        if skip_repeats and last is not None and v == last and i > 1:
            continue  # curve type A03: a point equal to the previous one is left out
        points.append(f"<Point><position>{i}</position><{tag}>{v:.2f}</{tag}></Point>")
        last = v
    return (f"<Period><timeInterval><start>{start:%Y-%m-%dT%H:%MZ}</start><end>{end:%Y-%m-%dT%H:%MZ}</end>"
            f"</timeInterval><resolution>PT{minutes}M</resolution>{''.join(points)}</Period>")


def entsoe_prices_xml(zone: str, first: dt.date, last: dt.date, seed: int = 0) -> str:
    """A44 ``Publication_MarketDocument``: one TimeSeries per day, curve type A03."""
    df = _prices(zone, first, last, seed, None)
    tz = parse_zone(zone).tz
    series = []
    for _, day in df.groupby(df["ts"].dt.tz_convert(tz).dt.date):
        values = day.set_index("ts")["price_eur_mwh"]
        values.iloc[1] = values.iloc[0]  # make sure one point is left out
        minutes = int(day["resolution_minutes"].iloc[0])
        series.append("<TimeSeries><businessType>A62</businessType><curveType>A03</curveType>"
                      + _entsoe_period(values, minutes, "price.amount", True) + "</TimeSeries>")
    return ('<?xml version="1.0" encoding="utf-8"?><Publication_MarketDocument '
            'xmlns="urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3"><type>A44</type>'
            + "".join(series) + "</Publication_MarketDocument>")


def entsoe_forecast_xml(zone: str, first: dt.date, last: dt.date, kind: str, seed: int = 0) -> str:
    """A65 load forecast (``kind="load"``) or A69 wind and solar forecast (``"wind_solar"``)
    ``GL_MarketDocument``, hourly, one Period for the whole range."""
    tz = parse_zone(zone).tz
    lo, hi = timeutil.day_bounds(first, tz)[0], timeutil.day_bounds(last, tz)[1]
    h0, h1 = simulate.hour_index(lo), simulate.hour_index(hi) - 1
    tr = simulate.truth(zone, h0, h1, seed).set_index("ts")
    parts = {"load": [(None, tr["load"])]} if kind == "load" else {
        "wind_solar": [("B16", tr["solar_mw"]), ("B19", tr["wind_mw"] * 0.8), ("B18", tr["wind_mw"] * 0.2)]}
    series = []
    for psr, values in parts[kind]:
        psr_el = f"<MktPSRType><psrType>{psr}</psrType></MktPSRType>" if psr else ""
        series.append(f"<TimeSeries><curveType>A01</curveType>{psr_el}"
                      + _entsoe_period(values.round(2), 60, "quantity", False) + "</TimeSeries>")
    doc = "A65" if kind == "load" else "A69"
    return ('<?xml version="1.0" encoding="utf-8"?><GL_MarketDocument '
            'xmlns="urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0">'
            f"<type>{doc}</type>" + "".join(series) + "</GL_MarketDocument>")


ENTSOE_NO_DATA = ('<?xml version="1.0" encoding="utf-8"?><Acknowledgement_MarketDocument '
                  'xmlns="urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0"><Reason><code>999</code>'
                  "<text>No matching data found for Data item Day-ahead Prices [12.1.D]</text></Reason>"
                  "</Acknowledgement_MarketDocument>")


# -- a threaded server in the APIs' formats (for benchmarks) -------------------------------------
_ELPRIS = re.compile(r"^/api/v1/prices/(\d{4})/(\d{2})-(\d{2})_(SE[1-4])\.json$")


class FakeApis:
    """A local server answering elprisetjustnu and Open-Meteo archive paths, with a fixed
    latency per request and a request counter (for benchmarks; tests use pytest-httpserver)."""

    def __init__(self, latency: float = 0.0, host: str = "127.0.0.1", port: int = 0,
                 prebuilt: dict[str, bytes] | None = None, now: pd.Timestamp | None = None) -> None:
        self.latency = latency
        self.now = now
        """The server's clock for the live forecast ("today" in GMT); None: the real clock."""
        self.prebuilt = prebuilt or {}
        self.requests = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep connections open, as real APIs do
            disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed-ACK stall)

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/_stats":  # not counted: how many requests were answered
                    data = json.dumps({"requests": outer.requests}).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                with outer._lock:
                    outer.requests += 1
                if outer.latency:
                    time.sleep(outer.latency)
                data = outer.prebuilt.get(self.path)
                status = 200
                if data is None:
                    status, body = outer.answer(self.path)
                    data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @staticmethod
    def prebuild_elprisetjustnu(zones: list[str], first: dt.date, last: dt.date) -> dict[str, bytes]:
        """Every day's answer built up front, so serving costs no CPU (for benchmarks)."""
        out = {}
        for zone in zones:
            for day, items in elprisetjustnu_days(zone, first, last).items():
                out[f"/api/v1/prices/{day:%Y}/{day:%m-%d}_{zone}.json"] = json.dumps(items).encode()
        return out

    def answer(self, path: str) -> tuple[int, Any]:
        parts = urlsplit(path)
        m = _ELPRIS.match(parts.path)
        if m:
            y, mo, d, zone = m.groups()
            return 200, elprisetjustnu_day(zone, dt.date(int(y), int(mo), int(d)))
        if parts.path in ("/v1/archive", "/v1/forecast"):
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            zone = _nearest_zone(float(q["latitude"]), float(q["longitude"]))
            names = q["hourly"].split(",")
            if any("_previous_day" in n for n in names):  # the Previous Runs API
                first, last = dt.date.fromisoformat(q["start_date"]), dt.date.fromisoformat(q["end_date"])
                base = list(dict.fromkeys(n.split("_previous_day")[0] for n in names))
                lead = tuple(sorted({int(n.split("_previous_day")[1]) for n in names}))
                return 200, openmeteo_previous_runs(zone, first, last, base, lead, q.get("timeformat") == "unixtime")
            if "start_date" in q:
                first, last = dt.date.fromisoformat(q["start_date"]), dt.date.fromisoformat(q["end_date"])
            else:  # the forecast API's default: today (server time) and the next forecast_days - 1
                first = self.now.tz_convert("UTC").date() if self.now is not None else dt.datetime.now(dt.UTC).date()
                last = first + dt.timedelta(days=int(q.get("forecast_days", 7)) - 1)
            return 200, openmeteo(zone, first, last, q["hourly"].split(","), q.get("timeformat") == "unixtime")
        return 404, {"error": True, "reason": f"no such path {parts.path}"}

    def __enter__(self) -> FakeApis:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _nearest_zone(lat: float, lon: float) -> str:
    def distance(zone: str) -> float:
        where = parse_zone(zone).location
        return (where.lat - lat) ** 2 + (where.lon - lon) ** 2

    return min(simulate.ZONES, key=distance)
