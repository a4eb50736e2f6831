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

lint: $(VENV)/.dev
	$(BIN)/ruff check .

## Rebuild the Arabic catalogue after changing strings, then translate and compile.
messages: $(VENV)/.dev
	DJANGO_DEBUG=true $(BIN)/python manage.py makemessages -l ar --no-location --no-obsolete -i ".venv/*" -i "staticfiles/*"
	DJANGO_DEBUG=true $(BIN)/python manage.py compilemessages -l ar -i ".venv"

check-deploy: $(VENV)/.runtime
	DJANGO_DEBUG=false DJANGO_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	DJANGO_ALLOWED_HOSTS=hukoomi.gov.qa $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
