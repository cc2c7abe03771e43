"""Bad inputs that need no world: a missing source file, a mapping without an action column,
a request to break features that do not exist. Each is named; nothing is stored."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from stored import tree

from engageflow.errors import DataError
from engageflow.importer import ColumnMapping, ImportInputError, import_events
from engageflow.settings import Settings
from training.pipeline import shuffle_features

LOG = "uid,content,when\nu1,i1,2026-02-01T10:00:00Z\n"


@pytest.mark.parametrize(
    ("name", "mapping", "message"),
    [
        ("absent.csv", ColumnMapping("uid", "content", "when", event="x"), r"absent.csv: no such"),
        ("log.csv", ColumnMapping("uid", "content", "when"), r"names no action column"),
    ],
    ids=["no_such_file", "no_action_column"],
)
def test_import_refusals_store_nothing(
    settings: Settings, tmp_path: Path, name: str, mapping: ColumnMapping, message: str
) -> None:
    (tmp_path / "log.csv").write_text(LOG)
    settings.root.mkdir(parents=True)
    with pytest.raises(ImportInputError, match=message):
        import_events(settings, tmp_path / name, mapping)
    assert tree(settings.root, "secrets") == {}


def test_breaking_unknown_features_is_refused_naming_them() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    with pytest.raises(DataError, match=r"unknown features \['nope'\].*\['a', 'b'\]"):
        shuffle_features(frame, ["a", "b"], "a, nope", seed=1)
