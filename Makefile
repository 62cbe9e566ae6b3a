# The two set-up commands are `make run` and `make test`; both build .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	CONTACTLISTS_ENV=development $(BIN)/contactlists migrate
	CONTACTLISTS_ENV=development $(BIN)/contactlists demo
	CONTACTLISTS_ENV=development $(BIN)/contactlists serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

unit: $(STAMP)
	$(BIN)/pytest

test: lint unit

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
