"""The bidding zones spotcast knows: one table that every stage reads.

A zone's time zone decides its delivery days (23 or 25 hours on DST days), its country decides
the holiday calendar (``holidays`` package), its location is where weather is taken, its EIC
code is how the ENTSO-E Transparency Platform names it, and its default sources are what
``spotcast-ingest update`` uses when no source is named. Keeping all of it in one row means a
new bidding zone is one edit here, and an unknown zone is the same error in every stage
(:func:`parse_zone`).

Sources of the facts: EIC codes and IANA time zones from entsoe-py's ``Area`` table
(EnergieID/entsoe-py, ``entsoe/mappings.py``, which lists them from the Transparency Platform's
API guide). Membership of the single day-ahead coupling (SDAC) is as of 2026 (not from a
machine-readable list: CH, RS and, since 2021, the Irish SEM clear outside it); currencies as of
2026 (Bulgaria uses the euro since 2026-01-01); locations are a large city in each zone.
Listed are the bidding zones with a day-ahead price series on the Transparency Platform today.
Left out: areas that are not bidding zones (control areas, TSO areas, ``DE``, ``IT`` as a
whole), zones that no longer exist (``DE-AT-LU`` until 2018-09-30; the Italian virtual zones
Brindisi, Foggia, Priolo and Rossano, merged in 2021) and zones with no day-ahead price series
there (GB since 2021, AL, BA, ME, MK, XK).

Prices on the platform are EUR/MWh for every zone; ``currency`` is the zone's own money, what
its consumers think in (for display).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spotcast_storage.errors import ValidationError


@dataclass(frozen=True)
class Location:
    """A place whose weather stands for the zone's (demand, wind, solar)."""

    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Zone:
    """One bidding zone. ``code`` is what the store's ``zone`` columns hold."""

    code: str
    name: str
    eic: str
    tz: str
    country: str
    """ISO 3166 alpha-2 code of the country whose public holidays the zone follows."""
    locations: tuple[Location, ...]
    """Weather locations; the sources use the first one (see :attr:`location`)."""
    sources: tuple[str, ...]
    """Default ingest sources (prices first, then weather) for ``update`` without ``--source``."""
    currency: str
    sdac: bool
    """Coupled in SDAC, so its day-ahead prices lie within SDAC's harmonised limits."""

    @property
    def location(self) -> Location:
        return self.locations[0]


class UnknownZoneError(ValidationError):
    """A zone code that is not in :data:`ZONES` (the message lists the known ones)."""


_ENTSOE = ("entsoe", "open-meteo")  # any zone: needs ENTSOE_API_KEY


def _z(code: str, name: str, eic: str, tz: str, country: str, city: str, lat: float, lon: float,
       currency: str = "EUR", sources: tuple[str, ...] = _ENTSOE, sdac: bool = True) -> Zone:
    return Zone(code, name, eic, tz, country, (Location(city, lat, lon),), sources, currency, sdac)


_SE = ("elprisetjustnu", "open-meteo")
_DK = ("energidataservice", "open-meteo")

