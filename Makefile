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

# PYTEST_ARGS: pytest's options and files, e.g. PYTEST_ARGS='-m "not slow"'
PYTEST_ARGS ?=
test: $(VENV)/.test-installed
	$(PY) -m pytest $(PYTEST_ARGS)

# Kymatio's own frontend test files (0.3.0's, and main's 1D) against scatflow, through a `kymatio`
# name made at test time (tests/kymatio_suite/). KYMATIO: a git checkout of Kymatio with its tags
# (git clone https://github.com/kymatio/kymatio); KYMATIO_ARGS: e.g. --version 0.3.0, -x.
KYMATIO_ARGS ?=
kymatio-suite: kymatio-given $(VENV)/.test-installed
	$(PY) tests/kymatio_suite/run.py --kymatio "$(KYMATIO)" $(KYMATIO_ARGS)

kymatio-given:
	@test -n "$(KYMATIO)" || { echo "usage: make kymatio-suite KYMATIO=path-to-a-kymatio-checkout"; exit 2; }

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
		-e ".[bench,torch,jax]" "kymatio==0.3.0" "scipy<1.17"
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

# The GPU check (issue 14): `make gpu-wheels` here (downloads what the device tool's GPU machine
# lacks into .gpu-wheels/, ignored), then, on a machine with a CUDA GPU, `make gpu-check`
# (ONLY=tests,fixtures,torch,dask,jax,jtfs,timing,throughput picks sections; OUT_DIR= where
# results go).
# Without a GPU it says so and exits 0; `make gpu-check-dry-run` runs every section on the CPU
# with tiny sizes. benchmarks/README.md has the device tool's one-call recipe.
GPU_WHEELS := .gpu-wheels
GPU_PYTHON ?= $(if $(wildcard $(PY)),$(PY),python3)
ONLY ?=
OUT_DIR ?=
GPU_CHECK_ARGS = $(if $(ONLY),--only $(ONLY)) $(if $(OUT_DIR),--out $(OUT_DIR))

.PHONY: gpu-wheels gpu-check gpu-check-dry-run
gpu-wheels: $(VENV)/.test-installed
	$(PY) benchmarks/gpu_wheels.py --dest $(GPU_WHEELS)

gpu-check:
	GPU_PYTHON=$(GPU_PYTHON) sh benchmarks/gpu_check.sh $(GPU_CHECK_ARGS)

gpu-check-dry-run: $(VENV)/.test-installed
	GPU_PYTHON=$(PY) sh benchmarks/gpu_check.sh --dry-run $(GPU_CHECK_ARGS)
