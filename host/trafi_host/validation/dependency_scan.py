"""The module's locked Python dependencies against OSV advisories.

Sources: a local folder of OSV JSON files (an offline mirror) and the OSV API
(`/v1/querybatch`) when a URL is configured. A source that cannot be read is
reported as "not scanned", never as clean; in strict mode that blocks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from packaging.version import InvalidVersion, Version

from .findings import Finding

LOCK_FILE = "requirements.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str
    line: int


@dataclass(frozen=True)
class AdvisorySources:
    directory: Path | None = None
    osv_url: str | None = None
    strict: bool = False
    timeout_s: float = 10.0


def read_lock(module_dir: Path) -> tuple[list[Dependency], list[Finding]]:
    path = module_dir / LOCK_FILE
    if not path.is_file():
        return [], []
    deps: list[Dependency] = []
    findings: list[Finding] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith(("-", "--")):
            continue
        match = _PIN.match(line)
        if match is None:
            findings.append(
                Finding.of(
                    "TRF-D003", f"{line!r} is not pinned with ==", file=LOCK_FILE, line=number, code=raw
                )
            )
            continue
        deps.append(Dependency(_normal(match.group(1)), match.group(3), number))
    return deps, findings


def _affects(affected: dict[str, Any], version: str) -> bool:
    if version in affected.get("versions", []):
        return True
    try:
        current = Version(version)
    except InvalidVersion:
        return False
    for version_range in affected.get("ranges", []):
        if version_range.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        vulnerable = False
        for event in version_range.get("events", []):
            try:
                if "introduced" in event:
                    introduced = event["introduced"]
                    vulnerable = introduced == "0" or current >= Version(introduced)
                elif "fixed" in event and vulnerable and current >= Version(event["fixed"]):
                    vulnerable = False
                elif "last_affected" in event and vulnerable and current > Version(event["last_affected"]):
                    vulnerable = False
            except InvalidVersion:
                continue
        if vulnerable:
            return True
    return False


def _fixed_in(advisory: dict[str, Any], name: str) -> str | None:
    for affected in advisory.get("affected", []):
        if _normal(affected.get("package", {}).get("name", "")) != name:
            continue
        for version_range in affected.get("ranges", []):
            for event in version_range.get("events", []):
                if "fixed" in event:
                    return str(event["fixed"])
    return None


def _matches(advisory: dict[str, Any], dep: Dependency) -> bool:
    for affected in advisory.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") == "PyPI" and _normal(package.get("name", "")) == dep.name:
            if _affects(affected, dep.version):
                return True
    return False


def _vulnerable(dep: Dependency, advisory: dict[str, Any]) -> Finding:
    ids = ", ".join([advisory.get("id", "?"), *advisory.get("aliases", [])])
    fixed = _fixed_in(advisory, dep.name)
    summary = advisory.get("summary") or advisory.get("details", "")[:120] or "see the advisory"
    message = f"{dep.name}=={dep.version} is affected by {ids}: {summary}"
    if fixed:
        message += f" (fixed in {fixed})"
    return Finding.of("TRF-D001", message, file=LOCK_FILE, line=dep.line, code=f"{dep.name}=={dep.version}")


def _from_directory(directory: Path, deps: list[Dependency]) -> list[Finding]:
    findings: list[Finding] = []
    for path in sorted(directory.rglob("*.json")):
        advisory = json.loads(path.read_text(encoding="utf-8"))
        findings += [_vulnerable(dep, advisory) for dep in deps if _matches(advisory, dep)]
    return findings


def _from_api(url: str, deps: list[Dependency], timeout_s: float) -> list[Finding]:
    queries = [{"package": {"ecosystem": "PyPI", "name": d.name}, "version": d.version} for d in deps]
    with httpx.Client(timeout=timeout_s, trust_env=False) as client:
        answer = client.post(url.rstrip("/") + "/v1/querybatch", json={"queries": queries})
        answer.raise_for_status()
        results = answer.json().get("results", [])
        findings: list[Finding] = []
        for dep, result in zip(deps, results, strict=False):
            for vuln in result.get("vulns", []) or []:
                advisory = vuln
                if "affected" not in vuln:  # querybatch answers ids only: fetch each advisory
                    detail = client.get(f"{url.rstrip('/')}/v1/vulns/{vuln['id']}")
                    detail.raise_for_status()
                    advisory = detail.json()
                findings.append(_vulnerable(dep, advisory))
        return findings


def scan_dependencies(module_dir: Path, sources: AdvisorySources) -> list[Finding]:
    deps, findings = read_lock(module_dir)
    if not deps:
        return findings
    configured = False
    if sources.directory is not None:
        configured = True
        if sources.directory.is_dir():
            try:
                findings += _from_directory(sources.directory, deps)
            except (OSError, ValueError) as error:
                findings.append(_not_scanned(f"advisory folder {sources.directory}: {error}", sources))
        else:
            findings.append(_not_scanned(f"advisory folder {sources.directory} does not exist", sources))
    if sources.osv_url:
        configured = True
        try:
            findings += _from_api(sources.osv_url, deps, sources.timeout_s)
        except (httpx.HTTPError, ValueError, KeyError) as error:
            findings.append(_not_scanned(f"OSV API {sources.osv_url} unreachable: {error}", sources))
    if not configured:
        findings.append(_not_scanned("no advisory source is configured", sources))
    return _dedupe(findings)


def _not_scanned(why: str, sources: AdvisorySources) -> Finding:
    finding = Finding.of("TRF-D002", f"{LOCK_FILE} not scanned: {why}", file=LOCK_FILE, line=1)
    # Strict mode: an unscanned lock file blocks like a vulnerability would.
    return finding.model_copy(update={"severity": "error"}) if sources.strict else finding


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, int | None]] = set()
    unique = []
    for finding in findings:
        key = (finding.rule, finding.message, finding.line)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique
