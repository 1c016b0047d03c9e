# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.lurewatch-installed

.PHONY: demo test bench eval install browser services clean

install: $(STAMP) browser services

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

# A usable Chromium: Playwright's own if installed, else Debian's `chromium` via apt.
browser: $(STAMP)
	@$(PY) -m crawler.browser ensure

# Scale-out: Debian's redis-server via apt when missing (scrapyd comes from PyPI with the package).
services: $(STAMP)
	@$(PY) -m crawler.services ensure

demo: install
	$(VENV)/bin/lurewatch demo

# Most tests wait on subprocesses and local servers, so they run 4 at a time (pytest-xdist); the timing-sensitive
# scheduler tests run alone afterwards.
test: install
	$(PY) -m pytest -q -p no:cacheprovider -n 4 -m "not serial"
	$(PY) -m pytest -q -p no:cacheprovider -m serial

# Engine quality: the dev set's TEST split, then real ads from EMSCAD (skipped with a message when ../shared is absent).
eval: install
	$(VENV)/bin/lurewatch eval rules/devset --split test
	-$(VENV)/bin/lurewatch eval --emscad

bench: install
	$(PY) -m output.bench

clean:
	rm -rf $(VENV) *.egg-info
