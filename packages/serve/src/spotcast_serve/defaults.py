"""Defaults that `spotcast-serve --help` shows: in a module of their own, without pandas, so that
printing the help does not import the service (see benchmarks/cli.py)."""

DEFAULT_DAYS = 7
"""Forecast horizon in local days after the origin's day."""
