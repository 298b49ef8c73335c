"""SQL over frames already in memory: one in-memory DuckDB per process, a cursor per query.

Why: several definitions are SQL that must also run on frames a backend has read (forecast
vintages, accuracy reports, point-in-time joins, the Hopsworks backend's exact joins). Each used
to open a throwaway ``duckdb.connect()``, which costs tens of milliseconds (a new database
instance) every time; a command such as ``spotcast-serve predict`` did that several times per
zone. Here the instance is made once per process (again after a fork) and every query gets its
own cursor -- its own DuckDB connection, so registered frames are private to it and threads do
not see each other's -- and the frames are unregistered when the query is done, so nothing
outlives it. Sessions are in UTC, as on the store's connections, so ``TIMESTAMPTZ`` values
come back as UTC whatever the machine's time zone.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

_lock = threading.Lock()
_instance: tuple[int, duckdb.DuckDBPyConnection] | None = None
_inherited: list[Any] = []
_scratch_ids = itertools.count(1)


def _new_lock_in_child() -> None:
    """A child made by fork gets a fresh lock: the parent's may have been held by one of its
    threads at the fork, and that thread does not exist in the child to release it."""
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_in_child)


def _connection() -> duckdb.DuckDBPyConnection:
    """The process's in-memory instance (a child made by fork gets its own: DuckDB's state is
    not fork-safe)."""
    global _instance
    import duckdb

    pid = os.getpid()
    if _instance is None or _instance[0] != pid:
        if _instance is not None:  # the parent's, inherited by fork: never closed here (its
            _inherited.append(_instance[1])  # threads do not exist in this process)
        con = duckdb.connect(":memory:")
        con.execute("SET GLOBAL TimeZone = 'UTC'")  # cursors inherit it
        _instance = (pid, con)
    return _instance[1]


@contextlib.contextmanager
def session(frames: dict[str, Any] | None = None, *, scratch: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor with ``frames`` (name -> pandas DataFrame or Arrow table) registered as views;
    they are unregistered and the cursor closed on leaving.

    ``scratch=True`` also makes a private in-memory database the cursor's default, for SQL that
    creates tables (``CREATE TABLE main.t ...``): they land there, unseen by other cursors, and
    are dropped with it on leaving. Fetch every result inside the block (DuckDB keeps a cursor
    busy until its result is drained)."""
    with _lock:  # one DuckDBPyConnection is not thread-safe; its cursors are, each in one thread
        cur = _connection().cursor()
    registered: list[str] = []
    scratch_name = None
    try:
        if scratch:
            scratch_name = f"_spotcast_scratch_{os.getpid()}_{next(_scratch_ids)}"
            cur.execute(f'ATTACH \':memory:\' AS "{scratch_name}"')
            cur.execute(f'USE "{scratch_name}"')
        for name, frame in (frames or {}).items():
            cur.register(name, frame)
            registered.append(name)
        yield cur
    finally:
        import duckdb

        for name in registered:
            with contextlib.suppress(duckdb.Error):  # e.g. a result left unfetched by an error
                cur.unregister(name)
        cur.close()
        if scratch_name is not None:
            with _lock:
                other = _connection().cursor()
            try:
                other.execute(f'DETACH DATABASE IF EXISTS "{scratch_name}"')
            finally:
                other.close()


def query(sql: str, params: Sequence[Any] | None = None, **frames: Any) -> pd.DataFrame:
    """Run ``sql`` (with ``?`` ``params``) over ``frames`` registered under their keyword names
    and return the result as a pandas DataFrame.

    Example: ``query("SELECT zone, avg(p50) FROM _f GROUP BY ALL", _f=forecasts)``."""
    with session(frames) as cur:
        return cur.execute(sql, list(params or [])).df()
