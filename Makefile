# The two set-up commands are `make run` and `make test`; both build .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint unit clean bench profile fuzz crash-test load lock

# Installs come from uv.lock (every version and hash pinned), through uv, which
# pip puts into .venv first. --locked refuses a lock that pyproject.toml has
# outgrown: after changing dependencies (or merging a branch that did), run
# `make lock` and commit uv.lock.
UV_VERSION := 0.13.9
UV := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(BIN)/uv
UV_PYTHON := --python $(BIN)/python

$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'

$(STAMP): pyproject.toml uv.lock | $(BIN)/uv
	$(UV) sync --locked --inexact --extra dev $(UV_PYTHON) \
		|| { echo "uv.lock does not match pyproject.toml: run \`make lock\` and commit uv.lock" >&2; exit 1; }
	touch $(STAMP)

# Re-resolve uv.lock from pyproject.toml (newest versions the ranges allow),
# then install from it.
lock: | $(BIN)/uv
	$(UV) lock $(UV_PYTHON)
	$(MAKE) $(STAMP)

# `make run PORT=8001` serves on another port. `demo --port` checks the port is
# free before it changes anything, migrates, writes .env on first use and reuses
# the demo key kept in var/demo_key.
PORT ?= 8000
run: $(STAMP)
	CONTACTLISTS_ENV=development $(BIN)/contactlists demo --port $(PORT)
	CONTACTLISTS_ENV=development $(BIN)/contactlists serve --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

unit: $(STAMP)
	$(BIN)/pytest

test: lint unit

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Benchmarks (not part of `make test`): installs wrk when it can, else falls back.
bench: $(STAMP)
	command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 || echo "wrk unavailable: using the asyncio load generator"
	$(BIN)/python -m bench $(BENCH_ARGS)

# Where one request's time goes, in-process (bench/profile.py).
profile: $(STAMP)
	$(BIN)/python -m bench.profile $(PROFILE_ARGS)

# The long proofs (not part of `make test`; README "Reliability"). `make load`
# needs PostgreSQL and Redis on 127.0.0.1, as `.ci/run` starts them.
fuzz: $(STAMP)
	CONTACTLISTS_FUZZ_REQUESTS=10000 $(BIN)/pytest tests/test_fuzz.py -p no:cacheprovider -s

crash-test: $(STAMP)
	CONTACTLISTS_CRASH_ROUNDS=200 $(BIN)/pytest tests/test_crash.py -p no:cacheprovider -s

load: $(STAMP)
	$(BIN)/python -m bench.mixed --backend sqlite --workers 1 $(LOAD_ARGS)
	$(BIN)/python -m bench.mixed --backend postgresql --workers 3 $(LOAD_ARGS)
