"""SQL over frames in the process's one in-memory DuckDB (spotcast_storage.framesql)."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from spotcast_storage import framesql


def frame(n: int, start: str = "2024-03-31 00:00") -> pd.DataFrame:
    return pd.DataFrame({"ts": pd.date_range(start, periods=n, freq="h", tz="Europe/Stockholm"),
                         "v": [float(i) for i in range(n)]})


def _leftovers() -> tuple[list, list]:
    with framesql.session() as con:
        views = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        dbs = con.execute("SELECT database_name FROM duckdb_databases() WHERE NOT internal").fetchall()
    return views, dbs


def test_a_query_sees_its_frames_in_utc_and_leaves_nothing_behind():
    out = framesql.query("SELECT min(ts) AS first, count(*) AS n, sum(v) AS s FROM _f WHERE v >= ?", [1], _f=frame(5))
    assert out["first"].iloc[0] == pd.Timestamp("2024-03-31 00:00", tz="Europe/Stockholm") + pd.Timedelta(hours=1)
    assert str(out["first"].dt.tz) == "UTC" and (out["n"].iloc[0], out["s"].iloc[0]) == (4, 10.0)
    with framesql.session() as con, pytest.raises(Exception, match="_f"):
        con.execute("SELECT * FROM _f").fetchall()
    assert _leftovers() == ([], [("memory",)])


def test_threads_with_the_same_frame_name_each_see_their_own():
    results: dict[int, int] = {}
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            for _ in range(20):
                got = int(framesql.query("SELECT count(*) AS n FROM _f", _f=frame(n))["n"].iloc[0])
                results[n] = got if results.get(n, got) == got else -1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in (3, 7, 11, 13)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == {3: 3, 7: 7, 11: 11, 13: 13}


def test_scratch_tables_are_private_and_dropped_even_after_an_error():
    with framesql.session({"_in": frame(3)}, scratch=True) as con:
        con.execute("CREATE TABLE main.prices_v1 AS SELECT * FROM _in")
        with framesql.session() as other:  # another query does not see them
            assert other.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'prices_v1'"
                                 " AND database_name = current_database()").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM main.prices_v1").fetchall() == [(3,)]
    with pytest.raises(RuntimeError), framesql.session({"_in": frame(2)}, scratch=True) as con:
        con.execute("CREATE TABLE main.prices_v1 AS SELECT * FROM _in")
        con.execute("SELECT * FROM main.prices_v1")  # a result left unfetched
        raise RuntimeError("the caller failed")
    assert _leftovers() == ([], [("memory",)])


def test_a_forked_child_gets_its_own_instance():
    import os

    framesql.query("SELECT 1 AS x")
    parent = framesql._connection()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            ok = framesql._connection() is not parent and \
                int(framesql.query("SELECT count(*) AS n FROM _f", _f=frame(4))["n"].iloc[0]) == 4
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1"
    os.close(r)
    assert framesql._connection() is parent
