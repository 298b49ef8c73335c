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


_VALUE_OPTIONS = ("--store", "--mode")
"""The umbrella's own options that take a value (``spotcast --store demo.duckdb train fit``)."""


def command_of(argv: list[str]) -> str | None:
    """The sub-command ``argv`` (without the program name) names, skipping the umbrella's own
    options; None when it names none (``spotcast --help``)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def mount_stage_apps(target: typer.Typer, only: str | None = None) -> list[str]:
    """Add the installed stages' apps as sub-commands; returns the names mounted. With
    ``only`` (the command a user typed), just that stage's app is loaded when it is one, and
    none otherwise (`run`, `status`, a typo): loading every stage's CLI module for
    `spotcast train fit --help` doubled its start-up time."""
    mounted = []
    found = sorted(entry_points(group=CLI_ENTRY_POINT_GROUP), key=lambda e: e.name)
    if only is not None:  # the umbrella's own command or an unknown one (a usage error) loads none
        found = [ep for ep in found if ep.name == only]
    for ep in found:
        try:
            sub = ep.load()
        except Exception as exc:  # a broken plugin must not take the whole CLI down
            print(f"spotcast: could not load command {ep.name!r}: {exc}", file=sys.stderr)
            continue
        target.add_typer(sub, name=ep.name)
        mounted.append(ep.name)
    return mounted


def main() -> None:
    mount_stage_apps(app, only=command_of(sys.argv[1:]))
    app()
