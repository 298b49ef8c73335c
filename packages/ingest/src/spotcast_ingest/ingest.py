"""Backfill and update: plan batches, fetch them concurrently, commit them in order.

A batch is one source, one zone and a block of calendar months (a quarter for the network
sources, a year for offline ones; in ``update`` also the newest forecast). Each batch becomes one commit per feature group it fills. Batches are fetched
ahead by a bounded thread pool while earlier ones are committed, and committed strictly in
plan order: when a batch fails, the batches before it are in the store, nothing of the
failed one is, and the error says so; rerunning the same command resumes (past days come
from the disk cache without a request, and upserts of unchanged rows change nothing).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from spotcast_ingest import quality, timeutil
from spotcast_ingest.errors import SourceError
from spotcast_ingest.http import HttpClient, HttpSettings
from spotcast_ingest.registry import default_sources, get_source_class, source_classes
from spotcast_ingest.source import FetchRequest, FetchResult, Source
from spotcast_storage.contracts import ALL as CONTRACTS
from spotcast_storage.contracts.quality import DATA_QUALITY
from spotcast_storage.errors import NotFoundError, SpotcastError, UsageError, ValidationError
from spotcast_storage.schema import to_arrow
from spotcast_storage.text import plural
from spotcast_storage.zones import parse_zone

if TYPE_CHECKING:
    from spotcast_storage.protocols import Project

DEFAULT_HISTORY_DAYS = 730
LARGE_BACKFILL_DAYS = 1100
"""A backfill or update of more days than this for one zone and source asks for ``--yes``
(``yes=True``): about three years, more than the default history (730 days) or a three-year
backfill, far less than the 72 years a mistyped ``--now 2099-...`` would start."""
FUTURE_NOW_DAYS = 2
"""A ``now`` more than this many days past the wall clock is refused for real sources: they
cannot have data from the future (the synthetic source can, bounded by LARGE_BACKFILL_DAYS)."""
Progress = Callable[[int, int, str], None]
"""``progress(done_units, total_units, label)``: units are zone-days plus one per latest-forecast batch."""


@dataclass
class GroupTotals:
    rows_inserted: int = 0
    rows_updated: int = 0
    commits: int = 0
    unchanged_batches: int = 0
    """Batches whose rows were all stored already: they commit nothing (idle is idle)."""


@dataclass
class IngestReport:
    """What a backfill or update did: per feature group rows and commits, requests made, what
    the sources said about rows they left out (``notes``) and the days that failed the
    data-quality gate (``quality_failures``, out of ``days_checked``)."""

    groups: dict[str, GroupTotals] = field(default_factory=dict)
    batches: int = 0
    requests_sent: int = 0
    cache_hits: int = 0
    retries: int = 0
    pending: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    days_checked: int = 0
    quality_failures: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        rows = [{"feature_group": g, "rows_inserted": t.rows_inserted, "rows_updated": t.rows_updated,
                 "commits": t.commits, "unchanged_batches": t.unchanged_batches}
                for g, t in sorted(self.groups.items())]
        return pd.DataFrame(rows, columns=["feature_group", "rows_inserted", "rows_updated", "commits",
                                           "unchanged_batches"])

    def quality_line(self) -> str:
        if not self.days_checked:
            return ""
        if not self.quality_failures:
            return f"data quality: {plural(self.days_checked, 'day')} checked, all passed"
        shown = "; ".join(self.quality_failures[:5])
        more = len(self.quality_failures) - 5
        return (f"data quality: {plural(len(self.quality_failures), 'failed check')} in "
                f"{plural(self.days_checked, 'day')} checked: "
                f"{shown}" + (f"; +{more} more (select * from data_quality where not passed)" if more > 0 else ""))

    def one_line(self) -> str:
        parts = [f"{g}: +{t.rows_inserted} new, {t.rows_updated} updated ({plural(t.commits, 'commit')})"
                 for g, t in sorted(self.groups.items()) if t.commits] or ["nothing new"]
        line = "; ".join(parts) + f"; {plural(self.requests_sent, 'request')}, {self.cache_hits} from cache"
        if self.pending:
            line += f"; not published yet: {', '.join(self.pending)}"
        if self.notes:
            line += f"; {'; '.join(self.notes)}"
        if self.quality_failures:
            line += f"; {self.quality_line()}"
        return line


@dataclass(frozen=True)
class _Batch:
    source: Source
    zone: str
    request: FetchRequest | None  # None: the source's newest forecast (fetch_latest)
    now: pd.Timestamp
    units: int

    @property
    def label(self) -> str:
        return f"{self.source.name} {self.request.label if self.request else self.zone + ' latest'}"

    def run(self) -> FetchResult:
        if self.request is None:
            return self.source.fetch_latest(self.zone, self.now)
        return self.source.fetch(self.request)


# -- building blocks --------------------------------------------------------------------------
def default_cache_dir(project: Project) -> Path:
    """``<store dir>/cache`` for the local store, ``./.spotcast/cache`` otherwise."""
    path = getattr(project, "path", None)
    return Path(path).parent / "cache" if path is not None else Path(".spotcast") / "cache"


def make_client(project: Project, settings: HttpSettings | None = None) -> HttpClient:
    settings = settings or HttpSettings.from_env()
    if settings.cache_dir is None:
        settings = dataclasses.replace(settings, cache_dir=default_cache_dir(project))
    return HttpClient(settings)


def make_source(name: str, http: HttpClient, base_url: str | None = None,
                options: Mapping[str, Any] | None = None) -> Source:
    cls = get_source_class(name)
    src = cls(http=http, base_url=base_url, options=options)
    if cls.secret_env and os.environ.get(cls.secret_env):
        http.add_secret(os.environ[cls.secret_env])
    src.validate_options()
    return src


def zone_codes(zones: Sequence[str]) -> list[str]:
    """The zones' codes from the zone table (``de_lu`` -> ``DE-LU``); an unknown, missing or
    repeated zone is an error before any request."""
    if not zones:
        raise ValidationError("no zone given; pass at least one, e.g. --zone SE3")
    codes = [parse_zone(z).code for z in zones]
    dupes = sorted({z for z in codes if codes.count(z) > 1})
    if dupes:
        raise ValidationError(f"zone(s) {dupes} given more than once")
    return codes


def _check_zones(src: Source, zones: Sequence[str]) -> None:
    for z in zones:
        src.check_zone(z)
        src.tz(z)


def _batches(src: Source, zone: str, start: dt.date, end: dt.date, now: pd.Timestamp,
                   pending_from: dt.date | None = None) -> list[_Batch]:
    return [_Batch(src, zone, FetchRequest(zone, a, b, now, pending_from), now, (b - a).days + 1)
            for a, b in timeutil.month_chunks(start, end, src.batch_months)]


def newest_stored(project: Project, group: str, zone: str, where: Mapping[str, Any] | None = None) -> pd.Timestamp | None:
    """Newest event time stored for ``zone`` in a contract's group (None: nothing yet)."""
    contract = CONTRACTS[group]
    try:
        fg = contract.get(project.get_feature_store())
    except NotFoundError:
        return None
    cond = fg.zone == zone
    for col, value in (where or {}).items():
        cond = cond & (fg[col] == value)
    try:
        # (the local backend can only filter on selected columns, so select them)
        df = fg.select(["zone", *(where or {}), contract.event_time]).filter(cond).read()
    except NotFoundError:  # registered but never written
        return None
    if df.empty:
        return None
    return pd.Timestamp(df[contract.event_time].max()).tz_convert("UTC")


