# One target per task; each is a few lines. `make run` and `make test` are the two commands.
.PHONY: run run-quiet test unit check bench bench-report clean

run:            ## the whole hotline: broker, worker, gateway, console, demo traffic
	@scripts/setup
	.venv/bin/hotline up

run-quiet:      ## the same, without demo traffic
	@scripts/setup
	.venv/bin/hotline up --no-demo

test:           ## lint and types, then every test: unit, real-broker integration, browser
	@scripts/setup --browser --python3.13
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports --no-cache
	@# The unit tests on Python 3.13 as well (3.11 runs everything below).
	@if [ -x .venv-3.13/bin/python ]; then .venv-3.13/bin/pytest -m "not integration and not browser" -q; \
	else echo "skipped: unit tests on Python 3.13 (no Python 3.13 interpreter on this machine)"; fi
	.venv/bin/pytest

unit:           ## the fast tests only (no broker, no browser)
	@scripts/setup
	.venv/bin/pytest -m "not integration and not browser"

check:          ## lint, types and the layers (pyproject's [tool.importlinter])
	@scripts/setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports --no-cache

bench:          ## end-to-end benchmark with its side-by-side baseline -> docs/benchmarks.md
	@scripts/setup
	.venv/bin/python -m bench

bench-report:   ## docs/benchmarks.md rebuilt from bench/results/<mode>.json, nothing run
	@scripts/setup
	.venv/bin/python -m bench --report-only

clean:
	rm -rf .hotline .pytest_cache .mypy_cache .ruff_cache
