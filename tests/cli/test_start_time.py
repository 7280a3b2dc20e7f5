"""The CLI starts without the host: `trafi version` and `--help` import none of its heavy parts.

Every command imports the host inside its body; a top-level import in any
command module would cost every `trafi` invocation seconds of CPU (the host
pulls in SQLAlchemy, wasmtime, FastAPI, sqlglot). Checked by what is imported,
not by a stopwatch: bench/ measures the time (`cli-start`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "wasmtime", "fastapi", "uvicorn", "sqlglot", "starlette", "trafi_sdk", "huey", "redis")
PROBE = """
import json, sys
sys.argv = ["trafi", *json.loads(sys.argv[1])]
from trafi_cli.main import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def imported_by(*args: str) -> list[str]:
    paths = [str(REPO / part) for part in ("host", "cli", "sdk-py")] + [str(REPO)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "COLUMNS": "120"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES "))
    modules: list[str] = json.loads(line.removeprefix("MODULES "))
    return modules


@pytest.mark.parametrize(
    "args", [("version",), ("--help",), ("module", "--help"), ("module", "add", "--help")]
)
def test_the_cli_starts_without_the_host(args: tuple[str, ...]) -> None:
    modules = imported_by(*args)
    heavy = [m for m in modules if m.split(".")[0] in HEAVY]
    host = [m for m in modules if m.startswith("trafi_host.") and m != "trafi_host.version"]
    roots = sorted({m.split(".")[0] for m in heavy} | set(host))
    assert roots == [], f"`trafi {' '.join(args)}` imported {roots}"


def test_a_command_still_imports_what_it_needs(tmp_path: Path) -> None:
    modules = imported_by("init", str(tmp_path / "shop"))
    assert "trafi_host.project" in modules and (tmp_path / "shop" / "trafi.config.json").is_file()


def test_the_token_lifetime_default_is_the_hosts() -> None:
    from trafi_cli.identity_commands import TOKEN_DAYS
    from trafi_host.auth.credentials import TOKEN_LIFETIME

    assert TOKEN_LIFETIME.days == TOKEN_DAYS


def test_the_every_tenant_mark_is_the_hosts() -> None:
    from trafi_cli.ratelimit_commands import EVERY_TENANT
    from trafi_host.rate_limits import EVERY_TENANT as HOST_EVERY_TENANT

    assert EVERY_TENANT == HOST_EVERY_TENANT
