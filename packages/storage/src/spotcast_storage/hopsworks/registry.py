"""Model registry of the Hopsworks backend: the client's registry plus spotcast's lineage.

Hopsworks keeps name, version, metrics, description and artifacts; spotcast's lineage (the
feature-group names, versions and commit ids a model was trained on) and extra fields go
to the ``spotcast_registry`` feature group, keyed by model name and version.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from spotcast_storage.base import ModelBase, ModelRegistryBase, check_direction
from spotcast_storage.errors import NotFoundError
from spotcast_storage.events import MODEL
from spotcast_storage.hopsworks.secrets import guard

MODEL_KIND = "model"


class HopsworksModel(ModelBase):
    _registry: HopsworksModelRegistry

    def __init__(self, registry: HopsworksModelRegistry, name: str, metrics: dict[str, Any], description: str,
                 lineage: dict[str, Any], extra: dict[str, Any]) -> None:
        super().__init__(registry, name, metrics, description, lineage, extra)
        self.client: Any = None

    def save(self, model_path: str | os.PathLike[str]) -> HopsworksModel:
        """Upload the artifact file or folder as a new version, then record its lineage and
        append a ``model`` event."""
        src = Path(model_path)
        if not src.exists():
            raise NotFoundError(f"model artifacts {src} do not exist")
        reg = self._registry
        fv = self._feature_view
        kwargs: dict[str, Any] = {"name": self.name, "metrics": self.training_metrics, "description": self.description}
        if self._input_example is not None:
            kwargs["input_example"] = self._input_example
        if self._model_schema is not None:
            kwargs["model_schema"] = self._model_schema
        if fv is not None and getattr(fv, "client", None) is not None:
            kwargs["feature_view"] = fv.client
        if "training_dataset_version" in self.extra:
            kwargs["training_dataset_version"] = self.extra["training_dataset_version"]
        with guard(f"register model {self.name}"):
            cm = reg.client.python.create_model(**kwargs)
            saved = cm.save(str(src))
        cm = saved if saved is not None else cm
        self.client, self.version = cm, int(cm.version)
        self.created = pd.Timestamp.now(tz="UTC").floor("us")
        reg.project.books.register("model", self.name, self.version,
                                   {"lineage": self.lineage, "extra": self.extra, "description": self.description})
        event = reg.project._append_event(MODEL, self.name, self.version, None,
                                          {"changed": True, "metrics": self.training_metrics})
        reg.project._notify(event)
        return self

    def download(self, local_path: str | os.PathLike[str] | None = None) -> str:
        """Path of a local folder holding the artifacts (the client's download cache, or ``local_path``)."""
        if self.client is None:
            raise NotFoundError(f"model {self.name} has not been saved yet; call save(path) first")
        with guard(f"download model {self.name} v{self.version}"):
            return str(self.client.download(local_path=None if local_path is None else str(local_path)))

    @property
    def model_files_path(self) -> str | None:
        return None if self.client is None else getattr(self.client, "model_files_path", None)


class HopsworksModelRegistry(ModelRegistryBase):
    _model_class = HopsworksModel

    def __init__(self, project: Any, client_mr: Any) -> None:
        super().__init__(project)
        self.client = client_mr

    def __repr__(self) -> str:
        return f"<HopsworksModelRegistry {self.project.name}>"

    def _infos(self, name: str | None = None) -> dict[tuple[str, int], dict[str, Any]]:
        return {(n, v): i for n, v, i in self.project.books.registry_rows(MODEL_KIND, name)}

    def _wrap(self, cm: Any, info: dict[str, Any] | None) -> HopsworksModel:
        info = info or {}
        metrics = {k: float(v) if isinstance(v, str) else v for k, v in (cm.training_metrics or {}).items()}
        m = HopsworksModel(self, cm.name, metrics, cm.description or "", dict(info.get("lineage", {})),
                           dict(info.get("extra", {})))
        m.version, m.client = int(cm.version), cm
        created = getattr(cm, "created", None)
        m.created = pd.Timestamp(created, unit="ms", tz="UTC") if isinstance(created, (int, float)) else (
            pd.Timestamp(created) if created else None)
        return m

    def _client_models(self, name: str) -> list[Any]:
        with guard(f"list versions of model {name}"):
            found = self.client.get_models(name=name) or []
        return sorted(found, key=lambda m: int(m.version))

    def get_model(self, name: str, version: int | None = None) -> HopsworksModel:
        if version is None:
            found = self._client_models(name)
            cm = found[-1] if found else None
        else:
            with guard(f"get model {name} v{version}"):
                cm = self.client.get_model(name=name, version=version)
        if cm is None:
            raise NotFoundError(f"model {name}{'' if version is None else f' v{version}'} is not registered")
        return self._wrap(cm, self._infos(name).get((name, int(cm.version))))

    def get_models(self, name: str | None = None) -> list[HopsworksModel]:
        infos = self._infos(name)
        names = [name] if name is not None else sorted({n for n, _ in infos})
        return [self._wrap(cm, infos.get((n, int(cm.version)))) for n in names for cm in self._client_models(n)]

    def get_best_model(self, name: str, metric: str, direction: str) -> HopsworksModel | None:
        """The client's best version (Hopsworks ranks the metric itself)."""
        check_direction(direction)
        with guard(f"find the best model {name} by {metric}"):
            cm = self.client.get_best_model(name=name, metric=metric, direction=direction)
        return None if cm is None else self._wrap(cm, self._infos(name).get((name, int(cm.version))))
