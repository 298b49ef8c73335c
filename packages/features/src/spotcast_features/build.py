"""The features stage against the store: incremental builds from commit events, rebuilds, reads.

All I/O goes through the storage API. The pure parts live in :mod:`spotcast_features.inputs`
(point-in-time assembly, windows) and the transformation plugins.

Incremental rule: a commit of ``prices``, ``weather`` or ``exogenous`` names the zones and the
event-time range it changed; :func:`spotcast_features.inputs.affected_dates` turns that into
the origins whose windows reach the change, and only those are recomputed. Because an origin
never reads outside its windows, the result equals a full rebuild (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

import pandas as pd

from spotcast_features.inputs import (
    PRICE_LOOKBACK_DAYS,
    affected_dates,
    assemble,
    hourly_prices,
    read_range,
)
from spotcast_features.timeutil import (
    DAY,
    HOUR,
    at_local_time,
    local_date,
    local_midnight,
    utc,
)
from spotcast_features.transform import (
    Settings,
    Transformation,
    collect_transformations,
    compute_rows,
    output_contract,
)
from spotcast_storage.contracts.base import Contract
from spotcast_storage.contracts.features import PRICE_FEATURES, PRICES_HOURLY
from spotcast_storage.contracts.market import EXOGENOUS, PRICES, WEATHER
from spotcast_storage.errors import NotFoundError, SchemaError, ValidationError
from spotcast_storage.events import Event
from spotcast_storage.text import plural
from spotcast_storage.zones import UnknownZoneError, parse_zone

if TYPE_CHECKING:
    from spotcast_storage.protocols import Project

CONSUMER = "features"
INPUTS: tuple[Contract, ...] = (PRICES, WEATHER, EXOGENOUS)
INPUT_NAMES = tuple(c.name for c in INPUTS)
CHUNK_DAYS = 190
"""Origins computed and written per commit (bounds memory: ~32k rows per zone and chunk)."""
EVERYTHING = (pd.Timestamp("1970-01-01", tz="UTC"), pd.Timestamp("2200-01-01", tz="UTC"))

Progress = Callable[[int, int, str], None]
"""``progress(done, total, label)``: called after each chunk of origins."""


@dataclass
class BuildSummary:
    mode: str
    version: int = PRICE_FEATURES.version
    events: int = 0
    zones: list[str] = field(default_factory=list)
    origins: int = 0
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    hourly_written: int = 0
    skipped_zones: list[str] = field(default_factory=list)
    acked_to: int | None = None

    def line(self) -> str:
        if not self.zones and not self.events:
            return f"features {self.mode}: nothing to do"
        s = (f"features {self.mode} v{self.version}: {self.origins} origins in {', '.join(self.zones) or 'no zone'}"
             f" -> {self.rows} rows ({self.inserted} new, {self.updated} changed, {self.deleted} removed); "
             f"prices_hourly {self.hourly_written} rows written")
        if self.events:
            s += f"; {plural(self.events, 'input commit')}"
        if self.skipped_zones:
            s += f"; skipped zones not in the zone table (spotcast_storage.zones): {', '.join(self.skipped_zones)}"
        return s

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# -- planning from events (pure) -------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """An input commit's effect: ``source`` rows of ``zones`` (None: any zone) in ``[t_min, t_max]``."""

    source: str
    zones: tuple[str, ...] | None
    t_min: pd.Timestamp
    t_max: pd.Timestamp


def change_of(event: Event) -> Change | None:
    """The input change a commit event names; None for other groups or versions, and for
    commits that changed nothing."""
    versions = {c.name: c.version for c in INPUTS}
    p = event.payload
    if event.kind != "commit" or versions.get(event.name) != event.version or not event.changed \
            or not p.get("min_event_time") or not p.get("max_event_time"):
        return None
    zones = (p.get("keys") or {}).get("zone")
    return Change(event.name, tuple(zones) if zones is not None else None,
                  utc(pd.DatetimeIndex([p["min_event_time"]]))[0], utc(pd.DatetimeIndex([p["max_event_time"]]))[0])


def changes_from_events(events: Sequence[Event]) -> list[Change]:
    return [c for c in map(change_of, events) if c is not None]


