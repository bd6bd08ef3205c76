# precode: the two commands of the README, and the checks CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-all lint check wheel clean

# Set up (venv + CPU-only torch via constraints.txt) and run the pipeline on data/sample/.
demo: $(STAMP)
	$(BIN)/precode run data/sample --participants data/sample/participants.csv --out runs/demo
	@echo
	@echo "Results are in runs/demo/: suggestions.csv (one row per segment, for a spreadsheet),"
	@echo "suggestions.jsonl (every suggestion with its score and evidence), manifest.json."

# The test suite, fast: tests marked slow (a real embedding model, building and installing the
# wheel, a long corpus) are skipped. make test-all runs everything, as CI does.
test: $(STAMP)
	$(BIN)/pytest -m "not slow" -q

test-all: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check pipeline tests
	$(BIN)/mypy pipeline
	$(BIN)/lint-imports

check: test lint

# The wheel pip would install, in dist/ (build/ first emptied: setuptools reuses it, stale files
# and all). It carries configs/ as pipeline/configs/.
wheel: $(STAMP)
	rm -rf build
	$(BIN)/python -m pip wheel . --no-deps -w dist

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "precode needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,browser,dask]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) runs build dist .precode-cache .pytest_cache .mypy_cache .ruff_cache
