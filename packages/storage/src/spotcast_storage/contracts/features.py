"""Contracts written by the features stage (the features stage fills in the columns)."""

from __future__ import annotations

PRICE_FEATURES_KEY = ("zone", "origin", "ts")