def ackable(events: Sequence[Event], zones: Sequence[str] | None) -> int | None:
    """The last event id that may be acknowledged when only ``zones`` are processed: the end of
    the leading run of events that touch no other zone (a later full build handles the rest)."""
    last = None
    for e in events:
        c = change_of(e)
        if zones is not None and c is not None and (c.zones is None or not set(c.zones) <= set(zones)):
            break
        last = e.event_id
    return last


def merge_ranges(ranges: list[tuple[pd.Timestamp, pd.Timestamp]], gap: pd.Timedelta) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Union of inclusive ranges, joining those less than ``gap`` apart."""
    out: list[list[pd.Timestamp]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + gap:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(a, b) for a, b in out]


# -- store access -------------------------------------------------------------------------------------
def _group(fs: Any, contract: Contract) -> Any | None:
    try:
        return fs.get_feature_group(contract.name, contract.version)
    except NotFoundError:
        return None


def _read(fg: Any, zones: Sequence[str], time_col: str, lo: pd.Timestamp, hi: pd.Timestamp,
          known_col: str | None = None, known_by: pd.Timestamp | None = None,
          columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of ``zones`` with ``lo <= time_col < hi`` (and ``known_col <= known_by``), filter in SQL."""
    cond = (fg["zone"].isin(list(zones))) & (fg[time_col] >= lo) & (fg[time_col] < hi)
    if known_col is not None and known_by is not None:
        cond = cond & (fg[known_col] <= known_by)
    q = fg.select(list(columns)) if columns else fg.select_all()
    try:
        return q.filter(cond).read()
    except NotFoundError:  # registered but never written
        return pd.DataFrame(columns=list(columns) if columns else fg.feature_names)


Scope = tuple[str, pd.Timestamp, pd.Timestamp]
"""``(zone, lo, hi)``: the rows of a zone with ``lo <= time < hi`` that a write replaces."""


def _in_scopes(df: pd.DataFrame, time_col: str, scopes: Sequence[Scope]) -> pd.Series:
    mask = pd.Series(False, index=df.index)
    for zone, lo, hi in scopes:
        mask |= (df["zone"] == zone) & (df[time_col] >= lo) & (df[time_col] < hi)
    return mask


def _write_scoped(fg: Any, rows: pd.DataFrame, time_col: str, scopes: Sequence[Scope],
                  summary: BuildSummary | None = None) -> int:
    """Make ``fg``'s rows inside ``scopes`` equal to ``rows``, in one commit.

    Upserts ``rows``; keys in the scopes that ``rows`` no longer has (an origin whose targets
    moved, prices that were deleted) are removed by rewriting the group with ``overwrite=True``,
    because the storage API has no per-key delete. That path is rare and costs a full read.
    """
    if not scopes:
        return 0
    key = list(fg.primary_key)
    existing = _read(fg, sorted({z for z, _, _ in scopes}), time_col, min(lo for _, lo, _ in scopes),
                     max(hi for _, _, hi in scopes), columns=key)
    existing = existing[_in_scopes(existing, time_col, scopes)]
    stale = existing.iloc[:0]
    if not existing.empty:
        m = existing.merge(rows[key].assign(_new=True), on=key, how="left")
        stale = m.loc[m["_new"].isna(), key]
    if stale.empty:
        if rows.empty:
            return 0
        commit = fg.insert(rows)
    else:
        everything = fg.read()
        cols = list(everything.columns)
        drop = pd.concat([stale] + ([rows[key]] if not rows.empty else []), ignore_index=True)
        keep = everything.merge(drop.assign(_drop=True), on=key, how="left")
        keep = keep.loc[keep["_drop"].isna(), cols]
        commit = fg.insert(pd.concat([keep] + ([rows[cols]] if not rows.empty else []), ignore_index=True),
                           overwrite=True)
    if summary is not None:
        summary.inserted += commit.rows_inserted
        summary.updated += commit.rows_updated
        summary.deleted += commit.rows_deleted
    return commit.rows_inserted + commit.rows_updated + commit.rows_deleted