# -- backfill -----------------------------------------------------------------------------------
def plan_backfill(src: Source, zones: Sequence[str], start: dt.date | str | None, end: dt.date | str | None,
                  now: pd.Timestamp) -> list[_Batch]:
    """Check everything and return the batches; raises before any request on bad input."""
    zones = zone_codes(zones)
    _check_zones(src, zones)
    batches: list[_Batch] = []
    for zone in zones:
        tz = src.tz(zone)
        first = src.first_day(zone)
        if start is None:
            if src.network or first is None:
                raise ValidationError(f"--start is required for source {src.name}")
            s = first
        else:
            s = timeutil.parse_day(start, "start")
        last = src.last_day(zone, now)
        e = last if end is None else timeutil.parse_day(end, "end")
        today = timeutil.local_today(now, tz)
        if s > today:
            raise ValidationError(f"start {s} is in the future (today is {today} in {tz}); "
                                  "backfill only fetches days that exist")
        if e < s:
            raise ValidationError(f"end {e} is before start {s}")
        if e > last:
            hint = src.last_day_hint.replace("{zone}", zone).replace("{source}", src.name)
            raise ValidationError(
                f"end {e} is after the newest day {src.name} can have for {zone} now ({last}): "
                f"{hint}. Use --end {last} or leave --end out")
        if first is not None and s < first:
            raise ValidationError(f"start {s} is before the first day {src.name} has for {zone} ({first})")
        batches += _batches(src, zone, s, e, now)
    return batches


