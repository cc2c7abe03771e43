"""Alias moves with their reasons: who was champion when, and why; rollback in one step.

MLflow keeps no history of alias moves, so each move is journaled as a run of the experiment
settings.mlflow.history_experiment (tags: alias, version, previous, kind, reason, actor). Runs are
append-only, live in the same store as the registry (SQLite, PostgreSQL or a server), and have no
size limit, unlike a tag holding JSON lines. A move's run starts before the alias moves and is
marked FINISHED after, so a failed move never shows up as history. The moved-to version also gets
tags `<alias>.reason` / `<alias>.since`, for the MLflow UI.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from engageflow.errors import DataError
from engageflow.registry import alias_version, connect, experiment_id
from engageflow.settings import Settings

CHAMPION = "champion"
CHALLENGER = "challenger"
# The champion a promotion replaced: it serves the canary as the challenger for one more test,
# so the new champion is held against it live, and is rolled back to if it falls behind.
STANDBY = "standby"
Kind = Literal["register", "gate", "manual", "rollback", "retire", "ab", "standby"]


@dataclass(frozen=True)
class Move:
    at: datetime
    alias: str
    version: int | None  # None: the alias was removed
    previous: int | None
    kind: str
    reason: str
    actor: str


def move_alias(
    settings: Settings, alias: str, version: int | None, kind: Kind, reason: str, actor: str
) -> Move:
    """Point `alias` at `version` (None removes it) and journal the move with its reason."""
    if not reason.strip():
        raise ValueError("an alias move needs a reason; say why, e.g. --reason 'canary regressed'")
    client = connect(settings)
    name = settings.mlflow.registered_model
    previous = alias_version(settings, alias)
    now = time.time_ns()
    move = Move(
        datetime.fromtimestamp(now / 1e9, UTC), alias, version, previous, kind, reason, actor
    )
    journal = client.create_run(
        experiment_id(client, settings, settings.mlflow.history_experiment),
        run_name=f"{alias} -> {'none' if version is None else f'v{version}'}",
        tags={
            "model": name,
            "alias": alias,
            "version": "" if version is None else str(version),
            "previous": "" if previous is None else str(previous),
            "kind": kind,
            "reason": reason,
            "actor": actor,
            "moved_at_ns": str(now),
        },
    )
    try:
        if version is None:
            if previous is not None:
                client.delete_registered_model_alias(name, alias)
        else:
            client.set_registered_model_alias(name, alias, str(version))
            client.set_model_version_tag(name, str(version), f"{alias}.reason", reason)
            client.set_model_version_tag(name, str(version), f"{alias}.since", move.at.isoformat())
    except Exception:
        client.set_terminated(journal.info.run_id, status="FAILED")
        raise
    client.set_terminated(journal.info.run_id, status="FINISHED")
    return move


def moves(settings: Settings, alias: str | None = None) -> list[Move]:
    """Completed alias moves of the registered model, oldest first."""
    client = connect(settings)
    found = client.get_experiment_by_name(settings.mlflow.history_experiment)
    if found is None:
        return []
    query = f"tags.model = '{settings.mlflow.registered_model}' and attributes.status = 'FINISHED'"
    if alias:
        query += f" and tags.alias = '{alias}'"
    runs = client.search_runs([found.experiment_id], query, max_results=50_000)
    out = []
    for run in sorted(runs, key=lambda r: int(r.data.tags["moved_at_ns"])):
        tags = run.data.tags
        out.append(
            Move(
                at=datetime.fromtimestamp(int(tags["moved_at_ns"]) / 1e9, UTC),
                alias=tags["alias"],
                version=int(tags["version"]) if tags["version"] else None,
                previous=int(tags["previous"]) if tags["previous"] else None,
                kind=tags["kind"],
                reason=tags["reason"],
                actor=tags["actor"],
            )
        )
    return out


def champion_stack(history: list[Move]) -> list[int]:
    """Champions in order, replaying the journal: a promotion pushes, a rollback pops."""
    stack: list[int] = []
    for move in history:
        if move.alias != CHAMPION or move.version is None:
            continue
        if move.kind == "rollback":
            stack.pop()
        else:
            stack.append(move.version)
    return stack


def rollback(settings: Settings, reason: str, actor: str) -> Move:
    """Give `champion` back to the version that held it before the current one."""
    stack = champion_stack(moves(settings, CHAMPION))
    if len(stack) < 2:
        raise DataError(
            f"nothing to roll back to: {settings.mlflow.registered_model} has had "
            f"{len(stack)} champion(s); see `engageflow model history`"
        )
    return move_alias(settings, CHAMPION, stack[-2], "rollback", reason, actor)


def promote(settings: Settings, version: int, reason: str, actor: str) -> Move:
    """Make `version` the champion by hand (the gate is not consulted; the reason is kept).
    A challenger promoted so is no longer under test: its alias goes too."""
    move = move_alias(settings, CHAMPION, version, "manual", reason, actor)
    if alias_version(settings, CHALLENGER) == version:
        move_alias(settings, CHALLENGER, None, "retire", f"v{version} became champion", actor)
    return move
