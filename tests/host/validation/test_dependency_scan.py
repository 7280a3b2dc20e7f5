"""Locked dependencies against OSV advisories: a local folder and a local OSV API peer."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import snapshot
from trafi_cli.main import app
from trafi_host.project import Project
from trafi_host.validation.dependency_scan import AdvisorySources, read_lock, scan_dependencies

ADVISORY: dict[str, Any] = {
    "id": "GHSA-h5c8-rqwp-cp95",
    "aliases": ["CVE-2024-22195"],
    "summary": "Jinja vulnerable to HTML attribute injection",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "Jinja2"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.3"}]}],
        }
    ],
}


def module_with_lock(tmp_path: Path, lock: str) -> Path:
    folder = tmp_path / "module"
    folder.mkdir(exist_ok=True)
    (folder / "requirements.txt").write_text(lock)
    return folder


@pytest.fixture
def advisories(tmp_path: Path) -> Path:
    folder = tmp_path / "advisories"
    folder.mkdir()
    (folder / "GHSA-h5c8-rqwp-cp95.json").write_text(json.dumps(ADVISORY))
    return folder


def rules(findings: list[Any]) -> list[tuple[str, str]]:
    return [(f.rule, f.severity) for f in findings]


def test_the_lock_file_is_read_and_unpinned_lines_reported(tmp_path: Path) -> None:
    folder = module_with_lock(
        tmp_path, "# pinned\nJinja2==3.1.2\nattrs[tests] == 23.1.0\nrequests>=2\n-e .\n"
    )
    deps, findings = read_lock(folder)
    assert [(d.name, d.version, d.line) for d in deps] == [("jinja2", "3.1.2", 2), ("attrs", "23.1.0", 3)]
    assert [(f.rule, f.line) for f in findings] == [("TRF-D003", 4), ("TRF-D004", 5)]


def test_lines_the_scanner_cannot_read_are_findings_never_skipped(tmp_path: Path) -> None:
    lock = (
        "idna==3.4 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n"  # pip-compile's hashes: fine
        'certifi==2023.7.22 ; python_version >= "3.8"  # a marker and a comment\n'
        "urllib3===1.26.0\n"
        "six==1.*\n"
        "-r other.txt\n"
        "-e git+https://example.org/x.git#egg=x\n"
        "git+https://example.org/y.git\n"
        "flask>=2\n"
    )
    deps, findings = read_lock(module_with_lock(tmp_path, lock))
    assert [(d.name, d.version, d.line) for d in deps] == [("idna", "3.4", 1), ("certifi", "2023.7.22", 4)]
    assert [(f.rule, f.line) for f in findings] == [
        ("TRF-D004", 5),
        ("TRF-D004", 6),
        ("TRF-D004", 7),
        ("TRF-D004", 8),
        ("TRF-D004", 9),
        ("TRF-D003", 10),
    ]
    assert "'six==1.*' cannot be read as `name==version`: not scanned" in findings[1].message


def test_a_vulnerable_version_is_found_in_a_local_advisory_folder(tmp_path: Path, advisories: Path) -> None:
    vulnerable = scan_dependencies(module_with_lock(tmp_path, "jinja2==3.1.2\n"), AdvisorySources(advisories))
    assert rules(vulnerable) == [("TRF-D001", "error")]
    assert "GHSA-h5c8-rqwp-cp95, CVE-2024-22195" in vulnerable[0].message
    assert "fixed in 3.1.3" in vulnerable[0].message
    assert scan_dependencies(module_with_lock(tmp_path, "jinja2==3.1.4\n"), AdvisorySources(advisories)) == []


class _JsonPeer(BaseHTTPRequestHandler):
    """A local OSV peer's shared part: quiet, and answers JSON bytes."""

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def osv_api() -> Iterator[str]:
    class Handler(_JsonPeer):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            queries = json.loads(self.rfile.read(length))["queries"]
            results = [
                {"vulns": [{"id": ADVISORY["id"]}]}
                if q["package"]["name"] == "jinja2" and q["version"] == "3.1.2"
                else {}
                for q in queries
            ]
            self._send(json.dumps({"results": results}).encode())

        def do_GET(self) -> None:
            self._send(json.dumps(ADVISORY).encode())

    with _serving(Handler) as url:
        yield url


def test_the_osv_api_is_queried_in_one_batch(tmp_path: Path, osv_api: str) -> None:
    folder = module_with_lock(tmp_path, "jinja2==3.1.2\nattrs==23.1.0\n")
    found = scan_dependencies(folder, AdvisorySources(osv_url=osv_api))
    assert rules(found) == [("TRF-D001", "error")]
    assert found[0].line == 1


