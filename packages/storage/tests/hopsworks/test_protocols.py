"""The Hopsworks backend implements the storage Protocols, on the client's real classes (autospec)."""

from __future__ import annotations

import pytest

from spotcast_storage import protocols as P

pytest.importorskip("hopsworks", reason="the hopsworks extra is not installed (uv sync --extra hopsworks)")

from ..test_protocols import objects  # noqa: TID252 (the same objects as the local test)


def test_the_hopsworks_backend_implements_every_protocol(hw, tmp_path):
    found = objects(hw)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "x.txt").write_text("x")
    found[P.Model] = found[P.ModelRegistry].python.create_model("m", metrics={"mae": 1.0}).save(tmp_path / "m")
    assert set(found) == set(P.PROTOCOLS)
    for proto, obj in found.items():
        assert P.conformance(obj, proto) == [], proto.__name__
        assert isinstance(obj, proto)
