"""Contracts written by the features stage (the features stage fills in the columns)."""

from __future__ import annotations

from spotcast_storage.contracts.base import Column, Contract

PRICE_FEATURES_KEY = ("zone", "origin", "ts")
