"""Evaluation plots as PNG files (matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=(5, 4), dpi=100)


def reliability_plot(table: pd.DataFrame, path: Path, title: str) -> Path:
    """Observed rate against mean prediction per bin (metrics.calibration_table)."""
    plt, fig, ax = _figure()
    top = float(max(table["predicted"].max(), table["observed"].max(), 0.05))
    ax.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect")
    ax.plot(table["predicted"], table["observed"], marker="o", label="model")
    ax.set(xlabel="mean predicted P(good)", ylabel="observed good rate", title=title)
    ax.legend()
    return _save(plt, fig, path)


def roc_pr_plots(y: np.ndarray, scores: np.ndarray, folder: Path) -> list[Path]:
    """ROC and precision-recall curves of one model's scores."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    fpr, tpr, _ = roc_curve(y, scores)
    plt, fig, ax = _figure()
    ax.plot(fpr, tpr)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    roc = _save(plt, fig, folder / "roc.png")
    precision, recall, _ = precision_recall_curve(y, scores)
    plt, fig, ax = _figure()
    ax.plot(recall, precision)
    ax.axhline(float(np.mean(y)), linestyle="--", color="grey")
    ax.set(xlabel="recall", ylabel="precision", title="precision-recall")
    return [roc, _save(plt, fig, folder / "pr.png")]


def importance_plot(importance: dict[str, float], path: Path) -> Path:
    """Horizontal bars of feature importance (gain)."""
    plt, fig, ax = _figure()
    names = sorted(importance, key=importance.get)
    ax.barh(names, [importance[n] for n in names])
    ax.set(xlabel="total gain", title="feature importance")
    fig.tight_layout()
    return _save(plt, fig, path)


def _save(plt, fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
