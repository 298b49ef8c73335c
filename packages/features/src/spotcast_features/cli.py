"""`spotcast-features` command line."""

import typer

app = typer.Typer(name="features", help="spotcast features stage.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the installed version."""
    from spotcast_features import __version__

    typer.echo(__version__)


def main() -> None:
    app()
