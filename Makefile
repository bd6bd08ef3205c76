# precode: the two commands of the README, and the checks CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint check clean

# Set up (venv + CPU-only torch via constraints.txt) and run the pipeline on data/sample/.
demo: $(STAMP)
	$(BIN)/precode run data/sample --participants data/sample/participants.csv --out runs/demo
	@echo
	@echo "Results are in runs/demo/: suggestions.csv (one row per segment, for a spreadsheet),"
	@echo "suggestions.jsonl (every suggestion with its score and evidence), manifest.json."

# The test suite (slow tests, which load the real model, are skipped: make test-all).
test: $(STAMP)
	$(BIN)/pytest -m "not slow" -q

test-all: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check pipeline tests
	$(BIN)/mypy pipeline

check: test lint

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "precode needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) runs .precode-cache .pytest_cache .mypy_cache .ruff_cache
