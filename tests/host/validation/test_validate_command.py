"""`trafi module validate`, SARIF output, and validation gating install with recorded overrides."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import snapshot
from trafi_cli.main import app
from trafi_host.audit_log import AuditLog
from trafi_host.db import Database
from trafi_host.project import Project

runner = CliRunner()


def evil_copy(hello_dir: Path, tmp_path: Path) -> Path:
    """hello plus a source file a reviewer must not let through (the component is hello's)."""
    folder = tmp_path / "hello-evil"
    shutil.copytree(hello_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "helpers.py").write_text("import os\n\n\ndef run(cmd):\n    os.system(cmd)\n")
    return folder


def test_validate_passes_a_clean_module(hello_dir: Path) -> None:
    result = runner.invoke(app, ["module", "validate", str(hello_dir)])
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.output


def test_validate_blocks_and_explains(hello_dir: Path, tmp_path: Path) -> None:
    folder = evil_copy(hello_dir, tmp_path)
    result = runner.invoke(app, ["module", "validate", str(folder)])
    assert result.exit_code == 10
    text = " ".join(result.output.split())
    assert "TRF-S007 forbidden-module at helpers.py:5:5" in text
    assert "os.system(cmd)" in text and "why:" in text and "fix:" in text
    assert "BLOCKED" in text


def test_validate_json_and_sarif(hello_dir: Path, tmp_path: Path) -> None:
    folder = evil_copy(hello_dir, tmp_path)
    sarif_file = tmp_path / "report.sarif"
    result = runner.invoke(app, ["module", "validate", str(folder), "--json", "--sarif", str(sarif_file)])
    assert result.exit_code == 10
    report = json.loads(result.output)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [(f["rule"], f["file"], f["line"]) for f in errors] == [("TRF-S007", "helpers.py", 5)]
    sarif = json.loads(sarif_file.read_text())
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["rules"][run["results"][0]["ruleIndex"]]["id"] == run["results"][0]["ruleId"]
    located = [r for r in run["results"] if r["ruleId"] == "TRF-S007"]
    region = located[0]["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "helpers.py"
    assert region["region"]["startLine"] == 5


def test_install_is_blocked_and_leaves_the_project_unchanged(
    sqlite_project: Project, hello_dir: Path, tmp_path: Path
) -> None:
    folder = evil_copy(hello_dir, tmp_path)
    before = snapshot(sqlite_project)
    result = runner.invoke(app, ["module", "add", str(folder), "-C", str(sqlite_project.root)])
    assert result.exit_code == 10
    assert "failed security validation" in result.output
    assert snapshot(sqlite_project) == before


def test_an_override_needs_a_reason_and_is_recorded(
    sqlite_project: Project, hello_dir: Path, tmp_path: Path
) -> None:
    folder = evil_copy(hello_dir, tmp_path)
    root = str(sqlite_project.root)
    no_reason = runner.invoke(app, ["module", "add", str(folder), "--allow", "TRF-S007", "-C", root])
    assert no_reason.exit_code != 0
    short = runner.invoke(
        app, ["module", "add", str(folder), "--allow", "TRF-S007", "--reason", "ok", "-C", root]
    )
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    reason = "helpers.run is dead code kept for the CLI build; ticket SEC-42"
    accepted = runner.invoke(
        app, ["module", "add", str(folder), "--allow", "TRF-S007", "--reason", reason, "-C", root]
    )
    assert accepted.exit_code == 0, accepted.output
    entry = sqlite_project.load_config().modules["hello"]
    assert [(a.rule, a.reason) for a in entry.allowed_rules] == [("TRF-S007", reason)]
    with Database(sqlite_project.database_url()) as database:
        log = AuditLog(database).entries("hello")
    actions = [(e.action, e.rule, e.reason) for e in log]
    assert ("override-accepted", "TRF-S007", reason) in actions
    assert actions[0][0] == "installed"
    listed = runner.invoke(app, ["audit", "list", "--json", "-C", root])
    assert any(e["rule"] == "TRF-S007" for e in json.loads(listed.output))
    # Enabling re-validates with the recorded override.
    assert runner.invoke(app, ["module", "disable", "hello", "-C", root]).exit_code == 0
    assert runner.invoke(app, ["module", "enable", "hello", "-C", root]).exit_code == 0


def test_enable_revalidates_the_installed_copy(sqlite_project: Project, hello_dir: Path) -> None:
    root = str(sqlite_project.root)
    assert runner.invoke(app, ["module", "add", str(hello_dir), "-C", root]).exit_code == 0
    assert runner.invoke(app, ["module", "disable", "hello", "-C", root]).exit_code == 0
    # Someone edits the installed copy behind the host's back.
    (sqlite_project.module_dir("hello") / "app.py").write_text("exec(input())\n")
    result = runner.invoke(app, ["module", "enable", "hello", "-C", root])
    assert result.exit_code == 10
    assert sqlite_project.load_config().modules["hello"].enabled is False


def test_a_symlink_leaving_the_module_is_blocked(hello_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "hello-link"
    shutil.copytree(hello_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "assets").mkdir()
    (folder / "assets" / "passwd").symlink_to("/etc/passwd")
    (folder / "assets" / "inside").symlink_to(folder / "app.py")  # fine: stays inside
    result = runner.invoke(app, ["module", "validate", str(folder), "--json"])
    assert result.exit_code == 10
    errors = [f for f in json.loads(result.output)["findings"] if f["severity"] == "error"]
    assert [(f["rule"], f["file"]) for f in errors] == [("TRF-P001", "assets/passwd")]


def test_a_fifo_in_the_module_is_blocked(hello_dir: Path, tmp_path: Path) -> None:
    import os

    folder = tmp_path / "hello-fifo"
    shutil.copytree(hello_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
    os.mkfifo(folder / "pipe")
    result = runner.invoke(app, ["module", "validate", str(folder), "--json"])
    assert result.exit_code == 10
    assert [f["rule"] for f in json.loads(result.output)["findings"] if f["severity"] == "error"] == [
        "TRF-P002"
    ]


def test_inspect_shows_what_a_reviewer_audits(sqlite_project: Project, hello_dir: Path) -> None:
    folder = json.loads(runner.invoke(app, ["module", "inspect", str(hello_dir), "--json"]).output)
    assert folder["permissions"] == [
        {"permission": "kv", "reason": "Stores the hit counter of each tenant.", "status": "requested"}
    ]
    imports = {item["name"]: item["status"] for item in folder["imports"]}
    assert imports["trafi:host/kv@0.1.0"] == "ok"
    assert imports["wasi:sockets/tcp@0.2.9"] == "info"
    assert "trafi:host/http-handler@0.1.0" in folder["exports"]

    root = str(sqlite_project.root)
    assert runner.invoke(app, ["module", "add", str(hello_dir), "-C", root]).exit_code == 0
    manifest_file = sqlite_project.module_dir("hello") / "trafi-module.json"
    data = json.loads(manifest_file.read_text())
    data["permissions"]["env"] = [{"name": "AWS_SECRET", "reason": "added behind the host's back"}]
    manifest_file.write_text(json.dumps(data))
    installed = json.loads(runner.invoke(app, ["module", "inspect", "hello", "--json", "-C", root]).output)
    assert [(p["permission"], p["status"]) for p in installed["permissions"]] == [
        ("kv", "granted"),
        ("env: AWS_SECRET", "not granted"),
    ]
