"""Smaller boosting for the cross-stage tests that drive the real CLI (in this process or in a
`spotcast run` child): the stage's default model with 25 shallow rounds instead of 600 deep ones.

These tests check the chain (what is written, idempotence, kill recovery, hints, zones), never
accuracy, and the default's 600 rounds were most of their time (about 85% of a synthetic
`spotcast run`). Everything else stays the stage default: one tree member on the default window,
the calibration booster, the LEAR members, DNN members (one small network) and the promotion
gate's 28 origins with weekly refits, so the same code runs. One chain test keeps the true defaults
(tests/test_pipeline.py, ``test_the_chain_from_an_empty_store...``)."""

from __future__ import annotations

from spotcast_train.builtins import xgboost as builtin

_DNN = builtin.STAGE_SETTINGS.dnn
SETTINGS = builtin.STAGE_SETTINGS.with_(
    num_boost_round=25, eta=0.2, max_depth=4, max_bin=32,
    dnn=_DNN.with_(network=_DNN.network.with_(seeds=(0,), hidden=(32, 16), max_epochs=40)) if _DNN else None)
"""The stage default but for size: boosting as the train package's tests' ``FAST``, and one small
network for the DNN members (same code, same blend weights)."""


def use() -> None:
    """Make every default fit of this process use :data:`SETTINGS` (for a child process; in a
    test, the ``fast_train`` fixture does it and puts the default back)."""
    builtin.STAGE_SETTINGS = SETTINGS
