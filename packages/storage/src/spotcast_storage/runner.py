"""`spotcast run` and `spotcast status`: the event-driven pipeline.

`run` performs the registered pipeline steps (the ingest update), then delivers pending
events to every registered handler after its durable cursor, round after round, until
nothing is pending. A handler's cursor moves only after it returned, so a run that was
killed resumes where it stopped; handlers are idempotent, so repeating one changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

from spotcast_storage.cli_common import emit, friendly_errors, key_values, open_store, parse_now
from spotcast_storage.errors import UsageError
from spotcast_storage.events import Event
from spotcast_storage.runoptions import RunOptions
from spotcast_storage.text import format_metrics, iso, plural
from spotcast_storage.zones import parse_zone

if TYPE_CHECKING:  # pandas and the pipeline are imported by `run`/`status`, not by `spotcast --help`
    from spotcast_storage.pipeline import EventHandler, RunContext

MAX_ROUNDS = 50


@dataclass
class RunReport:
    steps: list[tuple[str, str]] = field(default_factory=list)
    deliveries: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def did_something(self) -> bool:
        return bool(self.deliveries)


def _why(events: list[Event]) -> str:
    by: dict[str, list[Event]] = {}
    for e in events:
        by.setdefault(f"{e.kind} {e.name}", []).append(e)
    parts = []
    for evs in by.values():
        keys = sorted({v for e in evs for vals in e.payload.get("keys", {}).values() for v in vals})
        rows = sum(e.payload.get("rows_inserted", 0) + e.payload.get("rows_updated", 0) for e in evs)
        kind, name = evs[0].kind, evs[0].name
        if kind == "commit":
            head = f"{plural(len(evs), 'new commit')} of {name}, {plural(rows, 'row')}"
        else:
            head = f"{plural(len(evs), f'new {kind}')} {name} v{max(e.version for e in evs)}"
        parts.append(head + (f" ({', '.join(keys[:6])})" if keys else ""))
    return "; ".join(parts)


def deliver(ctx: RunContext, handlers: list[EventHandler] | None = None, report: RunReport | None = None) -> RunReport:
    """Feed pending events to handlers until none is pending (bounded number of rounds)."""
    from spotcast_storage.pipeline import collect_handlers

    report = report or RunReport()
    handlers = collect_handlers() if handlers is None else handlers
    log = ctx.project.get_event_log()
    for _ in range(MAX_ROUNDS):
        progressed = False
        for h in handlers:
            pending = log.pending(h.consumer, kinds=h.kinds, names=h.names or None)
            if not pending:
                continue
            last = pending[-1].event_id
            changed = [e for e in pending if e.changed]
            if changed:
                why = _why(changed)
                summary = h.handle(changed, ctx)
                report.deliveries.append((h.consumer, len(changed), summary or "nothing to do"))
                ctx.log(f"{h.consumer}: {why} -> {summary or 'nothing to do'}")
            log.ack(h.consumer, last)
            progressed = progressed or bool(changed)
        if not progressed:
            return report
    raise RuntimeError(
        f"events were still pending after {MAX_ROUNDS} rounds: a handler keeps producing events it "
        "consumes itself; check the registered handlers with `spotcast-store plugins`"
    )


def run_once(ctx: RunContext) -> RunReport:
    from spotcast_storage.pipeline import collect_steps

    report = RunReport()
    for step in collect_steps():
        t = time.perf_counter()
        summary = step.run(ctx)
        report.steps.append((step.name, summary or ""))
        ctx.log(f"{step.name}: {summary or 'nothing new'} ({time.perf_counter() - t:.1f} s)")
    return deliver(ctx, report=report)


def _parse_interval(text: str) -> float:
    import pandas as pd

    try:
        td = pd.Timedelta(text)
    except ValueError:
        raise UsageError(f"--interval {text!r} is not a duration: use e.g. 15m, 1h, 90s") from None
    if td.total_seconds() <= 0:
        raise UsageError(f"--interval must be positive, got {text!r}")
    return td.total_seconds()


def _default_zones(project: Any) -> list[str]:
    try:
        df = project.get_feature_store().get_feature_group("prices", 1).select(["zone"]).read()
        zones = sorted(df.zone.unique().tolist())
    except Exception:
        zones = []
    return zones or ["SE3"]


@friendly_errors
def run_cmd(
    zone: Annotated[list[str] | None, typer.Option("--zone", "-z", help="bidding zone (repeatable); default: "
                                                   "the zones already in the store, else SE3")] = None,
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="ingest source (repeatable), e.g. "
                                                     "synthetic; default: each zone's real sources")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="keep running, one pass per --interval")] = False,
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit (the default)")] = False,
    interval: Annotated[str, typer.Option(help="time between passes with --watch, e.g. 15m, 1h")] = "15m",
    history_days: Annotated[int | None, typer.Option(help="history an empty store backfills first")] = None,
    now: Annotated[str | None, typer.Option(help="pretend it is this time (UTC), for replays and tests")] = None,
    outputs: Annotated[str | None, typer.Option(help="folder for forecast CSV/PNG files [default: beside the "
                                                "store, <store name>-outputs/]; 'none' writes no files")] = None,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="if another `spotcast run` is working on this store, "
                                          "fail at once instead of waiting for it")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="go ahead with a backfill larger than the "
                                      "confirmation limit (the error names the size)")] = False,
    days: Annotated[int, typer.Option(help="local days forecast after the origin's day")] = RunOptions.days,
    quality_gate: Annotated[bool, typer.Option(help="check each day's prices before they are stored "
                                               "(--no-quality-gate skips it)")] = RunOptions.quality_gate,
    retrain_max_age_days: Annotated[int, typer.Option(help="retrain a model whose newest training origin is "
                                                      "older than this")] = RunOptions.retrain_max_age_days,
    retrain_accuracy_days: Annotated[int, typer.Option(help="days of tracked forecasts the retrain policy "
                                                       "judges")] = RunOptions.retrain_accuracy_days,
    retrain_min_tracked_days: Annotated[int, typer.Option(help="days of tracked forecasts a retrain on "
                                                          "accuracy needs")] = RunOptions.retrain_min_tracked_days,
    recalibrate: Annotated[bool, typer.Option(help="between retrains, refit the serving model's cheap members "
                                              "(LEAR) on each new labelled day; --no-recalibrate: only the "
                                              "weekly retrain refits")] = RunOptions.recalibrate,
    base_url: Annotated[list[str] | None, typer.Option(
        help="SOURCE=URL: fetch a source from this server (a mirror, a test server); repeatable; beats "
             "SPOTCAST_<SOURCE>_BASE_URL")] = None,
) -> None:
    """Run the pipeline: ingest new data, then build features, train and forecast as events dictate.

    A second run with no new data does nothing. Killed at any point, the next run resumes. One run
    per store at a time: a second one waits for the first (or fails at once with --no-wait).

    Example: spotcast run --zone SE3 --source synthetic
    """
    import pandas as pd

    from spotcast_storage.pipeline import RunContext
    from spotcast_storage.runlock import run_lock

    if watch and once:
        raise UsageError("choose --once or --watch, not both")
    wait = _parse_interval(interval)
    fixed_now = parse_now(now)
    if history_days is not None and history_days < 1:
        raise UsageError(f"--history-days must be at least 1, got {history_days}")
    given = [parse_zone(z).code for z in zone] if zone else None  # an unknown zone: error before any work
    project = open_store()
    for name, value in (("--days", days), ("--retrain-max-age-days", retrain_max_age_days),
                        ("--retrain-accuracy-days", retrain_accuracy_days),
                        ("--retrain-min-tracked-days", retrain_min_tracked_days)):
        if value < 1:
            raise UsageError(f"{name} must be at least 1, got {value}")
    urls = key_values(base_url, "--base-url elprisetjustnu=http://127.0.0.1:8080")
    no_files = outputs is not None and outputs.lower() == "none"
    options = RunOptions(yes=yes, history_days=history_days, quality_gate=quality_gate, files=not no_files,
                         outputs=None if no_files else outputs, days=days,
                         retrain_max_age_days=retrain_max_age_days, retrain_accuracy_days=retrain_accuracy_days,
                         retrain_min_tracked_days=retrain_min_tracked_days, recalibrate=recalibrate,
                         base_urls=urls or None)

    def log(msg: str) -> None:
        typer.echo(f"[{pd.Timestamp.now(tz='UTC'):%H:%M:%S}] {msg}")

    while True:
        with run_lock(project, wait=not no_wait, on_wait=log):
            zones = given or _default_zones(project)
            ctx = RunContext(project=project, zones=zones, sources=list(source) if source else None,
                             now=fixed_now or pd.Timestamp.now(tz="UTC"), options=options, log=log)
            report = run_once(ctx)
        if not report.did_something:
            typer.echo("nothing new: every stage is up to date")
        if not watch:
            return
        typer.echo(f"next pass in {interval} (Ctrl-C to stop)")
        try:
            time.sleep(wait)
        except KeyboardInterrupt:
            return


@friendly_errors
def status_cmd(fmt: Annotated[str, typer.Option("--format", "-f", help="table | json")] = "table") -> None:
    """Show each consumer's cursor and lag, the newest commit per feature group, the newest
    model and the newest forecast per zone.

    Example: spotcast status
    """
    import pandas as pd

    from spotcast_storage.pipeline import collect_handlers, pending_changes

    project = open_store(must_exist=True)
    log = project.get_event_log()
    latest = log.latest_event_id()
    handlers = {h.consumer: h for h in collect_handlers()}
    cursors = log.cursors()
    consumers = []
    for name in sorted(set(handlers) | set(cursors)):
        pos, when = cursors.get(name, (0, None))
        h = handlers.get(name)
        lag = len(pending_changes(log, h, pos)) if h else None
        consumers.append({"consumer": name, "cursor": pos, "pending_events": lag, "of_events": latest,
                          "updated_at": None if when is None else when.isoformat(),
                          "installed": h is not None})
    fs = project.get_feature_store()
    groups = []
    for g in fs.get_feature_groups():
        last = next(iter(g.commit_details(limit=1).items()), None)
        groups.append({"feature_group": f"{g.name} v{g.version}", "rows": g.count(),
                       "newest_commit": None if last is None else last[0],
                       "committed_on": None if last is None else last[1]["committedOn"]})
    models = [{"model": m.name, "version": m.version, "created": m.created.isoformat() if m.created is not None else None,
               "metrics": m.training_metrics} for m in _newest_models(project)]
    forecasts = _newest_forecasts(fs)
    serving = _serving(project)
    if fmt == "json":
        import json

        typer.echo(json.dumps({"consumers": consumers, "feature_groups": groups, "models": models,
                               "forecasts": forecasts, "serving": serving}, indent=2, default=str))
        return
    # for people: times to the second in one format, metrics as `mae 11.78, rmae 0.83`
    emit(pd.DataFrame([{**c, "updated_at": iso(c["updated_at"])} for c in consumers],
                      columns=["consumer", "cursor", "pending_events", "of_events", "updated_at", "installed"]),
         title="consumers")
    emit(pd.DataFrame([{**g, "committed_on": iso(g["committed_on"])} for g in groups],
                      columns=["feature_group", "rows", "newest_commit", "committed_on"]), title="feature groups")
    emit(pd.DataFrame([{**m, "created": iso(m["created"]), "metrics": format_metrics(m["metrics"])} for m in models],
                      columns=["model", "version", "created", "metrics"]), title="newest models")
    emit(pd.DataFrame([{**f, "newest_origin": iso(f["newest_origin"])} for f in forecasts],
                      columns=["zone", "newest_origin", "model", "model_version"]), title="newest forecasts")
    if serving:
        emit(pd.DataFrame([{"zone": s["zone"], "serving": "" if s["serving"] is None else
                            f"{s['serving']['name']} v{s['serving']['version']}", "state": s["state"]}
                           for s in serving]), title="serving models (promotion gate)")
        for s in serving:
            typer.echo(s["message"])


def _serving(project: Any) -> list[dict[str, Any]]:
    """Per zone with a registered model: which model serves and the newest gate decision."""
    from spotcast_storage.promotion import model_zones, serving_status

    zones = sorted({z for m in project.get_model_registry().get_models() for z in model_zones(m)})
    return [serving_status(project, z).to_dict() for z in zones]


def _newest_models(project: Any) -> list[Any]:
    newest: dict[str, Any] = {}
    for m in project.get_model_registry().get_models():
        if m.name not in newest or m.version > newest[m.name].version:
            newest[m.name] = m
    return list(newest.values())


def _newest_forecasts(fs: Any) -> list[dict[str, Any]]:
    from spotcast_storage.contracts.forecasts import FORECASTS

    try:  # the current version, or an older one a read-only status sees before the migration
        src = FORECASTS.source(fs)
        if src is None:
            return []
        df = src[0].select(["zone", "origin", "model", "model_version"]).read()
    except Exception:
        return []
    if df.empty:
        return []
    newest = df.sort_values("origin").groupby("zone", as_index=False).last()
    return [{"zone": r.zone, "newest_origin": r.origin.isoformat(), "model": r.model,
             "model_version": int(r.model_version)} for r in newest.itertuples()]