# -- settings and the output group -----------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """Where and how a build writes: the output contract, its group and the transformations."""

    contract: Contract
    settings: Settings
    transformations: list[Transformation]
    fg: Any


def resolve_target(fs: Any, version: int | None = None, origin_hour: int | None = None,
                   horizon_days: int | None = None,
                   transformations: list[Transformation] | None = None) -> Target:
    """The output group for the registered transformations.

    ``version`` None picks v1 when the transformations produce its columns, else the newest
    existing price_features version with their columns. Settings are stored in the group's
    options on its first write; asking for different ones for an existing group is an error.
    """
    trs = transformations if transformations is not None else collect_transformations()
    if version is None:
        version = _auto_version(fs, trs)
    existing = _group(fs, Contract(PRICE_FEATURES.name, version, PRICE_FEATURES.primary_key, "origin", (), ""))
    stored: dict[str, Any] = dict(getattr(existing, "options", {}) or {}) if existing is not None else {}
    requested = {"origin_hour": origin_hour, "horizon_days": horizon_days}
    for k, v in requested.items():
        if v is not None and k in stored and stored[k] != v:
            raise ValidationError(
                f"price_features v{version} was built with {k.replace('_', ' ')} {stored[k]}, not {v}; "
                f"rows built with different settings do not mix. Build a new version "
                f"(--version {version + 1}) for the new settings")
    merged = {k: (v if v is not None else stored.get(k)) for k, v in requested.items()}
    settings = Settings(**{k: v for k, v in merged.items() if v is not None})
    contract = output_contract(trs, version, settings)
    if existing is not None:
        have = sorted(existing.feature_names)
        if have and have != sorted(contract.column_names):
            raise SchemaError(
                f"price_features v{version} exists with columns that differ from what the registered "
                f"transformations produce ({sorted(set(have) ^ set(contract.column_names))}); "
                f"build another version (--version {version + 1})")
    return Target(contract, settings, trs, contract.get_or_create(fs))


def _auto_version(fs: Any, trs: list[Transformation]) -> int:
    produced = {c.name for t in trs for c in t.columns}
    v1 = {c.name for c in PRICE_FEATURES.columns} - {"zone", "origin", "ts"}
    if produced == v1:
        return PRICE_FEATURES.version
    groups = fs.get_feature_groups(PRICE_FEATURES.name) if hasattr(fs, "get_feature_groups") else []
    for g in reversed(groups):
        if set(g.feature_names) - {"zone", "origin", "ts"} == produced:
            return int(g.version)
    newest = max([int(g.version) for g in groups] + [PRICE_FEATURES.version])
    raise SchemaError(
        f"the registered feature transformations produce columns that no price_features version has "
        f"(v1 differs by {sorted(produced ^ v1)}); create one with "
        f"`spotcast-features rebuild --version {newest + 1}`")


# -- the work -------------------------------------------------------------------------------------------------
def _zones_with_prices(fs: Any) -> list[str]:
    fg = _group(fs, PRICES)
    if fg is None:
        return []
    try:
        return sorted(fg.select(["zone"]).read()["zone"].unique().tolist())
    except NotFoundError:
        return []


def _price_bounds(fs: Any, zones: dict[str, str], first_dates: dict[str, pd.Timestamp]
                  ) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """Per zone, local dates ``(lo, last)`` outside which no origin from ``first_dates[zone]`` on
    has rows: ``last`` is the date of the newest price; before ``lo`` no origin knows a price.

    Reads only prices that origins from ``first_dates`` can see (their windows start 35 days
    before them), so a daily update does not read the whole history."""
    fg = _group(fs, PRICES_HOURLY)
    if fg is None or not zones:
        return {}
    start = min(local_midnight(pd.DatetimeIndex([first_dates[z] - (PRICE_LOOKBACK_DAYS + 1) * DAY]), tz)[0]
                for z, tz in zones.items())
    df = _read(fg, list(zones), "ts", max(start, EVERYTHING[0]), EVERYTHING[1], columns=["zone", "ts"])
    out = {}
    for zone, ts in df.groupby("zone")["ts"]:
        d = local_date(pd.Series([ts.min(), ts.max()]), zones[str(zone)])
        # origin D knows prices in [D-35, D+2) only: before the first read price's day - 1, none
        out[str(zone)] = (d.iloc[0] - DAY, d.iloc[1])
    return out


