"""The `engageflow` command line: simulate, import, ingest, summarise, features, serve, collect,
demo.

One module per command group; each has its own Typer app, merged here.
"""

from __future__ import annotations

import typer

from engageflow.app.cli import data, events, features, model, stack, tools

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)
app.add_typer(data.app)
app.add_typer(stack.app)
app.add_typer(events.app)
app.add_typer(tools.app)
app.add_typer(features.app, name="features")
app.add_typer(model.app, name="model")


def main() -> None:
    app()
