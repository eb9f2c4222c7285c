"""examples/nfs3_server.py, the read-only NFSv3 + MOUNT server written with the generated
server classes, listed and read by a real NFS client: libnfs's ``nfs-ls`` and ``nfs-cat``
(Debian libnfs-utils), on loopback, with the ports in the URL (no rpcbind needed)."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from conftest import program, requires
from peers import Daemon

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "nfs3_server.py"
NFS_LS, NFS_CAT = program("nfs-ls"), program("nfs-cat")

pytestmark = requires(NFS_LS and NFS_CAT, "needs nfs-ls and nfs-cat (apt-get install libnfs-utils)")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """A directory with files and a subdirectory, served by the example: (directory, port)."""
    directory = tmp_path_factory.mktemp("served")
    (directory / "hello.txt").write_text("hello over NFSv3\n")
    (directory / "sub").mkdir()
    (directory / "sub" / "data.bin").write_bytes(os.urandom(100_000))
    for i in range(100):  # libnfs asks 8 KiB of READDIRPLUS at a time (40 entries here): it pages by cookie
        (directory / f"file{i:02d}.txt").write_text(str(i))
    (directory / "escape").symlink_to("/etc")
    daemon = Daemon("nfs3-example", [sys.executable, str(EXAMPLE), str(directory)], tmp_path_factory.mktemp("example"))
    ports: list[int] = []

    def listening() -> bool:
        match = re.search(r"'tcp': (\d+)", daemon.log_path.read_text())
        ports.extend([int(match[1])] if match else [])
        return match is not None

    try:
        daemon.wait_until(listening, "its ports", timeout=60)
        yield directory, ports[0]
    finally:
        daemon.stop()


def url(port: int, path: str) -> str:
    return f"nfs://127.0.0.1/export{path}?nfsport={port}&mountport={port}"


def run(tool: str | None, address: str) -> subprocess.CompletedProcess[bytes]:
    assert tool is not None
    return subprocess.run([tool, address], capture_output=True, timeout=60)


def test_nfs_ls_lists_the_directory_and_a_subdirectory(served: tuple[Path, int]) -> None:
    directory, port = served
    listed = run(NFS_LS, url(port, ""))
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[-1] for line in listed.stdout.decode().splitlines()]
    assert sorted(names) == sorted(os.listdir(directory))
    sizes = {line.split()[-1]: int(line.split()[-2]) for line in listed.stdout.decode().splitlines() if line.startswith("-")}
    assert sizes["hello.txt"] == (directory / "hello.txt").stat().st_size
    sub = run(NFS_LS, url(port, "/sub"))
    assert sub.returncode == 0 and sub.stdout.decode().split()[-1] == "data.bin", sub.stderr


def test_nfs_cat_reads_files_byte_for_byte(served: tuple[Path, int]) -> None:
    directory, port = served
    hello = run(NFS_CAT, url(port, "/hello.txt"))
    assert hello.returncode == 0 and hello.stdout == b"hello over NFSv3\n", hello.stderr
    data = run(NFS_CAT, url(port, "/sub/data.bin"))
    assert data.returncode == 0, data.stderr
    assert hashlib.sha256(data.stdout).hexdigest() == hashlib.sha256((directory / "sub" / "data.bin").read_bytes()).hexdigest()


def test_paths_outside_the_directory_are_refused(served: tuple[Path, int]) -> None:
    _, port = served
    assert run(NFS_CAT, url(port, "/../../etc/hostname")).returncode != 0
    escaped = run(NFS_CAT, url(port, "/escape/hostname"))  # a symlink pointing out of the export
    assert escaped.returncode != 0 and escaped.stdout == b""
