"""Price units for people: EUR/MWh (stored), SEK/kWh and öre/kWh (what Swedish users think in).
Pure functions; the store keeps EUR/MWh.

The EUR/SEK rate is the source's own, per delivery day: elprisetjustnu gives every period in
SEK/kWh and EUR/kWh (converted by one exchange rate per day), and ``prices`` keeps both
(``price_sek_kwh``, ``price_eur_mwh``). :func:`daily_rates` recovers each day's rate from them as
the least-squares ratio ``sum(sek * eur) / sum(eur^2)`` (x1000 for MWh -> kWh), which weighs
periods by their size, so the source's rounding to 5 decimals of a kWh price barely moves it
and a day with prices near zero still has one. Delivery days whose prices are not published
yet (the days a forecast is for) take the rate of the newest day known before them, at most
:data:`MAX_RATE_AGE_DAYS` older; every output says which day's rate it used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from spotcast_storage.errors import ValidationError


@dataclass(frozen=True)
class Unit:
    code: str
    label: str
    per_eur_mwh: float  # value in this unit for 1 EUR/MWh at a rate of 1 SEK per EUR
    needs_rate: bool
    decimals: int = 2
    """The precision the sources publish: Nord Pool EUR/MWh with 2 decimals, elprisetjustnu
    SEK/kWh with 5 (so öre/kWh with 3). API answers are rounded to it (see :func:`rounded`)."""


UNITS: dict[str, Unit] = {
    "eur_mwh": Unit("eur_mwh", "EUR/MWh", 1.0, False, 2),
    "sek_kwh": Unit("sek_kwh", "SEK/kWh", 1 / 1000, True, 5),
    "ore_kwh": Unit("ore_kwh", "öre/kWh", 1 / 10, True, 3),
}
DEFAULT_UNIT = "eur_mwh"
MAX_RATE_AGE_DAYS = 14
"""A forecast's last delivery day is at most 8 days after the newest published prices; two weeks
leave room for a late ingest without converting with a stale rate silently (the day is named)."""
PRICE_COLUMNS = ("actual", "p10", "p50", "p90")


class UnknownRateError(ValidationError):
    """No EUR/SEK rate is known for a delivery day."""


def parse_unit(unit: str | None) -> Unit:
    """The unit named ``unit`` (None: EUR/MWh); an unknown name is an error listing the known ones."""
    code = DEFAULT_UNIT if unit is None else str(unit).strip().lower()
    if code not in UNITS:
        raise ValidationError(f"unknown unit {unit!r}; use one of {', '.join(UNITS)} "
                              "(EUR/MWh, SEK/kWh, öre/kWh)")
    return UNITS[code]


def daily_rates(prices: pd.DataFrame, tz: str) -> pd.DataFrame:
    """``date`` (local ISO date), ``rate`` (SEK per EUR) per delivery day of ``prices`` (columns
    ``ts``, ``price_eur_mwh``, ``price_sek_kwh``), for days where the source gave SEK prices."""
    if prices.empty:
        return pd.DataFrame({"date": pd.Series(dtype="str"), "rate": pd.Series(dtype="float64")})
    eur = prices["price_eur_mwh"].to_numpy(dtype="float64") / 1000  # EUR/kWh
    sek = prices["price_sek_kwh"].to_numpy(dtype="float64")
    ok = np.isfinite(eur) & np.isfinite(sek)
    frame = pd.DataFrame({
        "date": pd.to_datetime(prices["ts"], utc=True).dt.tz_convert(tz).dt.date.astype("str").to_numpy()[ok],
        "se": sek[ok] * eur[ok], "ee": eur[ok] * eur[ok]})
    g = frame.groupby("date", as_index=False, sort=True).agg(se=("se", "sum"), ee=("ee", "sum"))
    g = g[g["ee"] > 0]
    return pd.DataFrame({"date": g["date"].to_numpy(), "rate": (g["se"] / g["ee"]).round(6).to_numpy()})


def rates_for_days(rates: pd.DataFrame, days: list[str], zone: str) -> pd.DataFrame:
    """``date``, ``rate``, ``rate_date`` for each delivery day in ``days``: the day's own rate, else
    the newest earlier day's within :data:`MAX_RATE_AGE_DAYS`; no such rate is an error naming the day."""
    known = rates.sort_values("date")
    out = []
    for day in sorted(set(days)):
        earlier = known[known["date"] <= day]
        if not earlier.empty:
            last = earlier.iloc[-1]
            age = (pd.Timestamp(day) - pd.Timestamp(last["date"])).days
            if age <= MAX_RATE_AGE_DAYS:
                out.append({"date": day, "rate": float(last["rate"]), "rate_date": str(last["date"])})
                continue
        newest = f"the newest is of {known['date'].iloc[-1]}" if len(known) else "the store has none for this zone"
        raise UnknownRateError(
            f"no EUR/SEK rate is known for {zone} {day} ({newest}; a rate comes from prices the source gave in "
            f"SEK and EUR, e.g. elprisetjustnu for SE1-SE4, up to {MAX_RATE_AGE_DAYS} days before the day); "
            "use --unit eur_mwh")
    return pd.DataFrame(out, columns=["date", "rate", "rate_date"])


