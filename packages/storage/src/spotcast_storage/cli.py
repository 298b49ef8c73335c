"""`spotcast-store`: look inside the store and query it with SQL.

Every command is a thin wrapper; the work happens in the storage API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from spotcast_storage.cli_common import (
    check_output_path,
    emit,
    fail,
    friendly_errors,
    open_store,
    stage_app,
)
from spotcast_storage.errors import UsageError
from spotcast_storage.text import iso

app = stage_app(
    "store",
    "Inspect the spotcast store and query it with SQL.\n\nExample: spotcast-store ls",
    "spotcast-storage",
)

FormatOption = Annotated[str, typer.Option("--format", "-f", help="table | csv | json")]


@app.command("ls")
@friendly_errors
def ls_cmd(fmt: FormatOption = "table") -> None:
    """List feature groups (every version) and feature views.

    Example: spotcast-store ls --format json
    """
    import pandas as pd

    project = open_store(must_exist=True)
    fs = project.get_feature_store()
    rows = []
    groups = fs.get_feature_groups()
    newest = {g.name: g.version for g in groups}
    for g in groups:
        commits = g.commit_details(limit=1)
        last = next(iter(commits.values())).get("committedOn") if commits else None
        rows.append({
            "name": g.name, "version": g.version, "newest": g.version == newest[g.name],
            "primary_key": ",".join(g.primary_key), "event_time": g.event_time or "",
            "rows": g.count(), "last_commit": iso(last) if fmt == "table" else last, "description": g.description,
        })
    emit(pd.DataFrame(rows, columns=["name", "version", "newest", "primary_key", "event_time", "rows",
                                     "last_commit", "description"]), fmt, title="feature groups")
    views = fs.get_feature_views()
    if views and fmt == "table":
        emit(pd.DataFrame(views, columns=["feature view", "version"]), fmt)


@app.command("show")
@friendly_errors
def show_cmd(
    name: Annotated[str, typer.Argument(help="feature group name")],
    version: Annotated[int | None, typer.Option(help="version (default: newest)")] = None,
    limit: Annotated[int, typer.Option(help="rows to show")] = 10,
    fmt: FormatOption = "table",
) -> None:
    """Show a feature group's schema and its first rows.

    Example: spotcast-store show prices --limit 5
    """
    import pandas as pd

    _positive(limit, "--limit")
    fg = open_store(must_exist=True).get_feature_store().get_feature_group(name, version)
    if fmt == "table":
        typer.echo(f"{fg.name} v{fg.version}: {fg.description}")
        typer.echo(f"primary key {fg.primary_key}, event time {fg.event_time}"
                   + (f", known at {fg.known_at}" if fg.known_at else "") + f", {fg.count()} rows")
        emit(pd.DataFrame([{"feature": f.name, "type": f.type, "primary": f.primary,
                            "description": f.description} for f in fg.features]), "table")
    emit(fg.select_all().show(limit), fmt)


@app.command("log")
@friendly_errors
def log_cmd(
    name: Annotated[str, typer.Argument(help="feature group name")],
    version: Annotated[int | None, typer.Option(help="version (default: newest)")] = None,
    limit: Annotated[int | None, typer.Option(help="newest N commits")] = None,
    fmt: FormatOption = "table",
) -> None:
    """List a feature group's commits, newest first (ids usable with as_of).

    Example: spotcast-store log prices --limit 10
    """
    import pandas as pd

    if limit is not None:
        _positive(limit, "--limit")
    fg = open_store(must_exist=True).get_feature_store().get_feature_group(name, version)
    details = fg.commit_details(limit=limit)
    emit(pd.DataFrame([{"commit_id": c, **d, **({"committedOn": iso(d["committedOn"])} if fmt == "table" else {})}
                       for c, d in details.items()],
                      columns=["commit_id", "committedOn", "rowsInserted", "rowsUpdated", "rowsDeleted", "operation"]),
         fmt, title=f"commits of {fg.name} v{fg.version}")


@app.command("events")
@friendly_errors
def events_cmd(
    after: Annotated[int, typer.Option(help="show events after this id")] = 0,
    limit: Annotated[int, typer.Option(help="at most this many, newest last")] = 50,
    consumer: Annotated[str | None, typer.Option(
        help="only events pending for this consumer (those `spotcast run` would give it, when it is installed)")] = None,
    fmt: FormatOption = "table",
) -> None:
    """List the event log and each consumer's cursor.

    Example: spotcast-store events --consumer features
    """
    import pandas as pd

    _positive(limit, "--limit")
    if after < 0:
        raise UsageError(f"--after must be 0 or a positive event id, got {after}")
    from spotcast_storage.pipeline import collect_handlers, pending_changes

    log = open_store(must_exist=True).get_event_log()
    cursors = log.cursors()
    handlers = {h.consumer: h for h in collect_handlers()}
    start = cursors.get(consumer, (0, None))[0] if consumer else after
    latest = log.latest_event_id()
    if consumer in handlers:  # what `run` would deliver, as `status` counts it
        events = pending_changes(log, handlers[consumer], start)[:limit]
    else:
        events = log.read(after=max(start, latest - limit) if not consumer else start, limit=limit)
    emit(pd.DataFrame([{
        "event_id": e.event_id, "kind": e.kind, "name": e.name, "version": e.version, "commit_id": e.commit_id,
        "created_at": iso(e.created_at), "changed": e.changed,
        "rows": f"+{e.payload.get('rows_inserted', 0)} ~{e.payload.get('rows_updated', 0)} -{e.payload.get('rows_deleted', 0)}"
        if e.kind == "commit" else "", "keys": json.dumps(e.payload.get("keys", {})) if e.kind == "commit" else "",
    } for e in events], columns=["event_id", "kind", "name", "version", "commit_id", "created_at", "changed", "rows", "keys"]),
        fmt, title="events")
    if fmt == "table":
        emit(pd.DataFrame([{"consumer": c, "cursor": e,
                            "pending_events": len(pending_changes(log, handlers[c], e)) if c in handlers else None,
                            "of_events": latest, "updated_at": iso(t)} for c, (e, t) in sorted(cursors.items())],
                          columns=["consumer", "cursor", "pending_events", "of_events", "updated_at"]),
             "table", title="consumers")


@app.command("models")
@friendly_errors
def models_cmd(
    name: Annotated[str | None, typer.Argument(help="only this model")] = None,
    fmt: FormatOption = "table",
) -> None:
    """List registered models, newest first: zones, type, gate decision, metrics, what they were
    trained on (the same listing as `spotcast-train models` and `spotcast-serve models`).

    Example: spotcast-store models --format json
    """
    from spotcast_storage.modellist import models_table

    emit(models_table(open_store(must_exist=True), name=name, for_people=fmt == "table"), fmt, title="models")


@app.command("plugins")
def plugins_cmd(fmt: FormatOption = "table") -> None:
    """List loaded plugins (built-in and third-party) and the hooks they implement.

    Example: spotcast-store plugins
    """
    import pandas as pd

    from spotcast_storage.plugins import list_plugins

    emit(pd.DataFrame([{"plugin": p.name, "distribution": p.distribution or "", "hooks": ", ".join(p.hooks)}
                       for p in list_plugins()], columns=["plugin", "distribution", "hooks"]), fmt, title="plugins")


@app.command("contracts")
def contracts_cmd() -> None:
    """Describe the feature-group contracts the stages share (names, keys, columns).

    Example: spotcast-store contracts
    """
    from spotcast_storage import contracts

    for c in contracts.ALL.values():
        typer.echo(c.describe() + "\n")


@app.command("sql")
@friendly_errors
def sql_cmd(
    query: Annotated[str, typer.Argument(help="one SQL statement, e.g. \"select * from prices limit 5\"")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | csv | json | parquet")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write to this file")] = None,
    timeout: Annotated[float, typer.Option(help="stop the query after this many seconds, so it lets go of the "
                                           "store (writers cannot open it while a query runs)")] = 30.0,
) -> None:
    """Run a read-only SQL query on the local store (DuckDB dialect).

    Tables: <name>_v<version> per feature-group version, and a view <name> for the newest.

    Example: spotcast-store sql "select zone, avg(price_eur_mwh) from prices group by zone" --format csv
    """
    if not timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, got {timeout:g}")
    check_output_path(output)
    project = open_store(must_exist=True)
    if not hasattr(project, "sql"):
        fail(f"sql works on the local store only; {project.describe()} has no SQL access")
    emit(project.sql(query, timeout=timeout), fmt, output=output)


def _positive(value: int, option: str) -> None:
    if value < 1:
        raise UsageError(f"{option} must be at least 1, got {value}")


def main() -> None:
    app()
