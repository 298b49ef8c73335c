"""The Hopsworks backend's event log: events and consumer cursors in spotcast's own feature
groups on the cluster."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from spotcast_storage.base import EventLogBase
from spotcast_storage.events import Event
from spotcast_storage.hopsworks.bookkeeping import CURSORS, EVENTS

if TYPE_CHECKING:
    from spotcast_storage.hopsworks.project import HopsworksProject


def _events(df: pd.DataFrame) -> list[Event]:
    out = []
    for r in df.itertuples(index=False):
        commit = None if pd.isna(r.commit_id) else int(r.commit_id)
        out.append(Event(int(r.event_id), str(r.kind), str(r.name), int(r.version), commit,
                         pd.Timestamp(r.created_at).to_pydatetime(), json.loads(r.payload) if r.payload else {}))
    return out


class HopsworksEventLog(EventLogBase):
    """The event log and durable consumer cursors, in feature groups on the cluster.

    Unlike the local store, an event is appended right after its data commit, not in the same
    transaction (Hopsworks has none across feature groups). A writer that dies between the two
    leaves a commit without its event; the next insert into that group notices and appends the
    missing event (see ``HopsworksFeatureGroup.insert``)."""

    def __init__(self, project: HopsworksProject) -> None:
        self.project = project

    def read(self, after: int = 0, limit: int | None = None, kinds: Sequence[str] | None = None,
             names: Sequence[str] | None = None) -> list[Event]:
        def where(fg: Any) -> Any:
            cond = fg.get_feature("event_id") > int(after)
            if kinds:
                cond = cond & fg.get_feature("kind").isin(list(kinds))
            if names:
                cond = cond & fg.get_feature("name").isin(list(names))
            return cond

        df = self.project.books.read(EVENTS, where)
        keep = df["event_id"] > int(after)
        if kinds:
            keep &= df["kind"].isin(list(kinds))
        if names:
            keep &= df["name"].isin(list(names))
        df = df[keep].sort_values("event_id", kind="stable")
        if limit is not None:
            df = df.head(int(limit))
        return _events(df)

    def cursors(self) -> dict[str, tuple[int, pd.Timestamp | None]]:
        df = self.project.books.read(CURSORS)
        return {str(c): (int(e), pd.Timestamp(t)) for c, e, t in zip(df["consumer"], df["event_id"], df["updated_at"], strict=True)}

    def cursor(self, consumer: str) -> int:
        df = self.project.books.read(CURSORS, lambda fg: fg.get_feature("consumer") == consumer)
        df = df[df["consumer"] == consumer]
        return int(df["event_id"].max()) if len(df) else 0

    def ack(self, consumer: str, event_id: int) -> None:
        """Move the consumer's cursor forward (never back) past ``event_id``."""
        if int(event_id) <= self.cursor(consumer):
            return
        row = pd.DataFrame({"consumer": [consumer], "event_id": [int(event_id)],
                            "updated_at": [pd.Timestamp.now(tz="UTC").floor("us")]})
        self.project.books.write(CURSORS, row)

    def latest_event_id(self) -> int:
        df = self.project.books.read(EVENTS)
        return int(df["event_id"].max()) if len(df) else 0

    def for_commit(self, name: str, version: int, commit_id: int) -> list[Event]:
        """Events of one commit of one group (used to notice a commit that lost its event)."""
        def where(fg: Any) -> Any:
            return ((fg.get_feature("name") == name) & (fg.get_feature("version") == int(version))
                    & (fg.get_feature("commit_id") == int(commit_id)))

        df = self.project.books.read(EVENTS, where)
        df = df[(df["name"] == name) & (df["version"] == int(version)) & (df["commit_id"] == int(commit_id))]
        return _events(df)
