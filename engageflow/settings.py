"""One typed settings object for the whole platform, read from env vars and an optional TOML file.

Precedence (highest first): keyword arguments, `ENGAGEFLOW_*` env vars (nested with `__`, e.g.
`ENGAGEFLOW_SIMULATION__USERS=500`), the TOML file named by `ENGAGEFLOW_CONFIG` (default
`./engageflow.toml` when present), then the embedded defaults below (local files, SQLite).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from engageflow.compat import is_feast_metrics_dir

CONFIG_ENV_VAR = "ENGAGEFLOW_CONFIG"
DEFAULT_CONFIG_FILE = Path("engageflow.toml")


class Section(BaseModel):
    """A settings section: unknown keys are errors, so a misspelt variable never goes unseen."""

    model_config = ConfigDict(extra="forbid")


DRIFT_FIELDS = {
    "topic_appeal": ("topic", "shift"),
    "new_items": ("items",),
    "clickbait": ("share",),
}


class Drift(Section):
    """A scheduled change of the simulated world from `day` on; what changes depends on `kind`.

    - `topic_appeal` (default): from `day` on, `topic`'s appeal shifts by `shift` logits.
    - `new_items`: on `day` only, `items` extra new items arrive, drawn like the usual ones.
    - `clickbait`: from `day` on, a `share` (default 1) of each day's new items draw their latent
      clickbait from a clickbait-heavy distribution (simulator/world.py, SURGE_CLICKBAIT).
    """

    day: date
    kind: Literal["topic_appeal", "new_items", "clickbait"] = "topic_appeal"
    topic: int | None = Field(default=None, ge=0)
    shift: float | None = None
    items: int | None = None
    share: float | None = None

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Drift:
        own = DRIFT_FIELDS[self.kind]
        # A field of another kind is most likely a forgotten `kind`: refuse it, do not ignore it.
        foreign = [f for kind in DRIFT_FIELDS for f in DRIFT_FIELDS[kind] if f not in own]
        given = [f for f in foreign if getattr(self, f) is not None]
        if given:
            names = ", ".join(f"`{f}`" for f in given)
            raise ValueError(f"a {self.kind} drift takes no {names} (is `kind` right?)")
        if self.kind == "topic_appeal" and (self.topic is None or self.shift is None):
            raise ValueError("a topic_appeal drift needs `topic` and `shift`")
        if self.kind == "new_items" and (self.items is None or self.items <= 0):
            raise ValueError(f"a new_items drift needs `items` > 0, got {self.items}")
        if self.kind == "clickbait":
            self.share = 1.0 if self.share is None else self.share
            if not 0.0 < self.share <= 1.0:
                raise ValueError(f"a clickbait drift needs `share` in (0, 1], got {self.share}")
        return self


class RetentionConfig(Section):
    """The simulator's long-term laws: satisfaction with memory moves how often users return,
    users churn, some sessions end with a survey (engageflow/simulator/retention.py, survey.py).

    Off by default: with it on, day D needs the users' state after D-1 (days run in order), and
    the tests, benchmarks and documented numbers were measured on traffic without it.
    """

    enabled: bool = False
    # A session's value: good engagements count +1; a regretted click (bounce) and a hide or
    # report count against it more ("bad is stronger than good": negative events weigh about
    # 2-5 times as much as positive ones in studies of satisfaction).
    good: float = 1.0
    bounce: float = -2.0
    negative: float = -4.0
    # The value of the world's status quo: the mean session under the exploration policy on the
    # default world's first day (0.46 good, 0.09 bounces, 0.23 hides or reports per session). A
    # session is judged against it, so serving like the status quo keeps traffic level.
    neutral_session: float = -0.64
    half_life_days: float = Field(default=7.0, gt=0)  # a week of habit
    # Return rate = 2 * expit(sensitivity * satisfaction): 1 at the start, between 0 and 2.
    sensitivity: float = Field(default=0.1, gt=0)
    churn_rate: float = Field(default=0.25, ge=0, lt=1)  # below this return rate, gone for good
    survey_share: float = Field(default=0.02, ge=0, le=1)  # sessions that answer the survey
    survey_slope: float = Field(default=0.8, ge=0)  # ordered logit: score latent per value
    survey_cuts: tuple[float, float, float, float] = (-3.0, -1.0, 1.0, 3.0)

    @model_validator(mode="after")
    def _cuts_ordered(self) -> RetentionConfig:
        if list(self.survey_cuts) != sorted(set(self.survey_cuts)):
            raise ValueError(f"survey_cuts must rise strictly, got {self.survey_cuts}")
        return self


class SimulationConfig(Section):
    """Size and laws of the simulated world; see engageflow/simulator/world.py."""

    start: date = date(2026, 1, 1)
    users: int = Field(default=20_000, ge=1)
    items: int = Field(default=4_000, ge=1)
    topics: int = Field(default=12, ge=2)
    creators: int = Field(default=400, ge=1)
    new_items_per_day: int = Field(default=150, ge=0)
    new_users_per_day: int = Field(default=400, ge=0)
    requests_per_day: int = Field(default=5_000, ge=1)
    candidates: int = Field(default=50, ge=1)
    slate_size: int = Field(default=10, ge=1)
    drifts: list[Drift] = Field(default_factory=list)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    @model_validator(mode="after")
    def _slate_fits(self) -> SimulationConfig:
        if self.slate_size > self.candidates:
            raise ValueError(
                f"slate_size ({self.slate_size}) must not exceed candidates ({self.candidates})"
            )
        return self


class LabelConfig(Section):
    """Thresholds that turn raw events into good and bad engagement (engageflow/labels.py)."""

    good_dwell_seconds: float = Field(default=30.0, gt=0)
    bounce_dwell_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> LabelConfig:
        if self.bounce_dwell_seconds > self.good_dwell_seconds:
            raise ValueError("bounce_dwell_seconds must not exceed good_dwell_seconds")
        return self


class QualityConfig(Section):
    """Thresholds of the data-quality gates (expectations/); owned by the GX gate."""

    # A day's row count and CTR are checked against the median of the last `history_days`
    # lake days: at least within the ratios below, wider by `history_spread` robust standard
    # deviations of the history's log values when the log itself varies more (3+ days).
    history_days: int = Field(default=14, ge=1)
    history_spread: float = Field(default=4.0, ge=0)
    volume_min_ratio: float = Field(default=0.3, gt=0)  # of the recent days' median row count
    volume_max_ratio: float = Field(default=3.0, gt=0)
    ctr_change_ratio: float = Field(default=2.0, ge=1)  # CTR within [median / r, median * r]
    # Always, history or not: a ratings export clicks every impression (CTR 1.0).
    ctr_min: float = Field(default=0.0, ge=0)
    ctr_max: float = Field(default=1.0, le=1)
    # More of a day's rows than this failing row checks fails the day instead of quarantining
    # them: a column left empty or wrongly mapped, not some bad rows.
    max_rejected_share: float = Field(default=0.5, ge=0, le=1)


class ImporterConfig(Section):
    """How real logs are imported (engageflow/importer/): times later than now plus
    `future_tolerance` (clock skew between the source and this machine) are refused."""

    future_tolerance: timedelta = Field(default=timedelta(days=1), ge=timedelta(0))
    # Days without events inside a log land as empty, valid days when the gap is at most this
    # long; a longer gap (a stray old row, an export of two eras) is left unlanded, and said.
    max_quiet_days: int = Field(default=31, ge=0)
    # A user attribute value held by fewer users is pooled (k-anonymity per column): a region
    # as fine as a postcode would otherwise single people out.
    min_region_users: int = Field(default=10, ge=1)


class FeastConfig(Section):
    """Where Feast keeps its registry and online store, and the features' shape (feature_repo/).

    Embedded: file registry and SQLite online store in <data_dir>/feast. The production profile
    uses Redis online and needs `registry_uri`, a SQLAlchemy URL such as
    `postgresql+psycopg://user@host:5432/feast`. The offline store is DuckDB over the Parquet
    partitions, or PostgreSQL (`offline_uri`, a URL of the same form) for data beyond one disk.
    """

    project: str = "engageflow"
    online_store: Literal["sqlite", "redis"] = "sqlite"
    redis_connection: str = "127.0.0.1:6379,db=0"  # Feast's format: host:port[,db=N][,password=]
    registry_uri: str | None = None  # default: a file in <data_dir>/feast; SQL URL in production
    offline_store: Literal["duckdb", "postgres"] = "duckdb"
    offline_uri: str | None = None  # PostgreSQL offline store; `?sslmode=` passes through
    windows_days: list[int] = Field(default_factory=lambda: [1, 7, 28])
    embedding_dim: int = Field(default=16, ge=2)
    # An item vector is smoothed toward yesterday's (weight halved each half-life; 0: off), so a
    # refit's reshuffle of weak components does not move an unchanged item (transforms/embedding).
    embedding_half_life_days: float = Field(default=1.0, ge=0)
    affinity_prior: float = Field(default=5.0, gt=0)  # pseudo-impressions that shrink affinities
    ttl_days: int = Field(default=2, ge=1)  # a feature row serves this long: one missed run
    # Long-horizon profiles (user_history, item_history): decayed lifetime sums whose rows
    # outlive the windows; rates shrunk toward the population's by `history_prior` impressions.
    history_half_life_days: float = Field(default=90.0, gt=0)
    history_prior: float = Field(default=20.0, ge=0)
    history_ttl_days: int = Field(default=365, ge=1)
    parity_sample: int = Field(default=200, ge=1)  # entities per view the parity check compares

    @model_validator(mode="after")
    def _windows(self) -> FeastConfig:
        if not self.windows_days or any(w < 1 for w in self.windows_days):
            raise ValueError(f"windows_days must be positive day counts, got {self.windows_days}")
        self.windows_days = sorted(set(self.windows_days))
        return self


class MlflowConfig(Section):
    """MLflow tracking and registry (training/); SQLite in the data dir by default."""

    tracking_uri: str | None = None  # default: sqlite:///<data_dir>/mlflow/mlflow.db
    artifact_root: Path | None = None  # default: <data_dir>/mlflow/artifacts
    experiment: str = "engagement_ranker"
    registered_model: str = "engagement_ranker"
    # Alias moves are journaled as runs of this experiment (MLflow keeps no alias history).
    history_experiment: str = "engagement_ranker.alias_history"
    host: str = "127.0.0.1"  # `mlflow server` (UI and tracking API) of the local stack
    port: int = Field(default=5000, ge=1, le=65535)


class TrainingConfig(Section):
    """The rolling window and the ranker's learning setup (training/)."""

    feature_service: str = "ranker_v1"  # the Feast FeatureService a new model trains on
    train_days: int = Field(default=7, ge=1)
    validation_days: int = Field(default=1, ge=1)
    test_days: int = Field(default=1, ge=1)
    objective: Literal["binary:logistic", "rank:pairwise", "rank:ndcg"] = "binary:logistic"
    seed: int | None = None  # default: the global `seed`
    # XGBoost (hist trees); early stopping watches the validation window.
    max_depth: int = Field(default=6, ge=1)
    learning_rate: float = Field(default=0.1, gt=0)
    num_boost_round: int = Field(default=400, ge=1)
    early_stopping_rounds: int = Field(default=30, ge=1)
    # Refit the early-stopped model on train + validation: the newest days before the test
    # window are the ones that show a drift, and a retrain must learn from them.
    refit: bool = True
    min_child_weight: float = Field(default=5.0, ge=0)
    subsample: float = Field(default=0.8, gt=0, le=1)
    colsample_bytree: float = Field(default=0.8, gt=0, le=1)
    threads: int = Field(default=0, ge=0)  # 0: every core
    # A dask.distributed scheduler ("tcp://host:8786") to train on; None: in this process.
    dask_scheduler: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9+]*://\S+$")
    # "none" keeps predicted probabilities calibrated (ECE is a gate guard); the positive rate
    # is logged either way.
    imbalance: Literal["none", "scale_pos_weight"] = "none"
    search_budget_seconds: float = Field(default=0.0, ge=0)  # 0: no hyperparameter search
    search_max_trials: int = Field(default=8, ge=1)
    # Evaluation: ranking cut-off, the cut-off of the good/bad engagement rates (below the
    # slate size, or every model re-ranking a full slate gets the same rates), calibration bins.
    ranking_k: int = Field(default=10, ge=1)
    engagement_k: int = Field(default=5, ge=1)
    calibration_bins: int = Field(default=10, ge=2)
    popularity_prior: float = Field(default=20.0, ge=0)  # pseudo-impressions at the mean rate
    # What ranking metrics, the gate and ranking objectives group by (training/groups.py):
    # requests when they hold slates ("auto"), else each user's sessions cut at this pause.
    group_by: Literal["auto", "request", "session"] = "auto"
    session_gap_minutes: float = Field(default=30.0, gt=0)
    # Fewer test groups with a good and another item than this, and ranking metrics say nothing:
    # the gate refuses and says why (about 0.3 / sqrt(n) of NDCG noise per model at n groups).
    min_rankable_groups: int = Field(default=100, ge=1)
    # A sparse log's test and validation windows widen back from test_days / validation_days
    # until each holds min_rankable_groups such groups, up to this many days (training/sizing.py).
    max_eval_days: int = Field(default=28, ge=1)
    # A log that records only engagements (ratings: every impression clicked) gets this many
    # unengaged catalog items per impression as negatives (training/negatives.py).
    sampled_negatives: int = Field(default=4, ge=0)
    # Promotion gate: paired bootstrap (by request) of challenger minus champion.
    # AUC within each slate position: the logged order is the champion's, and engagement falls
    # with position, so a ranking metric on logged slates credits the champion for where it put
    # items (training/gate.py). NDCG, MAP and MRR stay available, and are reported.
    gate_metric: Literal["position_auc", "ndcg", "auc", "gauc", "map", "mrr"] = "position_auc"
    # How far the estimate may trail the champion (training/gate.py has the rule and its reason).
    gate_tolerance: float = Field(default=0.02, ge=0)
    gate_ece_tolerance: float = Field(default=0.01, ge=0)
    gate_bad_rate_tolerance: float = Field(default=0.01, ge=0)
    bootstrap_samples: int = Field(default=300, ge=10)
    bootstrap_confidence: float = Field(default=0.95, gt=0, lt=1)


