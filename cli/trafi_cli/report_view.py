"""Rendering a validation report for a person (rich); `--json` and `--sarif` print the models."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from trafi_host.validation import ValidationReport

_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def render_report(report: ValidationReport, console: Console, show_info: bool = False) -> None:
    counts = report.counts()
    console.print(
        f"[bold]{report.module}[/] {report.version}: "
        f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info"
    )
    for finding in report.findings:
        if finding.severity == "info" and not show_info:
            continue
        style = _STYLE[finding.severity]
        allowed = " [green](allowed by operator)[/]" if finding.allowed else ""
        console.print(
            f"\n[{style}]{finding.severity.upper()}[/] {finding.rule} {finding.name} "
            f"at {escape(finding.location)}{allowed}"
        )
        console.print(f"  {escape(finding.message)}")
        if finding.code:
            console.print(f"  [dim]│[/] {escape(finding.code)}")
        console.print(f"  [dim]why:[/] {escape(finding.why)}")
        console.print(f"  [dim]fix:[/] {escape(finding.fix)}")
    hidden = counts["info"] if not show_info else 0
    if hidden:
        console.print(f"\n[dim]{hidden} info finding(s) hidden; --all shows them[/]")
    for override in report.overrides:
        console.print(f"[green]override[/] {override.rule}: {escape(override.reason)}")
    verdict = "[bold green]PASSED[/]" if report.passed else f"[bold red]BLOCKED[/] ({len(report.blocking)})"
    console.print(f"\n{verdict}")