def _update_hourly(fs: Any, ranges: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]) -> int:
    """Recompute prices_hourly for the hours touching each zone's ranges (inclusive), one commit."""
    prices = _group(fs, PRICES)
    scopes = [(z, lo.floor("h"), hi.floor("h") + HOUR) for z, rs in ranges.items() for lo, hi in merge_ranges(rs, HOUR)]
    if prices is None or not scopes:
        return 0
    raw = _read(prices, sorted(ranges), "ts", min(s[1] for s in scopes), max(s[2] for s in scopes))
    raw = raw[_in_scopes(raw, "ts", scopes)]
    rows = PRICES_HOURLY.conform(hourly_prices(raw))
    return _write_scoped(PRICES_HOURLY.get_or_create(fs), rows, "ts", scopes)


def _date_ranges(changes: list[Change], zone: str, tz: str, horizon_days: int) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    spans = []
    for c in changes:
        if c.zones is not None and zone not in c.zones:
            continue
        spans.append(affected_dates(c.source, c.t_min, c.t_max, tz, horizon_days))
    return merge_ranges(spans, DAY)


def _plan_chunks(bounds: tuple[pd.Timestamp, pd.Timestamp] | None,
                 date_ranges: list[tuple[pd.Timestamp, pd.Timestamp]]
                 ) -> list[tuple[pd.Timestamp, pd.Timestamp, pd.DatetimeIndex]]:
    """Chunks ``(scope first date, scope last date, dates to compute)`` covering ``date_ranges``.

    Only dates within ``bounds`` (see :func:`_price_bounds`) are computed; the scope still covers
    the whole range so that rows of origins that lost their prices are removed."""
    out = []
    for lo, hi in date_ranges:
        c_lo, c_hi = (max(lo, bounds[0]), min(hi, bounds[1])) if bounds is not None else (hi + DAY, hi)
        if c_lo > c_hi:
            out.append((lo, hi, pd.DatetimeIndex([])))
            continue
        dates = pd.date_range(c_lo, c_hi, freq="D")
        parts = [dates[i:i + CHUNK_DAYS] for i in range(0, len(dates), CHUNK_DAYS)]
        for j, part in enumerate(parts):
            out.append((lo if j == 0 else part[0], hi if j == len(parts) - 1 else part[-1], part))
    return out


@dataclass(frozen=True)
class _Chunk:
    zone: str
    tz: str
    scope_first: pd.Timestamp
    scope_last: pd.Timestamp
    dates: pd.DatetimeIndex


