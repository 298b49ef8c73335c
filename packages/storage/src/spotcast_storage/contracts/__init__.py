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

ZONES_SE = ("SE1", "SE2", "SE3", "SE4")
ZONE_TIMEZONES = {
    "SE1": "Europe/Stockholm", "SE2": "Europe/Stockholm", "SE3": "Europe/Stockholm", "SE4": "Europe/Stockholm",
    "DK1": "Europe/Copenhagen", "DK2": "Europe/Copenhagen",
    "NO1": "Europe/Oslo", "NO2": "Europe/Oslo", "NO3": "Europe/Oslo", "NO4": "Europe/Oslo", "NO5": "Europe/Oslo",
    "FI": "Europe/Helsinki",
}
ZONE_COUNTRIES = {
    "SE1": "SE", "SE2": "SE", "SE3": "SE", "SE4": "SE", "DK1": "DK", "DK2": "DK",
    "NO1": "NO", "NO2": "NO", "NO3": "NO", "NO4": "NO", "NO5": "NO", "FI": "FI",
}

ALL: dict[str, Contract] = {c.name: c for c in (PRICES, WEATHER, EXOGENOUS, DATA_QUALITY, PRICES_HOURLY,
                                                PRICE_FEATURES, FORECASTS, BACKTESTS, BACKTEST_METRICS)}


def register(contract: Contract) -> Contract:
    """Add a stage's contract to :data:`ALL` (for listings and docs)."""
    ALL[contract.name] = contract
    return contract


__all__ = ["ALL", "BACKTESTS", "BACKTEST_METRICS", "DATA_QUALITY", "DEFAULT_FLATLINER_HOURS", "EXOGENOUS", "FORECASTS",
           "LABEL", "PRICES", "PRICES_HOURLY", "PRICE_FEATURES", "TRAINING_VIEW", "WEATHER", "ZONES_SE",
           "ZONE_COUNTRIES", "ZONE_PRICE_LIMITS", "ZONE_TIMEZONES", "Column", "Contract", "price_limits", "register"]
