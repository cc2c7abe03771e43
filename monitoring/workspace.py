"""The Evidently workspace: one project per environment, its dashboard, and a day's runs.

A rerun of a day replaces that day's snapshots (they carry the metadata `day`), so the
dashboards show one point per day and kind.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engageflow.schema import Policy
from engageflow.settings import Settings
from monitoring.reports import policy_column

if TYPE_CHECKING:
    from evidently.core.report import Snapshot
    from evidently.ui.workspace import Project, Workspace

DRIFT, PERFORMANCE, QUALITY = "drift", "performance", "quality"


def workspace_dir(settings: Settings) -> Path:
    return (settings.monitoring.workspace or settings.root / "evidently").expanduser().resolve()


def project_name(settings: Settings) -> str:
    return f"{settings.monitoring.project}-{settings.profile}"


def open_workspace(settings: Settings) -> Workspace:
    from evidently.ui.workspace import Workspace

    return Workspace.create(str(workspace_dir(settings)))


def policy_tag(policy: str) -> str:
    return f"policy={policy}"


def _panels() -> list:
    from evidently.sdk.panels import PanelMetric, line_plot_panel

    def metric(name: str, legend: str, tags: list[str], **labels: str) -> PanelMetric:
        return PanelMetric(legend=legend, metric=name, tags=tags, metric_labels=labels)

    everyone = [PERFORMANCE, policy_tag("all")]
    return [
        line_plot_panel(
            title="Drifted features (share)",
            values=[metric("DriftedColumnsCount", "share", [DRIFT], value_type="share")],
            size="half",
        ),
        line_plot_panel(
            title="Drifted features (count)",
            values=[metric("DriftedColumnsCount", "count", [DRIFT], value_type="count")],
            size="half",
        ),
        line_plot_panel(
            title="Mean prediction and prediction drift",
            values=[
                metric("MeanValue", "mean score", [DRIFT], column="score"),
                metric("ValueDrift", "score drift", [DRIFT], column="score"),
            ],
            size="half",
        ),
        line_plot_panel(
            title="AUC (good engagement)",
            values=[metric("RocAuc", "AUC", everyone)],
            size="half",
        ),
        line_plot_panel(
            title="Calibration: mean score vs good-engagement rate",
            values=[
                metric("MeanValue", "mean score", everyone, column="score"),
                metric("MeanValue", "good rate", everyone, column="good"),
            ],
            size="half",
        ),
        line_plot_panel(
            title="Good vs bad engagement share",
            values=[
                metric("MeanValue", "good", everyone, column="good"),
                metric("MeanValue", "bad", everyone, column="bad"),
            ],
            size="half",
        ),
        line_plot_panel(
            title="Canary vs champion: good-engagement rate by policy",
            values=[
                metric(
                    "MeanValue",
                    policy.value,
                    [PERFORMANCE, policy_tag(policy.value)],
                    column=policy_column(policy.value),
                )
                for policy in Policy
            ],
            size="full",
        ),
    ]


def project(settings: Settings, workspace: Workspace) -> Project:
    """The environment's project, created with its dashboard on first use."""
    name = project_name(settings)
    found = [p for p in workspace.list_projects() if p.name == name]
    if found:
        return found[0]
    created = workspace.create_project(name, description="engageflow: drift, quality, A/B")
    for panel in _panels():
        created.dashboard.add_panel(panel)
    created.save()
    return created


def replace_day_runs(
    settings: Settings, day: str, snapshots: dict[str, Snapshot]
) -> dict[str, str]:
    """Store the day's snapshots (dropping earlier runs of that day); their ids by name."""
    workspace = open_workspace(settings)
    target = project(settings, workspace)
    for run_id in workspace.list_runs(target.id):
        stored = workspace.get_run(target.id, run_id)
        if stored is not None and stored.metadata.get("day") == day:
            workspace.delete_run(target.id, run_id)
    ids = {}
    for name, snapshot in snapshots.items():
        ref = workspace.add_run(target.id, snapshot, include_data=False, name=f"{name} {day}")
        ids[name] = str(ref.id)
    return ids
