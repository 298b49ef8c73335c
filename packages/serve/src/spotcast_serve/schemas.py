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


class WeekHorizon(_Strict):
    zone: str
    week_start: str = Field(description="Monday of the origins' local week (the week the forecasts were made)")
    horizon_day: int = Field(description="local days after the origin's day (1 = day-ahead)")
    hours: int = Field(description="forecast hours with an actual price")
    origins: int
    mae: float | None = Field(description="mean absolute error of p50, EUR/MWh")
    naive_mae: float | None = Field(description="the weekly naive's MAE on the same hours")
    coverage_p10_p90: float | None = Field(description="share of hours whose actual price was within p10-p90 "
                                           "(0.8 is the target)")


class Accuracy(_Strict):
    zone: str
    days: int = Field(description="overall, by_horizon, by_origin: the newest N origin days with actuals")
    weeks: int = Field(description="by_week: the newest N weeks of origins with actuals")
    naive: str = Field(description="the baseline rMAE divides by")
    unit: str = Field(description="unit of the errors: EUR/MWh")
    overall: dict[str, Any] | None = Field(description="MAE, RMSE, rMAE, p10-p90 coverage over all hours; "
                                           "null before any forecast hour has an actual price")
    reason: str | None = Field(description="why there is nothing to score yet and what to do; null when there is")
    by_horizon: list[dict[str, Any]]
    by_origin: list[dict[str, Any]]
    by_week: list[WeekHorizon] = Field(description="MAE and coverage per week and horizon day: accuracy over time")


class OriginHour(_Strict):
    ts: str = Field(description="start of the delivery hour, UTC")
    horizon_day: int
    p10: float | None
    p50: float | None
    p90: float | None
    actual: float = Field(description="the actual hourly price")
    error: float | None = Field(description="p50 - actual")
    abs_error: float | None
    in_band: bool | None = Field(description="actual within p10-p90")
    naive_weekly: float | None = Field(description="the weekly naive's forecast (the actual 168 hours earlier)")


class OriginAccuracy(_Strict):
    zone: str
    origin: str | None = Field(description="the origin, UTC; null when no origin has actual prices yet")
    origin_date: str | None = Field(description="the origin's local day")
    unit: str = Field(description="unit of the prices: EUR/MWh")
    model: str | None
    model_version: int | None
    fallback_reason: str | None = Field(description="set when the weekly naive was published instead")
    hours: int = Field(description="forecast hours with an actual price")
    mae: float | None
    coverage_p10_p90: float | None
    reason: str | None = Field(description="why no hour of it can be scored yet; null when some can")
    forecast: list[OriginHour] = Field(description="the scored hours, in time order")


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
