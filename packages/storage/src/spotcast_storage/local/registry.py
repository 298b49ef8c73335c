"""Model registry of the local backend: versions, metrics and lineage in the store's
bookkeeping, artifacts copied into a folder beside the database file."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spotcast_storage.base import ModelBase, ModelRegistryBase
from spotcast_storage.errors import NotFoundError
from spotcast_storage.events import MODEL
from spotcast_storage.local import connection
from spotcast_storage.local.convert import as_utc, jsonable, utc_now, where_equal

if TYPE_CHECKING:
    from spotcast_storage.local.project import LocalProject


class LocalModel(ModelBase):
    _registry: LocalModelRegistry

    def __init__(self, registry: LocalModelRegistry, name: str, metrics: dict[str, Any], description: str,
                 lineage: dict[str, Any], extra: dict[str, Any]) -> None:
        super().__init__(registry, name, metrics, description, lineage, extra)
        self._artifact_path: str | None = None

    def save(self, model_path: str | os.PathLike[str]) -> LocalModel:
        """Copy the artifact file or folder into the registry and register a new version."""
        src = Path(model_path)
        if not src.exists():
            raise NotFoundError(f"model artifacts {src} do not exist")
        project = self._registry.project
        root = project.artifacts_dir / "models" / self.name
        root.mkdir(parents=True, exist_ok=True)
        staging = root / f".staging-{uuid.uuid4().hex}"
        try:
            if src.is_dir():
                shutil.copytree(src, staging)
            else:
                staging.mkdir()
                shutil.copy2(src, staging / src.name)
            now = utc_now()
            with project.write() as con, connection.transaction(con, project.path):
                version = int(connection.one_row(con, "SELECT coalesce(max(version), 0) + 1 FROM _spotcast.models "
                                                 "WHERE name = ?", [self.name])[0])
                final = root / str(version)
                if final.exists():  # left by a process killed between rename and commit
                    shutil.rmtree(final)
                staging.rename(final)
                con.execute(
                    "INSERT INTO _spotcast.models VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [self.name, version, now, self.description, json.dumps(self.training_metrics),
                     json.dumps(self.lineage, default=jsonable), json.dumps(self.extra, default=jsonable),
                     str(final)],
                )
                event = project._append_event(con, MODEL, self.name, version, None, now,
                                              {"changed": True, "metrics": self.training_metrics})
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        self.version, self.created, self._artifact_path = version, now, str(final)
        project._notify(event)
        return self

    def download(self, local_path: str | os.PathLike[str] | None = None) -> str:
        """Path of the artifact folder (copied to ``local_path`` when given)."""
        if self._artifact_path is None:
            raise NotFoundError(f"model {self.name} has not been saved yet; call save(path) first")
        if local_path is None:
            return self._artifact_path
        dest = Path(local_path)
        shutil.copytree(self._artifact_path, dest, dirs_exist_ok=True)
        return str(dest)

    @property
    def model_files_path(self) -> str | None:
        return self._artifact_path


class LocalModelRegistry(ModelRegistryBase):
    """Model versions with metrics and lineage; artifacts copied beside the database."""

    project: LocalProject
    _model_class = LocalModel

    def __init__(self, project: LocalProject) -> None:
        super().__init__(project)

    def __repr__(self) -> str:
        return f"<LocalModelRegistry {self.project.artifacts_dir}>"

    def _rows(self, name: str | None = None, version: int | None = None) -> list[tuple]:
        sql = ("SELECT name, version, created_at, description, metrics, lineage, extra, artifact_path "
               "FROM _spotcast.models")
        where, params = where_equal(name=name, version=version)
        return self.project.fetch(sql + where + " ORDER BY name, version", params)

    def _from_row(self, row: tuple) -> LocalModel:
        name, version, created, desc, metrics, lineage, extra, path = row
        m = LocalModel(self, name, json.loads(metrics) if metrics else {}, desc or "",
                       json.loads(lineage) if lineage else {}, json.loads(extra) if extra else {})
        m.version, m.created, m._artifact_path = int(version), as_utc(created), path
        return m

    def get_model(self, name: str, version: int | None = None) -> LocalModel:
        rows = self._rows(name, version)
        if not rows:
            have = sorted({r[0] for r in self._rows()})
            raise NotFoundError(
                f"model {name}{'' if version is None else f' v{version}'} is not registered"
                + (f"; registered models: {', '.join(have)}" if have else "; no model is registered yet")
            )
        return self._from_row(rows[-1])

    def get_models(self, name: str | None = None) -> list[LocalModel]:
        return [self._from_row(r) for r in self._rows(name)]
