"""Entry point of the features stage into spotcast's plugin manager.

Adds the ``register_features`` hookspec, registers the built-in transformations exactly as a
third-party plugin would be registered, and plugs the incremental build into `spotcast run`.
"""

from __future__ import annotations

from typing import Any

from spotcast_storage.hookspecs import hookimpl

DEFAULT_PLUGINS: tuple[str, ...] = (
    "spotcast_features.builtins.calendar",
    "spotcast_features.builtins.price_history",
    "spotcast_features.builtins.weather",
    "spotcast_features.builtins.exogenous",
)


@hookimpl
def spotcast_addhooks(pluginmanager: Any) -> None:
    from spotcast_features import hookspecs
    from spotcast_storage.plugins import add_stage_hooks

    add_stage_hooks(pluginmanager, hookspecs, DEFAULT_PLUGINS)


@hookimpl
def register_event_handlers(register: Any) -> None:
    from spotcast_features.build import CONSUMER, INPUT_NAMES, handle_events
    from spotcast_storage.pipeline import EventHandler

    register(EventHandler(consumer=CONSUMER, names=INPUT_NAMES, handle=handle_events, order=20))


def plugin_manager() -> Any:
    """The process-wide plugin manager with the features stage's hooks present (also when
    entry points are filtered or the package runs from a checkout)."""
    from spotcast_storage.plugins import stage_plugin_manager

    return stage_plugin_manager(__name__, "features")
