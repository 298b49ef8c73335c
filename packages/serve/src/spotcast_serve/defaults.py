"""Defaults that `spotcast-serve --help` shows: in a module of their own, without pandas, so that
printing the help does not import the service (see benchmarks/cli.py)."""

from spotcast_storage.runoptions import RunOptions

DEFAULT_DAYS = RunOptions.days
"""Forecast horizon in local days after the origin's day (the same default as `spotcast run --days`)."""
