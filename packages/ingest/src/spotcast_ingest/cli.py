"""`spotcast-ingest` command line."""

import typer

app = typer.Typer(name="ingest", help="spotcast ingest stage.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the installed version."""
    from spotcast_ingest import __version__

    typer.echo(__version__)


def main() -> None:
    app()
