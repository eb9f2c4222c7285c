"""examples/libvirt_daemon.py, the libvirt daemon stand-in, driven by virsh (libvirt 9.0's real
client) exactly as the README shows: listings, domain lifecycle with events, volume transfers
through streams both ways, a screenshot, keepalive."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from conftest import program, requires
from peers import Daemon

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "libvirt_daemon.py"
VIRSH = program("virsh")

pytestmark = requires(VIRSH, "needs virsh (apt-get install libvirt-clients)")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, bytes]]:
    """The example listening on a socket in a temp dir, serving a screenshot of its own."""
    home = tmp_path_factory.mktemp("libvirt-example")
    screenshot = os.urandom(300_000)  # any bytes: the daemon does not look at them
    (home / "shot.png").write_bytes(screenshot)
    sock = home / "demo.sock"
    process = Daemon("libvirt_daemon", [sys.executable, str(EXAMPLE), "--socket", str(sock), "--screenshot", str(home / "shot.png")], home)
    try:
        process.wait_until(lambda: "listening" in process.log(), "listening", timeout=60)
        yield sock, screenshot
    finally:
        process.stop()


def virsh(sock: Path, *args: str, keepalive: tuple[str, ...] = ()) -> str:
    assert VIRSH is not None
    done = subprocess.run([VIRSH, *keepalive, "-c", f"test+unix:///default?socket={sock}", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"virsh {' '.join(args)}: {done.stderr}"
    return done.stdout


def test_listing_and_describing_the_domain(daemon: tuple[Path, bytes]) -> None:
    sock, _ = daemon
    assert virsh(sock, "list", "--all").split() == ["Id", "Name", "State", "-" * 22, "1", "demo", "running"]
    info = dict(line.split(":", 1) for line in virsh(sock, "dominfo", "demo").strip().splitlines())
    assert {k: v.strip() for k, v in info.items()} == {
        "Id": "1", "Name": "demo", "UUID": "6a1e5b7c-0d1f-4c2e-9a3b-8d4e5f607182", "OS Type": "hvm", "State": "running",
        "CPU(s)": "1", "Max memory": "1048576 KiB", "Used memory": "1048576 KiB", "Persistent": "yes",
        "Autostart": "disable", "Managed save": "no",
    }  # fmt: skip
    assert virsh(sock, "domstate", "demo").strip() == "running"
    assert "<name>demo</name>" in virsh(sock, "dumpxml", "demo")


def test_lifecycle_commands_and_their_events(daemon: tuple[Path, bytes]) -> None:
    """`virsh event` (with keepalive every second) sees the stop and the start another virsh
    causes; the domain's state follows."""
    sock, _ = daemon
    assert VIRSH is not None
    watcher = subprocess.Popen(
        [VIRSH, "-k", "1", "-K", "2", "-c", f"test+unix:///default?socket={sock}", "event", "--domain", "demo", "--event", "lifecycle", "--loop", "--timeout", "6"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(1.5)  # connected and registered; then seconds of keepalive pings
        assert "destroyed" in virsh(sock, "destroy", "demo")
        assert virsh(sock, "domstate", "demo").strip() == "shut off"
        assert virsh(sock, "list", "--all").split()[-4:] == ["-", "demo", "shut", "off"]
        assert "started" in virsh(sock, "start", "demo")
        out, err = watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert out.splitlines()[:2] == ["event 'lifecycle' for domain 'demo': Stopped Destroyed", "event 'lifecycle' for domain 'demo': Started Booted"], err
    assert "event loop timed out" in out and "events received: 2" in out  # still connected after 6 s
    assert virsh(sock, "domstate", "demo").strip() == "running"


def test_volume_upload_and_download_through_streams(daemon: tuple[Path, bytes], tmp_path: Path) -> None:
    sock, _ = daemon
    data = os.urandom(6 * 1024 * 1024 + 123)
    (tmp_path / "up.img").write_bytes(data)
    virsh(sock, "vol-upload", "--pool", "demo-pool", "disk0", str(tmp_path / "up.img"))
    virsh(sock, "vol-download", "--pool", "demo-pool", "disk0", str(tmp_path / "down.img"), "--length", str(len(data)))
    assert hashlib.sha256((tmp_path / "down.img").read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    virsh(sock, "vol-download", "--pool", "demo-pool", "disk0", str(tmp_path / "whole.img"))
    whole = (tmp_path / "whole.img").read_bytes()
    assert len(whole) == 16 * 1024 * 1024 and whole.startswith(data) and not any(whole[len(data) :])


def test_sparse_volume_transfers_with_holes(daemon: tuple[Path, bytes], tmp_path: Path) -> None:
    """`vol-upload --sparse` sends the file's holes as VIR_NET_STREAM_HOLE frames (the server
    zeroes them: the noise uploaded first is gone), `vol-download --sparse` gets them back as
    holes (virsh writes a sparse file)."""
    sock, _ = daemon
    (tmp_path / "noise.img").write_bytes(os.urandom(16 * 1024 * 1024))
    virsh(sock, "vol-upload", "--pool", "demo-pool", "disk0", str(tmp_path / "noise.img"))
    sparse = tmp_path / "sparse.img"
    with open(sparse, "wb") as file:
        file.truncate(8 * 1024 * 1024)
        file.write(b"HEAD")
        file.seek(5_000_000)
        file.write(os.urandom(100_000))
    virsh(sock, "vol-upload", "--sparse", "--pool", "demo-pool", "disk0", str(sparse), "--length", str(8 * 1024 * 1024))
    virsh(sock, "vol-download", "--pool", "demo-pool", "disk0", str(tmp_path / "dense.img"), "--length", str(8 * 1024 * 1024))
    assert (tmp_path / "dense.img").read_bytes() == sparse.read_bytes()
    virsh(sock, "vol-download", "--sparse", "--pool", "demo-pool", "disk0", str(tmp_path / "holes.img"), "--length", str(8 * 1024 * 1024))
    assert (tmp_path / "holes.img").read_bytes() == sparse.read_bytes()
    assert os.stat(tmp_path / "holes.img").st_blocks * 512 < 2 * 1024 * 1024  # the holes stayed holes
    assert os.stat(tmp_path / "dense.img").st_blocks * 512 >= 8 * 1024 * 1024


def test_screenshot_through_a_stream(daemon: tuple[Path, bytes], tmp_path: Path) -> None:
    sock, screenshot = daemon
    assert "with type of image/png" in virsh(sock, "screenshot", "demo", str(tmp_path / "shot.png"))
    assert (tmp_path / "shot.png").read_bytes() == screenshot


def test_console_carries_bytes_both_ways(daemon: tuple[Path, bytes]) -> None:
    """DOMAIN_OPEN_CONSOLE between the typed client and the example's typed server: the
    console's prompt comes down the stream, keystrokes go up it and are echoed back."""
    import asyncio
    import importlib.util

    spec = importlib.util.spec_from_file_location("libvirt_daemon_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)  # generates remote_protocol.x's classes for this process
    remote = example.r
    sock, _ = daemon

    async def scenario() -> None:
        async with await remote.REMOTE_Client.connect_unix(str(sock)) as client:
            await client.connect_open("test:///default", 0)
            domain = (await client.domain_lookup_by_name("demo")).dom
            result, console = await client.domain_open_console(domain, None, 0)
            assert result is None and await console.__anext__() == b"demo login: "
            for keys in (b"root\n", b"\x04", bytes(range(256))):
                await console.send(keys)
                echoed = b""
                while len(echoed) < len(keys):
                    echoed += await console.__anext__()
                assert echoed == keys
            await console.finish()
            assert client.client.streams == {} and (await client.connect_get_hostname()).hostname == "demo-host"
            await client.connect_close()

    asyncio.run(asyncio.wait_for(scenario(), 60))
