"""The options of a `spotcast run`, in a module of their own so the command's defaults come from
here without importing the pipeline (pandas) for `spotcast --help`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class RunOptions:
    """Every option a `spotcast run` step or handler reads: one typed place instead of a free
    dict read in three packages. Each field but ``train_model_options`` (settings objects, for
    Python callers) is a `spotcast run` option."""

    yes: bool = False
    """ingest: go ahead with a backfill larger than the confirmation limit (``--yes``)"""
    history_days: int | None = None
    """ingest: history an empty store backfills first (``--history-days``)"""
    quality_gate: bool = True
    """ingest: check each day's prices before they are stored (``--no-quality-gate`` to skip)"""
    files: bool = True
    """serve: write forecast files (``--outputs none``: no files)"""
    outputs: str | None = None
    """serve: the folder for them (``--outputs DIR``; default beside the store)"""
    days: int = 7
    """serve: local days forecast after the origin's day (``--days``)"""
    retrain_max_age_days: int = 7
    """train: retrain a model whose newest training origin is older than this (``--retrain-max-age-days``)"""
    retrain_accuracy_days: int = 14
    """train: the tracked-accuracy window (``--retrain-accuracy-days``)"""
    retrain_min_tracked_days: int = 7
    """train: days of tracked forecasts a retrain on accuracy needs (``--retrain-min-tracked-days``)"""
    recalibrate: bool = True
    """train: between retrains, refit the serving model's cheap members (LEAR) on each new labelled
    origin (``--no-recalibrate``: only the weekly retrain refits anything)"""
    train_model_options: dict[str, Any] | None = None
    """train: model settings for the fit (Python only: settings objects, e.g. in tests)"""
    base_urls: dict[str, str] | None = None
    """ingest: sources' base URLs (``--base-url SOURCE=URL``, repeatable; else SPOTCAST_<SOURCE>_BASE_URL)"""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunOptions:
        """The options of a plain dict (as plugins and older callers pass them); an unknown key is
        an error naming the known ones. ``outputs=None`` means no files, as `--outputs none`."""
        from dataclasses import fields

        from spotcast_storage.errors import ValidationError

        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValidationError(f"unknown run option(s) {unknown}; known: {', '.join(sorted(known))}")
        d = dict(d)
        if "outputs" in d and d["outputs"] is None:
            d["files"] = False
        if d.get("outputs") is not None:
            d["outputs"] = str(d["outputs"])
        return cls(**d)
