"""XGBoost on a dask.distributed cluster: the same params, early stopping and Booster as in-process.

The driver ships each split to the workers in one partition per worker (a request's rows never
straddle two partitions, so ranking groups stay whole), then `xgboost.dask.train` fits with the
workers' threads. The returned Booster is a plain `xgboost.Booster`, like a local fit's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from xgboost import dask as dxgb

from engageflow.settings import TrainingConfig
from training.boosting import by_group, cut_at_best, is_ranking
from training.columns import LABEL

QID = "_qid"
CONNECT_TIMEOUT_SECONDS = 15.0


class DaskUnavailable(ConnectionError):
    """The configured Dask scheduler does not answer; the message says what to do."""


@contextmanager
def dask_engine(address: str, timeout: float = CONNECT_TIMEOUT_SECONDS) -> Iterator[DaskEngine]:
    """A DaskEngine on a client of the scheduler at `address`, closed afterwards."""
    from distributed import Client

    try:
        client = Client(address, timeout=f"{timeout}s", set_as_default=False)
    except OSError as err:
        raise DaskUnavailable(
            f"cannot reach the Dask scheduler at {address} "
            f"(settings.training.dask_scheduler, ENGAGEFLOW_TRAINING__DASK_SCHEDULER): start it "
            "(`dask scheduler` and `dask worker ADDRESS`) or unset the setting to train in-process"
        ) from err
    try:
        # xgboost.dask looks the client up as the current one even when it is passed in.
        with client.as_current():
            yield DaskEngine(client)
    finally:
        client.close()


class DaskEngine:
    """Matrices and fits on the cluster behind `client`."""

    name = "dask"

    def __init__(self, client: Any) -> None:
        self.client = client

    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    def matrix(self, frame: pd.DataFrame, features: list[str], objective: str) -> Any:
        """A DaskDMatrix of the features and label (and qid when ranking), one chunk a worker."""
        import dask.dataframe as dd

        columns = [*features, LABEL]
        if is_ranking(objective):
            frame, qid = by_group(frame)
            frame = frame[columns].assign(**{QID: qid})
            bounds = group_bounds(qid, self.workers())
        else:
            frame = frame[columns]
            bounds = np.linspace(0, len(frame), self.workers() + 1).astype(int)
        frame = frame.astype({LABEL: np.float32}).reset_index(drop=True)
        chunks = [frame.iloc[a:b] for a, b in pairwise(bounds) if b > a]
        parts = dd.from_delayed(self.client.scatter(chunks), meta=frame.head(0), verify_meta=False)
        return dxgb.DaskDMatrix(
            self.client,
            parts[features],
            label=parts[LABEL],
            qid=parts[QID] if is_ranking(objective) else None,
        )

    def fit(
        self, train: Any, valid: Any, params: dict[str, Any], config: TrainingConfig
    ) -> tuple[xgb.Booster, int, float]:
        """One early-stopped fit on the cluster; the booster is cut at its best iteration."""
        out = dxgb.train(
            self.client,
            params,
            train,
            num_boost_round=config.num_boost_round,
            evals=[(valid, "validation")],
            early_stopping_rounds=config.early_stopping_rounds,
            verbose_eval=False,
        )
        return cut_at_best(out["booster"])

    def fit_rounds(self, data: Any, params: dict[str, Any], rounds: int) -> xgb.Booster:
        """Exactly `rounds` trees on the cluster (the refit on train + validation)."""
        return dxgb.train(self.client, params, data, num_boost_round=rounds)["booster"]


def group_bounds(qid: np.ndarray, parts: int) -> np.ndarray:
    """Row offsets that cut sorted `qid` into about `parts` chunks, only between groups."""
    even = np.linspace(0, len(qid), parts + 1).astype(int)[1:-1]
    starts = np.searchsorted(qid, qid[even], side="left") if len(qid) else even
    return np.unique(np.concatenate([[0], starts, [len(qid)]]))


@contextmanager
def local_cluster(workers: int = 2, threads: int = 1) -> Iterator[str]:
    """A LocalCluster of worker processes on loopback for tests and benchmarks; its address.

    Every port is a free one: the scheduler's, and its HTTP endpoint's (no dashboard), which
    would otherwise try Dask's default 8787 first.
    """
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=workers,
        threads_per_worker=threads,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    ) as cluster:
        yield cluster.scheduler_address
