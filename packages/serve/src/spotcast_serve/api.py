"""The HTTP API and dashboard (FastAPI): read-only, beside a running pipeline.

Every answer is computed from the store through the storage API, serialised once and cached
until the store changes (:mod:`spotcast_serve.cache`), so a burst of clients costs a ``stat``
and a dictionary look-up per request, and the DuckDB file is left free for writers.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pandas as pd
from fastapi import FastAPI, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi_offline import FastAPIOffline

from spotcast_serve import __version__, labels, schemas, service, units
from spotcast_serve import accuracy as acc
from spotcast_serve import forecast as fc
from spotcast_serve.cache import StoreCache, project_token
from spotcast_serve.outputs import csv_text
from spotcast_storage import quarters
from spotcast_storage.errors import (
    NotFoundError,
    SpotcastError,
    StoreLockedError,
    ValidationError,
)
from spotcast_storage.promotion import serving_status

if TYPE_CHECKING:
    from spotcast_storage.protocols import Project

ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{1,15}$"
ZoneParam = Annotated[str, Query(pattern=ZONE_PATTERN, description="bidding zone, e.g. SE3",
                                 examples=["SE3"])]
DASHBOARD_ACTUAL_DAYS = 14
DASHBOARD_ACCURACY_DAYS = 30
"""The dashboard's accuracy table and its history chart (each hour's shortest-horizon forecast
against the actual price) cover the newest 30 origin days with actuals..."""
DASHBOARD_ACCURACY_WEEKS = 8
"""... and its MAE/coverage by week the newest 8 weeks."""


@dataclass(frozen=True)
class Answer:
    """A serialised response, ready to be cached and sent many times."""

    status: int
    body: bytes
    media_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    def response(self) -> Response:
        return Response(self.body, status_code=self.status, media_type=self.media_type, headers=dict(self.headers))

    @functools.cached_property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"content-type", self.media_type.encode()), (b"content-length", str(len(self.body)).encode()),
                *((k.lower().encode(), v.encode()) for k, v in self.headers)]


_request_target: contextvars.ContextVar[tuple[str, bytes] | None] = contextvars.ContextVar(
    "spotcast_request_target", default=None)


class FastPath:
    """ASGI middleware answering a repeated GET straight from the cache.

    The first request for a path and query string goes through FastAPI (validation, OpenAPI
    semantics) and records which cache entry answered it; later identical requests are sent
    that entry's bytes without routing or parameter parsing, while it is fresh. Anything
    else, and every stale or missing entry, takes the normal route.
    """

    def __init__(self, app: Any, cache: StoreCache, max_index: int = 4096) -> None:
        self.app = app
        self.cache = cache
        self.index: dict[tuple[str, bytes], tuple[Any, ...]] = {}
        self.max_index = max_index

    def remember(self, key: tuple[Any, ...]) -> None:
        target = _request_target.get()
        if target is not None:
            if len(self.index) >= self.max_index:
                self.index.clear()
            self.index[target] = key

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            target = (scope["path"], scope["query_string"])
            key = self.index.get(target)
            if key is not None:
                hit = self.cache.peek(key)
                if hit is not None:
                    await send({"type": "http.response.start", "status": hit.status, "headers": hit.raw_headers})
                    await send({"type": "http.response.body", "body": hit.body})
                    return
            token = _request_target.set(target)
            try:
                await self.app(scope, receive, send)
            finally:
                _request_target.reset(token)
            return
        await self.app(scope, receive, send)


def _clean(v: Any) -> Any:
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


def json_answer(data: Any, status: int = 200) -> Answer:
    return Answer(status, json.dumps(_clean(data), separators=(",", ":"), default=str).encode())


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts, numbers exact (``to_json`` would round them to 10 digits)."""
    return [_clean(r) for r in df.to_dict("records")]


def error_answer(exc: Exception) -> Answer:
    """Errors the user can act on, with the HTTP status that says whose move it is."""
    if isinstance(exc, ValidationError):
        return json_answer({"detail": str(exc)}, 422)
    if isinstance(exc, NotFoundError):
        return json_answer({"detail": str(exc)}, 404)
    if isinstance(exc, StoreLockedError):
        return Answer(503, json.dumps({"detail": str(exc)}).encode(), headers=(("Retry-After", "1"),))
    return json_answer({"detail": str(exc)}, 500)


def read_only(project: Project) -> Any:
    """The same store opened read-only: the API must never take the store's write lock."""
    reader = getattr(project, "reader", None)
    return reader() if callable(reader) else project


# -- answers (computed on a cache miss, in a worker thread) -------------------------------
UnitParam = Annotated[str | None, Query(max_length=16, description="price unit: eur_mwh (stored), sek_kwh or "
                                        "ore_kwh (at the source's EUR/SEK rate of each delivery day)")]