def backfill(project: Project, source: str, zones: Sequence[str], start: dt.date | str | None,
             end: dt.date | str | None = None, *, now: Any = None, base_url: str | None = None,
             options: Mapping[str, Any] | None = None, settings: HttpSettings | None = None,
             progress: Progress | None = None, log: Callable[[str], None] | None = None,
             yes: bool = False, quality_gate: bool = True, flatliner_hours: int | None = None) -> IngestReport:
    """Fetch ``[start, end]`` (local days, ``end`` default: newest published) for each zone
    from one source and commit it: one commit per zone, batch (``Source.batch_months``
    calendar months) and feature group. More than :data:`LARGE_BACKFILL_DAYS` days for a zone
    need ``yes``. ``quality_gate=False`` skips the day-level checks (benchmarks measure their
    cost with it); prices outside the limits are refused either way."""
    now = timeutil.to_utc(now)
    flat = quality.flatliner_hours(flatliner_hours)
    with make_client(project, settings) as http:
        src = make_source(source, http, base_url, options)
        check_now([src], now)
        batches = plan_backfill(src, zones, start, end, now)
        check_size(batches, yes)
        return run_batches(project, batches, http, progress=progress, log=log,
                           flatliner_hours=flat if quality_gate else None)


def check_now(sources: Sequence[Source], now: pd.Timestamp, wall_clock: pd.Timestamp | None = None) -> None:
    """Refuse a ``now`` far in the future for real sources (they have no data from it)."""
    wall = wall_clock if wall_clock is not None else pd.Timestamp.now(tz="UTC")
    if now <= wall + pd.Timedelta(days=FUTURE_NOW_DAYS):
        return
    real = sorted(s.name for s in sources if s.network)
    if real:
        raise UsageError(
            f"--now {now.isoformat()} is more than {FUTURE_NOW_DAYS} days after the clock "
            f"({wall:%Y-%m-%d %H:%M} UTC), and {', '.join(real)} cannot have data from the future; leave "
            "--now out, give a past time to replay, or use --source synthetic for a simulated future")


def check_size(batches: Sequence[_Batch], yes: bool) -> None:
    """Ask for ``yes`` before a backfill larger than :data:`LARGE_BACKFILL_DAYS` days per zone."""
    if yes:
        return
    days: dict[tuple[str, str], list[dt.date]] = {}
    for b in batches:
        if b.request is not None and b.source.confirm_large:
            days.setdefault((b.source.name, b.zone), []).extend([b.request.start, b.request.end])
    for (name, zone), ds in sorted(days.items()):
        n = (max(ds) - min(ds)).days + 1
        if n > LARGE_BACKFILL_DAYS:
            raise UsageError(
                f"this would fetch {n:,} days of {zone} from {name} ({min(ds)}..{max(ds)}), more than "
                f"{LARGE_BACKFILL_DAYS:,} days; pass --yes to go ahead, or ask for less (--start, --history-days, "
                "or check --now)")


# -- update ------------------------------------------------------------------------------------
def _resume_day(src: Source, project: Project, zone: str, now: pd.Timestamp, history_days: int) -> dt.date:
    tz = src.tz(zone)
    found = [newest_stored(project, group, zone, where) for group, where in (src.resume_on or ((src.writes[0], {}),))]
    newest = None if any(t is None for t in found) else min(found)  # type: ignore[type-var]
    if newest is None:
        return timeutil.local_today(now, tz) - dt.timedelta(days=history_days)
    day = timeutil.local_date(newest, tz)
    day_end = timeutil.day_bounds(day, tz)[1]
    # The newest row is in the day's last hour: that day is complete, resume after it.
    return day + dt.timedelta(days=1) if newest >= day_end - pd.Timedelta(hours=1) else day


