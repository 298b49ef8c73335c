"""What a source plugin is: a class that turns (zone, range of local days, now) into frames in
the shape of the ``prices``/``weather``/``exogenous`` contracts.

A plugin module implements the ``register_sources`` hook and calls ``register(MySource)``.
The ingest stage does everything else: validates input before any request, splits the range
into batches of ``batch_months`` calendar months per zone, runs batches concurrently through one shared
:class:`~spotcast_ingest.http.HttpClient`, and commits each batch as one write per feature
group, in order, so a failure leaves earlier batches committed and a rerun resumes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from spotcast_ingest import timeutil
from spotcast_ingest.http import HttpClient
from spotcast_storage.errors import UnsupportedError, ValidationError
from spotcast_storage.zones import parse_zone


@dataclass(frozen=True)
class FetchRequest:
    """Fetch every delivery day in ``[start, end]`` (local days of the zone) as known at ``now``.

    ``pending_from``: days on or after it may be missing because they are not published yet
    (used by ``update`` for tomorrow's prices); the source reports them in
    :attr:`FetchResult.pending` instead of failing. Anywhere else a missing day is an error.
    """

    zone: str
    start: dt.date
    end: dt.date
    now: pd.Timestamp
    pending_from: dt.date | None = None

    @property
    def label(self) -> str:
        return f"{self.zone} {self.start}..{self.end}" if self.end != self.start else f"{self.zone} {self.start}"

    def may_be_pending(self, day: dt.date) -> bool:
        return self.pending_from is not None and day >= self.pending_from


@dataclass
class FetchResult:
    """Frames keyed by feature-group name, in contract shape; ``pending`` lists days skipped
    because they are not published yet (e.g. ``"SE3 2025-10-16"``)."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the source left out and why (blank prices, a local time that does not exist), said
    in the ingest summary: nothing is dropped silently."""


class Source:
    """Base class of every source plugin.

    Class attributes describe the source (used by ``spotcast-ingest sources`` and input
    checks); subclasses implement :meth:`fetch` and, when they have one, :meth:`fetch_latest`
    (``update`` calls it for data that is not tied to past days, e.g. the newest weather
    forecast) and :meth:`check` (a small live request for ``spotcast-ingest check``).
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    zones: ClassVar[tuple[str, ...]] = ()
    """Zones served; empty means any zone of the zone table (:mod:`spotcast_storage.zones`)."""
    writes: ClassVar[tuple[str, ...]] = ()
    """Feature groups written; the first one decides where ``update`` resumes."""
    resume_on: ClassVar[tuple[tuple[str, dict[str, Any]], ...]] = ()
    """Where ``update`` resumes: the earliest of the newest stored times in these (group,
    equality filters) pairs, e.g. ``(("weather", {"kind": "observed"}),)``. Default: the
    first group in ``writes``."""
    batch_months: ClassVar[int] = 1
    """Calendar months per batch (one commit per feature group each); the built-in network
    sources use quarters: fewer commits, and a failure still loses at most three months of work
    (not the requests: their answers are cached)."""
    last_day_hint: ClassVar[str] = ("day-ahead prices come out about 13:00 CET the day before; "
                                    "run `spotcast-ingest update --zone {zone} --source {source}` later")
    """Said when a backfill asks for days after :meth:`last_day`; ``{zone}`` and ``{source}``
    are filled in, so a suggested command runs as printed."""
    default_base_url: ClassVar[str | None] = None
    network: ClassVar[bool] = True
    secret_env: ClassVar[str | None] = None
    """Environment variable holding an API key (never logged, redacted from errors)."""
    confirm_large: ClassVar[bool] = True
    """A backfill of more than ``LARGE_BACKFILL_DAYS`` days per zone asks for ``--yes``. False
    for sources whose data bounds the work by itself (a file)."""

    def __init__(self, http: HttpClient | None = None, base_url: str | None = None,
                 options: Mapping[str, Any] | None = None) -> None:
        self._http = http
        self.options = dict(options or {})
        env = os.environ.get(self.base_url_env())
        self.base_url = (base_url or env or self.default_base_url or "").rstrip("/") or None

    @classmethod
    def base_url_env(cls) -> str:
        return f"SPOTCAST_{re.sub(r'[^A-Z0-9]', '_', cls.name.upper())}_BASE_URL"

    @property
    def http(self) -> HttpClient:
        if self._http is None:
            raise UnsupportedError(f"source {self.name} needs an HTTP client; pass http=HttpClient(...)")
        return self._http

    # -- what the stage asks before fetching ------------------------------------------------
    def check_zone(self, zone: str) -> None:
        """Refuse a zone outside the zone table, or one this source does not serve."""
        zone = parse_zone(zone).code
        if self.zones and zone not in self.zones:
            raise ValidationError(
                f"source {self.name} does not serve zone {zone!r}; it serves {', '.join(self.zones)}")

    def tz(self, zone: str) -> str:
        """The zone's time zone from the zone table; option ``tz`` overrides it (a file whose
        naive times are on another clock)."""
        return self.options.get("tz") or parse_zone(zone).tz

    def first_day(self, zone: str) -> dt.date | None:
        """Oldest day the source has (None: unknown)."""
        return None

    def last_day(self, zone: str, now: pd.Timestamp) -> dt.date:
        """Newest delivery day the source can have at ``now``. Default: day-ahead prices,
        published at 13:00 CET for the next day."""
        return timeutil.newest_published_day(now, self.tz(zone))

    def validate_options(self) -> None:
        """Raise ValidationError for bad options before any request."""

    # -- what plugins implement ----------------------------------------------------------------
    def fetch(self, request: FetchRequest) -> FetchResult:
        raise NotImplementedError

    def fetch_latest(self, zone: str, now: pd.Timestamp) -> FetchResult:
        return FetchResult()

    def check(self) -> str:
        raise UnsupportedError(f"source {self.name} has no live check")

