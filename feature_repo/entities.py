"""The two things features describe: users and items, joined on string ids."""

from __future__ import annotations

from feast import Entity, ValueType


def entities() -> dict[str, Entity]:
    """Fresh Entity objects (Feast's plan/apply mutate what they are given)."""
    return {
        "user": Entity(
            name="user",
            join_keys=["user_id"],
            value_type=ValueType.STRING,
            description="A (pseudonymized) user id from the event log.",
        ),
        "item": Entity(
            name="item",
            join_keys=["item_id"],
            value_type=ValueType.STRING,
            description="An item id from the catalog.",
        ),
    }
