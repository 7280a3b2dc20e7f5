"""Requirements vendored for the dev runtime: pure-Python ones installed, native ones named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.host.dev.wheels import write_wheel
from trafi_host.dev.vendor import RequirementsError, vendor_requirements


def test_a_pure_python_requirement_is_installed_once(tmp_path: Path) -> None:
    module = tmp_path / "module"
    wheel = write_wheel(tmp_path / "wheels", "tinyfmt", "py3-none-any", {"tinyfmt/__init__.py": "X = 1\n"})
    module.mkdir()
    (module / "requirements.txt").write_text(f"{wheel}\n")
    vendor = vendor_requirements(module, "counter", tmp_path / "dev")
    assert vendor is not None and (vendor / "tinyfmt" / "__init__.py").read_text() == "X = 1\n"
    assert vendor_requirements(module, "counter", tmp_path / "dev") == vendor


def test_a_native_requirement_is_refused_with_its_name(tmp_path: Path) -> None:
    module = tmp_path / "module"
    wheel = write_wheel(
        tmp_path / "wheels", "fastthing", "cp311-cp311-manylinux_2_17_x86_64", {"fastthing/__init__.py": ""}
    )
    module.mkdir()
    (module / "requirements.txt").write_text(f"{wheel}\n")
    with pytest.raises(RequirementsError, match="fastthing") as refused:
        vendor_requirements(module, "counter", tmp_path / "dev")
    assert "needs native code" in str(refused.value)
    assert not (tmp_path / "dev" / "counter").exists() or not any(
        p.name.startswith("vendor-") for p in (tmp_path / "dev" / "counter").iterdir()
    )


def test_no_requirements_no_vendor_folder(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("# nothing yet\n")
    assert vendor_requirements(tmp_path, "counter", tmp_path / "dev") is None


def test_native_files_in_a_wheel_that_claims_to_be_pure_are_refused(tmp_path: Path) -> None:
    module = tmp_path / "module"
    wheel = write_wheel(
        tmp_path / "wheels", "sneaky", "py3-none-any", {"sneaky/__init__.py": "", "sneaky/_speed.so": "ELF"}
    )
    module.mkdir()
    (module / "requirements.txt").write_text(f"{wheel}\n")
    with pytest.raises(RequirementsError, match=r"native code \(sneaky/_speed.so\)"):
        vendor_requirements(module, "counter", tmp_path / "dev")
