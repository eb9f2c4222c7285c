"""Debian's rpc.rusersd as a peer, spoken to with codecs generated from the corpus's
rpcsvc/rusers.x (version 3): RUSERSPROC_NUM, RUSERSPROC_NAMES and RUSERSPROC_ALLNAMES.

The daemon runs as inetd runs it (its stdin a UDP socket on loopback; it answers one call and
exits), in a private mount namespace whose /var/run holds a utmp file this test wrote, so the
users it reports are known."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from peers import ProgramCalls, inetd_daemon, load_corpus_module, missing, require_binary, require_root

RUSERS_PROGRAM, RUSERS_V3 = 100002, 3
# glibc's struct utmp on Linux (x86-64, i386 and others with 32-bit ut_tv): 384 bytes
UTMP = struct.Struct("hi32s4s32s256shhiii4i20s")
USER_PROCESS, DEAD_PROCESS, LOGIN_PROCESS, BOOT_TIME = 7, 8, 6, 2


def utmp_entry(kind: int, user: str, line: str, host: str, when: int) -> bytes:
    return UTMP.pack(kind, 4242, line.encode(), b"x", user.encode(), host.encode(), 0, 0, 0, when, 0, 0, 0, 0, 0, b"")


@pytest.fixture(scope="module")
def rusers(generated_package: Any) -> tuple[ModuleType, Any]:
    return load_corpus_module(generated_package, "rpcsvc/rusers.x", "rpcsvc_rusers")  # type: ignore[no-any-return]


@pytest.fixture()
def logins(tmp_path: Path) -> tuple[Path, int]:
    """A /var/run stand-in with a utmp of two logged-in users and entries that are not logins."""
    require_root("a private mount namespace for rpc.rusersd's utmp")
    if shutil.which("unshare") is None:
        missing("unshare not installed (Debian package util-linux)")
    now = int(time.time())
    run = tmp_path / "run"
    run.mkdir()
    entries = [
        utmp_entry(BOOT_TIME, "reboot", "~", "", now - 9000),
        utmp_entry(USER_PROCESS, "xdrgen", "console", "peer.example", now - 3600),
        utmp_entry(DEAD_PROCESS, "gone", "tty", "", now - 100),
        utmp_entry(LOGIN_PROCESS, "LOGIN", "tty0", "", now),
        utmp_entry(USER_PROCESS, "alice", "tty", "", now - 60),
    ]
    (run / "utmp").write_bytes(b"".join(entries))
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind {run} /var/run"], capture_output=True, text=True)
    if probe.returncode != 0:
        missing(f"cannot bind-mount over /var/run in a mount namespace: {probe.stderr.strip()}")
    return run, now


def call_rusersd(rusers: tuple[ModuleType, Any], run: Path, workdir: Path, procedure: str) -> Any:
    """Start rpc.rusersd on a loopback socket with ``run`` as its /var/run, make one call,
    decode the result, and see the daemon exit."""
    module, _ = rusers
    binary = require_binary("rpc.rusersd", "rusersd")
    argv = ["unshare", "-m", "sh", "-c", f'mount --bind "$0" /var/run && exec "$1"', str(run), binary]
    with inetd_daemon("rusersd", argv, workdir) as (daemon, port):
        with module.RUSERSVERS_3_Client("127.0.0.1", port, udp=True, timeout=20.0) as calls:  # the generated typed client
            try:
                result = getattr(calls, procedure)()
            except Exception:
                pytest.fail(f"{procedure} failed\n{daemon.describe()}")
        try:
            daemon.process.wait(20)  # in inetd mode it answers one call and exits
        except subprocess.TimeoutExpired:
            pytest.fail(f"rpc.rusersd did not exit after its call\n{daemon.describe()}")
        assert daemon.process.returncode == 0, daemon.describe()
    return result


def test_num_counts_the_logged_in_users(rusers: tuple[ModuleType, Any], logins: tuple[Path, int], tmp_path: Path) -> None:
    run, _ = logins
    assert call_rusersd(rusers, run, tmp_path, "rusersproc_num") == 2


@pytest.mark.parametrize("procedure", ["rusersproc_names", "rusersproc_allnames"])
def test_names_are_the_utmp_logins(rusers: tuple[ModuleType, Any], logins: tuple[Path, int], tmp_path: Path, procedure: str) -> None:
    module, _ = rusers
    run, now = logins
    names = call_rusersd(rusers, run, tmp_path, procedure)
    assert [(u.ut_user, u.ut_line, u.ut_host, u.ut_type, u.ut_time) for u in names] == [
        ("xdrgen", "console", "peer.example", USER_PROCESS, now - 3600),
        ("alice", "tty", "", USER_PROCESS, now - 60),
    ]
    assert all(isinstance(u, module.rusers_utmp) for u in names)
    for user in names:
        # idle minutes are the age of the terminal's last access, as the daemon saw it
        idle = (time.time() - os.stat(f"/dev/{user.ut_line}").st_atime) / 60
        assert idle - 2 <= user.ut_idle <= idle + 1, (user, idle)
