# Everything a person repeats. `make run` and `make test` are the two commands the README promises.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: run manage test bench lint format check-deploy messages clean clean-data venv

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Credit Portal needs Python 3.11 or newer" if sys.version_info < (3, 11) else 0)'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[embedded,dev]'
	@touch $(STAMP)

venv: $(STAMP)

## Run the portal: web (gunicorn), Celery worker and beat; embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL
## are set. Demo data goes into the embedded database only; DEMO=1 loads it into DATABASE_URL too, DEMO=0 nowhere.
DEMO ?=
DEMO_FLAG = $(if $(filter 1 true yes,$(DEMO)),--demo,$(if $(filter 0 false no,$(DEMO)),--no-demo,))
run: $(STAMP)
	$(PY) -m devtools.devstack run $(DEMO_FLAG)

## A manage.py command, e.g. make manage ARGS='issue_api_token --department SZ-AMR --scopes entities:read'.
## Beside a running `make run` it works on that portal (its database, Redis and keys: .local/run.env).
ARGS ?=
manage: $(STAMP)
	$(PY) manage.py $(ARGS)

## Run the whole test suite (layering contracts, lint, migrations check, pytest) against real PostgreSQL and Redis.
test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m devtools.devstack test $(PYTEST_ARGS)

## Performance benchmark of the public search and the disclosure sweep on its own database
## (credit_portal_bench: generated once, kept). Arguments: make bench BENCH_ARGS='--records 200000'.
bench: $(STAMP)
	$(PY) -m devtools.devstack bench $(BENCH_ARGS)

lint: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Production settings must pass Django's deployment checks.
check-deploy: $(STAMP)
	DJANGO_DEBUG=false SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	PERSONAL_DATA_KEY=check-deploy AUDIT_CHAIN_KEY=check-deploy SITE_URL=https://credit.example.gov.cn \
	DATABASE_OWNER_URL=postgres://credit_portal_owner@127.0.0.1:5432/credit_portal \
	$(PY) manage.py check --deploy --fail-level WARNING

## Regenerate the translation catalogues (needs GNU gettext) and compile them.
messages: $(STAMP)
	$(PY) manage.py makemessages --all --no-obsolete --ignore='.venv/*' --ignore='.local/*'
	$(PY) manage.py compilemessages --ignore='.venv/*' --ignore='.local/*'

## Remove the virtual environment (the embedded databases in .local/ are kept).
clean:
	rm -rf $(VENV)

## Remove the embedded databases and everything else in .local/ too. Destroys local data.
clean-data:
	rm -rf .local
