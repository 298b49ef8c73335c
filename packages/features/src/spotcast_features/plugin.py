"""Entry point of the features stage into spotcast's plugin manager.

Adds the ``register_features`` hookspec, registers the built-in transformations exactly as a
third-party plugin would be registered, and plugs the incremental build into `spotcast run`.
"""

from __future__ import annotations

import importlib
import sys
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

    pluginmanager.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        if pluginmanager.get_plugin(name) is None and not pluginmanager.is_blocked(name):
            pluginmanager.register(importlib.import_module(name), name=name)


@hookimpl
def register_event_handlers(register: Any) -> None:
    from spotcast_features.build import CONSUMER, INPUT_NAMES, handle_events
    from spotcast_storage.pipeline import EventHandler

    register(EventHandler(consumer=CONSUMER, names=INPUT_NAMES, handle=handle_events, order=20))


def plugin_manager() -> Any:
    """The process-wide plugin manager with the features stage's hooks present (also when
    entry points are filtered or the package runs from a checkout)."""
    from spotcast_storage.plugins import get_plugin_manager, register_once

    pm = get_plugin_manager()
    register_once(sys.modules[__name__], name="features")
    return pm
