# The two commands a fresh clone needs are `make run` and `make test`.
PY ?= python3.11
HOST ?= 127.0.0.1
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# Every council profile shipped under config/profiles/ (rules check and the any-profile suite).
PROFILES := $(notdir $(patsubst %/profile.yaml,%,$(wildcard config/profiles/*/profile.yaml)))

.PHONY: run test schemathesis bench lint install clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/triage db upgrade
	@if [ ! -f instance/.demo-loaded ]; then $(BIN)/triage demo load && touch instance/.demo-loaded; fi
	$(BIN)/triage serve --host $(HOST) --port $(PORT)

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	@for profile in $(PROFILES); do \
		echo "== profile $$profile"; \
		$(BIN)/triage rules check --profile $$profile && \
		$(BIN)/triage rules test --profile $$profile || exit 1; \
	done
	$(BIN)/pytest $(PYTEST_ARGS)

# Schemathesis against a live server on SQLite and on a throwaway PostgreSQL database
# (TRIAGE_TEST_POSTGRES_URL); `make schemathesis BACKENDS=sqlite` for one.
schemathesis: $(TEST_STAMP)
	tests/contract/run_schemathesis.sh $(BACKENDS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(TEST_STAMP)
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/workflows.py
	$(BIN)/python bench/batches.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/people.py
	$(BIN)/python bench/token_recheck.py
	$(BIN)/python bench/re_referral.py
	$(BIN)/python bench/duplicates.py --sizes 10000,100000
	$(BIN)/python bench/matching.py

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis schemathesis-report
