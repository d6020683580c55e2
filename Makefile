# Everything runs from a virtualenv in .venv, made on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS := tests/tools/node_modules/.installed

.PHONY: install demo test test-fast bench worker upgrade clean translations translations-extract translations-update translations-new

# The languages' catalogues (translations/<code>/LC_MESSAGES/messages.po), compiled to .mo files here,
# never committed: every target that runs the portal builds them first.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) translations

## make translations: compile the catalogues (pybabel compile); a fuzzy or untranslated text stays English
translations: $(CATALOGUES)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

## make translations-extract: gather the texts to translate from the code and templates into translations/messages.pot
translations-extract: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k _plural:1,2 --add-comments=TRANSLATORS: \
		--sort-by-file --no-wrap --project="Attendance Notifications Portal" -o translations/messages.pot .

## make translations-update: extract, then bring every language's catalogue up to date (new texts empty, changed ones fuzzy)
translations-update: translations-extract
	$(BIN)/pybabel -q update --no-wrap -i translations/messages.pot -d translations

## make translations-new LANGUAGE=xx: start a catalogue for another language (then translate it and add xx to PORTAL_LANGUAGES)
translations-new: translations-extract
	test -n "$(LANGUAGE)" || { echo "usage: make translations-new LANGUAGE=xx"; exit 2; }
	$(BIN)/pybabel init --no-wrap -i translations/messages.pot -d translations -l $(LANGUAGE)

## make demo: the whole portal on http://127.0.0.1:5000 with no outside services (see README)
demo: $(STAMP) translations
	$(BIN)/python demo.py

## make test: the whole suite (SQLite; set TEST_DATABASE_URL for PostgreSQL). Needs Redis on 127.0.0.1:6379,
## Chromium, Java and npm (for the page checkers in tests/tools).
test: $(STAMP) $(TOOLS) translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make test-fast: the tests that need no Redis, SMTP server, browser or Java (about two minutes)
test-fast: $(STAMP) translations
	$(BIN)/python -m pytest -m "not integration" $(PYTEST_ARGS)

# The Nu HTML checker and axe-core, pinned by tests/tools/package-lock.json; no install
# scripts (vnu-jar's would download a Java: the checker runs on the system's).
$(TOOLS): tests/tools/package.json tests/tools/package-lock.json
	npm ci --prefix tests/tools --ignore-scripts --no-audit --no-fund --silent
	touch $@

## make bench: benchmarks against floors measured in the same run (BENCH_ARGS=--full for the full sizes).
## Needs Redis and PostgreSQL like the tests; installs requirements-bench.txt (django-post_office, the peer).
bench: $(STAMP) $(VENV)/.bench-installed translations
	$(BIN)/python -m bench.run $(BENCH_ARGS)

$(VENV)/.bench-installed: requirements-bench.txt $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	touch $@

## make upgrade: build or migrate the database schema (DATABASE_URL, default instance/portal.db)
upgrade: $(STAMP) translations
	$(BIN)/flask --app wsgi db upgrade

## make worker: run one RQ worker (and the periodic sweep) in the foreground
worker: $(STAMP) translations
	$(BIN)/python worker.py

clean:
	rm -rf $(VENV) .pytest_cache tests/tools/node_modules
