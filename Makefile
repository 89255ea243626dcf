# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/strangler_monolith

.PHONY: run test test-sqlite test-postgres lint fuzz bench constraints venv clean

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

SERVICES := inventory payment shipment

## make run: install, migrate SQLite, load demo data, start the local stack (Procfile) on 127.0.0.1
# Every process reads the proxy's state store (who owns what) and shares the internal token of the cut-over
# barrier; the token is a development secret made once in var/internal-token.
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	for service in $(SERVICES); do $(PY) -m extracted_services.$$service migrate --noinput -v0 || exit 1; done
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	$(PY) manage.py dev_secret var/internal-token
	STRANGLER_STATE_URL="sqlite:///$(CURDIR)/var/proxy-state.sqlite3" \
	STRANGLER_INTERNAL_TOKEN="$$(cat var/internal-token)" \
	$(VENV)/bin/honcho start -f Procfile

## make test: the whole suite, on SQLite and then on PostgreSQL
test: test-sqlite test-postgres

test-sqlite: $(STAMP)
	$(PY) -m pytest tests -p no:cacheprovider

test-postgres: $(STAMP)
	DATABASE_URL=$(PG_URL) TEST_DATABASE_NAME=test_strangler_$$$$ $(PY) -m pytest tests/integration -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy monolith events strangler_proxy migrations_plan extracted_services

fuzz: $(STAMP)
	$(PY) -m pytest tests/e2e/test_schema_fuzz.py -p no:cacheprovider

bench: $(STAMP)
	$(PY) bench/checkout.py

## make constraints: re-pin every dependency after changing pyproject.toml
constraints: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | sed '1i # Pinned versions for reproducible installs (pip install -c). Regenerate with: make constraints' > requirements/constraints.txt

clean:
	rm -rf $(VENV) var
