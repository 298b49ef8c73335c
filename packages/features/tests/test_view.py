"""The training view: price_features joined with the hourly actual price at ts, time-ordered splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_features import build as b
from spotcast_features import synthetic
from spotcast_storage.contracts import LABEL, PRICE_FEATURES, PRICES_HOURLY, TRAINING_VIEW
from spotcast_storage.contracts.features import get_or_create_training_view
from spotcast_storage.contracts.market import PRICES
from spotcast_storage.errors import NotFoundError


@pytest.fixture
def built(project):
    fs = project.get_feature_store()
    PRICES.get_or_create(fs).insert(synthetic.prices(["SE3", "SE4"], "2024-05-01", 30,
                                                     quarter_hourly_from="2024-05-20T00:00Z"))
    b.build(project)
    return project


def test_label_is_the_hourly_mean_price_at_ts_and_null_when_not_yet_known(built):
    fs = built.get_feature_store()
    fv = get_or_create_training_view(fs)
    assert (fv.name, fv.version) == TRAINING_VIEW and fv.labels == [LABEL]
    X, y = fv.training_data()
    feats = PRICE_FEATURES.get(fs).read()
    assert len(X) == len(feats) and list(X.columns) == PRICE_FEATURES.column_names
    hourly = PRICES_HOURLY.get(fs).read().set_index(["zone", "ts"])["price_eur_mwh"]
    expect = hourly.reindex(pd.MultiIndex.from_frame(X[["zone", "ts"]])).to_numpy()
    np.testing.assert_array_equal(y[LABEL].to_numpy(), expect)
    last_price = hourly.index.get_level_values("ts").max()
    assert y[LABEL][X["ts"] > last_price].isna().all()
    assert y[LABEL][X["ts"] <= last_price].notna().all()
    # a 15-minute day's label is the mean of its four quarter-hours
    raw = PRICES.get(fs).read()
    q = raw[(raw["zone"] == "SE3") & (raw["ts"] >= pd.Timestamp("2024-05-21T10:00Z"))
            & (raw["ts"] < pd.Timestamp("2024-05-21T11:00Z"))]
    assert len(q) == 4
    row = (X["zone"] == "SE3") & (X["ts"] == pd.Timestamp("2024-05-21T10:00Z"))
    assert np.allclose(y[LABEL][row], q["price_eur_mwh"].mean())


def test_splits_are_time_ordered_on_origin(built):
    fv = get_or_create_training_view(built.get_feature_store())
    X_train, X_test, y_train, y_test = fv.train_test_split(test_size=0.25)
    assert X_train["origin"].max() < X_test["origin"].min()
    assert len(X_train) == len(y_train) and len(X_test) == len(y_test) and len(X_test) > 0


def test_the_view_is_one_definition(built):
    fs = built.get_feature_store()
    a = get_or_create_training_view(fs)
    again = get_or_create_training_view(fs)
    assert a.query.to_dict() == again.query.to_dict()


def test_the_view_needs_built_features(project):
    with pytest.raises(NotFoundError):
        get_or_create_training_view(project.get_feature_store())