_TABLE = (
    # Nordic
    _z("SE1", "Sweden, Luleå", "10Y1001A1001A44P", "Europe/Stockholm", "SE", "Luleå", 65.584, 22.154, "SEK", _SE),
    _z("SE2", "Sweden, Sundsvall", "10Y1001A1001A45N", "Europe/Stockholm", "SE", "Sundsvall", 62.391, 17.307, "SEK",
       _SE),
    _z("SE3", "Sweden, Stockholm", "10Y1001A1001A46L", "Europe/Stockholm", "SE", "Stockholm", 59.329, 18.069, "SEK",
       _SE),
    _z("SE4", "Sweden, Malmö", "10Y1001A1001A47J", "Europe/Stockholm", "SE", "Malmö", 55.605, 13.004, "SEK", _SE),
    _z("DK1", "Denmark West", "10YDK-1--------W", "Europe/Copenhagen", "DK", "Aarhus", 56.157, 10.211, "DKK", _DK),
    _z("DK2", "Denmark East", "10YDK-2--------M", "Europe/Copenhagen", "DK", "Copenhagen", 55.676, 12.568, "DKK", _DK),
    _z("NO1", "Norway, Oslo", "10YNO-1--------2", "Europe/Oslo", "NO", "Oslo", 59.913, 10.752, "NOK"),
    _z("NO2", "Norway, Kristiansand", "10YNO-2--------T", "Europe/Oslo", "NO", "Kristiansand", 58.146, 7.996, "NOK"),
    _z("NO3", "Norway, Trondheim", "10YNO-3--------J", "Europe/Oslo", "NO", "Trondheim", 63.431, 10.395, "NOK"),
    _z("NO4", "Norway, Tromsø", "10YNO-4--------9", "Europe/Oslo", "NO", "Tromsø", 69.649, 18.955, "NOK"),
    _z("NO5", "Norway, Bergen", "10Y1001A1001A48H", "Europe/Oslo", "NO", "Bergen", 60.391, 5.322, "NOK"),
    _z("FI", "Finland", "10YFI-1--------U", "Europe/Helsinki", "FI", "Helsinki", 60.170, 24.938),
    # Baltic
    _z("EE", "Estonia", "10Y1001A1001A39I", "Europe/Tallinn", "EE", "Tallinn", 59.437, 24.754),
    _z("LV", "Latvia", "10YLV-1001A00074", "Europe/Riga", "LV", "Riga", 56.950, 24.105),
    _z("LT", "Lithuania", "10YLT-1001A0008Q", "Europe/Vilnius", "LT", "Vilnius", 54.687, 25.280),
    # Central West
    _z("AT", "Austria", "10YAT-APG------L", "Europe/Vienna", "AT", "Vienna", 48.208, 16.373),
    _z("BE", "Belgium", "10YBE----------2", "Europe/Brussels", "BE", "Brussels", 50.850, 4.352),
    _z("DE-LU", "Germany and Luxembourg", "10Y1001A1001A82H", "Europe/Berlin", "DE", "Frankfurt", 50.110, 8.682),
    _z("FR", "France", "10YFR-RTE------C", "Europe/Paris", "FR", "Paris", 48.857, 2.352),
    _z("NL", "Netherlands", "10YNL----------L", "Europe/Amsterdam", "NL", "Amsterdam", 52.370, 4.895),
    _z("CH", "Switzerland", "10YCH-SWISSGRIDZ", "Europe/Zurich", "CH", "Zurich", 47.377, 8.541, "CHF", sdac=False),
    # Central East and South East
    _z("PL", "Poland", "10YPL-AREA-----S", "Europe/Warsaw", "PL", "Warsaw", 52.230, 21.012, "PLN"),
    _z("CZ", "Czechia", "10YCZ-CEPS-----N", "Europe/Prague", "CZ", "Prague", 50.076, 14.438, "CZK"),
    _z("SK", "Slovakia", "10YSK-SEPS-----K", "Europe/Bratislava", "SK", "Bratislava", 48.149, 17.107),
    _z("HU", "Hungary", "10YHU-MAVIR----U", "Europe/Budapest", "HU", "Budapest", 47.498, 19.040, "HUF"),
    _z("SI", "Slovenia", "10YSI-ELES-----O", "Europe/Ljubljana", "SI", "Ljubljana", 46.056, 14.506),
    _z("HR", "Croatia", "10YHR-HEP------M", "Europe/Zagreb", "HR", "Zagreb", 45.815, 15.982),
    _z("RO", "Romania", "10YRO-TEL------P", "Europe/Bucharest", "RO", "Bucharest", 44.427, 26.103, "RON"),
    _z("BG", "Bulgaria", "10YCA-BULGARIA-R", "Europe/Sofia", "BG", "Sofia", 42.698, 23.322),
    _z("GR", "Greece", "10YGR-HTSO-----Y", "Europe/Athens", "GR", "Athens", 37.984, 23.728),
    _z("RS", "Serbia", "10YCS-SERBIATSOV", "Europe/Belgrade", "RS", "Belgrade", 44.787, 20.457, "RSD", sdac=False),
    # South West
    _z("ES", "Spain", "10YES-REE------0", "Europe/Madrid", "ES", "Madrid", 40.417, -3.704),
    _z("PT", "Portugal", "10YPT-REN------W", "Europe/Lisbon", "PT", "Lisbon", 38.722, -9.139),
    # Italy
    _z("IT-NORD", "Italy North", "10Y1001A1001A73I", "Europe/Rome", "IT", "Milan", 45.464, 9.190),
    _z("IT-CNOR", "Italy Centre-North", "10Y1001A1001A70O", "Europe/Rome", "IT", "Florence", 43.770, 11.256),
    _z("IT-CSUD", "Italy Centre-South", "10Y1001A1001A71M", "Europe/Rome", "IT", "Rome", 41.903, 12.496),
    _z("IT-SUD", "Italy South", "10Y1001A1001A788", "Europe/Rome", "IT", "Bari", 41.117, 16.872),
    _z("IT-CALA", "Italy Calabria", "10Y1001C--00096J", "Europe/Rome", "IT", "Catanzaro", 38.910, 16.587),
    _z("IT-SICI", "Italy Sicily", "10Y1001A1001A75E", "Europe/Rome", "IT", "Palermo", 38.116, 13.361),
    _z("IT-SARD", "Italy Sardinia", "10Y1001A1001A74G", "Europe/Rome", "IT", "Cagliari", 39.224, 9.122),
    # Ireland (the all-island market; not coupled with SDAC since 2021)
    _z("IE-SEM", "Ireland and Northern Ireland (SEM)", "10Y1001A1001A59C", "Europe/Dublin", "IE", "Dublin",
       53.350, -6.260, sdac=False),
)

