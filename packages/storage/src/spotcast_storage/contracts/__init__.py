"""Feature-group contracts shared between stages.

A producer and its consumers import the same :class:`Contract`, so a change of name,
key or columns is one edit, and a breaking one is a new version.
"""

from spotcast_storage.contracts.backtests import BACKTEST_METRICS, BACKTESTS
from spotcast_storage.contracts.base import Column, Contract
from spotcast_storage.contracts.features import LABEL, PRICE_FEATURES, PRICES_HOURLY, TRAINING_VIEW
from spotcast_storage.contracts.forecasts import FORECASTS
from spotcast_storage.contracts.market import EXOGENOUS, PRICES, WEATHER
from spotcast_storage.contracts.quality import (
    DATA_QUALITY,
    DEFAULT_FLATLINER_HOURS,
    ZONE_PRICE_LIMITS,
    price_limits,
)
from spotcast_storage.zones import ZONES

ZONES_SE = ("SE1", "SE2", "SE3", "SE4")
ZONE_TIMEZONES: dict[str, str] = {z.code: z.tz for z in ZONES.values()}
"""Time zone by zone code, derived from :data:`spotcast_storage.zones.ZONES` (the one table)."""
ZONE_COUNTRIES: dict[str, str] = {z.code: z.country for z in ZONES.values()}
"""Holiday-calendar country by zone code, derived from :data:`spotcast_storage.zones.ZONES`."""

ALL: dict[str, Contract] = {c.name: c for c in (PRICES, WEATHER, EXOGENOUS, DATA_QUALITY, PRICES_HOURLY,
                                                PRICE_FEATURES, FORECASTS, BACKTESTS, BACKTEST_METRICS)}


__all__ = ["ALL", "BACKTESTS", "BACKTEST_METRICS", "DATA_QUALITY", "DEFAULT_FLATLINER_HOURS", "EXOGENOUS", "FORECASTS",
           "LABEL", "PRICES", "PRICES_HOURLY", "PRICE_FEATURES", "TRAINING_VIEW", "WEATHER", "ZONES_SE",
           "ZONE_COUNTRIES", "ZONE_PRICE_LIMITS", "ZONE_TIMEZONES", "Column", "Contract", "price_limits"]