def convert(values: np.ndarray | pd.Series, unit: Unit, rate: np.ndarray | pd.Series | float | None = None) -> np.ndarray:
    """EUR/MWh ``values`` in ``unit`` at ``rate`` SEK per EUR (per value or one for all)."""
    v = np.asarray(values, dtype="float64")
    if not unit.needs_rate:
        return v * unit.per_eur_mwh
    if rate is None:
        raise ValidationError(f"converting to {unit.label} needs a EUR/SEK rate")
    return v * np.asarray(rate, dtype="float64") * unit.per_eur_mwh


def convert_table(table: pd.DataFrame, unit: Unit, day_rates: pd.DataFrame | None, tz: str) -> pd.DataFrame:
    """A forecast table (``ts`` and EUR/MWh price columns) in ``unit``, with ``unit`` and -- for
    SEK units -- the ``rate_eur_sek`` and ``rate_date`` used for each row's local delivery day."""
    out = table.copy()
    if unit.needs_rate:
        if day_rates is None:
            raise ValidationError(f"converting to {unit.label} needs the EUR/SEK rates of the delivery days")
        day = pd.to_datetime(out["ts"], utc=True).dt.tz_convert(tz).dt.date.astype("str")
        r = day_rates.set_index("date")
        missing = sorted(set(day) - set(r.index))
        if missing:
            raise UnknownRateError(f"no EUR/SEK rate given for {', '.join(missing)}")
        rate = day.map(r["rate"]).to_numpy(dtype="float64")
        for c in PRICE_COLUMNS:
            if c in out.columns:
                out[c] = convert(out[c], unit, rate)
        out["rate_eur_sek"] = rate
        out["rate_date"] = day.map(r["rate_date"]).to_numpy()
    out["unit"] = unit.label
    return out


def convert_daily(daily: pd.DataFrame, unit: Unit, day_rates: pd.DataFrame | None) -> pd.DataFrame:
    """Daily means (``date`` and EUR/MWh ``p10``/``p50``/``p90``) in ``unit``, at each day's rate."""
    out = daily.copy()
    if unit.needs_rate:
        if day_rates is None:
            raise ValidationError(f"converting to {unit.label} needs the EUR/SEK rates of the delivery days")
        rate = out["date"].map(day_rates.set_index("date")["rate"]).to_numpy(dtype="float64")
        for c in PRICE_COLUMNS:
            if c in out.columns:
                out[c] = convert(out[c], unit, rate)
    out["unit"] = unit.label
    return out


def rounded(frame: pd.DataFrame, unit: Unit) -> pd.DataFrame:
    """``frame`` with its price columns rounded to ``unit``'s published precision: a model's
    p50 of 41.23456789 EUR/MWh claims digits no source has."""
    return frame.round({c: unit.decimals for c in PRICE_COLUMNS if c in frame.columns})


def describe_rates(day_rates: pd.DataFrame) -> str:
    """``EUR/SEK 11.3842 (rate of 2024-09-21) for 2024-09-22..28`` -- one phrase per rate used."""
    from spotcast_serve.labels import day_range

    parts = []
    for (rate_date, rate), g in day_rates.groupby(["rate_date", "rate"], sort=True):
        parts.append(f"EUR/SEK {rate:.4f} (rate of {rate_date}) for {day_range(g['date'].min(), g['date'].max())}")
    return "; ".join(parts)