class CeleryConfig(Section):
    """The CeleryExecutor's broker, result backend and worker (used when executor is Celery)."""

    # Redis db 1: db 0 is the Feast online store's default.
    broker_url: str = "redis://127.0.0.1:6379/1"
    result_backend: str | None = None  # default: "db+" + the Airflow metadata DB URL
    worker_concurrency: int = Field(default=2, ge=1)  # task slots of the stack's one worker
    worker_hostname: str = "engageflow@%h"  # Celery's node name (%h: this host's name)


class AirflowConfig(Section):
    """How the project runs Airflow locally (SQLite + LocalExecutor unless a URI is given)."""

    home: Path | None = None  # default: <data_dir>/airflow
    sql_alchemy_conn: str | None = None  # default: SQLite in the Airflow home
    executor: Literal["LocalExecutor", "CeleryExecutor"] = "LocalExecutor"
    celery: CeleryConfig = Field(default_factory=CeleryConfig)
    parallelism: int = Field(default=4, ge=1)
    # LocalExecutor tasks fork from a process that has imported the tasks' stage modules
    # (dags/support/preload.py): seconds less per task.
    preload_task_modules: bool = True
    host: str = "127.0.0.1"  # the api-server (UI and REST API)
    port: int = Field(default=8080, ge=1, le=65535)
    # Where task processes reach the api-server's execution API; default http://host:port/execution/
    # (containers set the api-server's service name).
    execution_api_url: str | None = None
    # The time schedule of simulate_traffic, ingest_events and train_ranker (day-long data
    # intervals, UTC). "" or "none": no clock, runs come from assets, triggers and by hand (the
    # simulated days lie in the past, so a clock would ask for today's real date). Backfill
    # needs a time schedule.
    schedule: str = "@daily"

    @model_validator(mode="after")
    def _celery_ready(self) -> AirflowConfig:
        if self.executor == "CeleryExecutor" and (problems := celery_problems(self)):
            raise ValueError(
                "the CeleryExecutor runs tasks on workers that share the metadata database and "
                "a Redis broker; set:\n  - " + "\n  - ".join(problems)
            )
        return self


