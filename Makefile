# Quick start:  make run   (set up .venv if needed, run the main job on data/raw)
#               make test  (set up .venv if needed, run the test suite)
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-stamp

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[all]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/corpus-tools run data/raw -o build/

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) benchmarks/run.py --sizes 10MB

clean:
	rm -rf build
