"""What every spotcast CLI shares: ``--store``/``--mode`` options, error printing, output formats.

Each stage's Typer app calls :func:`add_store_options` so that ``spotcast-ingest --store X``
and ``spotcast ingest --store X`` behave the same; commands then call :func:`open_store`.
"""

from __future__ import annotations

import functools
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
import typer

from spotcast_storage import config
from spotcast_storage.errors import SpotcastError

F = TypeVar("F", bound=Callable[..., Any])

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", envvar="SPOTCAST_STORE", help="DuckDB file of the local store "
                 "[default: ./.spotcast/store.duckdb]", show_default=False),
]
ModeOption = Annotated[
    str | None,
    typer.Option("--mode", envvar="SPOTCAST_MODE", help="local | hopsworks (production is a synonym); "
                 "default: hopsworks when HOPSWORKS_API_KEY is set, else local", show_default=False),
]
FORMATS = ("table", "csv", "json")


def store_callback(store: StoreOption = None, mode: ModeOption = None) -> None:
    """Typer callback: remember --store/--mode for every get_storage() in this process."""
    try:
        config.set_defaults(path=store, mode=mode)
    except SpotcastError as exc:
        fail(str(exc))


def add_store_options(app: typer.Typer) -> typer.Typer:
    app.callback()(store_callback)
    return app


def open_store(**options: Any) -> Any:
    from spotcast_storage import get_storage

    return get_storage(**options)


def fail(message: str, code: int = 1) -> None:
    """Print a user-facing error (no traceback) and exit."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def friendly_errors(fn: F) -> F:
    """Turn SpotcastError (and ValueError from bad input) into a one-line message and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SpotcastError as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def emit(df: pd.DataFrame, fmt: str = "table", title: str | None = None, output: Path | None = None) -> None:
    """Print a frame for people (rich table) or programs (csv/json/parquet)."""
    if fmt not in (*FORMATS, "parquet"):
        fail(f"unknown format {fmt!r}; use one of {', '.join((*FORMATS, 'parquet'))}")
    if fmt == "parquet":
        if output is None:
            fail("--format parquet needs --output FILE")
        df.to_parquet(output, index=False)
        typer.echo(f"wrote {len(df)} rows to {output}", err=True)
        return
    if fmt == "csv":
        text = df.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
    elif fmt == "json":
        text = json.dumps(json.loads(df.to_json(orient="records", date_format="iso", date_unit="s")), indent=2) + "\n"
    else:
        text = render_table(df, title)
    if output is not None:
        Path(output).write_text(text)
        typer.echo(f"wrote {len(df)} rows to {output}", err=True)
    else:
        sys.stdout.write(text)


def render_table(df: pd.DataFrame, title: str | None = None, max_rows: int = 200) -> str:
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
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e-3 or abs(v) >= 1e6 else f"{v:.3f}".rstrip("0").rstrip(".")
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return str(v)
