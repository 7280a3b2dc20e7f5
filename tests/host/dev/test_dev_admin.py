"""`trafi dev` gives the dashboard a sign-in: user `admin` of the demo tenant holding everything,
its password kept inside the dev project only and the same at every start."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trafi_host.api import create_app
from trafi_host.devserver import dev_admin_password, prepare_dev_project


def test_the_dev_admin_signs_in_with_every_permission(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRAFI_DATABASE_URL", raising=False)
    project, _key = prepare_dev_project(tmp_path / "dev")
    password = dev_admin_password(project)
    assert password is not None and len(password) >= 12
    assert dev_admin_password(project) == password  # kept: the same sign-in at the next start
    password_file = project.state_dir / "dev-admin-password"
    assert password_file.stat().st_mode & 0o777 == 0o600

    with TestClient(create_app(project), base_url="http://localhost") as client:
        signed_in = client.post("/api/auth/login", json={"username": "admin", "password": password})
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["tenant"] == "demo"
        permissions = client.get("/api/auth/me").json()["permissions"]
        assert {"modules:read", "modules:manage"} <= set(permissions)


def test_a_deleted_password_file_is_not_replaced_by_a_second_admin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRAFI_DATABASE_URL", raising=False)
    project, _key = prepare_dev_project(tmp_path / "dev")
    assert dev_admin_password(project) is not None
    (project.state_dir / "dev-admin-password").unlink()
    assert dev_admin_password(project) is None
