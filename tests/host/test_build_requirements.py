"""A module's requirements.txt: exactly the pinned wheels are staged for the build, pure Python only."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from trafi_host.build_requirements import install_requirements
from trafi_host.errors import BuildError


def wheel(folder: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal wheel (py3-none-any) with `files`, as pip installs it."""
    info = f"{name}-{version}.dist-info"
    contents = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name_in, data in contents.items():
            archive.writestr(name_in, data)
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip reads only this folder of wheels (no network)."""
    index = tmp_path / "wheels"
    index.mkdir()
    wheel(index, "slugpure", "1.0.0", {"slugpure/__init__.py": b"def slug(text):\n    return text.lower()\n"})
    wheel(index, "slugpure", "2.0.0", {"slugpure/__init__.py": b"VERSION = 2\n"})
    wheel(index, "helperdep", "1.0.0", {"helperdep.py": b"X = 1\n"})
    wheel(index, "fastnative", "1.0.0", {"fastnative/_speed.cpython-311-x86_64-linux-gnu.so": b"\x7fELF"})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    return index


def module_with(tmp_path: Path, requirements: str) -> Path:
    folder = tmp_path / "module"
    folder.mkdir()
    (folder / "requirements.txt").write_text(requirements)
    return folder


def test_exactly_the_pinned_versions_are_installed(tmp_path: Path, local_index: Path) -> None:
    folder = module_with(tmp_path, "slugpure==1.0.0\n")
    installed = install_requirements("m", folder, tmp_path / "site")
    assert [(d.name, d.version) for d in installed] == [("slugpure", "1.0.0")]
    assert "def slug" in (tmp_path / "site" / "slugpure" / "__init__.py").read_text()
    assert not list((tmp_path / "site").glob("helperdep*"))  # nothing beyond the list


def test_an_unpinned_requirement_stops_the_build(tmp_path: Path, local_index: Path) -> None:
    folder = module_with(tmp_path, "slugpure>=1\n")
    with pytest.raises(BuildError, match=r"must pin each package as name==version: line 1"):
        install_requirements("m", folder, tmp_path / "site")


def test_a_package_with_compiled_code_is_refused_by_name(tmp_path: Path, local_index: Path) -> None:
    folder = module_with(tmp_path, "fastnative==1.0.0\n")
    with pytest.raises(BuildError, match=r"fastnative from requirements.txt contains compiled code"):
        install_requirements("m", folder, tmp_path / "site")


def test_a_package_that_cannot_be_found_says_so(tmp_path: Path, local_index: Path) -> None:
    folder = module_with(tmp_path, "nosuchpackage==1.0.0\n")
    with pytest.raises(BuildError, match=r"installing requirements.txt failed"):
        install_requirements("m", folder, tmp_path / "site")


def test_no_requirements_file_installs_nothing(tmp_path: Path) -> None:
    (tmp_path / "module").mkdir()
    assert install_requirements("m", tmp_path / "module", tmp_path / "site") == []
    assert not (tmp_path / "site").exists()


@pytest.mark.slow
@pytest.mark.timeout(1200)  # a build and a first compile: minutes on a busy machine
def test_a_bundled_package_is_importable_in_the_component(
    tmp_path: Path, local_index: Path, hello_dir: Path, shared_artifact_cache: Path
) -> None:
    import asyncio
    import json

    from trafi_host.build import build_module
    from trafi_host.capabilities.kv.backend import MemoryKv
    from trafi_host.capabilities.registry import host_capabilities
    from trafi_host.manifest.load import load_manifest
    from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal

    folder = module_with(tmp_path, "slugpure==1.0.0\n")
    manifest = json.loads((hello_dir / "trafi-module.json").read_text())
    manifest.update(name="slugger", entry={"backend": "dist/slugger.wasm"}, permissions={})
    (folder / "trafi-module.json").write_text(json.dumps(manifest))
    (folder / "app.py").write_text(
        "from slugpure import slug\nfrom trafi_sdk import Module, Request, Response\n"
        "module = Module('slugger')\n\n@module.get('/slug/{text}')\n"
        "def handle(request: Request) -> Response:\n"
        "    return Response.json({'slug': slug(request.path_params['text'])})\n"
    )
    build_module(folder)
    with ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv())) as runtime:
        image = runtime.load_image(load_manifest(folder), folder)
        request = ModuleRequest("GET", "/slug/Hello", "acme", Principal("k"))
        response = asyncio.run(runtime.call_http(image, request))
    assert json.loads(response.body) == {"slug": "hello"}
