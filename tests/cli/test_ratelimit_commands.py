"""`trafi ratelimit set|list|clear`: overrides in the database, what applies listed, each change audited."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import api_keys, install_modules
from tests.host.api.test_rate_limits import limited_copy
from trafi_cli.main import app
from trafi_host.project import Project

runner = CliRunner()


def trafi(project: Project, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "-C", str(project.root)], env={"TRAFI_ACTOR": "ops"})
    return result.exit_code, result.output


def test_set_list_clear_and_the_audit_log(
    sqlite_project: Project, hello_dir: Path, testkit_dir: Path, tmp_path: Path
) -> None:
    install_modules(sqlite_project, hello_dir, limited_copy(testkit_dir, tmp_path / "testkit", "3/hour"))
    api_keys(sqlite_project.database_url(), "acme")
    config = sqlite_project.load_config()
    config.host.rate_limit = "600/minute"
    sqlite_project.save_config(config)

    assert trafi(sqlite_project, "ratelimit", "set", "testkit", "1/second", "--tenant", "acme")[0] == 0
    code, output = trafi(sqlite_project, "ratelimit", "set", "hello", "unlimited", "--json")
    assert code == 0 and json.loads(output) == {"module": "hello", "tenant": "*", "rate": "unlimited"}

    code, output = trafi(sqlite_project, "ratelimit", "list", "--json")
    assert code == 0, output
    listing = json.loads(output)
    assert listing["hostDefault"] == "600/minute"
    assert [(r["module"], r["tenant"], r["rate"], r["source"]) for r in listing["limits"]] == [
        ("hello", "*", "unlimited", "override"),
        ("testkit", "acme", "1/second", "override"),
        ("hello", "*", "600/minute", "host"),
        ("testkit", "*", "3/hour", "manifest"),
    ]
    assert {r["changedBy"] for r in listing["limits"][:2]} == {"ops"}

    code, output = trafi(sqlite_project, "ratelimit", "clear", "testkit", "--tenant", "acme")
    assert code == 0 and "was 1/second" in output
    code, output = trafi(sqlite_project, "ratelimit", "list", "--module", "testkit", "--json")
    assert [r["source"] for r in json.loads(output)["limits"]] == ["manifest"]

    code, output = trafi(sqlite_project, "audit", "list", "--module", "testkit", "--json")
    actions = [(e["actor"], e["action"], e["detail"]) for e in json.loads(output)]
    assert actions[:2] == [
        ("ops", "rate-limit-cleared", "tenant acme: was 1/second"),
        ("ops", "rate-limit-set", "tenant acme: 1/second"),
    ]


def test_a_bad_rate_or_tenant_is_refused_with_the_reason(sqlite_project: Project) -> None:
    api_keys(sqlite_project.database_url(), "acme")
    code, output = trafi(sqlite_project, "ratelimit", "set", "hello", "a lot", "--tenant", "acme")
    assert code == 1 and "must be a rate such as '120/minute'" in output and "found 'a lot'" in output
    code, output = trafi(sqlite_project, "ratelimit", "set", "hello", "5/minute", "--tenant", "ghost")
    assert code == 1 and "no tenant 'ghost'" in output
    code, output = trafi(sqlite_project, "ratelimit", "clear", "hello")
    assert code == 1 and "no rate limit override of hello for every tenant" in output
    code, output = trafi(sqlite_project, "ratelimit", "list")
    assert code == 0 and "no rate limits" in output
