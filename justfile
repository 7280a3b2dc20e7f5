# Recipes run inside the project's venv: call them as `./bootstrap just <recipe>`.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Serve the example modules from source on the SQLite default, reloading on save (prints a demo API key).
dev *args:
    trafi dev {{args}}

# Everything CI checks: format, lint, types, generated docs, the test suite (the dashboard's Vitest
# and browser tests included).
test *args: lint browser
    python -m pytest {{args}}

# Debian's chromium, which the dashboard's browser tests drive (never a downloaded browser).
browser:
    #!/usr/bin/env bash
    set -euo pipefail
    [ -x /usr/bin/chromium ] && exit 0
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null \
        || { echo "install Debian's chromium (apt-get install -y chromium): the dashboard's browser tests need /usr/bin/chromium" >&2; exit 1; }

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
    trafi docs ui-schema -o docs/ui-tree.schema.json
    trafi docs rules --doc docs/security.md
    trafi docs capabilities --doc docs/manifest.md
    trafi docs events --doc docs/events.md
    trafi docs exit-codes --doc docs/cli.md
    trafi docs settings --doc docs/settings.md
    trafi docs sdk --doc docs/sdk.md
    typer trafi_cli.main utils docs --name trafi --title "CLI options reference (generated: ./bootstrap just docs)" --output docs/cli-reference.md

# Retake the dashboard's screenshots in docs/dashboard/ (docs/dashboard.md shows them).
screenshots: browser
    TRAFI_SCREENSHOTS_DIR=docs/dashboard python -m pytest -q tests/dashboard/test_operator_pages.py tests/dashboard/test_module_views.py

fmt:
    ruff format host cli sdk-py tests modules bench
    ruff check --fix host cli sdk-py tests modules bench
