# Two commands for a fresh machine with python3 and make: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run serve smoke test e2e lint messages check-deploy bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Development settings (debug on, generated keys, the embedded broker); never overwrites an existing .env.
.env:
	$(PYTHON) ops/dev_env.py

## Serve the portal with demo data on http://127.0.0.1:8000/: SQLite, and a Celery worker with beat on the
## embedded filesystem broker (.broker/), started beside runserver and stopped with it. No Redis needed.
run: $(VENV)/.runtime .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python ops/devserver.py $(HOST)

## Production web server: gunicorn from gunicorn.conf.py, debug off, every setting from the environment
## (docs/deploy.md). The worker and beat run as their own processes.
serve: $(VENV)/.runtime
	DJANGO_DEBUG=false $(BIN)/python manage.py collectstatic --noinput -v0
	DJANGO_DEBUG=false $(BIN)/gunicorn -c gunicorn.conf.py

## Run the whole test suite (SQLite by default; PostgreSQL when DATABASE_URL points there).
## When npm is present, the W3C Nu Html Checker (package-lock.json) is installed first for tests/test_html_valid.py.
test: $(VENV)/.dev
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory node_modules/.installed; fi
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Dev tools from npm, exactly as pinned (never served). --ignore-scripts: vnu-jar's postinstall would download a
# Java runtime; we run the machine's java.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

## End-to-end browser tests alone: Playwright driving Debian's Chromium (/usr/bin/chromium; apt-get install chromium).
e2e: $(VENV)/.dev
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

## PNGs of the home page, a poll, a results page, "You said, we did" and the admin item form, in Arabic and English,
## and phone views, in docs/screenshots/.
.PHONY: screenshots
screenshots: $(VENV)/.dev
	PORTAL_REQUIRE_SERVICES=1 $(BIN)/python -m pytest tests/e2e/screenshots.py -p no:cacheprovider $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .

## Rebuild the Arabic catalogue after changing strings, then translate and compile.
messages: $(VENV)/.dev
	DJANGO_DEBUG=true $(BIN)/python manage.py makemessages -l ar --no-location --no-obsolete -i ".venv/*" -i "staticfiles/*" -i "tests/*" -i "bench/*"
	DJANGO_DEBUG=true $(BIN)/python manage.py compilemessages -l ar -l en -i ".venv"

check-deploy: $(VENV)/.runtime
	DJANGO_ENV_FILE= DJANGO_DEBUG=false DJANGO_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/0 REDIS_URL=redis://127.0.0.1:6379/1 EMAIL_HOST=smtp.hukoomi.gov.qa \
	PORTAL_BASE_URL=https://hukoomi.gov.qa \
	PORTAL_BALLOT_BOX_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))') \
	PORTAL_AUDIT_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))') \
	DJANGO_ALLOWED_HOSTS=hukoomi.gov.qa $(BIN)/python manage.py check --deploy --fail-level WARNING

## Benchmarks on PostgreSQL and Redis, one table of ratios measured side by side (docs/performance.md): the pages
## and the vote under gunicorn + wrk against a bare Django project, and the export of a million ballots against COPY.
## BENCH_QUICK=1 for a short run. Needs wrk (apt-get install wrk).
bench: $(VENV)/.runtime
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/1} \
	$(BIN)/python bench/run.py

## The operator's install, as CI runs it: a venv from requirements.txt alone, then ops/smoke.py (needs Redis and
## PostgreSQL on 127.0.0.1; SMOKE_DATABASE_URL names the database it may drop and re-create).
smoke:
	rm -rf .opvenv && $(PYTHON) -m venv .opvenv && .opvenv/bin/pip install --quiet -r requirements.txt
	.opvenv/bin/python ops/smoke.py

clean:
	rm -rf $(VENV) .opvenv staticfiles .pytest_cache .broker
