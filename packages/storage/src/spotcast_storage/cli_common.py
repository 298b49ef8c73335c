"""What every spotcast CLI shares: ``--store``/``--mode`` options, error printing, output formats.

Each stage's Typer app is made by :func:`stage_app` (which adds the store options), so that
``spotcast-ingest --store X`` and ``spotcast ingest --store X`` behave the same; commands then
call :func:`open_store`. Nothing here imports pandas at module level: every CLI imports this
module for ``--help``.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from spotcast_storage import config
from spotcast_storage.errors import SpotcastError, UsageError
from spotcast_storage.text import iso_frame

if TYPE_CHECKING:  # pandas is imported by the commands that print frames, not by `--help`
    import pandas as pd

F = TypeVar("F", bound=Callable[..., Any])

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="DuckDB file of the local store; beats SPOTCAST_STORE "
                 "[default: $SPOTCAST_STORE, else ./.spotcast/store.duckdb]", show_default=False),
]
ModeOption = Annotated[
    str | None,
    typer.Option("--mode", help="local | hopsworks | a plugin backend's mode (production = hopsworks); beats SPOTCAST_MODE; "
                 "default: hopsworks when HOPSWORKS_API_KEY is set, else local", show_default=False),
]
FORMATS = ("table", "csv", "json")


def store_callback(store: StoreOption = None, mode: ModeOption = None) -> None:
    """Typer callback: remember --store/--mode for every get_storage() in this process.

    The options have no ``envvar``: the environment is read once, in :mod:`spotcast_storage.config`,
    below every flag of every level (see :func:`spotcast_storage.config.resolve_store_path`)."""
    try:
        config.set_defaults(path=store, mode=mode)
    except SpotcastError as exc:
        fail(str(exc), USAGE_EXIT)


def add_store_options(app: typer.Typer) -> typer.Typer:
    app.callback()(store_callback)
    return app


def stage_app(name: str, help: str, distribution: str) -> typer.Typer:
    """The Typer app of a spotcast CLI, with the settings every one shares: ``--store``/``--mode``,
    ``--version`` (of ``distribution``, from the installed metadata), help when called without a
    command, and plain (click) help text. Typer's rich help imports rich's markdown and syntax
    renderers, about 0.3 s before the first line; plain help keeps ``--help`` and usage errors
    fast (``benchmarks/cli.py`` measures it)."""

    def show_version(value: bool) -> None:
        if value:
            from spotcast_storage.versions import describe

            typer.echo(describe(distribution))
            raise typer.Exit()

    def callback(
        store: StoreOption = None,
        mode: ModeOption = None,
        # a default, not an Annotated hint: hints are strings here (postponed evaluation)
        # and could not see this function's `distribution`
        version: bool = typer.Option(False, "--version", is_eager=True, callback=show_version,
                                     help=f"print the installed version of {distribution} and exit"),
    ) -> None:
        store_callback(store, mode)

    app = typer.Typer(name=name, help=help, no_args_is_help=True, rich_markup_mode=None)
    app.callback()(callback)
    return app


USAGE_EXIT = 2
"""Exit code for a usage error (bad argument or path), as Click uses for its own."""


def open_store(must_exist: bool = False, **options: Any) -> Any:
    """The store the command's flags and environment name. ``must_exist``: a command that only
    reads fails on a store that does not exist, instead of showing an empty one."""
    from spotcast_storage import get_storage

    project = get_storage(**options)
    if must_exist and hasattr(project, "check_exists"):
        project.check_exists()
    return project


def fail(message: str, code: int = 1) -> None:
    """Print a user-facing error (no traceback) and exit."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def usage_error(message: str) -> None:
    """A bad argument: one line saying what is wrong and how to fix it, exit code 2."""
    fail(message, USAGE_EXIT)


def friendly_errors(fn: F) -> F:
    """Turn SpotcastError into a one-line message: exit 2 for a usage error (bad argument or
    path, :class:`~spotcast_storage.errors.UsageError`), else 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UsageError as exc:
            fail(str(exc), USAGE_EXIT)
        except SpotcastError as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def parse_now(text: str | None, option: str = "--now") -> Any:
    """A ``--now`` value as a UTC timestamp (see :func:`spotcast_storage.query.parse_instant`)."""
    from spotcast_storage.query import parse_instant

    return None if text is None else parse_instant(text, option)


def check_output_path(output: Path | None, option: str = "--output") -> None:
    """An output file's folder must exist: say so before any work, not after it."""
    if output is None:
        return
    parent = Path(output).expanduser().parent
    if Path(output).is_dir():
        raise UsageError(f"{option} {output} is a folder; give a file name, e.g. {Path(output) / 'result.csv'}")
    if not parent.is_dir():
        raise UsageError(f"{option} {output}: the folder {parent} does not exist; create it first or choose "
                         "another path")


