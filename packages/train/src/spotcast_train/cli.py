"""`spotcast-train` command line."""

import typer

app = typer.Typer(name="train", help="spotcast train stage.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the installed version."""
    from spotcast_train import __version__

    typer.echo(__version__)


def main() -> None:
    app()
