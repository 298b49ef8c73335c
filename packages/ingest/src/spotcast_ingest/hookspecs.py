"""Hook specifications added by the ingest stage (through ``spotcast_addhooks``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from spotcast_storage.hookspecs import hookspec

if TYPE_CHECKING:
    from spotcast_ingest.source import Source


@hookspec
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register source plugins: ``register(MySource)`` with a :class:`spotcast_ingest.source.Source` subclass."""
