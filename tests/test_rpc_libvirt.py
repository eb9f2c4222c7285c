"""libvirt RPC framing (generated/xdr_rpc.py) carrying the LXC monitor conversation over real
UNIX sockets, between processes, and against bad peers."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

from generated import lxc_monitor_protocol as lxc  # noqa: E402
from generated import xdr_rpc as rpc  # noqa: E402

EXAMPLE = ROOT / "examples" / "lxc_monitor.py"


def start_controller(sock: Path, *args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, str(EXAMPLE), "controller", str(sock), *args], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline() == "listening\n"
    return process


@pytest.mark.parametrize("status", ["error", "shutdown", "reboot"])
def test_controller_and_driver_processes(tmp_path: Path, status: str) -> None:
    controller = start_controller(tmp_path / "lxc.sock", "--status", status)
    driver = subprocess.run([sys.executable, str(EXAMPLE), "driver", str(tmp_path / "lxc.sock")], capture_output=True, text=True, timeout=60)
    assert controller.wait(timeout=30) == 0
    assert driver.returncode == 0, driver.stderr
    report = json.loads(driver.stdout)
    assert report == {"init_pid": controller.pid, "exit_status": status, "clean_exit": True, "failure": None}


def test_driver_tells_a_crash_from_a_clean_exit(tmp_path: Path) -> None:
    controller = start_controller(tmp_path / "lxc.sock", "--crash")
    driver = subprocess.run([sys.executable, str(EXAMPLE), "driver", str(tmp_path / "lxc.sock")], capture_output=True, text=True, timeout=60)
    assert controller.wait(timeout=30) == 3
    report = json.loads(driver.stdout)
    assert report["init_pid"] == controller.pid
    assert report["exit_status"] is None and report["clean_exit"] is False


def test_exit_event_is_flushed_before_the_controller_exits(tmp_path: Path) -> None:
    """The driver reads nothing until the controller process is gone; both events must still
    be there, byte for byte (hand-assembled from virnetprotocol.x's header layout)."""
    controller = start_controller(tmp_path / "lxc.sock", "--status", "shutdown")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(tmp_path / "lxc.sock"))
        assert controller.wait(timeout=30) == 0
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    pid = controller.pid.to_bytes(8, "big").hex()
    init = "00000024 12341234 00000001 00000002 00000002 00000000 00000000" + pid  # len, prog, vers, proc=INIT, MESSAGE, serial 0, OK
    exit_ = "00000020 12341234 00000001 00000001 00000002 00000000 00000000 00000001"  # proc=EXIT, status SHUTDOWN
    assert received == bytes.fromhex(init + exit_)


# ---- calls, errors and bad peers, in one process -------------------------------------------

PROGRAM, VERSION = 0x20000077, 1
INIT = lxc.codec("virLXCMonitorInitEventMsg")


async def echo_pid(connection: Any, message: Any) -> Any:
    if message.initpid == 0:
        raise rpc.RpcError("pid 0 is not a process")
    return lxc.virLXCMonitorInitEventMsg(message.initpid + 1)


def serve(tmp_path: Path) -> tuple[rpc.Server, str]:
    return rpc.Server(PROGRAM, VERSION, handlers={1: (echo_pid, INIT, INIT)}), str(tmp_path / "rpc.sock")


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def test_calls_replies_and_error_replies(tmp_path: Path) -> None:
    async def scenario() -> None:
        server, path = serve(tmp_path)
        listener = await server.serve_unix(path)
        client = await rpc.Client.connect_unix(path, PROGRAM, VERSION, procedures={1: (INIT, INIT)})
        results = await asyncio.gather(*(client.call(1, lxc.virLXCMonitorInitEventMsg(n)) for n in range(1, 50)))
        assert [r.initpid for r in results] == list(range(2, 51))  # matched by serial
        with pytest.raises(rpc.RemoteError, match="pid 0 is not a process"):
            await client.call(1, lxc.virLXCMonitorInitEventMsg(0))
        with pytest.raises(rpc.RemoteError, match="unknown procedure 9"):
            await client.call(9)
        await client.close()
        listener.close()

    run(scenario())


async def fake_server(path: str, reply: bytes) -> asyncio.base_events.Server:
    """A peer that answers any first frame with ``reply`` and then closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await rpc.read_frame(reader)
        writer.write(reply)
        await writer.drain()
        writer.close()

    return await asyncio.start_unix_server(handle, path)


def header(kind: int, serial: int, payload: bytes = b"", length: int | None = None) -> bytes:
    body = rpc.HEADER.pack(0, PROGRAM, VERSION, 1, kind, serial, 0)[4:] + payload
    return (length if length is not None else len(body) + 4).to_bytes(4, "big") + body


@pytest.mark.parametrize(
    "reply, error, message",
    [
        (header(1, 1, length=0x7FFFFFFF), rpc.RpcError, "frame length 2147483647 outside"),
        (header(1, 1, b"\x00" * 8)[:-3], rpc.ConnectionClosed, "closed inside a frame"),
        (header(1, 1, b"\x00" * 12), lxc.XdrError, "4 bytes left after the value"),
        (b"", rpc.ConnectionClosed, "connection closed"),
    ],
)
def test_bad_servers_give_the_caller_a_clear_exception(tmp_path: Path, reply: bytes, error: type, message: str) -> None:
    async def scenario() -> None:
        path = str(tmp_path / "bad.sock")
        listener = await fake_server(path, reply)
        client = await rpc.Client.connect_unix(path, PROGRAM, VERSION, procedures={1: (INIT, INIT)})
        with pytest.raises(error, match=message):
            await client.call(1, lxc.virLXCMonitorInitEventMsg(5))
        await client.close()
        listener.close()

    run(scenario())


def test_server_survives_bad_clients(tmp_path: Path) -> None:
    async def scenario() -> None:
        server, path = serve(tmp_path)
        listener = await server.serve_unix(path)
        for garbage in (b"\xff\xff\xff\xff", header(0, 1, b"\x00\x00")[:-1], header(2, 0), header(0, 1, b"\x00\x01")):
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(garbage)
            await writer.drain()
            writer.close()
        client = await rpc.Client.connect_unix(path, PROGRAM, VERSION, procedures={1: (INIT, INIT)})
        assert (await client.call(1, lxc.virLXCMonitorInitEventMsg(41))).initpid == 42
        await client.close()
        deadline = time.monotonic() + 5
        while sum(server.errors.counts.values()) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        # kinds only: the server keeps counts, never the failed clients' exceptions or bytes
        # (the fourth client's ERROR reply may meet a closed socket: "socket error")
        assert server.errors.counts["bad message"] == 2 and server.errors.counts["closed mid-message"] == 1
        listener.close()

    run(scenario())