class ServingConfig(Section):
    """The ranking service (serving/): routing, exploration, limits and the prediction log."""

    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    # BentoML worker processes; None: one per core this process may run on (serving.launch).
    # A request is Python on one core, so more workers than cores only take turns.
    workers: int | None = Field(default=None, ge=1)
    canary_share: float = Field(default=0.1, ge=0, le=1)
    canary_salt: str = "engageflow-canary"
    epsilon: float = Field(default=0.05, ge=0, le=1)
    max_candidates: int = Field(default=1000, ge=1)
    max_k: int = Field(default=100, ge=1)
    feature_timeout_ms: float = Field(default=50.0, gt=0)
    reload_interval_seconds: float = Field(default=10.0, gt=0)
    # The item tables reload when Feast records a materialization, a catalog lands or a model
    # changes (checked every reload_interval_seconds); this is only the longest they are kept.
    cache_ttl_seconds: float = Field(default=3600.0, ge=0)
    log_batch_rows: int = Field(default=2000, ge=1)
    log_flush_seconds: float = Field(default=1.0, gt=0)
    # What the fallback ranks by (feature store down or slow, no model): the item's decayed
    # lifetime good rate shrunk toward everyone's (item_history), steadier than a 7-day rate.
    popularity_feature: str = "item_lt_good_rate"
    # BentoML's thread pool per worker, for sync APIs only: /rank is async and runs on the
    # worker's event loop (its feature read in the engine's own pool).
    threads: int = Field(default=1, ge=1)
    # BentoML's access log line per request (the prediction log already keeps every slate with
    # its latency). Off, with the OpenTelemetry middleware skipped for /rank: about a third of
    # a request's CPU (docs/benchmarks/rank_load.md).
    access_log: bool = False
    # When set, /rank and /models need `Authorization: Bearer <key>` (serving/auth.py). Give
    # the key itself or, better, a file holding it (a mounted secret); not both.
    api_key: SecretStr | None = None
    api_key_file: Path | None = None

    @model_validator(mode="after")
    def _one_key_source(self) -> ServingConfig:
        if self.api_key is not None and self.api_key_file is not None:
            raise ValueError("set serving.api_key or serving.api_key_file, not both")
        return self


