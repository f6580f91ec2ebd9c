# Relais: `make run` starts everything on a fresh machine; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
XDIST ?= 2

.PHONY: run dev test bench bench-run-time lint fmt translations messages services-stop services-status clean

# `make test` drives chromium and dovecot for real: .ci/test-packages installs them when it can, or
# `make test` stops here, before anything else, with one line naming what to install.
ifneq ($(filter test,$(MAKECMDGOALS)),)
TEST_PACKAGES_MISSING := $(shell sh .ci/test-packages)
ifneq ($(TEST_PACKAGES_MISSING),)
$(error $(TEST_PACKAGES_MISSING))
endif
endif

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# One stamp per requirements file: a second `make run` installs nothing.
$(VENV)/.run-deps: requirements.txt | $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements-dev.txt $(VENV)/.run-deps
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

# Production mode on this machine (DEBUG off); `make dev` is the same with DEBUG on and code reload.
run: $(VENV)/.run-deps
	$(PY) -m crm.run

dev: $(VENV)/.run-deps
	$(PY) -m crm.run --dev

test: $(VENV)/.dev-deps
	$(PY) -m pytest -n $(XDIST) --dist loadgroup $(PYTEST_ARGS)

bench: $(VENV)/.dev-deps
	$(PY) -m bench $(BENCH_ARGS)

bench-run-time: $(VENV)/.dev-deps
	$(PY) -m bench --only make_run

lint: $(VENV)/.dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

fmt: $(VENV)/.dev-deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Extract messages (needs GNU gettext, developers only); compiling needs nothing but polib.
messages: $(VENV)/.dev-deps
	$(PY) manage.py makemessages -l fr --ignore=.venv --ignore=var --ignore=staticfiles --ignore=bench
	$(PY) manage.py makemessages -d djangojs -l fr --ignore=.venv --ignore=var --ignore=staticfiles

translations: $(VENV)/.run-deps
	$(PY) manage.py compile_translations

services-stop:
	$(PY) -m crm.embedded stop

services-status:
	$(PY) -m crm.embedded status

clean: services-stop
	rm -rf var staticfiles
