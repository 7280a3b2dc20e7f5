"""Each version is staged apart: what an instance imports never changes under it."""

from __future__ import annotations

from pathlib import Path

from tests.host.dev.dev_modules import write_counter
from trafi_host.dev.staging import is_source_path, prune_staged, stage_source
from trafi_host.manifest.load import load_manifest


def test_a_version_is_staged_once_and_an_edit_makes_another(tmp_path: Path) -> None:
    module = write_counter(tmp_path / "counter")
    (module / "dist").mkdir()
    (module / "dist" / "counter.wasm").write_bytes(b"\0asm")
    (module / "__pycache__").mkdir()
    (module / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"")
    manifest = load_manifest(module)
    first = stage_source(module, manifest, tmp_path / "dev")
    assert stage_source(module, manifest, tmp_path / "dev") == first
    assert (first.folder / "src" / "app.py").read_text() == (module / "app.py").read_text()
    assert not (first.folder / "src" / "dist").exists()
    assert not (first.folder / "src" / "__pycache__").exists()
    (module / "app.py").write_text("# edited\n")
    second = stage_source(module, manifest, tmp_path / "dev")
    assert second.folder != first.folder
    assert (first.folder / "src" / "app.py").read_text() != "# edited\n"  # the old version is untouched
    prune_staged(tmp_path / "dev", "counter", {second.folder})
    assert not first.folder.exists() and second.folder.exists()


def test_only_source_changes_count(tmp_path: Path) -> None:
    assert is_source_path(tmp_path / "app.py", tmp_path)
    assert is_source_path(tmp_path / "pkg" / "models.py", tmp_path)
    assert not is_source_path(tmp_path / "dist" / "counter.wasm", tmp_path)
    assert not is_source_path(tmp_path / "__pycache__" / "app.pyc", tmp_path)
    assert not is_source_path(tmp_path / ".app.py.swp", tmp_path)
    assert not is_source_path(tmp_path / "app.py~", tmp_path)
    assert not is_source_path(Path("/elsewhere/app.py"), tmp_path)
