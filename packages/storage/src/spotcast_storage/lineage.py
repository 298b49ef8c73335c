"""What a registered model was trained on, as one typed record that train writes and serve,
the promotion gate and every ``models`` listing read.

The registry keeps it as the model's ``lineage`` dict (both backends store plain JSON there, and
models registered before this class existed carry the same keys): :meth:`Lineage.to_dict` writes
that layout, :meth:`Lineage.of` reads it back from a model, tolerating the older forms (no
``features`` entry, ``zone`` as a string). Keys it does not know are kept in ``other`` and written
back unchanged, so a plugin's own lineage entries survive.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

FEATURES_NAME = "price_features"
"""The feature group the stage's models are trained on (``spotcast_storage.contracts.features``)."""


@dataclass(frozen=True)
class GroupRef:
    """A feature group (or view) at a version, and the newest commit read from it."""

    name: str
    version: int
    commit_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "commit_id": self.commit_id}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GroupRef:
        return cls(str(d.get("name")), int(d.get("version") or 0),
                   None if d.get("commit_id") is None else int(d["commit_id"]))

    def __str__(self) -> str:
        return f"{self.name} v{self.version}@{self.commit_id}"


_KNOWN = ("zones", "zone", "feature_view", "feature_groups", "features", "label", "model_type")


@dataclass(frozen=True)
class Lineage:
    zones: tuple[str, ...] = ()
    feature_groups: tuple[GroupRef, ...] = ()
    """Every group read for training, with the commit (time travel reproduces the rows)."""
    features: GroupRef | None = None
    """The features group and version the model's columns come from (what serve must feed it)."""
    columns: tuple[str, ...] = ()
    """The feature columns the model uses, in order."""
    feature_view: GroupRef | None = None
    label: str | None = None
    model_type: str | None = None
    other: dict[str, Any] = field(default_factory=dict)

    def with_model(self, model_type: str, columns: list[str] | tuple[str, ...]) -> Lineage:
        return replace(self, model_type=model_type, columns=tuple(columns))

    def features_version(self, default: int = 1) -> int:
        """The ``price_features`` version trained on (``default`` for models that never recorded it)."""
        if self.features is not None and self.features.name == FEATURES_NAME:
            return self.features.version
        return next((g.version for g in self.feature_groups if g.name == FEATURES_NAME), default)

    @property
    def on_price_features(self) -> bool:
        return (self.features is not None and self.features.name == FEATURES_NAME) or any(
            g.name == FEATURES_NAME for g in self.feature_groups)

    def trained_on(self) -> str:
        """``price_features v1@42, prices_hourly v1@7``: for tables people read."""
        return ", ".join(str(g) for g in self.feature_groups)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.other)
        out["zones"] = list(self.zones)
        if self.feature_view is not None:
            out["feature_view"] = {"name": self.feature_view.name, "version": self.feature_view.version}
        out["feature_groups"] = [g.to_dict() for g in self.feature_groups]
        if self.label is not None:
            out["label"] = self.label
        if self.features is not None:
            out["features"] = {"name": self.features.name, "version": self.features.version,
                               **({"columns": list(self.columns)} if self.columns else {})}
        if self.model_type is not None:
            out["model_type"] = self.model_type
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Lineage:
        d = d or {}
        z = d.get("zones", d.get("zone"))
        zones = (z,) if isinstance(z, str) else tuple(z or ())
        groups = tuple(GroupRef.from_dict(g) for g in d.get("feature_groups") or [] if isinstance(g, dict))
        if not groups:  # the oldest layout: {"price_features": {"version": 1, "commit_id": 2}, ...}
            groups = tuple(GroupRef.from_dict({"name": k, **v}) for k, v in d.items()
                           if k not in _KNOWN and isinstance(v, dict) and "version" in v)
        f = d.get("features")
        fv = d.get("feature_view")
        return cls(zones=tuple(str(x).upper() for x in zones), feature_groups=groups,
                   features=GroupRef.from_dict(f) if isinstance(f, dict) and f.get("name") else None,
                   columns=tuple((f or {}).get("columns") or ()) if isinstance(f, dict) else (),
                   feature_view=GroupRef.from_dict(fv) if isinstance(fv, dict) else None,
                   label=d.get("label"), model_type=d.get("model_type"),
                   other={k: v for k, v in d.items() if k not in _KNOWN and not (
                       not d.get("feature_groups") and isinstance(v, dict) and "version" in v)})

    @classmethod
    def of(cls, model: Any) -> Lineage:
        """The lineage of a registered model; zones and model type fall back to the model's
        ``extra`` (where the oldest models kept them)."""
        lin = cls.from_dict(getattr(model, "lineage", None))
        extra = getattr(model, "extra", None) or {}
        if not lin.zones:
            z = extra.get("zones", extra.get("zone"))
            if z:
                lin = replace(lin, zones=tuple(str(x).upper() for x in ((z,) if isinstance(z, str) else z)))
        if not lin.model_type and extra.get("model_type"):
            lin = replace(lin, model_type=str(extra["model_type"]))
        return lin
