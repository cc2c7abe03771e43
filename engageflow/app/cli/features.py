"""`engageflow features user|item`: a user's or an item's online features, as served."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from engageflow.app.cli.common import console
from engageflow.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Show a user's or an item's online features.")


def _show_features(entity: str, key: str) -> None:
    from feature_repo.online import entity_features

    by_view = entity_features(get_settings(), entity, key)
    if all(value is None for values in by_view.values() for value in values.values()):
        console.print(
            f"no online features for {entity} {key!r}: unknown id, or not materialized yet "
            "(run the build_features DAG)"
        )
        raise typer.Exit(1)
    table = Table(title=f"online features of {entity} {key}")
    table.add_column("view", no_wrap=True)
    table.add_column("feature", no_wrap=True)
    table.add_column("value", justify="right")
    for view, values in by_view.items():
        for name, value in values.items():
            table.add_row(view, name, _readable(value))
    console.print(table)


def _readable(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        head = ", ".join(f"{v:.3f}" for v in value[:4])
        return f"[{head}{', ...' if len(value) > 4 else ''}] ({len(value)})"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@app.command("user")
def features_user(user_id: Annotated[str, typer.Argument(help="the user id")]) -> None:
    """A user's engagement stats and topic affinities, as served."""
    _show_features("user", user_id)


@app.command("item")
def features_item(item_id: Annotated[str, typer.Argument(help="the item id")]) -> None:
    """An item's engagement stats, profile and embedding, as served."""
    _show_features("item", item_id)
