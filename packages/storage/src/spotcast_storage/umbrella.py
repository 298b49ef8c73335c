"""`spotcast` umbrella command (placeholder)."""

import typer

app = typer.Typer(name="spotcast", no_args_is_help=True)


def main() -> None:
    app()
