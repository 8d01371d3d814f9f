# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --constraint constraints.txt

.PHONY: demo test clean bench kymatio-suite kymatio-given

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

$(VENV)/.demo-installed: $(PY) pyproject.toml constraints.txt
	$(PIP) -e ".[data]"
	touch $@

$(VENV)/.test-installed: $(PY) pyproject.toml constraints.txt
	$(PIP) -e ".[test]"
	touch $@

# The default workflow on the embedded cluster; run again, it resumes and finishes at once.
DEMO := hadcm3_scattering2d
demo: $(VENV)/.demo-installed
	$(VENV)/bin/scatflow run workflows/$(DEMO).yaml --resume
	$(VENV)/bin/scatflow plot demo-output/$(DEMO).zarr --output demo-output/$(DEMO).png

test: $(VENV)/.test-installed
	$(PY) -m pytest

# Kymatio's own frontend test files (0.3.0's, and main's 1D) against scatflow, through a `kymatio`
# name made at test time (tests/kymatio_suite/). KYMATIO: a git checkout of Kymatio with its tags
# (git clone https://github.com/kymatio/kymatio); KYMATIO_ARGS: e.g. --version 0.3.0, -x.
KYMATIO_ARGS ?=
kymatio-suite: kymatio-given $(VENV)/.test-installed
	$(PY) tests/kymatio_suite/run.py --kymatio "$(KYMATIO)" $(KYMATIO_ARGS)

kymatio-given:
	@test -n "$(KYMATIO)" || { echo "usage: make kymatio-suite KYMATIO=path-to-a-kymatio-checkout"; exit 2; }

clean:
	rm -rf $(VENV) $(BENCH_VENV) demo-output

# `make bench` (BENCH_ARGS=--quick: the small rows, under 10 min): scatflow against Kymatio 0.3.0,
# in a venv of its own since Kymatio 0.3.0 needs scipy<1.17. Writes benchmarks/results/bench*.
BENCH_VENV := .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_ARGS ?=

$(BENCH_PY):
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --upgrade pip

$(BENCH_VENV)/.installed: $(BENCH_PY) pyproject.toml constraints.txt
	$(BENCH_PY) -m pip install --constraint constraints.txt \
		-e ".[bench,torch]" "kymatio==0.3.0" "scipy<1.17"
	touch $@

bench: $(BENCH_VENV)/.installed
	$(BENCH_PY) benchmarks/bench.py $(BENCH_ARGS)
