"""The core imports no stage: counted over the AST, imports inside functions included, and the
import-linter contract in pyproject.toml names every core module (so a new one is guarded too)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UPPER = (
    "engageflow.app",
    "dags",
    "benchmarks",
    "expectations",
    "feature_repo",
    "training",
    "serving",
    "monitoring",
    "airflow",
)


def core_modules() -> dict[str, Path]:
    """Every module of engageflow/ outside engageflow/app/, by dotted name."""
    found = {}
    for path in (ROOT / "engageflow").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[1] == "app":
            continue
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(path: Path) -> set[str]:
    """Every absolute module name `path` imports, at any depth of the file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def is_upper(name: str) -> bool:
    return any(name == upper or name.startswith(f"{upper}.") for upper in UPPER)


def test_no_core_module_imports_a_stage_the_app_or_airflow():
    upward = {
        module: sorted(name for name in imported(path) if is_upper(name))
        for module, path in core_modules().items()
    }
    assert {module: names for module, names in upward.items() if names} == {}


def test_the_ast_check_sees_an_import_hidden_in_a_function(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("def later():\n    from training.train import train_model\n")
    assert any(is_upper(name) for name in imported(planted))


def test_the_import_linter_contract_names_every_core_module():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (core,) = (c for c in config["contracts"] if c["type"] == "forbidden")
    top_level = {name for name in core_modules() if name.count(".") == 1}
    assert set(core["source_modules"]) == top_level
