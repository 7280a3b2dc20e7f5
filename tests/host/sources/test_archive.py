"""Packed modules (.tgz): installed when safe, refused before anything is written when not."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import snapshot
from trafi_cli.main import app
from trafi_host.project import Project
from trafi_host.sources.archive import UnsafeArchive, extract_safely

runner = CliRunner()


def pack(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def file_member(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def pack_module(folder: Path, archive: Path, prefix: str = "package/") -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            if "__pycache__" in path.parts or path.is_dir():
                continue
            tar.add(path, arcname=prefix + path.relative_to(folder).as_posix())
    return archive


def test_a_packed_module_installs_like_a_folder(
    sqlite_project: Project, hello_dir: Path, tmp_path: Path
) -> None:
    archive = pack_module(hello_dir, tmp_path / "hello-0.1.0.tgz")
    result = runner.invoke(app, ["module", "add", str(archive), "-C", str(sqlite_project.root)])
    assert result.exit_code == 0, result.output
    entry = sqlite_project.load_config().modules["hello"]
    assert entry.source.spec == str(archive)
    assert entry.source.resolved.startswith(f"{archive}#sha256=")
    assert (sqlite_project.module_dir("hello") / "dist" / "hello.wasm").is_file()
    assert not list(sqlite_project.staging_dir.iterdir())


def special(name: str, kind: bytes, target: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ([file_member("package/../../evil.py", b"x")], "climbs out"),
        ([file_member("/etc/cron.d/evil", b"x")], "absolute path"),
        ([special("package/passwd", tarfile.SYMTYPE, "/etc/passwd")], "is a link"),
        ([special("package/hard", tarfile.LNKTYPE, "/etc/shadow")], "is a link"),
        ([special("package/null", tarfile.CHRTYPE)], "special file"),
        ([special("package/pipe", tarfile.FIFOTYPE)], "special file"),
        ([file_member("package/zeros.bin", bytes(30 << 20))], "archive bomb"),
    ],
    ids=["traversal", "absolute", "symlink", "hardlink", "device", "fifo", "bomb"],
)
def test_unsafe_archives_are_refused_and_nothing_is_written(
    sqlite_project: Project,
    tmp_path: Path,
    members: list[tuple[tarfile.TarInfo, bytes | None]],
    reason: str,
) -> None:
    archive = pack(tmp_path / "evil.tgz", [file_member("package/trafi-module.json", b"{}"), *members])
    before = snapshot(sqlite_project)
    result = runner.invoke(app, ["module", "add", str(archive), "-C", str(sqlite_project.root)])
    assert result.exit_code == 11, result.output
    assert reason in " ".join(result.output.split())
    assert snapshot(sqlite_project) == before
    assert not list(sqlite_project.staging_dir.glob("unpacked-*"))
    assert not (tmp_path.parent / "evil.py").exists()


def test_the_size_limit_is_checked_before_writing(tmp_path: Path) -> None:
    from trafi_host.sources.archive import ArchiveLimits

    archive = pack(tmp_path / "big.tgz", [file_member("package/a.bin", bytes(2 << 20))])
    with pytest.raises(UnsafeArchive, match="unpacks to"):
        extract_safely(archive, tmp_path / "out", ArchiveLimits(max_total_bytes=1 << 20))
    assert not (tmp_path / "out").exists()


def test_not_an_archive(tmp_path: Path) -> None:
    bogus = tmp_path / "x.tgz"
    bogus.write_bytes(b"not gzip")
    with pytest.raises(UnsafeArchive, match="not a readable tar archive"):
        extract_safely(bogus, tmp_path / "out")


@pytest.fixture
def headers_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many tar headers the check read: the measure of "refused early"."""
    count = [0]
    original = tarfile.TarFile.next

    def counting(self: tarfile.TarFile) -> tarfile.TarInfo | None:
        count[0] += 1
        return original(self)

    monkeypatch.setattr(tarfile.TarFile, "next", counting)
    return count


def test_too_many_entries_are_refused_at_the_first_header_past_the_limit(
    tmp_path: Path, headers_read: list[int]
) -> None:
    from trafi_host.sources.archive import ArchiveLimits

    archive = pack(tmp_path / "many.tgz", [file_member(f"package/f{n}", b"x") for n in range(3000)])
    with pytest.raises(UnsafeArchive, match="more than 100 entries"):
        extract_safely(archive, tmp_path / "out", ArchiveLimits(max_files=100))
    # Opening the archive reads the first header once more: 101 headers, never the 3,000.
    assert headers_read[0] == 102
    assert not (tmp_path / "out").exists()


def test_a_bomb_is_refused_at_its_header_before_its_data_is_inflated(
    tmp_path: Path, headers_read: list[int]
) -> None:
    # A header declaring 2 GiB, followed by only a little of its data: the check must not need it.
    info = tarfile.TarInfo("package/zeros.bin")
    info.size = 2 << 30
    raw = info.tobuf(format=tarfile.PAX_FORMAT) + bytes(1 << 20)
    archive = tmp_path / "bomb.tgz"
    archive.write_bytes(gzip.compress(raw))
    with pytest.raises(UnsafeArchive, match="an archive bomb"):
        extract_safely(archive, tmp_path / "out")
    assert headers_read[0] == 2  # opening reads the first header, the check reuses it
    assert not (tmp_path / "out").exists()