def plan_update(project: Project, zones: Sequence[str], sources: Sequence[str] | None, http: HttpClient,
                now: pd.Timestamp, history_days: int, base_urls: Mapping[str, str] | None = None,
                options: Mapping[str, Mapping[str, Any]] | None = None) -> list[_Batch]:
    zones = zone_codes(zones)
    if history_days < 1:
        raise ValidationError(f"history_days must be at least 1, got {history_days}")
    wanted: dict[str, list[str]] = {}
    for zone in zones:
        names = list(sources) if sources else list(default_sources(zone))
        wanted[zone] = names
    made: dict[str, Source] = {}
    for name in {n for names in wanted.values() for n in names}:
        made[name] = make_source(name, http, (base_urls or {}).get(name), (options or {}).get(name))
    batches: list[_Batch] = []
    for zone, names in wanted.items():
        serving = []
        for name in names:
            src = made[name]
            try:
                src.check_zone(zone)
                src.tz(zone)
            except ValidationError:
                if sources and len(names) == 1:
                    raise
                continue
            serving.append(src)
        if not serving:
            raise ValidationError(f"none of the sources {names} serves zone {zone}")
        for src in serving:
            tz = src.tz(zone)
            start = _resume_day(src, project, zone, now, history_days)
            end = src.last_day(zone, now)
            today = timeutil.local_today(now, tz)
            pending_from = end if end > today else None
            if start <= end:
                batches += _batches(src, zone, start, end, now, pending_from)
            batches.append(_Batch(src, zone, None, now, 1))
    return batches


def update(project: Project, zones: Sequence[str], sources: Sequence[str] | None = None, *, now: Any = None,
           history_days: int | None = None, base_urls: Mapping[str, str] | None = None,
           options: Mapping[str, Mapping[str, Any]] | None = None, settings: HttpSettings | None = None,
           progress: Progress | None = None, log: Callable[[str], None] | None = None,
           yes: bool = False, quality_gate: bool = True, flatliner_hours: int | None = None) -> IngestReport:
    """Bring each zone up to date: from the newest stored time (or ``history_days`` back on an
    empty store) to the newest published day (tomorrow once the auction is out; a 404 for it
    is expected and reported as pending), plus each source's newest forecast. ``yes``,
    ``quality_gate`` and ``flatliner_hours`` as in :func:`backfill`."""
    now = timeutil.to_utc(now)
    flat = quality.flatliner_hours(flatliner_hours)
    with make_client(project, settings) as http:
        batches = plan_update(project, zones, sources, http, now, history_days or DEFAULT_HISTORY_DAYS,
                              base_urls, options)
        check_now(list({b.source.name: b.source for b in batches}.values()), now)
        check_size(batches, yes)
        return run_batches(project, batches, http, progress=progress, log=log,
                           flatliner_hours=flat if quality_gate else None)