class CollectorConfig(Section):
    """The event collector (`POST /events`, serving/collector.py) and its durable log
    (engageflow/eventlog/): Parquet micro-batches in the landing zone, or Redis Streams."""

    host: str = "127.0.0.1"
    port: int = Field(default=3001, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    log: Literal["landing", "redis"] = "landing"
    redis_url: str = "redis://127.0.0.1:6379/2"  # db 2: 0 is Feast's, 1 Celery's
    stream: str = "engageflow:events"  # the stream's key (a prefix keeps tests apart)
    group: str = "landing"  # the consumer group that drains the stream into the landing zone
    # Redis keeps about this many entries (batches) per stream: XADD ... MAXLEN ~ N.
    max_stream_entries: int = Field(default=1_000_000, ge=1)
    max_batch_events: int = Field(default=1000, ge=1)
    # Events older than this are refused (the day's ingest may have run): import them instead.
    max_event_age: timedelta = Field(default=timedelta(days=1), gt=timedelta(0))


class MonitoringConfig(Section):
    """Drift reports, verdicts, retrain triggers and A/B readouts (monitoring/)."""

    workspace: Path | None = None  # Evidently workspace; default: <data_dir>/evidently
    project: str = "engageflow"  # the Evidently project is "<project>-<profile>"
    ui_host: str = "127.0.0.1"
    ui_port: int = Field(default=8000, ge=1, le=65535)
    # Fixed-size, seeded sample stratified by policy: the same method and cost at any day size.
    sample_size: int = Field(default=20_000, ge=100)
    seed: int | None = None  # default: the global `seed`
    # Distances, not p-value tests: their verdicts do not flip with the sample size.
    num_method: str = "wasserstein"
    cat_method: str = "jensenshannon"
    # Each column's drift bound is calibrated on the champion's recent served days
    # (monitoring/calibration.py) for this many false alarms in 30 undrifted days ...
    false_alarms_per_30_days: float = Field(default=1.0, gt=0)
    drift_reference_days: int = Field(default=7, ge=3)  # ... the newest undrifted ones
    # ... and never below a floor: Evidently's default thresholds, shifts too small to matter.
    num_floor: float = Field(default=0.1, gt=0)
    cat_floor: float = Field(default=0.1, gt=0)
    score_floor: float = Field(default=0.1, gt=0)
    # Verdict: a feature or the score beyond its bound, or this drop of the good rate.
    good_rate_drop: float = Field(default=0.2, gt=0, lt=1)  # relative to the reference
    # The good rate's reference: the newest undrifted served days (monitoring/baseline.py).
    baseline_days: int = Field(default=3, ge=1)
    baseline_lookback_days: int = Field(default=14, ge=1)
    cooldown_days: int = Field(default=3, ge=0)  # one retrain per drift episode
    # A/B readout of canary vs champion (per-user good-engagement rate), a sequential test
    # (mSPRT) over every day the canary served the challenger: valid under daily looks.
    ab_min_users: int = Field(default=200, ge=2)
    ab_alpha: float = Field(default=0.05, gt=0, lt=1)  # false promotions over the whole test
    ab_expected_lift: float = Field(default=0.10, gt=0)  # relative lift the test is tuned to
    ab_min_lift: float = Field(default=0.0)  # promote only above this difference of means
    ab_bad_margin: float = Field(default=0.0, ge=0)  # guardrail: bad-rate rise that rolls back
    ab_max_days: int = Field(default=14, ge=1)  # then the champion stays, the challenger goes


class Settings(BaseSettings):
    """Everything that differs between a laptop demo and production lives here."""

    model_config = SettingsConfigDict(
        env_prefix="ENGAGEFLOW_",
        env_nested_delimiter="__",
        extra="forbid",
        hide_input_in_errors=True,  # inputs hold URLs with passwords and the pseudonym key
    )

    profile: Literal["embedded", "production"] = "embedded"
    data_dir: Path = Path(".engageflow")
    seed: int = 7
    pseudonym_key: SecretStr | None = None
    pseudonym_key_file: Path | None = None  # default: <data_dir>/secrets/pseudonym.key
    labels: LabelConfig = Field(default_factory=LabelConfig)
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    importer: ImporterConfig = Field(default_factory=ImporterConfig)
    feast: FeastConfig = Field(default_factory=FeastConfig)
    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    serving: ServingConfig = Field(default_factory=ServingConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    collector: CollectorConfig = Field(default_factory=CollectorConfig)
    airflow: AirflowConfig = Field(default_factory=AirflowConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)

    @model_validator(mode="after")
    def _production_ready(self) -> Settings:
        if self.profile == "production" and (problems := production_problems(self)):
            raise ValueError(
                "the production profile runs on PostgreSQL and Redis; set:\n  - "
                + "\n  - ".join(problems)
                + "\n(see docs/production.toml)"
            )
        return self

    @cached_property
    def root(self) -> Path:
        """The data dir as an absolute path, so subprocesses and Airflow agree on it."""
        return self.data_dir.expanduser().resolve()

    @property
    def airflow_home(self) -> Path:
        return (self.airflow.home or self.root / "airflow").expanduser().resolve()

    @property
    def key_file(self) -> Path:
        return (self.pseudonym_key_file or self.root / "secrets" / "pseudonym.key").resolve()


def _scheme(url: str | None) -> str:
    """The URL's scheme without its driver (`postgresql+psycopg` -> `postgresql`); never the URL,
    which may hold a password."""
    return (url or "").partition("://")[0].partition("+")[0] if url and "://" in url else ""


def _got(url: str | None) -> str:
    """What was given instead, without the URL itself (it may hold a password)."""
    return f"got a {_scheme(url)} URL" if _scheme(url) else ("unset" if not url else "not a URL")


def celery_problems(config: AirflowConfig) -> list[str]:
    """Every Airflow setting the CeleryExecutor needs and lacks, each with its env var."""
    problems = []
    if _scheme(config.sql_alchemy_conn) != "postgresql":
        problems.append(
            "ENGAGEFLOW_AIRFLOW__SQL_ALCHEMY_CONN=postgresql+psycopg2://USER@HOST:5432/airflow "
            f"({_got(config.sql_alchemy_conn)}; SQLite cannot be shared with workers)"
        )
    if _scheme(config.celery.broker_url) not in ("redis", "rediss"):
        problems.append(
            "ENGAGEFLOW_AIRFLOW__CELERY__BROKER_URL=redis://HOST:6379/N "
            f"({_got(config.celery.broker_url)})"
        )
    backend = config.celery.result_backend
    if backend is not None and _scheme(backend.removeprefix("db+")) != "postgresql":
        problems.append(
            "ENGAGEFLOW_AIRFLOW__CELERY__RESULT_BACKEND=db+postgresql+psycopg2://USER@HOST:5432/"
            f"airflow, or unset for the metadata DB ({_got(backend.removeprefix('db+'))})"
        )
    return problems


def production_problems(settings: Settings) -> list[str]:
    """Every setting the production profile needs and lacks, each with its env var."""
    problems = []
    for var, url, driver, db in (
        ("AIRFLOW__SQL_ALCHEMY_CONN", settings.airflow.sql_alchemy_conn, "psycopg2", "airflow"),
        ("MLFLOW__TRACKING_URI", settings.mlflow.tracking_uri, "psycopg2", "mlflow"),
        ("FEAST__REGISTRY_URI", settings.feast.registry_uri, "psycopg", "feast"),
    ):
        if _scheme(url) != "postgresql":
            problems.append(
                f"ENGAGEFLOW_{var}=postgresql+{driver}://USER@HOST:5432/{db} ({_got(url)})"
            )
    if settings.feast.online_store != "redis":
        problems.append(
            f"ENGAGEFLOW_FEAST__ONLINE_STORE=redis (got {settings.feast.online_store!r}), with "
            "ENGAGEFLOW_FEAST__REDIS_CONNECTION=HOST:6379,db=N"
        )
    return problems


def settings_env(settings: Settings) -> dict[str, str]:
    """The resolved settings as ENGAGEFLOW_* env vars (sections as JSON, paths absolute), so a
    child process reads exactly these. Secrets go by value: child env only."""
    env = {
        "ENGAGEFLOW_PROFILE": settings.profile,
        "ENGAGEFLOW_DATA_DIR": str(settings.root),
        "ENGAGEFLOW_SEED": str(settings.seed),
        "ENGAGEFLOW_PSEUDONYM_KEY_FILE": str(settings.key_file),
    }
    if settings.pseudonym_key is not None:
        env["ENGAGEFLOW_PSEUDONYM_KEY"] = settings.pseudonym_key.get_secret_value()
    for name in Settings.model_fields:
        section = getattr(settings, name)
        if isinstance(section, Section):
            paths = {k: v.expanduser().resolve() for k, v in section if isinstance(v, Path)}
            if name == "airflow":
                paths["home"] = settings.airflow_home
            # JSON dumps mask secrets ("**********"): the child gets the value, in its env only.
            secrets = {k: v.get_secret_value() for k, v in section if isinstance(v, SecretStr)}
            dumped = section.model_copy(update=paths).model_dump(mode="json") | secrets
            env[f"ENGAGEFLOW_{name.upper()}"] = json.dumps(dumped)
    if (config := config_file()) is not None:
        env[CONFIG_ENV_VAR] = str(config.resolve())
    return env


def child_env(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's env) without its ENGAGEFLOW_* vars, plus `settings_env`:
    an inherited `ENGAGEFLOW_SERVING__PORT` must not override what the parent resolved."""
    base = os.environ if base is None else base
    kept = {
        k: v
        for k, v in base.items()
        if not k.startswith("ENGAGEFLOW_") and not is_feast_metrics_dir(k, v)
    }
    return {**kept, **settings_env(settings)}


def config_file() -> Path | None:
    """The TOML file to read, if any: `$ENGAGEFLOW_CONFIG`, else ./engageflow.toml when present."""
    named = os.environ.get(CONFIG_ENV_VAR)
    if named:
        path = Path(named)
        if not path.is_file():
            raise FileNotFoundError(f"{CONFIG_ENV_VAR}={named} does not name a readable file")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def get_settings(**overrides: object) -> Settings:
    """Read settings now (never at import time), with optional explicit overrides."""
    return Settings(**overrides)
