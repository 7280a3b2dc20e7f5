"""A validation report as SARIF 2.1.0, for code-scanning tools reviewers already use."""

from __future__ import annotations

from typing import Any

from ..version import HOST_VERSION
from .findings import ValidationReport
from .rules import RULES

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def to_sarif(report: ValidationReport) -> dict[str, Any]:
    used = sorted({finding.rule for finding in report.findings})
    rules = [
        {
            "id": rule_id,
            "name": RULES[rule_id].name,
            "shortDescription": {"text": RULES[rule_id].name.replace("-", " ")},
            "fullDescription": {"text": RULES[rule_id].why},
            "help": {"text": RULES[rule_id].fix},
            "defaultConfiguration": {"level": _LEVEL[RULES[rule_id].severity]},
        }
        for rule_id in used
    ]
    results = []
    for finding in report.findings:
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": used.index(finding.rule),
            "level": _LEVEL[finding.severity],
            "message": {"text": f"{finding.message}. {finding.fix}"},
        }
        if finding.file is not None:
            region: dict[str, Any] = {"startLine": finding.line or 1, "startColumn": finding.column or 1}
            if finding.code:
                region["snippet"] = {"text": finding.code}
            result["locations"] = [
                {"physicalLocation": {"artifactLocation": {"uri": finding.file}, "region": region}}
            ]
        if finding.allowed:
            reason = next((o.reason for o in report.overrides if o.rule == finding.rule), "")
            result["suppressions"] = [{"kind": "external", "justification": reason}]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "trafi-module-validate",
                        "version": HOST_VERSION,
                        "informationUri": "https://trafi.dev/docs/security",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
