# Two commands: `make serve` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Server processes (one core each); WORKERS=1 runs a single process.
WORKERS ?= 2
# Search engine: whoosh (default) or tantivy; an index built by the other one is refused.
ENGINE ?= $(or $(CASEARCH_ENGINE),whoosh)
PYTEST_ARGS ?=

.PHONY: serve test test-fast reindex clean browser screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project definition changes. Then what a first run would
# otherwise pay for: the bytecode of src/ (0.3 s) and the dictionary's one-time look-up
# index (about 24 s, 38 MB in ~/.cache/casearch; if it cannot be built, reindex builds
# it or does without, and says so).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,crosslingual,tantivy]'
	$(BIN)/python -m compileall -q src
	$(BIN)/casearch prepare || echo "warning: casearch prepare failed; the first reindex will build the dictionary index"
	touch $@

serve: $(VENV)/.installed
	$(BIN)/casearch serve --host $(HOST) --port $(PORT) --workers $(WORKERS) --engine $(ENGINE)

# Exit 1 means some files were skipped (listed above) and the rest is indexed: a report,
# not a failure of make. Exit 2 or 3 (usage, nothing done) fails the target.
reindex: $(VENV)/.installed
	@echo "$(BIN)/casearch reindex --engine $(ENGINE)"
	@status=0; $(BIN)/casearch reindex --engine $(ENGINE) || status=$$?; \
	  if [ $$status -eq 1 ]; then echo "make reindex: some files were skipped (see above); everything else is indexed" >&2; \
	  elif [ $$status -ne 0 ]; then exit $$status; fi

# Both cores: tests are spread over three pytest processes (pytest-xdist), each taking the
# next test when it is free; many tests wait on servers and reindex processes they started,
# so a third process fills those waits (5 min 26 s instead of 6 min on 2 cores).
# TEST_JOBS=0 runs them in this one process.
TEST_JOBS ?= 3
TEST_SPREAD := $(if $(filter 0,$(TEST_JOBS)),,-n $(TEST_JOBS) --dist worksteal)

test: $(VENV)/.installed browser
	$(BIN)/python -m pytest $(TEST_SPREAD) $(PYTEST_ARGS)

test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not slow" $(TEST_SPREAD) $(PYTEST_ARGS)

# Debian's Chromium for the browser test, and a Japanese font (fonts-noto-cjk) so that it
# draws Japanese instead of boxes (machines run as root). If either cannot be installed,
# the browser test is skipped with the reason (all of it, or its Japanese rendering check);
# everything else still runs.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver) || \
	  echo "warning: could not install chromium; the browser test will be skipped"
	@fc-list :lang=ja 2>/dev/null | grep -q . || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y fonts-noto-cjk) || \
	  echo "warning: could not install fonts-noto-cjk; the browser test will skip its Japanese rendering check"

# PNGs of the page (desktop and phone width) for the README, with a Japanese font.
screenshots: $(VENV)/.installed browser
	@fc-list :lang=ja 2>/dev/null | grep -q . || \
	  { echo "error: no Japanese font: the screenshots would show boxes (apt-get install fonts-noto-cjk)" >&2; exit 1; }
	$(BIN)/python tests/screenshots.py docs/screenshots

# The speed benchmark (bench/RESULTS.md): builds the man-page corpus with apt-get if
# missing, uses Debian's wrk if it can be installed (else a Python client).
# Both engines side by side (BENCH_ARGS="--engines whoosh" for one);
# BENCH_ARGS="--limit 50" is a run of a few minutes.
BENCH_ARGS ?=
.PHONY: bench
bench: $(VENV)/.installed
	@command -v wrk >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk) || \
	  echo "warning: could not install wrk; the HTTP load uses bench/loadgen.py"
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) index dist build .pytest_cache .hypothesis