def emit(df: pd.DataFrame, fmt: str = "table", title: str | None = None, output: Path | None = None) -> None:
    """Print a frame for people (rich table) or programs (csv/json/parquet)."""
    if fmt not in (*FORMATS, "parquet"):
        usage_error(f"unknown format {fmt!r}; use one of {', '.join((*FORMATS, 'parquet'))}")
    check_output_path(output)
    if fmt == "parquet":
        if output is None:
            usage_error("--format parquet needs --output FILE")
        df.to_parquet(output, index=False)
        typer.echo(f"wrote {len(df)} rows to {output}", err=True)
        return
    if fmt == "csv":
        text = iso_frame(df).to_csv(index=False)
    elif fmt == "json":
        text = json.dumps(json.loads(iso_frame(df).to_json(orient="records", double_precision=15)), indent=2) + "\n"
    else:
        text = render_table(df, title)
    if output is not None:
        Path(output).write_text(text)
        typer.echo(f"wrote {len(df)} rows to {output}", err=True)
    else:
        sys.stdout.write(text)


def render_table(df: pd.DataFrame, title: str | None = None, max_rows: int = 200) -> str:
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for c in df.columns:
        table.add_column(str(c), justify="right" if pd.api.types.is_numeric_dtype(df[c]) else "left")
    for row in df.head(max_rows).itertuples(index=False):
        table.add_row(*(_fmt(v) for v in row))
    buf = io.StringIO()
    Console(file=buf, width=max(100, min(250, 20 * len(df.columns))), force_terminal=False).print(table)
    out = buf.getvalue()
    if len(df) > max_rows:
        out += f"... {len(df) - max_rows} more rows (use --format csv for all)\n"
    return out


def _fmt(v: Any) -> str:
    import pandas as pd

    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e-3 or abs(v) >= 1e6 else f"{v:.3f}".rstrip("0").rstrip(".")
    if isinstance(v, pd.Timestamp):
        from spotcast_storage.text import iso

        return iso(v) or ""
    return str(v)


Step = Callable[..., None]
"""``step(done, total, detail="")``: what a long step reports after each unit of work."""


@contextlib.contextmanager
def progress(label: str, unit: str, enabled: bool = True) -> Iterator[Step | None]:
    """Progress of a long step, on stderr (stdout may be CSV or JSON for a program): in a terminal
    a rich bar with the count in ``unit`` ("12/112 origin forecasts"), what is being done and the
    time so far; in a log (not a terminal) one line per tenth of the work and per new ``detail``,
    so a scheduled run's log says what it did and how long each part took. ``enabled=False``
    (``--no-progress``, or a machine-readable format) yields ``None``: callers pass it on as "no
    progress callback"."""
    if not enabled:
        yield None
        return
    from rich.console import Console

    console = Console(stderr=True)
    start = time.monotonic()
    if not console.is_terminal:
        shown: dict[str, object] = {}

        def line(done: int, total: int, detail: str = "") -> None:
            tenth = (10 * done) // total if total else 0
            if done != total and shown.get("tenth") == tenth and shown.get("detail") == detail:
                return
            shown.update(tenth=tenth, detail=detail)
            more = f", {detail}" if detail else ""
            typer.echo(f"{label}: {done}/{total} {unit}{more} ({time.monotonic() - start:.0f} s)", err=True)

        yield line
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
                  TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(label, total=None, detail="")

        def update(done: int, total: int, detail: str = "") -> None:
            bar.update(task, completed=done, total=total, detail=detail)

        yield update


_freeze_at_exit = False


@contextlib.contextmanager
def collector_paused() -> Iterator[Callable[[], None]]:
    """Pause Python's cyclic garbage collector while a batch command warms up; yields ``warm()``.

    Why: the first item of a command such as ``spotcast-serve predict`` imports pandas, DuckDB,
    xgboost and matplotlib, which leaves a few hundred thousand long-lived objects that the
    collector scans over and over (young passes, then full passes as the heap grows) and never
    frees: a sizeable share of the command's time. Call ``warm()`` when the first item is done:
    the objects alive then go to the permanent generation (:func:`gc.freeze`), which no pass
    scans, and the collector runs again, so the garbage of later items (figures, frames) is
    still collected; only the first item's own garbage waits for the end. On leaving, the
    frozen objects are handed back to the collector (unless someone froze before us, as the
    API server does), so a long-lived process that calls a command (a test) keeps nothing.

    And when the process exits, everything still alive is frozen first (an ``atexit`` hook), so
    the interpreter's shutdown collections do not walk those libraries' objects once more, which
    took longer than the forecast of a zone. The price: a reference cycle still alive at exit is
    not finalized by the collector (objects freed by reference counting are, files and DuckDB
    connections are closed explicitly, and ``atexit`` hooks registered earlier still run after
    this one)."""
    global _freeze_at_exit
    if not _freeze_at_exit:
        _freeze_at_exit = True
        atexit.register(gc.freeze)
    was_enabled = gc.isenabled()
    froze_before = gc.get_freeze_count() > 0
    warmed = False

    def warm() -> None:
        nonlocal warmed
        if not warmed:
            warmed = True
            if not froze_before:  # someone else's freeze (the API server's) is theirs to manage
                gc.freeze()
            if was_enabled:
                gc.enable()

    gc.disable()
    try:
        yield warm
    finally:
        if warmed and not froze_before:
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def key_values(pairs: list[str] | None, example: str = "seed=3") -> dict[str, str]:
    """``KEY=VALUE`` command-line pairs (repeatable options such as ``--base-url SOURCE=URL``) as
    a dict; a pair without ``=`` or key is a usage error that shows the form."""
    out: dict[str, str] = {}
    for p in pairs or []:
        key, sep, value = p.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"option {p!r} is not KEY=VALUE (e.g. {example})")
        out[key.strip()] = value.strip()
    return out
