# The two commands a new user needs: `make run` and `make test` (see README.md).
# Both install from the lock in requirements/ (exact versions, with hashes), never from the open
# ranges in pyproject.toml, so a fresh machine gets the releases the suite was run with.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
APP_LOCK   := requirements/app.txt
TEST_LOCK  := requirements/test.txt
APP_STAMP  := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# The project itself is built from the locked hatchling (no build isolation, so nothing floats).
INSTALL_SELF := $(PIP) --no-deps --no-build-isolation -e .

.PHONY: run test check bench samples screenshots lock lowest lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(APP_STAMP): $(APP_LOCK) pyproject.toml | $(PY)
	$(PIP) --require-hashes -r $(APP_LOCK)
	$(INSTALL_SELF)
	touch $@

$(TEST_STAMP): $(TEST_LOCK) pyproject.toml | $(PY)
	$(PIP) --require-hashes -r $(TEST_LOCK)
	$(INSTALL_SELF)
	touch $@ $(APP_STAMP)

## Set up (first time) and open the viewer on the bundled sample images, or on ARGS.
run: $(APP_STAMP)
	bash scripts/system-deps.sh run
	$(BIN)/prolo-planner $(ARGS)

## Set up (first time), run the checks a submission must pass, then the whole suite headless.
test: $(TEST_STAMP)
	bash scripts/system-deps.sh test
	@$(MAKE) --no-print-directory check
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

## Lint, types on the Qt-free packages, and the import layers; each prints how long it took.
check: $(TEST_STAMP)
	@bash scripts/timed.sh ruff $(BIN)/ruff check src tests scripts benchmarks
	@bash scripts/timed.sh mypy $(BIN)/mypy
	@bash scripts/timed.sh import-linter $(BIN)/lint-imports
lint: check

## Speed and memory figures (prints tables, writes JSON, rewrites the README's tables).
bench: $(TEST_STAMP)
	@status=0; \
	$(PY) benchmarks/bench_cine.py || status=1; \
	$(PY) benchmarks/bench_store.py || status=1; \
	$(PY) benchmarks/bench_startup.py || status=1; \
	$(PY) benchmarks/bench_pacs.py || status=1; \
	$(PY) benchmarks/bench_edits.py || status=1; \
	$(PY) benchmarks/readme_tables.py README.md || status=1; \
	exit $$status

## The main screens at 1366 x 768 and 1920 x 1080 from the demo store, for the README (Xvfb).
screenshots: $(APP_STAMP)
	$(PY) scripts/screenshots.py --out docs/screenshots

## The suite against the LOWEST versions pyproject.toml allows (uv, network; not part of test).
lowest:
	bash scripts/lowest.sh

## Regenerate the bundled sample images and their MANIFEST.json.
samples: $(TEST_STAMP)
	$(PY) scripts/make_sample_images.py sample_images

## Refresh the lock on purpose (README: "Upgrading dependencies"). UPGRADE=1 moves every pin to
## the newest release the ranges allow; UPGRADE=numpy upgrades one package; neither, only adds
## what pyproject.toml gained.
lock: | $(PY)
	@$(BIN)/pip-compile --version >/dev/null 2>&1 || $(PIP) pip-tools
	bash scripts/lock.sh "$(BIN)/pip-compile" "$(UPGRADE)"

clean:
	rm -rf $(VENV) .venv-lowest build dist .pytest_cache .mypy_cache .ruff_cache
