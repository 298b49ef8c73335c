"""Hook specifications of spotcast-storage.

Every package adds its own specs through :func:`spotcast_addhooks`, the way pytest's
``pytest_addhooks`` works, so that one plugin manager serves the whole workspace and a
stage that is not installed contributes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from spotcast_storage.events import Event
    from spotcast_storage.pipeline import EventHandler, PipelineStep

hookspec = pluggy.HookspecMarker("spotcast")
hookimpl = pluggy.HookimplMarker("spotcast")


@hookspec(historic=True)
def spotcast_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Add a package's hook specifications (called once per registered plugin)."""


@hookspec
def register_backends(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register storage backends: ``register(mode, factory)``; ``factory(path=..., **options)``."""


@hookspec
def register_model_formats(register: Callable[[str, Callable[[Path], Any]], None]) -> None:
    """Register model artifact kinds: ``register(kind, load)``. ``load(folder)`` turns an artifact
    folder whose ``spotcast-model.json`` says ``"kind": kind`` into a
    :class:`spotcast_storage.modelformat.ModelPredictor`; import the kind's library inside
    ``load``, so a store that never holds such a model never imports it."""


@hookspec
def spotcast_after_commit(event: Event, project: Any) -> None:
    """Called after a committed write (feature-group commit or model registration)."""


@hookspec
def register_event_handlers(register: Callable[[EventHandler], None]) -> None:
    """Register handlers that `spotcast run` feeds with events: ``register(EventHandler(...))``."""


@hookspec
def register_pipeline_steps(register: Callable[[PipelineStep], None]) -> None:
    """Register steps that `spotcast run` performs first (e.g. ingest update): ``register(PipelineStep(...))``."""
