# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --constraint constraints.txt

.PHONY: demo test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

$(VENV)/.demo-installed: $(PY) pyproject.toml constraints.txt
	$(PIP) -e ".[plot,data]"
	touch $@

$(VENV)/.test-installed: $(PY) pyproject.toml constraints.txt
	$(PIP) -e ".[test]"
	touch $@

demo: $(VENV)/.demo-installed
	$(PY) -m scatflow.demo --output demo-output

test: $(VENV)/.test-installed
	$(PY) -m pytest

clean:
	rm -rf $(VENV) demo-output
