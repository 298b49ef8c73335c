"""Entry point of the serve stage into spotcast's plugin manager.

Adds the serve hookspecs, registers the built-in plugins exactly as a third-party plugin
would be registered, and plugs the forecast handler into `spotcast run`.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from spotcast_storage.hookspecs import hookimpl

DEFAULT_PLUGINS: tuple[str, ...] = ("spotcast_serve.outputs",)


@hookimpl
def spotcast_addhooks(pluginmanager: Any) -> None:
    from spotcast_serve import hookspecs

    pluginmanager.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        if pluginmanager.get_plugin(name) is None:
            pluginmanager.register(importlib.import_module(name), name=name)


@hookimpl
def register_event_handlers(register: Any) -> None:
    from spotcast_serve.handler import serve_handlers

    for h in serve_handlers():
        register(h)


def plugin_manager() -> Any:
    """The process-wide plugin manager with the serve stage's hooks present (also when
    entry points are filtered or the package runs from a checkout)."""
    from spotcast_storage.plugins import get_plugin_manager, register_once

    pm = get_plugin_manager()
    register_once(sys.modules[__name__], name="serve")
    return pm
