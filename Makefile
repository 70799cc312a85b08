# The two commands a new user needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
APP_STAMP  := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test bench samples lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $@ $(APP_STAMP)

## Set up (first time) and open the viewer on the bundled sample images, or on ARGS.
run: $(APP_STAMP)
	bash scripts/system-deps.sh run
	$(VENV)/bin/prolo-planner $(ARGS)

## Set up (first time) and run the whole test suite headless.
test: $(TEST_STAMP)
	bash scripts/system-deps.sh test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

## Speed and memory figures for cine playback (prints a table, writes JSON).
bench: $(TEST_STAMP)
	$(PY) benchmarks/bench_cine.py
	$(PY) benchmarks/bench_store.py

## Regenerate the bundled sample images.
samples: $(TEST_STAMP)
	$(PY) scripts/make_sample_images.py sample_images

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check src tests scripts benchmarks
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) build dist .pytest_cache
