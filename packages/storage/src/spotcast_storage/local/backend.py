"""Registers the embedded DuckDB store as the ``local`` backend."""

from __future__ import annotations

from typing import Any

from spotcast_storage.hookspecs import hookimpl


def _factory(path: Any = None, read_only: bool = False, **options: Any) -> Any:
    from spotcast_storage.config import resolve_store_path
    from spotcast_storage.local.project import LocalProject

    return LocalProject(resolve_store_path(path), read_only=read_only)


@hookimpl
def register_backends(register: Any) -> None:
    register("local", _factory)
