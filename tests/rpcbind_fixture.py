"""The local rpcbind for tests: reuse the one listening on port 111, or start Debian's
``rpcbind -f -i`` and stop it (by PID) when done. rpcbind is a singleton (port 111), so every
test module that needs it goes through here: ``from rpcbind_fixture import rpcbind``."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from typing import Iterator

import pytest

RPCBIND = shutil.which("rpcbind") or "/usr/sbin/rpcbind"
RPCINFO = shutil.which("rpcinfo") or "/usr/sbin/rpcinfo"


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0


@contextlib.contextmanager
def running_rpcbind() -> Iterator[None]:
    """rpcbind listening on 127.0.0.1:111 for the duration; skips the test if there is none
    and it cannot be started."""
    if port_open(111):
        yield
        return
    if not os.path.exists(RPCBIND):
        pytest.skip("rpcbind is not installed (Debian package rpcbind)")
    # -i: insecure mode, so SET/UNSET from loopback TCP/UDP callers are honoured; no -w, which
    # would bring back stale registrations from /run/rpcbind
    started = subprocess.Popen([RPCBIND, "-f", "-i"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not port_open(111):
            if started.poll() is not None:
                pytest.skip(f"rpcbind did not start: {started.stderr.read().decode() if started.stderr else ''}")
            if time.monotonic() > deadline:
                pytest.skip("rpcbind did not start listening within 10 s")
            time.sleep(0.05)
        yield
    finally:
        if started.poll() is None:
            started.terminate()
            try:
                started.wait(10)
            except subprocess.TimeoutExpired:
                started.kill()
                started.wait()


@pytest.fixture(scope="module")
def rpcbind() -> Iterator[None]:
    with running_rpcbind():
        yield
