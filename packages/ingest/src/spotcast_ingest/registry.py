"""Finding source plugins through the ``register_sources`` hook."""

from __future__ import annotations

from typing import Any

from spotcast_ingest.source import Source
from spotcast_storage.errors import ValidationError
from spotcast_storage.plugins import get_plugin_manager, register_once
from spotcast_storage.zones import parse_zone


def source_classes() -> dict[str, type[Source]]:
    """Every registered source class by name (built-in and third-party)."""
    from spotcast_ingest import plugin

    register_once(plugin, name="ingest")
    found: dict[str, type[Source]] = {}

    def register(cls: Any) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Source)) or not getattr(cls, "name", None):
            raise ValidationError(f"register_sources: {cls!r} is not a Source subclass with a name")
        other = found.get(cls.name)
        if other is not None and other is not cls:
            raise ValidationError(
                f"two plugins register a source named {cls.name!r}: {other.__module__} and {cls.__module__}")
        found[cls.name] = cls

    get_plugin_manager().hook.register_sources(register=register)
    return dict(sorted(found.items()))


def get_source_class(name: str) -> type[Source]:
    classes = source_classes()
    if name not in classes:
        raise ValidationError(f"unknown source {name!r}; available: {', '.join(classes)} "
                              "(see `spotcast-ingest sources`)")
    return classes[name]


def default_sources(zone: str) -> tuple[str, ...]:
    """What ``update`` (and `spotcast run`) use for a zone when no source is named: the zone
    table's ``sources`` (see :mod:`spotcast_storage.zones`)."""
    return parse_zone(zone).sources
