"""Stages use the store's capabilities, never its backend's name (issue 16)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODE_TEST = re.compile(r"""getattr\([^)]*["']mode["']|\.mode\s*[!=]=|\bmode\s*[!=]=\s*["'](local|hopsworks)""")


def test_no_stage_branches_on_the_backend_mode():
    found = []
    for stage in ("ingest", "features", "train", "serve"):
        for f in (ROOT / "packages" / stage / "src").rglob("*.py"):
            for n, line in enumerate(f.read_text().splitlines(), 1):
                if MODE_TEST.search(line):
                    found.append(f"{f.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "stages must use capabilities (sql_dialect, reader(), change_token()):\n" + "\n".join(found)


def test_the_local_store_offers_the_capabilities_serve_uses(tmp_path):
    from spotcast_storage import get_storage
    from spotcast_storage.local import connection

    p = get_storage(mode="local", path=tmp_path / "s.duckdb")
    try:
        assert p.sql_dialect == "duckdb"
        before = p.change_token()
        import pandas as pd

        p.get_feature_store().get_or_create_feature_group("t", version=1, primary_key=["k"]).insert(
            pd.DataFrame({"k": [1], "v": [2.0]}))
        assert p.change_token() != before
        r = p.reader()
        assert r.read_only and r.reader() is r and r.path == p.path
    finally:
        p.close()
        connection.release(tmp_path / "s.duckdb")
