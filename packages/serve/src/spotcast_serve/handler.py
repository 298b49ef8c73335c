"""The serve stage's part in `spotcast run`: forecast when features or models change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spotcast_serve import service
from spotcast_storage.config import outputs_dir
from spotcast_storage.errors import NotFoundError
from spotcast_storage.events import COMMIT, MODEL, Event
from spotcast_storage.pipeline import EventHandler, RunContext
from spotcast_storage.promotion import model_zones, trained_on_price_features
from spotcast_storage.text import plural

if TYPE_CHECKING:
    from spotcast_storage.protocols import Project

CONSUMER = "serve"
MODELS_CONSUMER = "serve-models"


def zones_to_forecast(events: list[Event], project: Project, run_zones: list[str] | None = None) -> list[str]:
    """Zones whose newest origin may need a (new) forecast after ``events``.

    A price_features commit names the zones it touched (``payload["keys"]["zone"]``); a new
    model trained on price_features concerns every zone with features. Commits that changed
    nothing concern no zone. With ``run_zones`` the run is limited to those zones.
    """
    zones: set[str] = set()
    every = False
    registry = None
    for e in events:
        if e.kind == COMMIT and e.name == service.FEATURES_NAME:  # any version: a model may use a plugin's
            if not e.changed:
                continue
            touched = (e.payload.get("keys") or {}).get("zone")
            if touched:
                zones.update(str(z) for z in touched)
            else:  # too many keys to list in the event: look at every zone
                every = True
        elif e.kind == MODEL:
            registry = registry or project.get_model_registry()
            try:
                m = registry.get_model(e.name, e.version)
            except NotFoundError:
                continue
            if trained_on_price_features(m):
                covered = model_zones(m)
                if covered:
                    zones.update(covered)
                else:
                    every = True
    if every:
        zones.update(service.zones_with(project, service.FEATURES_NAME, service.FEATURES_VERSION))
    if run_zones:
        zones &= {z.upper() for z in run_zones}
    return sorted(zones)


def handle(events: list[Event], ctx: RunContext) -> str | None:
    """Forecast the newest origin of each concerned zone, made at the run's ``now`` (idempotent:
    an unchanged forecast writes nothing; a changed one is a new vintage). A zone without a usable model yet is skipped with a note; the model's
    registration event brings it back."""
    zones = zones_to_forecast(events, ctx.project, ctx.zones)
    if not zones:
        return None
    outputs = outputs_dir(ctx.project, ctx.options.outputs) if ctx.options.files else None
    days = ctx.options.days
    done, skipped, files = [], [], []
    for zone in zones:
        try:
            r = service.predict(ctx.project, zone, days=days, outputs=outputs, now=ctx.now)
        except NotFoundError as exc:
            skipped.append(zone)
            ctx.log(f"serve: {zone} skipped: {exc}")
            continue
        note = f" (weekly naive published instead: {r.fallback_reason})" if r.fallback_reason else ""
        done.append(f"{zone} {'new' if r.written else 'unchanged'}{note}")
        files += r.files
    parts = []
    if done:
        parts.append("forecasts: " + ", ".join(done))
    if files:
        parts.append(f"{plural(len(files), 'file')} in {outputs}")
    if skipped:
        parts.append("skipped (no features or model yet): " + ", ".join(skipped))
    return "; ".join(parts)


def serve_handlers() -> list[EventHandler]:
    """Two cursors, one reaction. An EventHandler's ``names`` filter applies to every kind,
    and model names are the train stage's choice (``price_<type>_<zone>``, one per zone and
    type), so one handler for ``("price_features", <model name>)`` cannot be written down.
    ``serve`` follows price_features commits; ``serve-models`` follows every model
    registration (zones_to_forecast keeps those trained on price_features). Neither sees
    serve's own forecasts commits or the ingest commits."""
    return [
        EventHandler(consumer=CONSUMER, handle=handle, kinds=(COMMIT,), names=(service.FEATURES_NAME,), order=40),
        EventHandler(consumer=MODELS_CONSUMER, handle=handle, kinds=(MODEL,), names=(), order=40),
    ]
