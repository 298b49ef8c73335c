"""The API keeps answering while another process commits to the same DuckDB file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import httpx
import pytest

WRITER = textwrap.dedent("""
    import sys, time
    import pandas as pd
    from spotcast_storage import get_storage
    from spotcast_storage.contracts.forecasts import FORECASTS

    path, n = sys.argv[1], int(sys.argv[2])
    project = get_storage(mode="local", path=path)
    fg = FORECASTS.get(project.get_feature_store())
    base = fg.read()
    print("ready", flush=True)
    for k in range(1, n + 1):
        rows = base.copy()
        rows["origin"] = rows["origin"] + pd.Timedelta(days=k)
        rows["ts"] = rows["ts"] + pd.Timedelta(days=k)
        rows["p50"] = rows["p50"] + k
        rows["created_at"] = pd.Timestamp.now(tz="UTC")
        fg.insert(rows)
        # room for the readers between commits: at 0.02 s the six commits could all land while
        # one round of requests waited for the file (a clean-clone CI saw one origin, 2026-12-08)
        time.sleep(0.3)
    # Let go of the file before exiting, as a well-behaved writer does. (Without it the
    # process sometimes aborts at interpreter exit when the store's watcher thread is
    # inside DuckDB; reported to the storage owner.)
    project.close()
    print("done", flush=True)
""")


@pytest.mark.slow
def test_api_answers_while_a_writer_process_commits(server, store_path, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    n = 6
    writer = subprocess.Popen([sys.executable, str(script), str(store_path), str(n)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    statuses: dict[str, list[int]] = {"SE3": [], "SE4": [], "zones": []}
    origins_seen = set()
    try:
        with httpx.Client(base_url=server, timeout=30) as c:
            while writer.poll() is None:
                r = c.get("/forecast", params={"zone": "SE3"})
                statuses["SE3"].append(r.status_code)
                if r.status_code == 200:
                    origins_seen.add(r.json()["origin"])
                statuses["SE4"].append(c.get("/forecast", params={"zone": "SE4"}).status_code)
                statuses["zones"].append(c.get("/zones").status_code)
            out, err = writer.communicate(timeout=60)
            assert writer.returncode == 0, err
            assert "done" in out
            # After the writer finished, the newest origin it wrote is served (not a stale cache).
            deadline = time.monotonic() + 5
            while True:
                final = c.get("/forecast", params={"zone": "SE3"}).json()
                if final["origin"] == "2024-03-28T09:00:00+00:00" or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert final["origin"] == "2024-03-28T09:00:00+00:00"  # 2024-03-22 + 6 days
    assert len(statuses["SE3"]) > 5
    assert set(statuses["SE3"]) == {200}
    assert set(statuses["SE4"]) == {404}
    assert set(statuses["zones"]) == {200}
    assert len(origins_seen) >= 2  # the answers followed the commits while they happened
