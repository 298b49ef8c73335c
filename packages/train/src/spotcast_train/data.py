"""Reading training data from the store, and the lineage that names exactly what was read.

Training rows come through the ``price_training`` feature view (price_features with the hourly
price at ``ts`` joined as label). Each row also gets ``label_known_at``: when its label was
published (``prices_hourly.known_at``). A row (origin o', target ts) may train a model used at
origin o only if ``label_known_at <= o`` -- its origin being older is not enough, because the
target of a D+7 row is not known until a week later.
"""


from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from spotcast_storage.contracts.features import (
    LABEL,
    PRICE_FEATURES,
    PRICES_HOURLY,
    get_or_create_training_view,
)
from spotcast_storage.errors import NotFoundError, ValidationError
from spotcast_storage.lineage import GroupRef, Lineage
from spotcast_storage.query import to_utc_timestamp

if TYPE_CHECKING:
    from spotcast_storage.protocols import Project

KEY = ("zone", "origin", "ts")
TIME_COL = "origin"
LABEL_KNOWN = "label_known_at"


def candidate_features(columns: list[str] | pd.Index) -> list[str]:
    """The model inputs among the training view's columns: the contract's features in contract
    order, then the columns a feature plugin added to a later price_features version (not the
    key, not the label or when it was known)."""
    have = list(columns)
    names = [c.name for c in PRICE_FEATURES.columns if c.name not in KEY and c.name in set(have)]
    extra = [c for c in have if c not in set(names) | set(KEY) | {LABEL, LABEL_KNOWN}]
    return names + extra


def newest_features_version(fs: Any) -> int:
    """The newest price_features version in the store (v1 when there is none yet): what train
    uses unless told otherwise, so a feature plugin's columns reach the next model."""
    try:
        groups = fs.get_feature_groups(PRICE_FEATURES.name)
    except NotFoundError:
        return PRICE_FEATURES.version
    return max([int(g.version) for g in groups] or [PRICE_FEATURES.version])


def _fg(fs: Any, contract: Any) -> Any:
    try:
        return contract.get(fs)
    except NotFoundError:
        raise NotFoundError(
            f"the store has no {contract.name} v{contract.version} yet; build features first "
            "(`spotcast-features build --zone SE3`)") from None


def load_training_frame(project: Project, zone: str, start: Any = None, end: Any = None,
                        features_version: int | None = None) -> tuple[pd.DataFrame, Lineage]:
    """Rows of ``zone`` with origin in ``[start, end)`` from the training view over price_features
    ``features_version`` (default: the newest in the store), plus lineage.

    The zone and time filters go into the view's query, so only that zone's rows are read."""
    fs = project.get_feature_store()
    if features_version is None:
        features_version = newest_features_version(fs)
    if not isinstance(features_version, int) or isinstance(features_version, bool) or features_version < 1:
        raise ValidationError(f"--features-version {features_version!r}: give a price_features version (1, 2, ...)")
    if features_version == PRICE_FEATURES.version:
        feats = _fg(fs, PRICE_FEATURES)
    else:
        try:
            feats = fs.get_feature_group(PRICE_FEATURES.name, features_version)
        except NotFoundError:
            raise NotFoundError(
                f"the store has no {PRICE_FEATURES.name} v{features_version}; build it with "
                f"`spotcast-features rebuild --version {features_version}` or leave --features-version out "
                "(the newest version)") from None
    hourly = _fg(fs, PRICES_HOURLY)
    fv = get_or_create_training_view(fs, features_version)
    query = fv.query.filter(feats.zone == zone)
    if start is not None:
        query = query.filter(feats.origin >= to_utc_timestamp(start, name="start"))
    if end is not None:
        query = query.filter(feats.origin < to_utc_timestamp(end, name="end"))
    df = query.read()
    if df.empty:
        zones = sorted(feats.select(["zone"]).read()["zone"].unique())
        raise NotFoundError(
            f"{PRICE_FEATURES.name} has no rows for zone {zone}"
            + (f" in [{start}, {end})" if start is not None or end is not None else "")
            + (f"; zones with features: {', '.join(zones)}" if zones else "")
            + f". Build them with `spotcast-features build --zone {zone}`")
    known = hourly.filter(hourly.zone == zone).read()[["ts", "known_at"]].rename(columns={"known_at": LABEL_KNOWN})
    df = df.merge(known, on="ts", how="left", validate="many_to_one")
    df = df.sort_values([TIME_COL, "ts"], ignore_index=True)
    lineage = replace(build_lineage(fv, [feats, hourly], zone),
                      features=GroupRef(PRICE_FEATURES.name, int(features_version)))
    return df, lineage


def _last_commit(fg: Any) -> int | None:
    details = fg.commit_details(limit=1)
    return max(details) if details else None


def build_lineage(fv: Any, groups: list[Any], zone: str) -> Lineage:
    """Feature-group names, versions and the newest commit ids read (time travel reproduces them)."""
    return Lineage(zones=(zone,), feature_view=GroupRef(fv.name, fv.version),
                   feature_groups=tuple(GroupRef(g.name, g.version, _last_commit(g)) for g in groups), label=LABEL)


def known_at(frame: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    """Rows whose label was published at or before ``origin`` (usable for training then)."""
    if LABEL_KNOWN not in frame.columns:
        raise ValidationError(f"frame lacks {LABEL_KNOWN}; load it with load_training_frame")
    return frame[frame[LABEL_KNOWN].notna() & (frame[LABEL_KNOWN] <= origin) & frame[LABEL].notna()]
