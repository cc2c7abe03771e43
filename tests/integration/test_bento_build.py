"""`bentoml build` packs the ranking service into a Bento holding every module it imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from serving.launch import REPO_ROOT

pytestmark = pytest.mark.integration

# What the service imports at start, including the imports done inside functions.
IMPORTS = "serving.service", "serving.engine", "feature_repo.store", "engageflow.registry"


def _repo_modules() -> set[str]:
    """Files of this repository that the service's imports load, relative to the repo root."""
    code = (
        f"import importlib, json, sys; [importlib.import_module(m) for m in {IMPORTS!r}]; "
        "print(json.dumps([getattr(m, '__file__', None) for m in list(sys.modules.values())]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()[-1]
    files = [Path(f) for f in json.loads(out) if f]
    return {
        str(f.relative_to(REPO_ROOT))
        for f in files
        if f.is_relative_to(REPO_ROOT) and ".venv" not in f.parts
    }


def test_bentoml_build_packs_the_service(tmp_path: Path) -> None:
    env = {**os.environ, "BENTOML_HOME": str(tmp_path), "BENTOML_DO_NOT_TRACK": "true"}
    bentoml = Path(sys.executable).with_name("bentoml")
    subprocess.run(
        [str(bentoml), "build", str(REPO_ROOT)], env=env, check=True, capture_output=True
    )
    built = [p for p in (tmp_path / "bentos" / "ranker").iterdir() if p.name != "latest"]
    assert len(built) == 1
    manifest = yaml.safe_load((built[0] / "bento.yaml").read_text())
    assert manifest["service"] == "serving.service:Ranker"
    assert [route["route"] for route in manifest["schema"]["routes"]] == ["/rank"]
    src = built[0] / "src"
    packed = {str(p.relative_to(src)) for p in src.rglob("*") if p.is_file()}
    needed = _repo_modules()
    assert "serving/service.py" in needed and "feature_repo/feature_store.yaml" in packed
    assert needed <= packed, f"missing from the Bento: {sorted(needed - packed)}"
