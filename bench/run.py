"""`just bench`: every scenario, one table, and docs/performance.md (`--quick`: smoke run, no file)."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from . import (
    boundary,
    cli_start,
    contention,
    density,
    endpoint_vs_native,
    events,
    hot_reload,
    instructions,
    lifecycle,
    metrics,
    module_db,
    rate_limits,
    route_permissions,
    security,
    startup,
    workers,
)
from .report import Row, machine, table, versions

SCENARIOS = {
    "endpoint": endpoint_vs_native.run,
    "startup": startup.run,
    "density": density.run,
    "boundary": boundary.run,
    "instructions": instructions.run,
    "contention": contention.run,
    "security": security.run,
    "lifecycle": lifecycle.run,
    "events": events.run,
    "metrics": metrics.run,
    "module-db": module_db.run,
    "cli-start": cli_start.run,
    "rate-limits": rate_limits.run,
    "route-permissions": route_permissions.run,
    "hot-reload": hot_reload.run,
    "workers": workers.run,
}
DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Smoke run: small counts, no docs written.")
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append", help="Run only these.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="trafi-bench-"))
    rows: list[Row] = []
    started = time.perf_counter()
    try:
        for name in args.only or list(SCENARIOS):
            print(f"running {name} ...", file=sys.stderr, flush=True)
            scenario_started = time.perf_counter()
            rows += SCENARIOS[name](work, args.quick)
            print(f"  {name}: {time.perf_counter() - scenario_started:.0f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    print(table(rows))
    print(f"\n{len(rows)} measures in {elapsed:.0f} s", file=sys.stderr)
    if not args.quick and not args.only:
        write_doc(rows, elapsed)
    return 0


def write_doc(rows: list[Row], elapsed: float) -> None:
    text = DOC.read_text() if DOC.exists() else ""
    marker = "<!-- bench:table -->"
    generated = (
        f"{marker}\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; {versions()}. "
        f"Full run: {elapsed:.0f} s.\n\n{table(rows)}\n{marker}"
    )
    if text.count(marker) == 2:
        head, _, rest = text.partition(marker)
        _, _, tail = rest.partition(marker)
        DOC.write_text(head + generated + tail)
    else:
        DOC.write_text(text + "\n" + generated + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
