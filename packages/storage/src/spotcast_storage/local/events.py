"""The local backend's event log: the outbox written in the same transaction as the data,
and the durable cursors of its consumers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from spotcast_storage.base import EventLogBase
from spotcast_storage.events import Event
from spotcast_storage.local.convert import as_utc, stored_utc, utc_now

if TYPE_CHECKING:
    from spotcast_storage.local.project import LocalProject


class LocalEventLog(EventLogBase):
    """The outbox: events appended with the data, read by consumers after their cursor."""

    def __init__(self, project: LocalProject) -> None:
        self.project = project

    def read(self, after: int = 0, limit: int | None = None, kinds: Sequence[str] | None = None,
             names: Sequence[str] | None = None) -> list[Event]:
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
        return [Event(int(e), k, n, int(v), None if c is None else int(c), stored_utc(t, f"event {e}").to_pydatetime(),
                      json.loads(p) if p else {}) for e, k, n, v, c, t, p in self.project.fetch(sql, params)]

    def cursor(self, consumer: str) -> int:
        return self.cursors().get(consumer, (0, None))[0]

    def cursors(self) -> dict[str, tuple[int, pd.Timestamp | None]]:
        return {c: (int(e), as_utc(t)) for c, e, t in
                self.project.fetch("SELECT consumer, event_id, updated_at FROM _spotcast.cursors")}

    def ack(self, consumer: str, event_id: int) -> None:
        """Move the consumer's cursor forward (never back) past ``event_id``."""
        with self.project.write() as con:
            con.execute(
                "INSERT INTO _spotcast.cursors VALUES (?, ?, ?) ON CONFLICT (consumer) DO UPDATE SET "
                "event_id = greatest(_spotcast.cursors.event_id, excluded.event_id), updated_at = excluded.updated_at",
                [consumer, int(event_id), utc_now()],
            )

    def latest_event_id(self) -> int:
        rows = self.project.fetch("SELECT coalesce(max(event_id), 0) FROM _spotcast.events")
        return int(rows[0][0]) if rows else 0
