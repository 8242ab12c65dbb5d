# Quick start:  make run   (set up .venv if needed, run the main job on data/raw)
#               make test  (set up .venv if needed, run the test suite)
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-stamp

.PHONY: run test bench clean browser

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[all]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/corpus-tools run data/raw -o build/

# the report's browser test needs Debian's chromium; install it when missing (root + apt), else it is skipped
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
	  echo "chromium not installed: the browser test will be skipped"

test: $(STAMP) browser
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) benchmarks/run.py --sizes 10MB

clean:
	rm -rf build
