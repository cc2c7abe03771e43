# The obvious verbs. `make demo` and `make test` set everything up on a machine with only Python.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Keep in step with the uv pinned in uv.lock.
UV_VERSION := 0.13.9

.PHONY: setup demo test test-loop lint format bench serve up down status clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

setup: $(BIN)/uv  ## install the locked environment (bytecode compiled: faster imports)
	$(BIN)/uv sync --frozen

demo: setup  ## simulate a few days and run the loop on embedded defaults (SQLite, local files)
	$(BIN)/engageflow demo --fresh

# Two pytest processes side by side, about equally long on 2 cores: the DAG, stack and browser
# tests with the reliability and unit tests (each on its own stack, ports, data dir, PostgreSQL
# databases and Redis db), and the closed loop then the integration tests, which share the
# suite's PostgreSQL and Redis databases (these run one at a time). The second's report follows
# the first's; both list their slowest tests, to keep the halves even.
SIDE_LOG ?= /tmp/engageflow-test-side.log
SIDE := tests/e2e tests/reliability tests/unit
test: setup lint  ## the whole test suite, against the real systems
	@$(BIN)/pytest --durations=15 $(SIDE) --deselect tests/e2e/test_closed_loop.py > $(SIDE_LOG) 2>&1 & side=$$!; \
	$(BIN)/pytest --durations=15 tests/e2e/test_closed_loop.py tests/integration; main=$$?; \
	wait $$side; beside=$$?; \
	echo "--- $(SIDE) (ran beside the above):"; cat $(SIDE_LOG); \
	[ $$main -eq 0 ] && [ $$beside -eq 0 ]

test-loop: setup  ## only the closed loop over the local stack (part of `make test` too)
	$(BIN)/pytest -m loop tests/e2e/test_closed_loop.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup  ## speed and quality measurements; results land in docs/benchmarks/
	$(BIN)/python -m benchmarks.simulator
	$(BIN)/python -m benchmarks.validation
	$(BIN)/python -m benchmarks.training
	$(BIN)/python -m benchmarks.features
	$(BIN)/python -m benchmarks.monitoring
	$(BIN)/python -m benchmarks.serving
	$(BIN)/python -m benchmarks.scaling
	$(BIN)/python -m benchmarks.rank_load

serve: setup  ## the ranking service on settings.serving.host:port (Swagger UI at /)
	$(BIN)/engageflow serve

up: setup  ## the local stack: Airflow, MLflow, the ranker, the Evidently UI (settings' ports)
	$(BIN)/engageflow up

down:  ## stop exactly what `make up` started
	$(BIN)/engageflow down

status:  ## each service of the local stack: running, healthy, URL
	$(BIN)/engageflow status

clean:  ## remove the local data dir (simulated data, lake, Airflow home)
	rm -rf .engageflow
