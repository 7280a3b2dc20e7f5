# Recipes run inside the project's venv: call them as `./bootstrap just <recipe>`.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Serve the example modules from source on the SQLite default, reloading on save (prints a demo API key).
dev *args:
    trafi dev {{args}}

# Everything CI checks: format, lint, types, generated docs, the test suite.
test *args: lint
    python -m pytest {{args}}

lint:
    ruff format --check host cli sdk-py tests modules bench
    ruff check host cli sdk-py tests modules bench
    mypy

# Measure every hot path against its baseline; rewrites docs/performance.md (`--quick`: smoke run).
bench *args:
    command -v wrk >/dev/null || (apt-get install -y wrk >/dev/null 2>&1 || true)
    python -m bench.run {{args}}

# Rewrite generated files (schemas, rule, event, exit-code and settings tables, CLI reference).
docs:
    trafi docs schema -o docs/manifest.schema.json
    trafi docs list-schema -o docs/module-list.schema.json
    trafi docs rules --doc docs/security.md
    trafi docs capabilities --doc docs/manifest.md
    trafi docs events --doc docs/events.md
    trafi docs exit-codes --doc docs/cli.md
    trafi docs settings --doc docs/settings.md
    typer trafi_cli.main utils docs --name trafi --title "CLI options reference (generated: ./bootstrap just docs)" --output docs/cli-reference.md

fmt:
    ruff format host cli sdk-py tests modules bench
    ruff check --fix host cli sdk-py tests modules bench