# -- running -----------------------------------------------------------------------------------
def run_batches(project: Project, batches: Sequence[_Batch], http: HttpClient, *, progress: Progress | None = None,
                log: Callable[[str], None] | None = None, prefetch: int | None = None,
                flatliner_hours: int | None = quality.DEFAULT_FLATLINER_HOURS) -> IngestReport:
    """Fetch up to ``prefetch`` batches ahead (default: the HTTP concurrency) and commit them in
    order; after each batch that wrote prices, check its days and store the flags
    (``flatliner_hours`` None: no day-level checks)."""
    report = IngestReport()
    total = sum(b.units for b in batches)
    done = 0
    names = {g for b in batches for g in b.source.writes}
    gate = flatliner_hours is not None and "prices" in names
    groups = _feature_groups(project, names | ({DATA_QUALITY.name} if gate else set()))
    check_not_mixing_synthetic(groups, batches)
    ahead = prefetch or http.settings.concurrency
    pending: deque[tuple[_Batch, Future[FetchResult]]] = deque()
    todo = iter(batches)
    if progress:
        progress(0, total, "starting")
    with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="spotcast-batch") as pool:
        try:
            _fill(pending, todo, pool, ahead)
            while pending:
                batch, fut = pending.popleft()
                try:
                    result = fut.result()
                    _commit(batch, result, groups, report)
                    if gate and "prices" in batch.source.writes and batch.request is not None:
                        _check_days(batch, groups, report, flatliner_hours)  # type: ignore[arg-type]
                except SpotcastError as exc:
                    raise type(exc)(_failure_message(exc, batch, report)) from exc
                except Exception as exc:  # a plugin bug: still say what was committed
                    raise SourceError(_failure_message(exc, batch, report)) from exc
                if result.pending and log:
                    log(f"not published yet (normal before ~13:00 CET): {', '.join(result.pending)}")
                if result.notes and log:
                    for note in result.notes:
                        log(f"{batch.source.name} {batch.zone}: {note}")
                report.pending += result.pending
                report.notes += [f"{batch.source.name} {batch.zone}: {n}" for n in result.notes]
                report.batches += 1
                done += batch.units
                if progress:
                    progress(done, total, batch.label)
                _fill(pending, todo, pool, ahead)
        finally:
            for _, fut in pending:
                fut.cancel()
    report.requests_sent, report.cache_hits, report.retries = http.sent, http.cache_hits, http.retried
    return report


SYNTHETIC = "synthetic"


def check_not_mixing_synthetic(groups: Mapping[str, Any], batches: Sequence[_Batch]) -> None:
    """Refuse, before anything is fetched or written, to put synthetic rows into a zone that
    holds real ones or the other way round: keyed on (zone, ts), the newer would silently
    overwrite the older and every later stage would learn from a blend of both."""
    for zone, name, writes in sorted({(b.zone, b.source.name, tuple(b.source.writes)) for b in batches}):
        for group in writes:
            fg = groups[group]
            try:
                stored = fg.select(["source"]).filter(fg.zone == zone).read()["source"]
            except NotFoundError:  # created, never written
                continue
            others = sorted({str(v) for v in stored.dropna().unique() if (v == SYNTHETIC) != (name == SYNTHETIC)})
            if others:
                kind, theirs = ("synthetic", "real") if name == SYNTHETIC else ("real", "synthetic")
                raise ValidationError(
                    f"{group} for {zone} in this store come from {', '.join(others)} ({theirs} data); source "
                    f"{name} would mix {kind} rows into them. Use a separate store for synthetic data, e.g. "
                    f"`spotcast --store demo.duckdb run --zone {zone} --source synthetic` (or SPOTCAST_STORE); "
                    "nothing was written")


def _fill(pending: deque[tuple[_Batch, Future[FetchResult]]], todo: Iterable[_Batch], pool: ThreadPoolExecutor,
          ahead: int) -> None:
    while len(pending) < ahead:
        batch = next(todo, None)  # type: ignore[call-overload]
        if batch is None:
            return
        pending.append((batch, pool.submit(batch.run)))


def _feature_groups(project: Project, names: Iterable[str]) -> dict[str, Any]:
    fs = project.get_feature_store()
    return {n: CONTRACTS[n].get_or_create(fs) for n in sorted(names)}


def _commit(batch: _Batch, result: FetchResult, groups: Mapping[str, Any], report: IngestReport) -> None:
    unexpected = sorted(set(result.frames) - set(batch.source.writes))
    if unexpected:
        raise SourceError(f"source {batch.source.name} returned frames for {unexpected}, "
                          f"but declares it writes only {list(batch.source.writes)}")
    # Check every frame before writing any, so a bad one leaves nothing of the batch behind.
    frames = {name: CONTRACTS[name].conform(df) for name, df in result.frames.items() if df is not None and len(df)}
    if len(frames) > 1:  # (a single frame is checked by the store itself before it writes anything)
        for name, df in frames.items():
            c = CONTRACTS[name]
            label = f"{name} v{c.version} from source {batch.source.name}"
            to_arrow(df, c.features(), c.primary_key, label)
            dup = df[df.duplicated(subset=list(c.primary_key), keep=False)]
            if len(dup):
                raise SourceError(f"{label}: key {list(c.primary_key)} repeats, e.g. {dup.iloc[0].to_dict()}")
    for name, df in frames.items():
        wrong = sorted(set(df["zone"]) - {batch.zone})
        if wrong:
            raise SourceError(f"source {batch.source.name} returned {name} rows for zone(s) {wrong} "
                              f"in a batch for {batch.zone}")
    if "prices" in frames:
        quality.check_limits(frames["prices"], batch.zone, f"prices from source {batch.source.name}")
    for name, df in frames.items():
        _count(report, name, groups[name].insert(df))