def _compute_step(fs: Any, target: Target, step: list[_Chunk]) -> pd.DataFrame:
    """Rows of a step's chunks (one chunk per zone), with one read per input group."""
    todo = [c for c in step if len(c.dates)]
    hourly_fg = _group(fs, PRICES_HOURLY)
    parts = []
    if todo and hourly_fg is not None:
        rrs = [read_range(c.dates[0], c.dates[-1], c.tz, target.settings) for c in todo]
        zones = sorted({c.zone for c in todo})
        known_by = max(r.known_by for r in rrs)

        def span(attr: str) -> tuple[pd.Timestamp, pd.Timestamp]:
            return min(getattr(r, attr)[0] for r in rrs), max(getattr(r, attr)[1] for r in rrs)

        weather_fg, exo_fg = _group(fs, WEATHER), _group(fs, EXOGENOUS)
        hourly = _read(hourly_fg, zones, "ts", *span("prices"), "known_at", known_by)
        weather = None if weather_fg is None else _read(weather_fg, zones, "ts", *span("weather"), "issued_at", known_by)
        exo = None if exo_fg is None else _read(exo_fg, zones, "ts", *span("exogenous"), "issued_at", known_by)
        for c in todo:
            batch = assemble(c.zone, c.dates, target.settings, hourly, weather, exo)
            if batch is not None:
                parts.append(compute_rows(batch, target.transformations, target.contract))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in target.contract.column_names})
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _run(project: Project, changes: list[Change], zones: Sequence[str] | None, target: Target,
         summary: BuildSummary, progress: Progress | None) -> None:
    """Recompute what ``changes`` affect: prices_hourly in one commit, then features in steps
    of one chunk per zone, each step one commit (few commits: each costs a transaction)."""
    fs = project.get_feature_store()
    if zones is not None:
        todo = list(zones)
    else:
        named = {z for c in changes for z in (c.zones or ())}
        todo = sorted(named | set(_zones_with_prices(fs))) if any(c.zones is None for c in changes) \
            else sorted(named)
    tzs: dict[str, str] = {}
    for zone in todo:
        try:
            tzs[zone] = parse_zone(zone).tz
        except UnknownZoneError:  # stored before the zone table refused it
            summary.skipped_zones.append(zone)
    mine = {z: [c for c in changes if c.zones is None or z in c.zones] for z in tzs}
    mine = {z: cs for z, cs in mine.items() if cs}
    summary.zones = sorted(mine)
    summary.hourly_written += _update_hourly(
        fs, {z: [(c.t_min, c.t_max) for c in cs if c.source == PRICES.name] for z, cs in mine.items()})
    ranges = {z: _date_ranges(cs, z, tzs[z], target.settings.horizon_days) for z, cs in mine.items()}
    bounds = _price_bounds(fs, {z: tzs[z] for z in mine}, {z: r[0][0] for z, r in ranges.items()})
    per_zone = [[_Chunk(z, tzs[z], lo, hi, dates) for lo, hi, dates in _plan_chunks(bounds.get(z), r)]
                for z, r in ranges.items()]
    steps = [[c for c in group if c is not None] for group in zip_longest(*per_zone)]
    for i, step in enumerate(steps, start=1):
        rows = _compute_step(fs, target, step)
        scopes = []
        for c in step:
            lo, hi = local_midnight(pd.DatetimeIndex([c.scope_first, c.scope_last + DAY]), c.tz)
            scopes.append((c.zone, max(lo, EVERYTHING[0]), min(hi, EVERYTHING[1])))
        _write_scoped(target.fg, rows, "origin", scopes, summary)
        summary.origins += int(rows[["zone", "origin"]].drop_duplicates().shape[0]) if not rows.empty else 0
        summary.rows += len(rows)
        if progress is not None:
            progress(i, len(steps), _step_label(step))


def _step_label(step: list[_Chunk]) -> str:
    """The zones and origin days a step computed, for the progress line. Not the chunk's
    scope: a rebuild's (and the newest chunk's) scope is open-ended and would read
    1990-01-01..2100-01-01, days no origin exists for."""
    label = ", ".join(c.zone for c in step)
    dated = [c.dates for c in step if len(c.dates)]
    if dated:
        label += f" {min(d[0] for d in dated):%Y-%m-%d}..{max(d[-1] for d in dated):%Y-%m-%d}"
    return label


def _zones_arg(zones: Sequence[str] | None) -> list[str] | None:
    if not zones:
        return None
    return sorted({parse_zone(z).code for z in zones})  # unknown zone: clear error before any work


def build(project: Project, zones: Sequence[str] | None = None, version: int | None = None,
          origin_hour: int | None = None, horizon_days: int | None = None,
          progress: Progress | None = None) -> BuildSummary:
    """Apply the input commits not yet processed (consumer cursor ``features``): recompute only
    the origins they can affect, then move the cursor. The first build processes every commit,
    i.e. builds everything. With ``zones``, only those zones are built and the cursor moves
    only past commits that touched no other zone."""
    zones = _zones_arg(zones)
    fs = project.get_feature_store()
    target = resolve_target(fs, version, origin_hour, horizon_days)
    log = project.get_event_log()
    events = log.pending(CONSUMER, kinds=("commit",), names=INPUT_NAMES)
    summary = BuildSummary("build", version=target.contract.version, events=len(events))
    _run(project, changes_from_events(events), zones, target, summary, progress)
    last = ackable(events, zones)
    if last is not None:
        log.ack(CONSUMER, last)
        summary.acked_to = last
    return summary


