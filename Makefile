# Two commands from nothing: `make run` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CORE_STAMP := $(VENV)/.core-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test lint format bench bench-calibrate notebooks validation clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(CORE_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(CORE_STAMP) $@

run: $(CORE_STAMP)
	$(PY) -m sim run scenarios/baseline.toml --out results/baseline --overwrite
	@echo "pushsim is installed in $(VENV): run $(VENV)/bin/pushsim --help, or activate it with . $(VENV)/bin/activate"

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(DEV_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(PY) -m pytest -n 2 -q

# Not part of `make test`: minutes to an hour. `make bench BENCH_ARGS="--sizes 10000 --days 90"`.
bench: $(DEV_STAMP)
	$(PY) -m benchmarks.bench $(BENCH_ARGS)

# Not part of `make test`: the budget of `pushsim calibrate` (the example observations, 9
# parameters at 5,000 devices × 365 days), timed and set against the truth the example was
# measured from; writes benchmarks/calibration.md.
bench-calibrate: $(CORE_STAMP)
	$(PY) -m benchmarks.calibrate

# Not part of `make test` (which runs the notebooks at small size): every notebook executed at full
# size (a few minutes each) in the venv's "pushsim" kernel, rendered to results/notebooks/*.html.
# `make notebooks NOTEBOOK_SIZE=small` for a quick look.
NOTEBOOK_SIZE ?= full
notebooks: $(DEV_STAMP)
	$(PY) -m ipykernel install --sys-prefix --name pushsim --display-name "Python (pushsim)"
	mkdir -p results/notebooks
	PUSHSIM_NOTEBOOK_SIZE=$(NOTEBOOK_SIZE) $(VENV)/bin/jupyter nbconvert --execute --to html \
		--ExecutePreprocessor.kernel_name=pushsim --ExecutePreprocessor.timeout=1800 \
		--output-dir results/notebooks notebooks/*.ipynb

# Not part of `make test` (which runs the report at small size): every published figure of
# docs/model.md §2–§3 against pushsim at full size (10,000 devices × 365 days × 8 replications,
# minutes), written to docs/validation.md (replaced only if pushsim validation wrote it).
validation: $(CORE_STAMP)
	$(PY) -m sim.validation --size full --out docs/validation.md

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache .hypothesis
