"""The Hopsworks backend implements the storage Protocols, on the client's real classes (autospec)."""

from __future__ import annotations

import pytest

pytest.importorskip("hopsworks", reason="the hopsworks extra is not installed (uv sync --extra hopsworks)")

from ..test_protocols import check_every_protocol  # noqa: TID252 (the same check as the local test)


def test_the_hopsworks_backend_implements_every_protocol(hw, tmp_path):
    check_every_protocol(hw, tmp_path)


def test_a_commit_event_says_the_same_on_both_backends(hw, tmp_path):
    """One payload type (events.CommitPayload) for both: the local one had min/max_known_at, the
    Hopsworks one did not."""
    import pandas as pd

    from spotcast_storage import get_storage
    from spotcast_storage.local import connection

    frame = pd.DataFrame({"zone": ["SE3", "SE4"], "ts": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
                          "known_at": pd.to_datetime(["2023-12-31 12:00", "2024-01-01 12:00"], utc=True),
                          "v": [1.0, 2.0]})
    local = get_storage(mode="local", path=tmp_path / "l.duckdb")
    payloads = []
    try:
        for project in (local, hw):
            fg = project.get_feature_store().get_or_create_feature_group(
                "p", version=1, primary_key=["zone", "ts"], event_time="ts", known_at="known_at")
            fg.insert(frame)
            payloads.append(project.get_event_log().read()[-1].payload)
    finally:
        local.close()
        connection.release(tmp_path / "l.duckdb")
    a, b = payloads
    assert a == b
    assert a["min_known_at"] == "2023-12-31T12:00:00+00:00" and a["keys"] == {"zone": ["SE3", "SE4"]}
