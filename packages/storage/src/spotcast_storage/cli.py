"""`spotcast-store` command line (placeholder until the full CLI lands)."""

import typer

app = typer.Typer(name="store", help="Inspect and query the spotcast store.", no_args_is_help=True)


def main() -> None:
    app()
