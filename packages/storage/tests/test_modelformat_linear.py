"""Model format v2: the linear part's metadata and the LEAR design, without xgboost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_storage.boosted import (
    LinearMember,
    LinearPart,
    ModelSpec,
    Predictor,
    Transform,
    blend,
    design_columns,
    lear_design,
)
from spotcast_storage.errors import ValidationError


def _part(**kw):
    m = LinearMember(file="linear-d1-w0056.ubj", window_days=56, x_center=[0.0] * 48, x_scale=[1.0] * 48,
                     y_center=[0.0] * 24, y_scale=[1.0] * 24)
    return LinearPart(**{"sources": ["price_lag_1d", "price_lag_7d"], "members": [m], **kw})


def test_linear_spec_round_trips_and_is_version_2():
    spec = ModelSpec(kind="linear", features=[], quantiles=[0.5], transform=Transform(kind="identity"),
                     linear=_part(weight=0.4))
    d = spec.to_dict()
    assert d["format_version"] == 2 and d["linear"]["columns"][:2] == ["price_lag_1d_h00", "price_lag_1d_h01"]
    back = ModelSpec.from_dict(d)
    assert back.linear == spec.linear
    assert {"origin", "horizon_day", "hour", "weekday", "price_lag_7d"} <= set(back.inputs)
    plain = ModelSpec(kind="naive", features=["a"], naive_column="a").to_dict()
    assert plain["format_version"] == 1 and "linear" not in plain  # older readers still load these


@pytest.mark.parametrize("bad", [dict(weight=1.5), dict(members=[]),
                                 dict(members=[LinearMember(file="x.ubj", x_center=[0.0], x_scale=[1.0],
                                                            y_center=[0.0] * 24, y_scale=[1.0] * 24)]),
                                 dict(members=[LinearMember(file="../x.ubj", x_center=[0.0] * 48, x_scale=[1.0] * 48,
                                                            y_center=[0.0] * 24, y_scale=[1.0] * 24)])])
def test_invalid_linear_parts(bad):
    with pytest.raises(ValidationError):
        _part(**bad)


def test_linear_kind_needs_a_linear_part():
    with pytest.raises(ValidationError, match="linear part"):
        ModelSpec(kind="linear", features=[])


def test_linear_model_whose_spec_lost_its_linear_part_says_so():
    spec = ModelSpec(kind="linear", features=[], quantiles=[0.5], transform=Transform(kind="identity"),
                     linear=_part())
    predictor = Predictor(spec, linear_boosters=[object()])  # never called: the part is gone
    spec.linear = None  # ModelSpec is a plain dataclass: a caller can change it after the check
    with pytest.raises(ValidationError, match=r"kind 'linear' but its spec has no linear part"):
        predictor.predict(pd.DataFrame({"origin": [1], "horizon_day": [1], "hour": [0]}))


def test_design_and_blend():
    X = pd.DataFrame({"origin": [1] * 24 + [2] * 24, "horizon_day": 1, "hour": list(range(24)) * 2,
                      "weekday": [2] * 24 + [3] * 24, "p": np.arange(48.0)})
    keys, D, y = lear_design(X, ["p"], target="p")
    assert list(keys["origin"]) == [1, 2] and D.shape == (2, len(design_columns(["p"])))
    np.testing.assert_array_equal(D[1, :24], np.arange(24.0, 48.0))
    assert D[0, 24 + 2] == 1 and D[1, 24 + 3] == 1 and D[:, 24:].sum() == 2
    np.testing.assert_array_equal(y, D[:, :24])
    np.testing.assert_allclose(blend(np.array([10.0, 10.0]), np.array([20.0, np.nan]), 0.4), [14.0, 10.0])
    with pytest.raises(ValidationError, match="lacks"):
        lear_design(X.drop(columns="weekday"), ["p"])
