"""Response models of the HTTP API, for the OpenAPI schema (/docs, /redoc, openapi.json).

The routes answer pre-serialised bytes from the cache (:mod:`spotcast_serve.api`), so these
models describe the answers rather than build them; ``tests/test_api.py`` validates real
answers against them, so a payload that changes without its model fails there. Times are ISO
8601 strings with their UTC offset; prices are in the answer's ``unit``, rounded to its
published precision.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Health(_Strict):
    status: str = Field(description="ok")
    version: str = Field(description="installed spotcast-serve version")
    store: str = Field(description="which store the API reads")
    zones_with_forecasts: list[str]


class ZoneRow(_Strict):
    zone: str
    timezone: str | None = None
    newest_features_origin: str | None = None
    features_origins: int | None = None
    newest_forecast_origin: str | None = None
    forecast_origins: int | None = None


class Zones(_Strict):
    zones: list[ZoneRow]
    known_zones: list[str] = Field(description="every zone spotcast has a calendar for or data of")


class ForecastHour(_Strict):
    ts: str = Field(description="start of the delivery period, UTC")
    ts_local: str = Field(description="the same in the zone's local time")
    horizon_day: int = Field(description="local days after the origin's day")
    actual: float | None = Field(description="the published price, when it was known at made_at")
    p10: float | None
    p50: float | None
    p90: float | None


class ForecastDay(BaseModel):
    model_config = ConfigDict(extra="allow")
    date: str = Field(description="local delivery day")
    p10: float | None = None
    p50: float | None = None
    p90: float | None = None
    unit: str


class Forecast(_Strict):
    zone: str
    timezone: str
    title: str
    origin: str
    origin_local: str
    made_at: str
    made_at_local: str
    first_delivery_day: str
    last_delivery_day: str
    vintage: int = Field(description="which vintage of the origin this is (1 = first made)")
    vintages: int
    gate_closure: str
    on_time: bool = Field(description="made before the auction's gate closure")
    fallback_reason: str | None = Field(description="why the weekly naive was published instead of the model")
    serving: str = Field(description="which model serves the zone, and why")
    model: str
    model_version: int
    created_at: str
    hours: int
    unit: str = Field(description="eur_mwh | sek_kwh | ore_kwh")
    unit_label: str
    rates: list[dict[str, Any]] | None = Field(description="EUR/SEK rate per delivery day, for SEK units")
    rates_used: str
    daily: list[ForecastDay]
    forecast: list[ForecastHour]


class Vintages(_Strict):
    zone: str
    origin: str
    vintages: list[dict[str, Any]] = Field(description="made_at, model, published, on_time per vintage")


class Accuracy(_Strict):
    zone: str
    days: int
    naive: str = Field(description="the baseline rMAE divides by")
    overall: dict[str, Any] | None = Field(description="MAE, RMSE, rMAE, p10-p90 coverage over all hours; "
                                           "null before any forecast hour has an actual price")
    by_horizon: list[dict[str, Any]]
    by_origin: list[dict[str, Any]]


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    version: int
    zones: list[str]
    trained_on_price_features: bool


class Models(_Strict):
    models: list[ModelInfo]


class Detail(_Strict):
    detail: str = Field(description="what was wrong and how to fix it")