ZONES: dict[str, Zone] = {z.code: z for z in _TABLE}
"""Every known bidding zone by code."""


def _key(text: str) -> str:
    """Case and separators do not matter: ``de_lu``, ``DE-LU``, ``DELU``, ``SE_3`` (entsoe-py)."""
    return re.sub(r"[_\-]", "", text.strip()).upper()


_BY_KEY: dict[str, Zone] = {_key(z.code): z for z in _TABLE} | {z.eic.upper(): z for z in _TABLE}


def parse_zone(text: str | Zone) -> Zone:
    """The zone named by ``text``: its code in any case, with ``-``, ``_`` or no separator
    (``DE-LU``, ``de_lu``, ``SE_3``), or its EIC code. Anything else is an
    :class:`UnknownZoneError` that lists the known codes, raised before a stage does any work."""
    if isinstance(text, Zone):
        return text
    raw = str(text or "").strip()
    zone = _BY_KEY.get(_key(raw)) or _BY_KEY.get(raw.upper())
    if zone is None:
        raise UnknownZoneError(
            f"unknown zone {raw!r}; known zones: {', '.join(ZONES)}. A new bidding zone is one row in "
            "spotcast_storage/zones.py")
    return zone


def zone_code(text: str | Zone) -> str:
    """The canonical code of a zone (what the store holds), e.g. ``de_lu`` -> ``DE-LU``."""
    return parse_zone(text).code


def timezone_sql_values() -> str:
    """``('SE1', 'Europe/Stockholm'), ...`` for a SQL ``VALUES`` list: queries that count local
    days (forecast vintages, accuracy) join it on ``zone``."""
    return ", ".join(f"('{z.code}', '{z.tz}')" for z in sorted(ZONES.values(), key=lambda z: z.code))


__all__ = ["ZONES", "Location", "UnknownZoneError", "Zone", "parse_zone", "timezone_sql_values", "zone_code"]