def forecast_payload(project: Project, zone: str, origin: str | None, unit: str | None = None,
                     resolution: str | None = None) -> dict[str, Any]:
    """The published vintage of an origin, as its file shows it, in ``unit``, hourly or at
    15 minutes (``resolution``)."""
    u = units.parse_unit(unit)
    minutes = quarters.parse_resolution(resolution)
    df = service.read_forecast(project, zone, origin)
    z = str(df["zone"].iloc[0])
    tz = fc.zone_timezone(z)
    table, rates = service.published_table(project, z, df, u, minutes)
    o = pd.Timestamp(df["origin"].iloc[0])
    made = pd.Timestamp(df["made_at"].iloc[0])
    first, last = labels.delivery_days(df["ts"], tz)
    reason = df["fallback_reason"].iloc[0]
    return {
        "zone": z, "timezone": tz, "title": labels.title(z, df["ts"], made, tz),
        "origin": o.isoformat(), "origin_local": o.tz_convert(tz).isoformat(),
        "made_at": made.isoformat(), "made_at_local": made.tz_convert(tz).isoformat(),
        "first_delivery_day": first, "last_delivery_day": last,
        "vintage": int(df["vintage"].iloc[0]), "vintages": int(df["vintages"].iloc[0]),
        "gate_closure": pd.Timestamp(df["gate_closure"].iloc[0]).isoformat(), "on_time": bool(df["on_time"].iloc[0]),
        "fallback_reason": None if pd.isna(reason) else str(reason),
        "serving": serving_status(project, z).message,
        "model": str(df["model"].iloc[0]), "model_version": int(df["model_version"].iloc[0]),
        "created_at": pd.Timestamp(df["created_at"].max()).isoformat(), "hours": len(df),
        "resolution": f"{minutes}min", "resolution_minutes": minutes,
        "unit": u.code, "unit_label": u.label,
        "rates": None if rates is None else records(rates), "rates_used": "" if rates is None else units.describe_rates(rates),
        "daily": records(units.rounded(units.convert_daily(fc.daily_means(df, tz), u, rates), u)),
        "forecast": records(units.rounded(table[["ts", "ts_local", "resolution_minutes", "horizon_day", "actual",
                                                 "p10", "p50", "p90"]], u)),
    }


def forecast_csv(project: Project, zone: str, origin: str | None, unit: str | None = None,
                 resolution: str | None = None) -> bytes:
    u = units.parse_unit(unit)
    minutes = quarters.parse_resolution(resolution)
    df = service.read_forecast(project, zone, origin)
    table, _ = service.published_table(project, str(df["zone"].iloc[0]), df, u, minutes)
    return csv_text(table).encode()


def vintages_payload(project: Project, zone: str, origin: str | None) -> dict[str, Any]:
    v = service.read_vintages(project, zone, origin)
    return {"zone": str(v["zone"].iloc[0]), "origin": pd.Timestamp(v["origin"].iloc[0]).isoformat(),
            "vintages": records(v.drop(columns=["zone", "origin"]))}


def accuracy_payload(project: Project, zone: str, days: int, weeks: int = acc.DEFAULT_WEEKS,
                     pairs: bool = False) -> dict[str, Any]:
    return service.accuracy(project, zone, days, weeks).to_dict(pairs=pairs)


def origin_accuracy_payload(project: Project, zone: str, origin: str | None) -> dict[str, Any]:
    return service.accuracy_of_origin(project, zone, origin).to_dict()


def dashboard_rates(project: Project, zone: str, start: pd.Timestamp, end: pd.Timestamp) -> dict[str, Any]:
    """The EUR/SEK rate for every local day from ``start`` to ``end`` (what the dashboard's unit
    switch multiplies by), or why there is none."""
    tz = fc.zone_timezone(zone)
    days = pd.date_range(start.tz_convert(tz).normalize(), end.tz_convert(tz).normalize(), freq="D")
    try:
        known = service.read_rates(project, zone, start - pd.Timedelta(days=units.MAX_RATE_AGE_DAYS + 1), end)
        r = units.rates_for_days(known, [d.date().isoformat() for d in days], zone)
    except units.UnknownRateError as exc:
        return {"by_date": None, "error": str(exc)}
    return {"by_date": {d: {"rate": x, "rate_date": rd} for d, x, rd in zip(r["date"], r["rate"], r["rate_date"],
                                                                              strict=True)},
            "used": units.describe_rates(r)}


def _price_points(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Prices for the dashboard's charts, at the stored unit's precision."""
    decimals = units.UNITS[units.DEFAULT_UNIT].decimals
    return [{"ts": r["ts"], "price": None if r["price_eur_mwh"] is None else round(r["price_eur_mwh"], decimals)}
            for r in records(frame)]


def dashboard_payload(project: Project) -> dict[str, Any]:
    """Per zone with forecasts: the newest origin's published forecast, recent actuals, the
    EUR/SEK rates of those days, accuracy so far and its history (by week, and the recent
    forecasts against what happened)."""
    zones = service.zones_overview(project)
    out = []
    for zone in zones.loc[zones["forecast_origins"] > 0, "zone"]:
        f = forecast_payload(project, zone, None)
        origin = pd.Timestamp(f["origin"])
        start = origin - pd.Timedelta(days=DASHBOARD_ACTUAL_DAYS)
        actuals = service.read_actuals(project, zone, start=start)
        try:
            a = accuracy_payload(project, zone, DASHBOARD_ACCURACY_DAYS, DASHBOARD_ACCURACY_WEEKS, pairs=True)
        except NotFoundError:
            a = None
        end = max(pd.Timestamp(f["forecast"][-1]["ts"]), origin)
        quarter = None  # a zone that clears in 15 minutes: its forecast and prices at 15 minutes too
        if service.quarter_since(project, zone) is not None:
            with contextlib.suppress(ValidationError):  # this origin ends before the first quarter-hour
                quarter = forecast_payload(project, zone, None, resolution="15min")["forecast"]
        out.append({"zone": zone, "timezone": f["timezone"], "forecast": f, "actuals": _price_points(actuals),
                    "forecast_15min": quarter,
                    "actuals_15min": None if quarter is None else _price_points(
                        service.read_quarter_prices(project, zone, start, end + pd.Timedelta(hours=1))),
                    "rates": dashboard_rates(project, zone, start, end), "accuracy": a})
    return {"generated_at": pd.Timestamp.now(tz="UTC").isoformat(), "version": __version__,
            "units": {u.code: {"label": u.label, "factor": u.per_eur_mwh, "needs_rate": u.needs_rate}
                      for u in units.UNITS.values()}, "zones": out}


def create_app(project: Project | None = None, store: Path | None = None, mode: str | None = None,
               cache_max_age: float = 5.0) -> FastAPI:
    """The API over ``project`` (or the store at ``store``), opened for reading only."""
    if project is None:
        from spotcast_storage import get_storage

        project = get_storage(mode=mode, path=store)
    project = read_only(project)
    cache = StoreCache(project_token(project), max_age=cache_max_age)

    # Swagger UI and ReDoc from the files fastapi-offline ships (no CDN, no Google fonts), so
    # /docs and /redoc work on a machine without the internet.
    app = FastAPIOffline(
        title="spotcast",
        version=__version__,
        summary="Day-ahead electricity price forecasts (p10/p50/p90) for Nordic bidding zones.",
        description="Read-only view of the spotcast store: stored forecasts, their accuracy against "
        "actual prices, and the registered models. Example: `GET /forecast?zone=SE3&format=csv`.",
    )
    app.state.project = project
    app.state.cache = cache
    fast = app.state.fast = FastPath(None, cache)

    def compute(fn: Callable[[], Answer]) -> Callable[[], Answer]:
        def run() -> Answer:
            try:
                return fn()
            except SpotcastError as exc:
                return error_answer(exc)
        return run

    async def cached(key: tuple[Any, ...], fn: Callable[[], Answer]) -> Response:
        hit = cache.peek(key, compute(fn))
        if hit is None:
            hit = await run_in_threadpool(cache.get, key, compute(fn))
        if hit.status >= 500:  # a passing condition (store held too long): ask again next time
            cache.discard(key)
        else:
            fast.remember(key)
        return hit.response()

    def ok(model: type, **more: Any) -> dict[Any, Any]:
        """OpenAPI ``responses``: the answer's model (the bytes come from the cache), and errors."""
        return {200: {"model": model, **more}, 503: {"model": schemas.Detail, "description": "store busy"}}

    not_found = {404: {"model": schemas.Detail, "description": "unknown zone, or no forecast for it (yet)"},
                 422: {"model": schemas.Detail, "description": "a bad parameter"}}

    @app.get("/health", summary="Liveness and store status", responses=ok(schemas.Health))
    async def health() -> Response:
        def fn() -> Answer:
            zones = service.zones_overview(project)
            return json_answer({
                "status": "ok", "version": __version__, "store": project.describe(),
                "zones_with_forecasts": zones.loc[zones["forecast_origins"] > 0, "zone"].tolist(),
            })
        return await cached(("health",), fn)

    @app.get("/zones", summary="Zones with features or forecasts, and every zone spotcast knows",
             responses=ok(schemas.Zones))
    async def zones() -> Response:
        def fn() -> Answer:
            z = service.zones_overview(project)
            return json_answer({"zones": records(z), "known_zones": service.known_zones(project)})
        return await cached(("zones",), fn)

    @app.get("/forecast", summary="The published forecast of an origin: hourly actual and p10/p50/p90, daily "
             "means, when it was made, and why the weekly naive was published when it was",
             responses={**ok(schemas.Forecast, content={"text/csv": {}}), **not_found})
    async def forecast(
        zone: ZoneParam,
        origin: Annotated[str | None, Query(description="forecast origin: ISO time, or a local date "
                                            "YYYY-MM-DD for that day's newest origin; default newest",
                                            max_length=40)] = None,
        format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
        unit: UnitParam = None,
        resolution: Annotated[Literal["60min", "15min"], Query(
            description="60min (hourly, default) or 15min: the quarter-hours of the published hourly "
            "forecast (a mean-preserving ramp), for zones with quarter-hour prices")] = "60min",
    ) -> Response:
        z = zone.upper()
        if format == "csv":
            return await cached(("forecast.csv", z, origin, unit, resolution), lambda: Answer(
                200, forecast_csv(project, z, origin, unit, resolution), "text/csv; charset=utf-8",
                (("Content-Disposition", f'attachment; filename="forecast_{z}_{resolution}.csv"'),)))
        return await cached(("forecast", z, origin, unit, resolution),
                            lambda: json_answer(forecast_payload(project, z, origin, unit, resolution)))

    @app.get("/vintages", summary="Every vintage of a forecast origin: when made, by what, which is published",
             responses={**ok(schemas.Vintages), **not_found})
    async def vintages(
        zone: ZoneParam,
        origin: Annotated[str | None, Query(description="forecast origin (as for /forecast); default newest",
                                            max_length=40)] = None,
    ) -> Response:
        z = zone.upper()
        return await cached(("vintages", z, origin), lambda: json_answer(vintages_payload(project, z, origin)))

    @app.get("/accuracy", summary="Accuracy of published forecasts against actual prices: overall, by horizon "
             "day, by origin day, and by week and horizon day; `reason` says why it is empty",
             responses={**ok(schemas.Accuracy), **not_found})
    async def accuracy(
        zone: ZoneParam,
        days: Annotated[int, Query(ge=1, le=3660, description="newest N origin days with actuals")] = acc.DEFAULT_DAYS,
        weeks: Annotated[int, Query(ge=1, le=520, description="by_week: the newest N weeks of origins with "
                                    "actuals")] = acc.DEFAULT_WEEKS,
    ) -> Response:
        z = zone.upper()
        return await cached(("accuracy", z, days, weeks),
                            lambda: json_answer(accuracy_payload(project, z, days, weeks)))

    @app.get("/accuracy/origin", summary="One origin's published forecast against the actual prices, hour by hour",
             responses={**ok(schemas.OriginAccuracy), **not_found})
    async def accuracy_origin(
        zone: ZoneParam,
        origin: Annotated[str | None, Query(description="forecast origin (as for /forecast); default the newest "
                                            "origin with actual prices", max_length=40)] = None,
    ) -> Response:
        z = zone.upper()
        return await cached(("accuracy.origin", z, origin),
                            lambda: json_answer(origin_accuracy_payload(project, z, origin)))

    @app.get("/models", summary="Registered models with metrics and lineage", responses=ok(schemas.Models))
    async def models() -> Response:
        return await cached(("models",), lambda: json_answer({"models": service.models_overview(project)}))

    @app.get("/api/dashboard", summary="Everything the dashboard shows, as JSON")
    async def dashboard_data() -> Response:
        return await cached(("dashboard",), lambda: json_answer(dashboard_payload(project)))

    @app.get("/", response_class=HTMLResponse, summary="Dashboard", include_in_schema=True)
    async def dashboard() -> Response:
        from spotcast_serve.dashboard import render

        def fn() -> Answer:
            try:
                data = dashboard_payload(project)
            except SpotcastError as exc:
                data = {"zones": [], "error": str(exc)}
            return Answer(200, render(data).encode(), "text/html; charset=utf-8")
        return await cached(("dashboard.html",), fn)

    app.add_middleware(_Installed, fast=fast)
    return app


class _Installed:
    """Adapter so FastAPI's middleware stack wraps the app in the one :class:`FastPath`
    whose index the route handlers fill."""

    def __init__(self, app: Any, fast: FastPath) -> None:
        fast.app = app
        self.fast = fast

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        await self.fast(scope, receive, send)
