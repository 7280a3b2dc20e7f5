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
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .findings import Finding

LOCK_FILE = "requirements.txt"
# `name[extras] == version [; marker]`: the only line the scan can check exactly.
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;#=*]+)\s*(;.*)?$")
# Anything that names a requirement without an exact version.
_NAMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*(?:[<>!~=]=?|===|$|;)")


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
    for number, line, raw in _logical_lines(path.read_text(encoding="utf-8")):
        match = _PIN.match(line)
        if match is not None and _exact(match.group(3)):
            deps.append(Dependency(_normal(match.group(1)), match.group(3), number))
        elif _NAMED.match(line) and "==" not in line:
            findings.append(
                Finding.of(
                    "TRF-D003", f"{line!r} is not pinned with ==", file=LOCK_FILE, line=number, code=raw
                )
            )
        else:
            # An include (-r, -c), an editable or URL requirement, ===, a wildcard: what it
            # installs cannot be checked, so it is said, never skipped.
            findings.append(
                Finding.of(
                    "TRF-D004",
                    f"{line!r} cannot be read as `name==version`: not scanned",
                    file=LOCK_FILE,
                    line=number,
                    code=raw,
                )
            )
    return deps, findings


def _logical_lines(text: str) -> list[tuple[int, str, str]]:
    """(first line number, requirement, raw text) with continuations joined, comments and
    pip-compile's `--hash=` options (which pin the files, not the version) removed."""
    logical: list[tuple[int, str, str]] = []
    pending: tuple[int, list[str]] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if pending is None:
            pending = (number, [])
        pending[1].append(raw)
        if raw.rstrip().endswith("\\"):
            continue
        first, parts = pending
        pending = None
        joined = " ".join(part.rstrip().removesuffix("\\") for part in parts)
        words = [w for w in re.split(r"\s+", joined.split(" #", 1)[0]) if w and not w.startswith("--hash=")]
        line = " ".join(words).strip()
        if line and not line.startswith("#"):
            logical.append((first, line, parts[0]))
    if pending is not None:
        logical.append((pending[0], " ".join(pending[1]).strip(), pending[1][0]))
    return logical


def _exact(version: str) -> bool:
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


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


class MalformedAnswer(ValueError):
    """The advisory source answered something that is not what OSV answers: not scanned."""


class _OsvVuln(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1)


class _OsvResult(BaseModel):
    vulns: list[_OsvVuln] | None = None


class _OsvBatch(BaseModel):
    results: list[_OsvResult]


class _OsvAdvisory(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1)
    affected: list[dict[str, Any]]


def _from_api(url: str, deps: list[Dependency], timeout_s: float) -> list[Finding]:
    queries = [{"package": {"ecosystem": "PyPI", "name": d.name}, "version": d.version} for d in deps]
    with httpx.Client(timeout=timeout_s, trust_env=False) as client:
        answer = client.post(url.rstrip("/") + "/v1/querybatch", json={"queries": queries})
        answer.raise_for_status()
        try:
            batch = _OsvBatch.model_validate_json(answer.content)
        except ValidationError as error:
            raise MalformedAnswer(f"querybatch answer is not OSV's: {_first(error)}") from None
        if len(batch.results) != len(deps):
            # One result per query, in order: anything else cannot be matched to the lock file.
            raise MalformedAnswer(f"{len(batch.results)} results for {len(deps)} queries")
        findings: list[Finding] = []
        for dep, result in zip(deps, batch.results, strict=True):
            for vuln in result.vulns or []:
                advisory = vuln.model_dump()
                if "affected" not in advisory:  # querybatch answers ids only: fetch each advisory
                    detail = client.get(f"{url.rstrip('/')}/v1/vulns/{vuln.id}")
                    detail.raise_for_status()
                    try:
                        advisory = _OsvAdvisory.model_validate_json(detail.content).model_dump()
                    except ValidationError as error:
                        raise MalformedAnswer(f"advisory {vuln.id} is not OSV's: {_first(error)}") from None
                findings.append(_vulnerable(dep, advisory))
        return findings


def _first(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "the answer"
    return f"{where}: {problem['msg']}"


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
        except MalformedAnswer as error:
            findings.append(_not_scanned(f"OSV API {sources.osv_url} answered badly: {error}", sources))
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
