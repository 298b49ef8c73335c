"""`spotcast-serve` command line."""

import typer

app = typer.Typer(name="serve", help="spotcast serve stage.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the installed version."""
    from spotcast_serve import __version__

    typer.echo(__version__)


def main() -> None:
    app()
