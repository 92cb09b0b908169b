# Two commands matter: `make demo` and `make test`. Everything else is a step of theirs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: demo test lint typecheck imports pytest bench sysdeps clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Machi needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PIP) -e '.[dev]'
	touch $@

demo: $(VENV)/.runtime
	$(BIN)/machi demo

# Debian packages the tests need: Chromium for browser tests, a Japanese font for pages and PDFs,
# poppler-utils to look at PDFs. Installed only when we may (root); otherwise the tests say what is missing.
sysdeps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; \
	  [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	  [ -f /usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf ] || missing="$$missing fonts-ipaexfont"; \
	  command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	  if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	fi

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.dev
	$(BIN)/mypy

imports: $(VENV)/.dev
	$(BIN)/lint-imports

pytest: $(VENV)/.dev sysdeps
	$(BIN)/pytest -n 2 --dist loadgroup --cov --cov-report=term:skip-covered

test: lint typecheck imports pytest

bench: $(VENV)/.dev
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.registry

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage
