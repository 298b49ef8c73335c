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

from spotcast_storage.base import model_fields
from spotcast_storage.errors import NotFoundError, ValidationError
from spotcast_storage.events import MODEL
from spotcast_storage.hopsworks.secrets import guard

MODEL_KIND = "model"


def _input_example(x: Any) -> Any:
    import json

    if isinstance(x, pd.DataFrame):
        return json.loads(x.head(1).to_json(orient="records", date_format="iso"))
    return json.loads(json.dumps(x, default=str))


class HopsworksModelRegistry:
    def __init__(self, project: Any, client_mr: Any) -> None:
        self.project = project
        self.client = client_mr
        self.python = _ModelFactory(self)
        self.sklearn = self.tensorflow = self.torch = self.python

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
        if direction not in ("max", "min"):
            raise ValidationError(f"direction must be 'max' or 'min', got {direction!r}")
        with guard(f"find the best model {name} by {metric}"):
            cm = self.client.get_best_model(name=name, metric=metric, direction=direction)
        return None if cm is None else self._wrap(cm, self._infos(name).get((name, int(cm.version))))


class _ModelFactory:
    def __init__(self, registry: HopsworksModelRegistry) -> None:
        self._registry = registry

    def create_model(self, name: str, metrics: dict[str, Any] | None = None, description: str = "",
                     input_example: Any = None, model_schema: Any = None, feature_view: Any = None,
                     training_dataset_version: int | None = None, lineage: dict[str, Any] | None = None,
                     **extra: Any) -> HopsworksModel:
        metrics, extra = model_fields(name, metrics, feature_view, training_dataset_version, None, extra)
        m = HopsworksModel(self._registry, name, metrics, description, dict(lineage or {}), extra)
        m._feature_view, m._input_example, m._model_schema = feature_view, input_example, model_schema
        return m


class HopsworksModel:
    def __init__(self, registry: HopsworksModelRegistry, name: str, metrics: dict[str, Any], description: str,
                 lineage: dict[str, Any], extra: dict[str, Any]) -> None:
        self._registry = registry
        self.name = name
        self.training_metrics = metrics
        self.description = description
        self.lineage = lineage
        self.extra = extra
        self.version: int | None = None
        self.created: pd.Timestamp | None = None
        self.client: Any = None
        self._feature_view: Any = None
        self._input_example: Any = None
        self._model_schema: Any = None

    @property
    def metrics(self) -> dict[str, Any]:
        return self.training_metrics

    def __repr__(self) -> str:
        return f"<Model {self.name} v{self.version}>"

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
        extra = dict(self.extra)
        if self._input_example is not None:
            extra["input_example"] = _input_example(self._input_example)
        reg.project.books.register("model", self.name, self.version,
                                   {"lineage": self.lineage, "extra": extra, "description": self.description})
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

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version,
                "created": None if self.created is None else self.created.isoformat(),
                "description": self.description, "metrics": self.training_metrics,
                "lineage": self.lineage, "artifact_path": self.model_files_path}
