# Two entry points, each doing its own set-up on a fresh machine:
#   make book   execute every chapter with its full parameters -> _build/html
#   make test   unit tests, every notebook under nbval (small profile),
#               the small-profile book build and its HTML checks
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: book test install clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip==26.3
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(PY) -m pitfalls book --profile full

test: $(STAMP)
	$(PY) -m pitfalls book --profile ci
	$(PY) -m pytest src tests _build/ci/book --nbval-lax --nbval-current-env \
		--book-html _build/ci/book/_build/html -p no:cacheprovider

clean:
	rm -rf _build
