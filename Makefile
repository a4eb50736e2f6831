# Two commands for a fresh machine with python3 and make: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run test e2e lint messages check-deploy bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

## Serve the portal with demo data on http://127.0.0.1:8000/ (SQLite, no broker needed).
run: $(VENV)/.runtime
	DJANGO_DEBUG=true $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=true $(BIN)/python manage.py seed_demo
	DJANGO_DEBUG=true $(BIN)/python manage.py runserver $(HOST)

## Run the whole test suite (SQLite by default; PostgreSQL when DATABASE_URL points there).
test: $(VENV)/.dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## End-to-end browser tests alone: Playwright driving Debian's Chromium (/usr/bin/chromium; apt-get install chromium).
e2e: $(VENV)/.dev
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

## PNGs of the home page, a poll, a results page and the admin item form, in Arabic and English, in docs/screenshots/.
.PHONY: screenshots
screenshots: $(VENV)/.dev
	PORTAL_REQUIRE_SERVICES=1 $(BIN)/python -m pytest tests/e2e/screenshots.py -p no:cacheprovider $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .

## Rebuild the Arabic catalogue after changing strings, then translate and compile.
messages: $(VENV)/.dev
	DJANGO_DEBUG=true $(BIN)/python manage.py makemessages -l ar --no-location --no-obsolete -i ".venv/*" -i "staticfiles/*" -i "tests/*" -i "bench/*"
	DJANGO_DEBUG=true $(BIN)/python manage.py compilemessages -l ar -i ".venv"

check-deploy: $(VENV)/.runtime
	DJANGO_DEBUG=false DJANGO_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	PORTAL_BALLOT_BOX_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))') \
	PORTAL_AUDIT_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))') \
	DJANGO_ALLOWED_HOSTS=hukoomi.gov.qa $(BIN)/python manage.py check --deploy --fail-level WARNING

## Export benchmark on PostgreSQL: a million ballots streamed, peak memory and rows/s beside COPY (docs/benchmarks.md).
bench: $(VENV)/.runtime
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/python bench/export_bench.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
