"""Login and the Hopsworks-shaped entry point of the backend.

``connect()`` logs in with the client's own variables (HOPSWORKS_API_KEY, HOPSWORKS_HOST,
HOPSWORKS_PORT, HOPSWORKS_PROJECT, and HOPSWORKS_HOSTNAME_VERIFICATION,
HOPSWORKS_TRUST_STORE_PATH, HOPSWORKS_CERT_FOLDER, HOPSWORKS_ENGINE, which the client reads
itself) and never prompts: a pipeline has nobody to answer.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from spotcast_storage.base import ProjectBase
from spotcast_storage.errors import BackendUnavailableError, UnsupportedError
from spotcast_storage.events import Event
from spotcast_storage.hopsworks import secrets
from spotcast_storage.hopsworks.bookkeeping import EVENTS, Bookkeeping
from spotcast_storage.hopsworks.events import HopsworksEventLog
from spotcast_storage.hopsworks.secrets import guard


def _engine_type() -> str:
    """``python`` or ``spark``: what the client runs queries with (python when unknown)."""
    try:
        from hsfs import engine

        return str(engine._get_type())
    except Exception:
        return "python"


def connect(path: Any = None, api_key_file: str | os.PathLike[str] | None = None, host: str | None = None,
            port: int | None = None, project: str | None = None, engine: str | None = None,
            **options: Any) -> HopsworksProject:
    """Log in and return the project. Options override the environment variables."""
    import hopsworks

    key = os.environ.get("HOPSWORKS_API_KEY")
    if api_key_file is not None:
        p = Path(api_key_file)
        if not p.is_file():
            raise BackendUnavailableError(f"HOPSWORKS API key file {p} does not exist")
        key = p.read_text().strip()
    if not key:
        raise BackendUnavailableError(
            "mode hopsworks needs an API key: set HOPSWORKS_API_KEY (create one in the Hopsworks UI "
            "under Account settings > API keys), plus HOPSWORKS_HOST and HOPSWORKS_PROJECT; or use --mode local"
        )
    secrets.add_secret(key)
    host = host or os.environ.get("HOPSWORKS_HOST")
    project = project or os.environ.get("HOPSWORKS_PROJECT")
    port_s = port if port is not None else os.environ.get("HOPSWORKS_PORT")
    try:
        port_n = int(port_s) if port_s is not None else 443
    except ValueError:
        raise BackendUnavailableError(f"HOPSWORKS_PORT must be a number, got {port_s!r}") from None
    kwargs: dict[str, Any] = {"host": host, "port": port_n, "project": project, "api_key_value": key}
    if engine is not None:
        kwargs["engine"] = engine
    where = f"{host or 'Hopsworks SaaS (c.app.hopsworks.ai)'}" + (f", project {project}" if project else "")
    # The client prints "Logged in to project ..." on stdout, which may carry a command's
    # JSON or CSV: send it to stderr. It also asks on stdin when several projects match.
    with guard(f"log in to {where}"), contextlib.redirect_stdout(sys.stderr):
        try:
            client_project = hopsworks.login(**kwargs)
        except (EOFError, OSError) as exc:
            if isinstance(exc, EOFError) or "reading from stdin" in str(exc):
                raise BackendUnavailableError(
                    "this Hopsworks API key can open several projects; set HOPSWORKS_PROJECT to choose one"
                ) from None
            raise
    if client_project is None:
        raise BackendUnavailableError(f"no Hopsworks project found at {where}; set HOPSWORKS_PROJECT")
    return HopsworksProject(client_project, host=host, time_travel=_engine_type() != "python")


class HopsworksProject(ProjectBase):
    """Entry point of the Hopsworks backend (wraps the client's Project)."""

    mode = "hopsworks"
    sql_dialect = None  # no SQL a stage may run (see sql()); readers use the storage API

    def __init__(self, client_project: Any, host: str | None = None, time_travel: bool = False) -> None:
        self.client = client_project
        self.name = str(getattr(client_project, "name", "?"))
        self.host = host
        self.time_travel = time_travel
        self._fs: Any = None
        self._mr: Any = None
        self._books: Bookkeeping | None = None
        self._last_event_id: int | None = None

    def __repr__(self) -> str:
        return f"<HopsworksProject {self.name} at {self.host or 'Hopsworks SaaS'}>"

    def describe(self) -> str:
        return f"Hopsworks project {self.name} at {self.host or 'Hopsworks SaaS'}"

    # -- Hopsworks-shaped accessors --------------------------------------------------------
    def get_feature_store(self, name: str | None = None) -> Any:
        from spotcast_storage.hopsworks.store import HopsworksFeatureStore

        if self._fs is None or name is not None:
            with guard("open the feature store"):
                client_fs = self.client.get_feature_store(name)
            fs = HopsworksFeatureStore(self, client_fs)
            if name is not None:
                return fs
            self._fs = fs
        return self._fs

    def get_model_registry(self) -> Any:
        from spotcast_storage.hopsworks.registry import HopsworksModelRegistry

        if self._mr is None:
            with guard("open the model registry"):
                client_mr = self.client.get_model_registry()
            self._mr = HopsworksModelRegistry(self, client_mr)
        return self._mr

    def get_event_log(self) -> HopsworksEventLog:
        return HopsworksEventLog(self)

    @property
    def books(self) -> Bookkeeping:
        if self._books is None:
            self._books = Bookkeeping(self.get_feature_store().client)
        return self._books

    # -- SQL -----------------------------------------------------------------------------
    def sql(self, query: str, params: Sequence[Any] | None = None, timeout: float | None = None) -> pd.DataFrame:
        raise UnsupportedError(
            "SQL is not available in mode hopsworks: the Hopsworks Python client reads only queries it "
            "builds itself (through the Query Service) and no longer reads Hive. Use the query API "
            "(fg.select(...).filter(...).read()), or Trino / the Hopsworks UI for ad-hoc SQL."
        )

    def create_sql_view(self, name: str, sql: str) -> None:
        raise UnsupportedError(
            f"cannot create SQL view {name!r} in mode hopsworks: Hopsworks has no SQL views for the "
            "Python client; compute the figures with the query API and write them to a feature group"
        )

    def close(self) -> None:
        import hopsworks

        with guard("log out"):
            hopsworks.logout()

    # -- events --------------------------------------------------------------------------
    def _next_event_id(self) -> int:
        """Microseconds since 1970, strictly above every id this process has seen. Ids from
        writers on other machines are ordered by their clocks (keep them NTP-synced)."""
        if self._last_event_id is None:
            self._last_event_id = self.get_event_log().latest_event_id()
        self._last_event_id = max(time.time_ns() // 1000, self._last_event_id + 1)
        return self._last_event_id

    def _append_event(self, kind: str, name: str, version: int, commit_id: int | None,
                      payload: dict[str, Any]) -> Event:
        event_id = self._next_event_id()
        created = pd.Timestamp.now(tz="UTC").floor("us")
        row = pd.DataFrame({"event_id": [event_id], "kind": [kind], "name": [name], "version": [int(version)],
                            "commit_id": pd.array([commit_id], dtype="Int64"), "created_at": [created],
                            "payload": [json.dumps(payload, default=str)]})
        self.books.write(EVENTS, row)
        return Event(event_id, kind, name, int(version), commit_id, created.to_pydatetime(), payload)