def rebuild(project: Project, zones: Sequence[str] | None = None, version: int | None = None,
            origin_hour: int | None = None, horizon_days: int | None = None,
            progress: Progress | None = None) -> BuildSummary:
    """Recompute prices_hourly and every origin from the current inputs (rows that did not
    change are not rewritten), then move the cursor past the commits seen at the start."""
    zones = _zones_arg(zones)
    fs = project.get_feature_store()
    target = resolve_target(fs, version, origin_hour, horizon_days)
    log = project.get_event_log()
    events = log.pending(CONSUMER, kinds=("commit",), names=INPUT_NAMES)
    summary = BuildSummary("rebuild", version=target.contract.version, events=len(events))
    everything = [Change(PRICES.name, None, *EVERYTHING)]
    _run(project, everything, zones, target, summary, progress)
    last = ackable(events, zones)
    if last is not None:
        log.ack(CONSUMER, last)
        summary.acked_to = last
    return summary


def handle_events(events: list[Event], ctx: Any) -> str | None:
    """`spotcast run` handler: apply the given input commits to every zone they touch (the
    runner acknowledges them afterwards, so ``ctx.zones`` does not narrow the work)."""
    fs = ctx.project.get_feature_store()
    target = resolve_target(fs)
    summary = BuildSummary("update", version=target.contract.version, events=len(events))
    changes = changes_from_events(events)
    if not changes:
        return None
    _run(ctx.project, changes, None, target, summary, None)
    return summary.line()


# -- reading back -----------------------------------------------------------------------------------------------
def parse_origin(origin: str | pd.Timestamp) -> pd.Timestamp:
    """A date (``2024-05-01``, naive midnight) or an instant with offset (tz-aware)."""
    try:
        ts = pd.Timestamp(origin)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"cannot parse origin {origin!r}: use a date (2024-05-01) or an ISO time "
                              "with offset (2024-05-01T10:00+02:00)") from exc
    if ts is pd.NaT:
        raise ValidationError("origin is missing")
    if ts.tzinfo is None and ts != ts.normalize():
        raise ValidationError(f"origin {origin!r} has a time but no offset; give a date or add the offset, "
                              "e.g. 2024-05-01T10:00+02:00")
    return ts


def origin_instant(zone: str, origin: str | pd.Timestamp, settings: Settings) -> pd.Timestamp:
    """A date means that day's origin at the configured local hour; an instant is taken as given."""
    ts = parse_origin(origin)
    if ts.tzinfo is not None:
        return utc(pd.DatetimeIndex([ts]))[0]
    return at_local_time(pd.DatetimeIndex([ts]), parse_zone(zone).tz, settings.origin_hour)[0]


def show(project: Project, zone: str, origin: str | pd.Timestamp, version: int = PRICE_FEATURES.version) -> pd.DataFrame:
    """The rows of one origin of ``zone``."""
    zone = parse_zone(zone).code
    parse_origin(origin)
    fs = project.get_feature_store()
    fg = fs.get_feature_group(PRICE_FEATURES.name, version)
    opts = dict(getattr(fg, "options", {}) or {})
    settings = Settings(**{k: opts[k] for k in ("origin_hour", "horizon_days") if k in opts})
    o = origin_instant(zone, origin, settings)
    rows = fg.filter((fg["zone"] == zone) & (fg["origin"] == o)).read()
    if rows.empty:
        near = _read(fg, [zone], "origin", o - 3 * DAY, o + 4 * DAY, columns=["zone", "origin"])
        hint = sorted({t.isoformat() for t in near["origin"]})
        raise NotFoundError(
            f"price_features v{version} has no rows for {zone} at origin {o.isoformat()}"
            + (f"; nearby origins: {', '.join(hint)}" if hint else
               "; run `spotcast-features build` after ingesting prices for that period"))
    return rows.sort_values("ts", ignore_index=True)


def list_transformations() -> pd.DataFrame:
    """Registered transformations with the plugin that provides them and their columns."""
    rows = [{"name": t.name, "plugin": t.plugin, "order": t.order, "columns": ", ".join(t.column_names),
             "description": t.description} for t in collect_transformations()]
    return pd.DataFrame(rows, columns=["name", "plugin", "order", "columns", "description"])
