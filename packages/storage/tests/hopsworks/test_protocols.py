"""The Hopsworks backend implements the storage Protocols, on the client's real classes (autospec)."""

from __future__ import annotations

import pytest

pytest.importorskip("hopsworks", reason="the hopsworks extra is not installed (uv sync --extra hopsworks)")

from ..test_protocols import check_every_protocol  # noqa: TID252 (the same check as the local test)


def test_the_hopsworks_backend_implements_every_protocol(hw, tmp_path):
    check_every_protocol(hw, tmp_path)