def _count(report: IngestReport, name: str, commit: Any) -> None:
    t = report.groups.setdefault(name, GroupTotals())
    t.rows_inserted += commit.rows_inserted
    t.rows_updated += commit.rows_updated
    if commit.changed:
        t.commits += 1
    else:
        t.unchanged_batches += 1


def _check_days(batch: _Batch, groups: Mapping[str, Any], report: IngestReport, flatliner_hours: int) -> None:
    """The gate's day flags for a batch's days, from the prices now stored, written to
    ``data_quality`` (an unchanged flag writes nothing). Days not published yet are skipped."""
    req = batch.request
    assert req is not None
    tz = batch.source.tz(batch.zone)
    lo, hi = timeutil.day_bounds(req.start, tz)[0], timeutil.day_bounds(req.end, tz)[1]
    fg = groups["prices"]
    try:
        stored = fg.select(["zone", "ts", "price_eur_mwh", "resolution_minutes"]).filter(
            (fg.zone == batch.zone) & (fg.ts >= lo) & (fg.ts < hi)).read()
    except NotFoundError:  # nothing written yet
        stored = pd.DataFrame(columns=["zone", "ts", "price_eur_mwh", "resolution_minutes"])
    have = set(pd.DatetimeIndex(stored["ts"]).tz_convert(tz).date) if len(stored) else set()
    days = [d for d in timeutil.days(req.start, req.end) if d in have or not req.may_be_pending(d)]
    if not days:
        return
    flags = quality.day_flags(stored, batch.zone, days, tz, flatliner_hours)
    _count(report, DATA_QUALITY.name, groups[DATA_QUALITY.name].insert(flags))
    report.days_checked += len(days)
    report.quality_failures += quality.failures(flags)


def _failure_message(exc: BaseException, batch: _Batch, report: IngestReport) -> str:
    before = (f"{report.batches} earlier batch(es) are committed" if report.batches
              else "no batch was committed")
    return (f"{exc} [batch {batch.label}: nothing of it was written; {before}. "
            "Fix the cause and rerun the same command to resume: cached days are not requested again.]")


# -- check ---------------------------------------------------------------------------------------
def check(sources: Sequence[str] | None = None, base_url: str | None = None,
          settings: HttpSettings | None = None) -> pd.DataFrame:
    """One small live request per network source (no cache, one retry): is it reachable and
    answering in the format its parser expects? Failures are reported per source, redacted;
    without named sources, one whose key is not set is skipped."""
    classes = source_classes()
    names = list(sources) if sources else [n for n, c in classes.items() if c.network]
    for n in names:
        get_source_class(n)
    if base_url and len(names) != 1:
        raise ValidationError("--base-url needs exactly one --source")
    settings = dataclasses.replace(settings or HttpSettings.from_env(timeout=20.0, retries=1), cache_dir=None)
    rows = []
    with HttpClient(settings) as http:
        for name in names:
            cls, src = classes[name], None
            if not sources and cls.secret_env and not os.environ.get(cls.secret_env):
                rows.append({"source": name, "status": "skipped", "detail": f"{cls.secret_env} is not set", "url": ""})
                continue
            try:
                src = make_source(name, http, base_url)
                status, detail = "ok", src.check()
            except Exception as exc:  # reported per source: `check` exists to show failures
                status, detail = "failed", http.redact(f"{type(exc).__name__}: {exc}")
            rows.append({"source": name, "status": status, "detail": detail, "url": (src.base_url or "") if src else ""})
    return pd.DataFrame(rows, columns=["source", "status", "detail", "url"])
