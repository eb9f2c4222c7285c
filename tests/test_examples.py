"""The examples leave nothing behind and use only public API: no temp folder (not even for
``--help``), no rpcbind entry after SIGTERM or SIGINT, no socket file after a clean run; and
their ``--help`` says what every argument does."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from peers import Daemon, rpcbind  # noqa: F401  (rpcbind: a fixture, the rpcbind on port 111, reused or started)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NFS3 = EXAMPLES / "nfs3_server.py"
LXC = EXAMPLES / "lxc_monitor.py"
NFS_PROGRAM, MOUNT_PROGRAM = 100003, 100005


def environment(tmp: Path) -> dict[str, str]:
    """The environment with an empty folder of its own for temp files, to see what is left."""
    (tmp / "tmp").mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp / "tmp"), "PYTHONPATH": ""}


@pytest.mark.parametrize("example", [NFS3, LXC], ids=["nfs3_server", "lxc_monitor"])
def test_help_is_complete_and_writes_nothing(example: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(example), "--help"], capture_output=True, text=True, env=environment(tmp_path), timeout=60)
    assert done.returncode == 0, done.stderr
    arguments = re.findall(r"^  (\S+)", done.stdout.split("positional arguments:", 1)[1], re.MULTILINE)
    assert arguments and all(not line.rstrip().endswith((",", "(")) for line in done.stdout.splitlines())
    for line in done.stdout.split("positional arguments:", 1)[1].splitlines():
        if re.match(r"^  \S", line):  # every argument has its help on its line or the next
            assert len(line.split(None, 1)) == 2 or line.strip().startswith("-h"), line
    assert list((tmp_path / "tmp").iterdir()) == []


def test_the_examples_use_only_public_api() -> None:
    for example in (NFS3, LXC):
        text = example.read_text()
        assert "from xdrgen" not in text and "import xdrgen" not in text and "tempfile" not in text, example.name


def _rpcinfo_programs() -> set[int]:
    from conftest import program

    rpcinfo = program("rpcinfo")
    assert rpcinfo is not None
    table = subprocess.run([rpcinfo, "-p", "127.0.0.1"], capture_output=True, text=True, timeout=30).stdout
    return {int(fields[0]) for fields in (line.split() for line in table.splitlines()[1:]) if fields and fields[0].isdigit()}


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_nfs3_server_unregisters_on_a_signal_and_leaves_no_temp_files(stop: int, tmp_path: Path, rpcbind: Any) -> None:  # noqa: F811
    served = tmp_path / "served"
    served.mkdir()
    (served / "a.txt").write_text("a\n")
    before = _rpcinfo_programs()
    assert not {NFS_PROGRAM, MOUNT_PROGRAM} & before, "another NFS server is registered here"
    daemon = Daemon("nfs3-example", [sys.executable, str(NFS3), str(served), "--register"], tmp_path)
    try:
        daemon.wait_until(lambda: "serving" in daemon.log_path.read_text(), "its banner", timeout=60)
        assert {NFS_PROGRAM, MOUNT_PROGRAM} <= _rpcinfo_programs()
        os.kill(daemon.pid, stop)
        assert daemon.process.wait(timeout=30) == 0, daemon.log_path.read_text()
    finally:
        daemon.stop()
    assert "stopped" in daemon.log_path.read_text()
    assert not {NFS_PROGRAM, MOUNT_PROGRAM} & _rpcinfo_programs()


def test_lxc_monitor_leaves_no_socket_file(tmp_path: Path) -> None:
    socket_path = tmp_path / "lxc.sock"
    env = environment(tmp_path)
    controller = subprocess.Popen([sys.executable, str(LXC), "controller", str(socket_path), "--status", "reboot"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert controller.stdout is not None and controller.stdout.readline().strip() == "listening"
        driver = subprocess.run([sys.executable, str(LXC), "driver", str(socket_path)], capture_output=True, text=True, env=env, timeout=60)
        assert json.loads(driver.stdout)["exit_status"] == "reboot" and json.loads(driver.stdout)["clean_exit"]
        assert controller.wait(timeout=30) == 0
    finally:
        controller.kill()
    assert not socket_path.exists()
    waiting = subprocess.Popen([sys.executable, str(LXC), "controller", str(socket_path)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert waiting.stdout is not None and waiting.stdout.readline().strip() == "listening"
        waiting.send_signal(signal.SIGTERM)  # stopped while waiting for the driver
        assert waiting.wait(timeout=30) == 0
    finally:
        waiting.kill()
    assert not socket_path.exists() and list((tmp_path / "tmp").iterdir()) == []
