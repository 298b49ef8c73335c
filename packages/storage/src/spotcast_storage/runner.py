"""`spotcast run` and `spotcast status` (the event-driven pipeline)."""

from __future__ import annotations

from spotcast_storage.umbrella import app

_ = app
