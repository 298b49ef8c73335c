"""The local backend's event log: the outbox written in the same transaction as the data,
and the durable cursors of its consumers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from spotcast_storage.events import Event
from spotcast_storage.local.convert import as_utc, utc_now

if TYPE_CHECKING:
    from spotcast_storage.local.project import LocalProject


class LocalEventLog:
    """The outbox: events appended with the data, read by consumers after their cursor."""

    def __init__(self, project: LocalProject) -> None:
        self.project = project

    def _ready(self, con: duckdb.DuckDBPyConnection) -> bool:
        return self.project.has_bookkeeping(con)

    def read(self, after: int = 0, limit: int | None = None, kinds: Sequence[str] | None = None,
             names: Sequence[str] | None = None) -> list[Event]:
        if not self.project.path.exists():
            return []
        sql = "SELECT event_id, kind, name, version, commit_id, created_at, payload FROM _spotcast.events WHERE event_id > ?"
        params: list[Any] = [after]
        if kinds:
            sql += f" AND kind IN ({', '.join('?' for _ in kinds)})"
            params.extend(kinds)
        if names:
            sql += f" AND name IN ({', '.join('?' for _ in names)})"
            params.extend(names)
        sql += " ORDER BY event_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self.project.read() as con:
            if not self._ready(con):
                return []
            rows = con.execute(sql, params).fetchall()
        return [Event(int(e), k, n, int(v), None if c is None else int(c), as_utc(t).to_pydatetime(),
                      json.loads(p) if p else {}) for e, k, n, v, c, t, p in rows]

    def cursor(self, consumer: str) -> int:
        return self.cursors().get(consumer, (0, None))[0]

    def cursors(self) -> dict[str, tuple[int, pd.Timestamp | None]]:
        if not self.project.path.exists():
            return {}
        with self.project.read() as con:
            if not self._ready(con):
                return {}
            return {c: (int(e), as_utc(t)) for c, e, t in
                    con.execute("SELECT consumer, event_id, updated_at FROM _spotcast.cursors").fetchall()}

    def pending(self, consumer: str, kinds: Sequence[str] | None = None, names: Sequence[str] | None = None,
                limit: int | None = None) -> list[Event]:
        return self.read(after=self.cursor(consumer), limit=limit, kinds=kinds, names=names)

    def ack(self, consumer: str, event_id: int) -> None:
        """Move the consumer's cursor forward (never back) past ``event_id``."""
        with self.project.write() as con:
            con.execute(
                "INSERT INTO _spotcast.cursors VALUES (?, ?, ?) ON CONFLICT (consumer) DO UPDATE SET "
                "event_id = greatest(_spotcast.cursors.event_id, excluded.event_id), updated_at = excluded.updated_at",
                [consumer, int(event_id), utc_now()],
            )

    def latest_event_id(self) -> int:
        if not self.project.path.exists():
            return 0
        with self.project.read() as con:
            if not self._ready(con):
                return 0
            return int(con.execute("SELECT coalesce(max(event_id), 0) FROM _spotcast.events").fetchone()[0])
