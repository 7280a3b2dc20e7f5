"""What validation reports: findings, overrides, and the decision. Pydantic: it is `--json`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .rules import RULES, Severity

__all__ = ["Finding", "Override", "Severity", "ValidationReport"]


class Finding(BaseModel):
    rule: str
    name: str
    severity: Severity
    message: str = Field(description="What was found, here.")
    why: str
    fix: str
    subject: str | None = Field(default=None, description="The component import or export concerned.")
    file: str | None = None
    line: int | None = None
    column: int | None = None
    code: str | None = Field(default=None, description="The offending source line.")
    allowed: bool = Field(default=False, description="An operator override accepts it.")

    @classmethod
    def of(cls, rule_id: str, message: str, **where: object) -> Finding:
        rule = RULES[rule_id]
        return cls(
            rule=rule.id,
            name=rule.name,
            severity=rule.severity,
            message=message,
            why=rule.why,
            fix=rule.fix,
            **where,  # type: ignore[arg-type]
        )

    @property
    def location(self) -> str:
        if self.file is None:
            return self.subject or "component"
        return f"{self.file}:{self.line or 0}:{self.column or 0}"


class Override(BaseModel):
    rule: str
    reason: str


class ValidationReport(BaseModel):
    schemaVersion: Literal[1] = 1
    module: str
    version: str
    findings: list[Finding]
    overrides: list[Override] = Field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error" and not f.allowed]

    @property
    def passed(self) -> bool:
        return not self.blocking

    @property
    def warnings(self) -> list[Finding]:
        """What passed but an operator must hear of at install (a dependency scan that did not run)."""
        return [f for f in self.findings if f.severity == "warning" and not f.allowed]

    def counts(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts
