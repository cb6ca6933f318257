# Gongkai (政府信息公开): everyday commands. See docs/operations.md.
#
#   make up      start the whole system locally (nats-server, PostgreSQL, 4 services, Caddy)
#   make test    run the test suite (PYTEST_ARGS="-k intake -x" to narrow it)
#   make bench   run the benchmark (tests/bench/run.py)
#   make lint    ruff and import-linter

# uv from PATH if there is one, else bootstrapped into .tools/ (resolved once, here).
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
PYTEST_ARGS ?=

.PHONY: up test bench lint sync sync-frozen

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet uv

# Install exactly what uv.lock says (or resolve, when there is no lock yet).
sync-frozen: | $(UV)
	@if [ -f uv.lock ]; then $(UV) sync --frozen; else $(UV) sync; fi

sync: | $(UV)
	$(UV) sync

up: sync-frozen
	exec $(UV) run --no-sync gongkai-up

test: sync-frozen
	$(UV) run --no-sync pytest $(PYTEST_ARGS)

bench: sync-frozen
	$(UV) run --no-sync python -m tests.bench.run

lint: sync-frozen
	$(UV) run --no-sync ruff check . && $(UV) run --no-sync lint-imports
