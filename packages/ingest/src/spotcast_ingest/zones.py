"""Reference locations of bidding zones (where weather is taken for a zone).

Defaults are a large city in each zone; open-meteo takes others through its options.
"""

from __future__ import annotations

ZONE_LOCATIONS: dict[str, tuple[str, float, float]] = {
    "SE1": ("Luleå", 65.584, 22.154),
    "SE2": ("Sundsvall", 62.391, 17.307),
    "SE3": ("Stockholm", 59.329, 18.069),
    "SE4": ("Malmö", 55.605, 13.004),
    "DK1": ("Aarhus", 56.157, 10.211),
    "DK2": ("Copenhagen", 55.676, 12.568),
    "NO1": ("Oslo", 59.913, 10.752),
    "NO2": ("Kristiansand", 58.146, 7.996),
    "NO3": ("Trondheim", 63.431, 10.395),
    "NO4": ("Tromsø", 69.649, 18.955),
    "NO5": ("Bergen", 60.391, 5.322),
    "FI": ("Helsinki", 60.170, 24.938),
}
