"""Tables of the docs generated from the code: exit codes (docs/cli.md)."""

from __future__ import annotations

from .errors import ExitCode
from .generated_section import replace_section


def exit_codes_markdown() -> str:
    lines = ["| code | meaning |", "|---|---|"]
    lines += [f"| {code.value} | {code.meaning} |" for code in ExitCode]
    return "\n".join(lines)


def with_exit_codes(document: str) -> str:
    """`document` with its exit-codes section replaced by the table of `ExitCode`."""
    return replace_section(document, "exit-codes", exit_codes_markdown())
