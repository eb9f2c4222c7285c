"""Both servers of xdr_rpc (libvirt framing and ONC RPC) in a subprocess of their own, so a
test can measure what hostile clients cost them (RSS from /proc, with glibc's mmap threshold
fixed so its moving threshold can neither hide nor fake a leak), and the bytes a client sends
to either framing.

Run as a script: ``python rpc_servers.py FRAMING LIMITS_JSON`` prints ``PORT n`` once
listening and serves until SIGTERM. Procedure 1 echoes its argument bytes; procedure 2 raises
``ValueError``; procedure 3 sleeps 0.5 s, then echoes; procedure 4 answers 1 MiB of zeros
(a small call, a big reply: for clients that never read their replies).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generated import xdr_rpc as rpc  # noqa: E402

PROGRAM, VERSION = 0x20000077, 1
FRAMINGS = ["libvirt", "onc"]


# ---- the server process ----------------------------------------------------------------------


def _echo(context: Any, data: bytes = b"") -> bytes:
    return data


def _fail(context: Any, data: bytes = b"") -> bytes:
    raise ValueError("a bug in the handler")


async def _slow(context: Any, data: bytes = b"") -> bytes:
    await asyncio.sleep(0.5)
    return data


async def _big(context: Any, data: bytes = b"") -> bytes:
    return bytes(1 << 20)


async def _serve(framing: str, limits: rpc.ServerLimits) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    procedures = {1: _echo, 2: _fail, 3: _slow, 4: _big}
    server: rpc.Server | rpc.OncServer
    if framing == "libvirt":
        server = rpc.Server(PROGRAM, VERSION, handlers={n: (h, rpc.RAW, rpc.RAW) for n, h in procedures.items()}, limits=limits)
        listener = await server.serve_tcp("127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
    else:
        server = rpc.OncServer(limits=limits)
        server.add(PROGRAM, VERSION, {n: (rpc.RAW, rpc.RAW, h) for n, h in procedures.items()})
        await server.start(udp=False)
        port = server.ports["tcp"]
    print(f"PORT {port}", flush=True)
    await stop.wait()
    await server.stop()


def main() -> None:
    framing, options = sys.argv[1], json.loads(sys.argv[2])
    asyncio.run(_serve(framing, rpc.ServerLimits(**options)))


# ---- for the tests ---------------------------------------------------------------------------


@contextlib.contextmanager
def server_process(framing: str, *, nofile: int | None = None, stderr: Any = None, **limits: Any) -> Iterator[tuple[int, int]]:
    """(pid, port) of a server in a subprocess, stopped by PID afterwards; ``nofile`` sets its
    file descriptor limit, ``stderr`` where its log goes."""
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072", "PYTHONDONTWRITEBYTECODE": "1"}

    def limit_files() -> None:
        if nofile is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    process = subprocess.Popen(
        [sys.executable, __file__, framing, json.dumps(limits)], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, preexec_fn=limit_files
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("PORT "), f"server did not start: {line!r}"
        yield process.pid, int(line.split()[1])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss(pid: int, field: str = "VmRSS") -> int:
    """Resident set size of a process in bytes (``VmHWM``: its peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field}")


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def call_bytes(framing: str, serial: int, procedure: int = 1, payload: bytes = b"") -> bytes:
    """One call, framed for ``framing``."""
    if framing == "libvirt":
        return rpc.frame(rpc.Header(PROGRAM, VERSION, procedure, rpc.MessageType.CALL, serial, rpc.Status.OK), payload)
    return rpc.record(rpc.call_message(serial, PROGRAM, VERSION, procedure, payload))


def claim(framing: str, size: int, last: bool = True) -> bytes:
    """The first bytes of a message announcing ``size`` bytes (a frame's length word and
    header, or a fragment header)."""
    if framing == "libvirt":
        return struct.pack(">I", size + 4) + rpc.HEADER.pack(0, PROGRAM, VERSION, 1, 0, 1, 0)[4:]
    return struct.pack(">I", (rpc.LAST_FRAGMENT if last else 0) | size)


def read_reply(sock: socket.socket, framing: str) -> tuple[bool, bytes]:
    """(success, payload) of the next reply on ``sock``; raises ConnectionError when the
    server closed the connection instead."""

    def exactly(count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed by the server")
            data += chunk
        return data

    if framing == "libvirt":
        (length,) = struct.unpack(">I", exactly(4))
        rest = exactly(length - 4)
        status = struct.unpack_from(">i", rest, 20)[0]
        return status == 0, rest[24:]
    (word,) = struct.unpack(">I", exactly(4))
    message = exactly(word & 0x7FFFFFFF)
    try:
        return True, rpc.parse_reply(message)[1]
    except rpc.AcceptError as error:
        return False, str(error).encode()


def round_trip(port: int, framing: str, payload: bytes = b"ping", procedure: int = 1, timeout: float = 10) -> tuple[bool, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(call_bytes(framing, 7, procedure, payload))
        return read_reply(sock, framing)


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes ``sock`` within ``within`` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
        return True
    except (TimeoutError, socket.timeout):
        return False
    except ConnectionError:
        return True


def settle(pid: int, seconds: float = 0.5) -> int:
    time.sleep(seconds)
    return rss(pid)


if __name__ == "__main__":
    main()
