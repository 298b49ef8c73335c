"""Events: one per committed write, appended in the same transaction as the data."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

COMMIT = "commit"
MODEL = "model"


@dataclass(frozen=True)
class Event:
    """A committed write that downstream stages may react to.

    ``kind`` is ``commit`` (a feature-group commit; ``name``/``version`` name the group and
    ``commit_id`` the commit) or ``model`` (a registered model version). ``payload`` holds
    what changed: row counts, ``changed`` (False when a write changed nothing), the event-time
    range of changed rows and, per low-cardinality key column, the key values touched.
    """

    event_id: int
    kind: str
    name: str
    version: int
    commit_id: int | None
    created_at: dt.datetime
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.payload.get("changed", True))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"] = self.created_at.isoformat()
        return d
