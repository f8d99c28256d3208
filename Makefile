# Two commands do all the set-up on a fresh machine with Python 3.11+ and make:
#   make demo   screen samples/ and show every outcome
#   make test   run the whole test suite (slow tests included, as CI does)
# The environment lives in .venv/ (so the command is .venv/bin/screening).

PYTHON ?= python3
UV_VERSION ?= 0.13.9
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
endif
VENV_STAMP := .venv/.synced

.PHONY: demo test test-fast fuzz bench install clean

install: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml uv.lock | $(UV)
	UV_PYTHON_DOWNLOADS=never $(UV) sync --frozen --python "$$(command -v $(PYTHON))"
	touch $@

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

# The demo prints only what the tool prints (no recipe lines); its exit status 1 or 2 is the
# expected outcome of a batch made to show every outcome, so make itself succeeds.
demo: $(VENV_STAMP)
	@.venv/bin/python samples/make_samples.py
	@cd samples && ../.venv/bin/screening scan batch --jsonl out/report.jsonl --csv out/report.csv --html out/report.html; \
	  status=$$?; echo "screening scan exited $$status (0 all cleared, 1 some need permission, 2 errors)"; \
	  [ $$status -le 2 ]
	@echo "Reports: samples/out/report.jsonl, samples/out/report.csv, samples/out/report.html"

# One test process per core (pytest-xdist), a test file per process at a time so a file's shared
# fixtures are built once: on the 2-core CI machine the suite takes about half as long.
TEST_PROCESSES ?= auto

test: $(VENV_STAMP)
	.venv/bin/pytest -q -n $(TEST_PROCESSES) --dist loadfile --durations=25

test-fast: $(VENV_STAMP)
	.venv/bin/pytest -q -n $(TEST_PROCESSES) --dist loadfile -m "not slow"

# A long random fuzzing run of the container readers (the short one is part of `make test`):
# FUZZ_EXAMPLES mutated files; a failure prints the mutation, kept with save_regression().
FUZZ_EXAMPLES ?= 20000
fuzz: $(VENV_STAMP)
	SCREENING_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) .venv/bin/pytest -q -x -p no:cacheprovider \
	  tests/test_fuzz_formats.py -k mutated --timeout=0

# Each benchmark prints one table measured in one run (they need ../shared/data beside the checkout).
bench: $(VENV_STAMP)
	.venv/bin/python bench/bench_scan.py
	.venv/bin/python bench/bench_faces.py
	.venv/bin/python bench/make_logo_set.py
	.venv/bin/python bench/bench_logos.py --quick
	.venv/bin/python bench/bench_scale.py
	.venv/bin/python bench/bench_enrolment.py
	.venv/bin/python bench/bench_hostile.py --quick
	.venv/bin/python bench/bench_watch_soak.py --quick
	.venv/bin/python bench/make_text_set.py --quick
	.venv/bin/python bench/bench_text.py --quick
	.venv/bin/python bench/bench_serve.py --quick

clean:
	rm -rf .venv .tools samples/out .pytest_cache
