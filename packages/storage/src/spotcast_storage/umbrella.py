"""`spotcast`: one command over every installed stage.

Each installed stage contributes its Typer app through the ``spotcast.cli`` entry-point
group (``spotcast ingest …``, ``spotcast features …``); a machine with only storage and
ingest installed gets only those. The pipeline commands (`run`, `status`) live here
because they drive whatever stages are installed, through hooks, without importing them.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import typer

from spotcast_storage import runner
from spotcast_storage.cli_common import stage_app
from spotcast_storage.plugins import CLI_ENTRY_POINT_GROUP

app = stage_app(
    "spotcast",
    "spotcast: electricity spot-price forecasting.\n\nExample: spotcast run --zone SE3 --source synthetic",
    "spotcast",
)
# the pipeline's own commands, registered here rather than by importing runner for its side effect
app.command("run")(runner.run_cmd)
app.command("status")(runner.status_cmd)


def mount_stage_apps(target: typer.Typer) -> list[str]:
    """Add every installed stage's app as a sub-command; returns the names mounted."""
    mounted = []
    for ep in sorted(entry_points(group=CLI_ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            sub = ep.load()
        except Exception as exc:  # a broken plugin must not take the whole CLI down
            print(f"spotcast: could not load command {ep.name!r}: {exc}", file=sys.stderr)
            continue
        target.add_typer(sub, name=ep.name)
        mounted.append(ep.name)
    return mounted


def main() -> None:
    mount_stage_apps(app)
    app()
