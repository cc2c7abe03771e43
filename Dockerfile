# One image for every engageflow service in docker-compose.yml (Airflow, MLflow, the ranker,
# the Evidently UI): the locked environment from uv.lock, without the dev tools.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/engageflow \
    PATH=/opt/engageflow/bin:$PATH

RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev

ENV ENGAGEFLOW_DATA_DIR=/data
VOLUME ["/data"]