@pytest.fixture
def answering() -> Iterator[tuple[dict[str, bytes], str]]:
    """An OSV peer that answers whatever the test puts in `bodies` (POST and GET)."""
    bodies: dict[str, bytes] = {}

    class Handler(_JsonPeer):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self._send(bodies["POST"])

        def do_GET(self) -> None:
            self._send(bodies["GET"])

    with _serving(Handler) as url:
        yield bodies, url


@pytest.mark.parametrize(
    ("post", "get", "why"),
    [
        (b"[]", b"{}", "the answer: Input should be an object"),
        (b"{}", b"{}", "results: Field required"),
        (b"not json", b"{}", "querybatch answer is not OSV's"),
        (b'{"results": []}', b"{}", "0 results for 2 queries"),
        (b'{"results": [{"vulns": [{}]}, {}]}', b"{}", "id: Field required"),
        (
            b'{"results": [{"vulns": [{"id": "GHSA-x"}]}, {}]}',
            b'{"id": "GHSA-x"}',
            "advisory GHSA-x is not OSV's",
        ),
    ],
)
def test_a_malformed_or_empty_answer_is_not_scanned_never_clean(
    tmp_path: Path, answering: tuple[dict[str, bytes], str], post: bytes, get: bytes, why: str
) -> None:
    bodies, url = answering
    bodies.update(POST=post, GET=get)
    folder = module_with_lock(tmp_path, "jinja2==3.1.2\nattrs==23.1.0\n")
    [finding] = scan_dependencies(folder, AdvisorySources(osv_url=url))
    assert (finding.rule, finding.severity) == ("TRF-D002", "warning")
    assert "answered badly" in finding.message and why in finding.message, finding.message


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_source_is_not_scanned_never_clean(tmp_path: Path) -> None:
    folder = module_with_lock(tmp_path, "jinja2==3.1.2\n")
    url = f"http://127.0.0.1:{closed_port()}"
    assert rules(scan_dependencies(folder, AdvisorySources(osv_url=url))) == [("TRF-D002", "warning")]
    assert rules(scan_dependencies(folder, AdvisorySources(osv_url=url, strict=True))) == [
        ("TRF-D002", "error")
    ]
    assert rules(scan_dependencies(folder, AdvisorySources())) == [("TRF-D002", "warning")]


def test_install_of_a_module_with_a_vulnerable_pin_is_blocked(
    sqlite_project: Project, hello_dir: Path, tmp_path: Path, advisories: Path
) -> None:
    folder = tmp_path / "hello"
    shutil.copytree(hello_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "requirements.txt").write_text("jinja2==3.1.2\n")
    config = sqlite_project.load_config()
    config.security.advisories_dir = str(advisories)
    sqlite_project.save_config(config)
    before = snapshot(sqlite_project)
    result = CliRunner().invoke(app, ["module", "add", str(folder), "-C", str(sqlite_project.root)])
    assert result.exit_code == 10
    assert "TRF-D001" in result.output
    assert snapshot(sqlite_project) == before


def test_add_says_when_the_dependencies_were_not_scanned(
    sqlite_project: Project, hello_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "hello"
    shutil.copytree(hello_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "requirements.txt").write_text("jinja2==3.1.4\n-r more.txt\n")
    result = CliRunner().invoke(app, ["module", "add", str(folder), "-C", str(sqlite_project.root), "--json"])
    assert result.exit_code == 0, result.output
    [installed] = json.loads(result.output)["installed"]
    assert any(
        w.startswith("TRF-D002 requirements.txt:1:0: requirements.txt not scanned")
        for w in installed["warnings"]
    )
    assert any(w.startswith("TRF-D004 requirements.txt:2:0: '-r more.txt'") for w in installed["warnings"])
    plain = CliRunner().invoke(app, ["module", "add", str(folder), "-C", str(sqlite_project.root)])
    assert "warning TRF-D002 requirements.txt:1:0: requirements.txt not scanned" in " ".join(
        plain.output.split()
    )


def test_validate_command_takes_the_sources(hello_dir: Path, tmp_path: Path, advisories: Path) -> None:
    folder = tmp_path / "hello"
    shutil.copytree(hello_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "requirements.txt").write_text("jinja2==3.1.2\n")
    result = CliRunner().invoke(
        app, ["module", "validate", str(folder), "--advisories", str(advisories), "--json"]
    )
    assert result.exit_code == 10
    assert [f["rule"] for f in json.loads(result.output)["findings"] if f["severity"] == "error"] == [
        "TRF-D001"
    ]
