"""Entry point of the local backend: one DuckDB file, its connections, read-only SQL and the
outbox of events written with the data."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from spotcast_storage.base import ProjectBase, check_name
from spotcast_storage.errors import ReadOnlyError, StoreNotFoundError, UsageError, ValidationError
from spotcast_storage.events import Event
from spotcast_storage.local import connection
from spotcast_storage.local.bookkeeping import BOOKKEEPING, SCHEMA_VERSION
from spotcast_storage.local.convert import jsonable, run_query
from spotcast_storage.local.events import LocalEventLog
from spotcast_storage.local.registry import LocalModelRegistry
from spotcast_storage.local.sql import q
from spotcast_storage.local.store import LocalFeatureStore
from spotcast_storage.query import to_utc_timestamp

_READ_STATEMENTS = {"SELECT", "EXPLAIN", "PRAGMA"}


def _stop(con: duckdb.DuckDBPyConnection, done: Any, thread: Any) -> None:
    """Interrupt ``con`` until the query thread says it is ``done`` (a ``threading.Event``). Once
    is not enough: DuckDB's interrupt does nothing while no query runs, so one that landed before
    the thread began its query (a Ctrl-C right after the start, a loaded machine) was lost and the
    query ran on for hours, holding the store (measured: a query started after an interrupt runs
    to its end). The thread's own ``is_alive`` cannot be asked: after a Ctrl-C interrupted
    ``join`` it said False here (Python 3.11) while the thread still ran."""
    gone = time.monotonic() + 1.0  # a Ctrl-C inside ``Thread.start`` itself can stop it from starting
    while not done.is_set():
        if thread.ident is None and time.monotonic() > gone:
            return  # the query thread never ran: nothing to stop, and nothing will set ``done``
        con.interrupt()
        done.wait(0.05)


def _interruptible(con: duckdb.DuckDBPyConnection, work: Any, timeout: float | None) -> Any:
    """Run ``work`` (a query on ``con``) in a helper thread, so that the timeout and Ctrl-C can
    stop it: DuckDB does not return to Python while a query runs, so neither a timer in the
    main thread nor its signal handler would get a chance; ``con.interrupt()`` from here does."""
    import threading

    if timeout is None and threading.current_thread() is not threading.main_thread():
        return work()  # no timeout, and Ctrl-C reaches only the main thread: nothing to watch for
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    t = threading.Thread(target=run, name="spotcast-sql", daemon=True)
    try:
        t.start()
        if not done.wait(timeout):
            _stop(con, done, t)
    except KeyboardInterrupt:
        _stop(con, done, t)
        raise
    if "error" in box:
        raise box["error"]
    return box["result"]


class LocalProject(ProjectBase):
    """Entry point of the local backend (Hopsworks: ``hopsworks.login()`` returns a Project)."""

    mode = "local"
    sql_dialect = "duckdb"
    """Capabilities a stage may use instead of testing the mode: this store answers DuckDB SQL
    (``sql``, ``create_sql_view``), can be reopened read-only (:meth:`reader`) and says when its
    contents changed (:meth:`change_token`)."""

    def __init__(self, path: str | os.PathLike[str], read_only: bool = False) -> None:
        self.read_only = read_only
        self.path = Path(path).expanduser().resolve()
        self.artifacts_dir = self.path.with_name(self.path.stem + "-artifacts")
        # files the commands write (forecast CSV/PNG, charts, reports): see config.outputs_dir
        self.outputs_dir = self.path.with_name(self.path.stem + "-outputs")
        self._initialised = False
        self.name = self.path.stem

    def __repr__(self) -> str:
        return f"<LocalProject {self.path}>"

    def describe(self) -> str:
        return f"local store {self.path}" + (" (read-only)" if self.read_only else "")

    def reader(self) -> LocalProject:
        """The same store opened read-only (itself when it already is): a reader such as the API
        never takes the store's write lock."""
        return self if self.read_only else LocalProject(self.path, read_only=True)

    def change_token(self) -> tuple[Any, Any]:
        """Changes whenever a write reached the store file or its write-ahead log (for caches)."""
        def stat(p: Path) -> Any:
            try:
                st = p.stat()
            except FileNotFoundError:
                return None
            return (st.st_ino, st.st_size, st.st_mtime_ns)

        return stat(self.path), stat(self.path.with_name(self.path.name + ".wal"))

    # -- connections ---------------------------------------------------------------------
    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write cursor for one transaction's worth of work."""
        if self.read_only:
            raise ReadOnlyError(
                f"{self.describe()} was opened read-only (get_storage(read_only=True)); "
                "open it without read_only to write"
            )
        with connection.connect(self.path, write=True) as con:
            if not self._initialised:
                with connection.transaction(con, self.path):
                    con.execute(BOOKKEEPING)
                    con.execute(
                        "INSERT OR IGNORE INTO _spotcast.meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
                    )
                self._initialised = True
            yield con

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connection.connect(self.path, write=False) as con:
            yield con

    def check_exists(self) -> None:
        """For commands that only read: the store must exist (a missing one is an error, not an
        empty listing), be a file and be a DuckDB database."""
        self._require_file()
        with self.read() as con:  # opening it tells a DuckDB file from any other
            con.execute("SELECT 1")

    def _require_file(self) -> None:
        connection.check_store_path(self.path)
        if not self.path.exists():
            raise StoreNotFoundError(
                f"no spotcast store at {self.path}; point --store (or SPOTCAST_STORE) at an existing store, "
                "or create one with `spotcast run` or `spotcast-ingest backfill ...`")

    def has_bookkeeping(self, con: duckdb.DuckDBPyConnection) -> bool:
        return bool(connection.one_row(
            con, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = '_spotcast' AND table_name = 'commits'"
        )[0])

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """The rows of a query on the bookkeeping; none while the store has no file or no
        bookkeeping yet (a reader never creates either: the first write does)."""
        if not self.path.exists():
            return []
        with self.read() as con:
            # Ask first, check after: the bookkeeping is there on every store but a new one,
            # and a check before each of the many small reads of a command cost as much as they.
            try:
                return con.execute(sql, list(params)).fetchall()
            except duckdb.CatalogException:
                if not self.has_bookkeeping(con):
                    return []
                raise

    def close(self) -> None:
        connection.release(self.path)

    # -- Hopsworks-shaped accessors --------------------------------------------------------
    def get_feature_store(self, name: str | None = None) -> LocalFeatureStore:
        return LocalFeatureStore(self)

    def get_model_registry(self) -> LocalModelRegistry:
        return LocalModelRegistry(self)

    def get_event_log(self) -> LocalEventLog:
        return LocalEventLog(self)

    # -- SQL ---------------------------------------------------------------------------------
    def sql(self, query: str, params: Sequence[Any] | None = None, timeout: float | None = None) -> pd.DataFrame:
        """Run one read-only SQL statement and return a DataFrame.

        Statements that would change anything (DML, DDL, COPY, ATTACH, SET, INSTALL…) are
        refused before they run, on top of the connection being read-only. ``timeout`` (seconds)
        interrupts a query that runs longer, so that it lets go of the file: while it runs,
        no writer can open the store."""
        if timeout is not None and not timeout > 0:
            raise UsageError(f"the SQL timeout must be a positive number of seconds, got {timeout}")
        self._require_file()
        with self.read() as con:
            try:
                statements = con.extract_statements(query)
            except duckdb.Error as exc:
                raise ValidationError(f"SQL does not parse: {exc}") from None
            if len(statements) != 1:
                raise ValidationError(f"give exactly one SQL statement (got {len(statements)})")
            kind = statements[0].type.name
            if kind not in _READ_STATEMENTS:
                raise ReadOnlyError(
                    f"refused: {kind} statements change the store or the session, and SQL access is "
                    "read-only. The store is unchanged. Write through the feature-store API or a stage command."
                )
            try:
                return _interruptible(con, lambda: run_query(con, query, params), timeout)
            except duckdb.InterruptException:
                raise ValidationError(
                    f"the query was stopped after {timeout:g} s (the SQL timeout) and let go of the store; "
                    "give it longer with --timeout SECONDS, or narrow it (a filter, a LIMIT)") from None
            except duckdb.Error as exc:
                err = connection.translate_readonly(exc)
                if err is exc:
                    raise ValidationError(f"SQL failed: {exc}") from None
                raise err from None

    def create_sql_view(self, name: str, sql: str) -> None:
        """Create or replace a plain SQL view in the store (e.g. forecast accuracy), so users
        get the same numbers as the CLI with ``select * from <name>``."""
        check_name(name, "view")
        with self.write() as con:
            con.execute(f"CREATE OR REPLACE VIEW main.{q(name)} AS {sql}")

    def commit_at(self, when: Any) -> int | None:
        t = to_utc_timestamp(when, name="as_of time")
        rows = self.fetch("SELECT max(commit_id) FROM _spotcast.commits WHERE committed_on <= ?", [t])
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    # -- events --------------------------------------------------------------------------
    def _append_event(self, con: duckdb.DuckDBPyConnection, kind: str, name: str, version: int,
                      commit_id: int | None, created_at: pd.Timestamp, payload: dict[str, Any],
                      event_id: int | None = None) -> Event:
        if event_id is None:
            event_id = connection.one_row(con, "SELECT nextval('_spotcast.event_ids')")[0]
        con.execute(
            "INSERT INTO _spotcast.events VALUES (?, ?, ?, ?, ?, ?, ?)",
            [event_id, kind, name, version, commit_id, created_at, json.dumps(payload, default=jsonable)],
        )
        return Event(int(event_id), kind, name, version, commit_id, created_at.to_pydatetime(), payload)
