# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --constraint constraints.txt

.PHONY: demo test clean bench

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

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(MAIN_VENV) demo-output

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

# KYMATIO_MAIN=path: a checkout of Kymatio's main branch (never released), for the JTFS rows;
# installed into a venv of its own (with torch for its torch frontend). Without it they are skipped.
KYMATIO_MAIN ?=
MAIN_VENV := .venv-kymatio-main
MAIN_PY := $(MAIN_VENV)/bin/python

$(MAIN_VENV)/.installed:
	$(PYTHON) -m venv $(MAIN_VENV)
	$(MAIN_PY) -m pip install --upgrade pip
	$(MAIN_PY) -m pip install --constraint constraints.txt "$(KYMATIO_MAIN)" "scipy<1.17" \
		numpy torch
	touch $@

bench: $(BENCH_VENV)/.installed $(if $(KYMATIO_MAIN),$(MAIN_VENV)/.installed)
	$(BENCH_PY) benchmarks/bench.py $(if $(KYMATIO_MAIN),--kymatio-main $(MAIN_PY)) $(BENCH_ARGS)
