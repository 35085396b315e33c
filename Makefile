# Two commands on a fresh machine: `make run` and `make test`. Only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CELERY := $(VENV)/bin/celery
# Local runs use the embedded defaults: SQLite, a broker folder, emails printed to the console.
LOCAL := DEBUG=true
# `make run PORT=8001` when 8000 is taken: the server binds it and links in emails follow it.
PORT ?= 8000

.PHONY: install install-test run demo test messages clean

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Inloop needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Running needs only the application's own packages; the test tools (a browser driver among them) come
# with `make test`.
$(VENV)/installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/installed-test: $(VENV)/installed
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/installed

install-test: $(VENV)/installed-test

run: install
	$(LOCAL) $(PY) manage.py migrate --noinput
	$(LOCAL) $(PY) manage.py seed_demo
	@echo "Inloop on http://127.0.0.1:$(PORT) - log in as manager, lead or admin (password inloop-demo). Ctrl-C stops all."
	PORT=$(PORT) $(LOCAL) $(PY) -m tracker.devserver

# The demo's issues age like real ones; this replays their history so that it ends now (people, teams and
# customers stay; the demo customers' issues, emails and breaches are written afresh).
demo: install
	$(LOCAL) $(PY) manage.py migrate --noinput
	$(LOCAL) $(PY) manage.py seed_demo --refresh

test: install-test
	@# The whole suite on the embedded defaults (SQLite, no broker server). When the environment names
	@# PostgreSQL and Redis (CI does), the suite runs there too, and the two passes run side by side: the
	@# SQLite pass mostly computes while the PostgreSQL pass mostly waits on servers. The browser stories
	@# then run once, in the SQLite pass: they drive the same pages, and the PostgreSQL pass, which holds the
	@# fault tests (four scanners over 100,000 issues among them), is the longer one. The SQLite pass's
	@# report is printed after the PostgreSQL pass's; either failing fails.
	@if [ -z "$$DATABASE_URL" ]; then \
	  env -u DATABASE_URL -u CELERY_BROKER_URL $(PY) -m pytest; \
	else \
	  log=$$(mktemp); \
	  env -u DATABASE_URL -u CELERY_BROKER_URL INLOOP_VAR_DIR=var/test-sqlite \
	    $(PY) -m pytest -p no:cacheprovider > $$log 2>&1 & sqlite=$$!; \
	  echo "== on $$DATABASE_URL (and on SQLite beside it: its report follows)"; \
	  $(PY) -m pytest -m "not browser" --durations=15; postgres=$$?; \
	  wait $$sqlite; sqlite=$$?; \
	  echo "== on SQLite"; cat $$log; rm -f $$log; \
	  echo "== PostgreSQL pass exit $$postgres, SQLite pass exit $$sqlite"; \
	  [ $$postgres -eq 0 ] && [ $$sqlite -eq 0 ]; \
	fi

messages: install
	$(LOCAL) $(PY) manage.py makemessages -l ko --ignore=.venv --ignore=staticfiles --ignore=tests
	$(LOCAL) $(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3*
