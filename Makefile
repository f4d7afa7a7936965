# The two commands of README.md: `make run` (the dashboard) and `make test` (the tests).
# Both create .venv and install what they need on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8501

.PHONY: run test lint

$(BIN)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.dev: requirements-dev.txt requirements.txt $(BIN)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.runtime
	$(BIN)/streamlit run app.py --server.address $(HOST) --server.port $(PORT) --browser.gatherUsageStats false

test: $(BIN)/.dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/alembic check
