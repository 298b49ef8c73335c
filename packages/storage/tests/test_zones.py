"""The zone table: one row per bidding zone, one parser for every stage."""

import zoneinfo

import pytest

from spotcast_storage.contracts import ZONE_COUNTRIES, ZONE_TIMEZONES
from spotcast_storage.contracts.quality import SDAC_LIMITS, WIDE_LIMITS, price_limits
from spotcast_storage.errors import ValidationError
from spotcast_storage.zones import ZONES, UnknownZoneError, parse_zone, zone_code


@pytest.mark.parametrize(("text", "code"), [
    ("SE3", "SE3"), ("se3", "SE3"), (" SE_3 ", "SE3"),  # entsoe-py spells Nordic zones SE_3, NO_1, DK_1
    ("DE-LU", "DE-LU"), ("DE_LU", "DE-LU"), ("de-lu", "DE-LU"), ("delu", "DE-LU"),
    ("it_nord", "IT-NORD"), ("IE_SEM", "IE-SEM"), ("be", "BE"),
    ("10YBE----------2", "BE"), ("10y1001a1001a82h", "DE-LU"),  # EIC codes
])
def test_parse_zone_takes_case_separators_and_eic_codes(text, code):
    assert parse_zone(text).code == code
    assert zone_code(text) == code


@pytest.mark.parametrize("text", ["XX9", "", "SE5", "DE", "S E3", "SE3;drop table prices"])
def test_an_unknown_zone_names_the_known_ones(text):
    with pytest.raises(UnknownZoneError, match=r"unknown zone .*known zones: SE1, SE2, .*BE, DE-LU.*zones\.py"):
        parse_zone(text)
    assert issubclass(UnknownZoneError, ValidationError)


def test_the_table_is_consistent():
    assert len(ZONES) == 41
    assert len({z.eic for z in ZONES.values()}) == len(ZONES)  # EIC codes are unique
    for z in ZONES.values():
        zoneinfo.ZoneInfo(z.tz)  # a real IANA time zone
        assert len(z.country) == 2 and z.country.isupper()
        assert 35 < z.location.lat < 71 and -10 < z.location.lon < 30, z  # in Europe
        assert z.sources and len(z.currency) == 3
        assert parse_zone(z) is z and parse_zone(z.code) is z and parse_zone(z.eic) is z
    assert ZONES["BE"].tz == "Europe/Brussels" and ZONES["DE-LU"].country == "DE"
    assert ZONES["SE3"].sources == ("elprisetjustnu", "open-meteo") and ZONES["FR"].sources[0] == "entsoe"


def test_the_old_mappings_are_derived_from_the_table():
    assert {z.code: z.tz for z in ZONES.values()} == ZONE_TIMEZONES
    assert {z.code: z.country for z in ZONES.values()} == ZONE_COUNTRIES
    assert ZONE_TIMEZONES["SE4"] == "Europe/Stockholm" and ZONE_TIMEZONES["NL"] == "Europe/Amsterdam"


def test_price_limits_follow_market_coupling():
    assert price_limits("BE") == price_limits("de_lu") == SDAC_LIMITS
    assert price_limits("CH") == WIDE_LIMITS  # clears outside SDAC
    with pytest.raises(UnknownZoneError):
        price_limits("XX9")


def test_sql_sees_the_same_time_zones():
    import duckdb

    from spotcast_storage.zones import timezone_sql_values

    rows = duckdb.sql(f"SELECT * FROM (VALUES {timezone_sql_values()}) AS t(zone, tz)").fetchall()
    assert dict(rows) == ZONE_TIMEZONES and len(rows) == len(ZONES)
