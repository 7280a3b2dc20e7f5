"""A bench result row, the printed table, and docs/performance.md."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path


@dataclass(frozen=True)
class Row:
    scenario: str
    measure: str
    value: float
    unit: str
    baseline: float | None = None  # measured in the same run
    baseline_label: str = ""
    target: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline  # type: ignore[operator]


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def table(rows: list[Row]) -> str:
    header = ["scenario", "measure", "value", "baseline (same run)", "ratio", "target", "note"]
    lines = [header]
    for row in rows:
        baseline = (
            f"{_fmt(row.baseline, row.unit)} {row.baseline_label}".strip() if row.baseline is not None else ""
        )
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
        lines.append(
            [row.scenario, row.measure, _fmt(row.value, row.unit), baseline, ratio, row.target, row.note]
        )
    out = ["| " + " | ".join(lines[0]) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cells) + " |" for cells in lines[1:]]
    return "\n".join(out)


def machine() -> str:
    cpus = Path("/proc/cpuinfo").read_text().count("processor\t:") if Path("/proc/cpuinfo").exists() else 0
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines() if cpus else []:
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = ""
    for line in Path("/proc/meminfo").read_text().splitlines() if Path("/proc/meminfo").exists() else []:
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    return f"{cpus} cores ({model}), {mem}, {platform.system()} {platform.release()}"


def versions() -> str:
    names = ["wasmtime", "componentize-py", "fastapi", "uvicorn", "sqlalchemy"]
    return ", ".join(f"{name} {version(name)}" for name in names) + f", Python {platform.python_version()}"
