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
from conftest import CORPUS_MISSING, corpus_present, require

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
        with pytest.raises(rpc.RemoteError, match="unknown procedure: 9"):
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
        kinds = ("bad message", "closed mid-message", "ignored frame")
        while any(kind not in server.errors.counts for kind in kinds) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        # kinds only: the server keeps counts, never the failed clients' exceptions or bytes
        # (the fourth client's ERROR reply may meet a closed socket: "socket error"); a
        # MESSAGE from a client is dropped and the connection kept, as libvirtd does
        assert [server.errors.counts[kind] for kind in kinds] == [1, 1, 1]
        listener.close()

    run(scenario())


# ---- hardening (issue 18): faults that must not kill a connection ----------------------------


async def scripted_server(path: str, script: Any) -> asyncio.base_events.Server:
    """A peer that hands every connection to ``script(reader, writer)``."""
    return await asyncio.start_unix_server(script, path)


def reply_to(call: rpc.Header, payload: bytes = b"", program: int = PROGRAM) -> bytes:
    return rpc.frame(rpc.Header(program, VERSION, call.procedure, rpc.MessageType.REPLY, call.serial, rpc.Status.OK), payload)


@pytest.mark.parametrize("how", ["timed out", "cancelled"])
def test_a_late_reply_is_skipped_and_counted(tmp_path: Path, how: str) -> None:
    """The first call's reply comes 0.3 s late, after its caller gave up; the second call must
    still get its own reply (libtirpc skips late replies; we used to kill the connection)."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first, _ = await rpc.read_frame(reader)
        second, body = await rpc.read_frame(reader)
        await asyncio.sleep(0.3)
        writer.write(reply_to(first, INIT.encode(lxc.virLXCMonitorInitEventMsg(1))))
        writer.write(reply_to(second, body))
        await writer.drain()
        await rpc.read_frame(reader)

    async def scenario() -> None:
        path = str(tmp_path / "late.sock")
        listener = await scripted_server(path, script)
        client = await rpc.Client.connect_unix(path, PROGRAM, VERSION, procedures={1: (INIT, INIT)})
        if how == "timed out":
            with pytest.raises(rpc.CallTimeout):
                await client.call(1, lxc.virLXCMonitorInitEventMsg(5), timeout=0.1)
        else:
            task = asyncio.ensure_future(client.call(1, lxc.virLXCMonitorInitEventMsg(5)))
            await asyncio.sleep(0.1)
            task.cancel()
        result = await client.call(1, lxc.virLXCMonitorInitEventMsg(7))
        assert result.initpid == 7
        assert client.unknown_replies == 1 and not client.closed.done()
        await client.close()
        listener.close()

    run(scenario())


def test_an_event_callback_that_raises_does_not_stop_the_reader(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        event = rpc.Header(PROGRAM, VERSION, 2, rpc.MessageType.MESSAGE, 0, rpc.Status.OK)
        writer.write(rpc.frame(event, INIT.encode(lxc.virLXCMonitorInitEventMsg(1))))
        other = rpc.Header(0x12345678, 1, 1, rpc.MessageType.MESSAGE, 0, rpc.Status.OK)  # a program the client does not speak
        writer.write(rpc.frame(other, b""))
        writer.write(rpc.frame(event, INIT.encode(lxc.virLXCMonitorInitEventMsg(2))))
        call, body = await rpc.read_frame(reader)
        writer.write(reply_to(call, body))
        await writer.drain()
        writer.close()

    async def scenario() -> None:
        path = str(tmp_path / "events.sock")
        listener = await scripted_server(path, script)
        client = await rpc.Client.connect_unix(path, PROGRAM, VERSION, procedures={1: (INIT, INIT)}, events={2: INIT})
        seen: list[int] = []

        def callback(message: Any) -> None:
            seen.append(message.initpid)
            if message.initpid == 1:
                raise KeyError("a bug in the user's callback")

        client.on_event(2, callback)
        assert (await client.call(1, lxc.virLXCMonitorInitEventMsg(9))).initpid == 9
        assert await asyncio.wait_for(client.closed, 5) is None  # resolves: a clean close
        assert seen == [1, 2] and client.callback_errors == 1 and client.other_programs == 1
        await client.close()
        listener.close()

    with caplog.at_level("ERROR", logger="xdr_rpc"):
        run(scenario())
    assert "event callback for procedure 2 raised" in caplog.text


@pytest.fixture(scope="module")
def virnet(generated_package: Any) -> Any:
    """virnetprotocol.x, libvirt's own definition of the error a failed call is answered with."""
    from corpus_options import CORPUS, options_for

    require(corpus_present(), CORPUS_MISSING)

    from xdrgen.compiler import Options, compile_file

    defines, pre = options_for("libvirt/virnetprotocol.x")
    compiled = compile_file(CORPUS / "libvirt" / "virnetprotocol.x", Options(defines=defines, pre_includes=pre))
    return generated_package.load(compiled, "libvirt_virnet")


def test_a_failed_call_is_answered_with_a_virnetmessageerror(tmp_path: Path, virnet: Any) -> None:
    """Both a handler's RpcError and a bug (any other exception) come back as an ERROR reply
    whose body decodes with libvirt's virNetMessageError; a bug's text stays in the server."""

    async def buggy(connection: Any, message: Any) -> Any:
        raise ZeroDivisionError("secret detail")

    async def scenario() -> None:
        path = str(tmp_path / "err.sock")
        server = rpc.Server(PROGRAM, VERSION, handlers={1: (echo_pid, INIT, INIT), 2: (buggy, INIT, INIT)})
        await server.serve_unix(path)
        reader, writer = await asyncio.open_unix_connection(path)
        bodies = []
        for serial, (procedure, pid) in enumerate([(1, 0), (2, 1), (9, 1)], 1):
            writer.write(rpc.frame(rpc.Header(PROGRAM, VERSION, procedure, rpc.MessageType.CALL, serial, rpc.Status.OK), INIT.encode(lxc.virLXCMonitorInitEventMsg(pid))))
            header, body = await rpc.read_frame(reader)
            assert (header.type, header.serial, header.status) == (rpc.MessageType.REPLY, serial, rpc.Status.ERROR)
            bodies.append(virnet.decode("virNetMessageError", body))
        assert [(b.code, b.domain, b.level, b.message) for b in bodies] == [
            (39, 7, 2, "pid 0 is not a process"),  # VIR_ERR_RPC, VIR_FROM_RPC, VIR_ERR_ERROR
            (1, 7, 2, "internal error in procedure 2"),  # VIR_ERR_INTERNAL_ERROR
            (39, 7, 2, "unknown procedure: 9"),  # libvirtd's words
        ]
        writer.close()
        client = await rpc.Client.connect_unix(path, PROGRAM, VERSION, procedures={2: (INIT, INIT)})
        with pytest.raises(rpc.RemoteError, match="internal error in procedure 2") as raised:
            await client.call(2, lxc.virLXCMonitorInitEventMsg(3))
        assert isinstance(raised.value.error, rpc.MessageError) and raised.value.error.code == 1
        await client.close()
        await server.stop()
        assert server.errors.counts["handler error"] == 2

    run(scenario())


def test_message_error_round_trips_through_libvirts_codec(virnet: Any) -> None:
    full = rpc.MessageError(9, 10, "m", 1, ("dom", b"u" * 16, 4), "a", None, "c", -1, 2, ("net", b"n" * 16))
    decoded = virnet.decode("virNetMessageError", full.encode())
    assert (decoded.code, decoded.message, decoded.dom.name, decoded.dom.uuid, decoded.str2, decoded.int1, decoded.net.name) == (9, "m", "dom", b"u" * 16, None, -1, "net")
    assert rpc.MessageError.decode(virnet.encode("virNetMessageError", decoded)) == full


def test_a_received_error_raised_again_passes_through_unchanged(tmp_path: Path, virnet: Any) -> None:
    """A handler re-raising the RemoteError a libvirt client got (its error a value of
    virnetprotocol.x's virNetMessageError, every optional field set) answers with exactly
    that error's bytes; a MessageError built by hand likewise."""
    received = virnet.decode("virNetMessageError", rpc.MessageError(42, 10, "Domain not found", 2, ("d", b"u" * 16, 7), "a", "b", "c", -1, 5, ("n", b"v" * 16)).encode())
    built = rpc.MessageError(55, 20, "Requested operation is not valid", 2, None, "x", None, None, 3, 4)

    async def reraise(connection: Any, message: Any) -> Any:
        raise rpc.RemoteError(received if message.initpid == 1 else built)

    async def scenario() -> list[bytes]:
        path = str(tmp_path / "pass.sock")
        server = rpc.Server(PROGRAM, VERSION, handlers={1: (reraise, INIT, INIT)})
        await server.serve_unix(path)
        reader, writer = await asyncio.open_unix_connection(path)
        bodies = []
        for pid in (1, 2):
            writer.write(rpc.frame(rpc.Header(PROGRAM, VERSION, 1, rpc.MessageType.CALL, pid, rpc.Status.OK), INIT.encode(lxc.virLXCMonitorInitEventMsg(pid))))
            header, body = await rpc.read_frame(reader)
            assert header.status == rpc.Status.ERROR
            bodies.append(body)
        writer.close()
        await server.stop()
        return bodies

    assert run(scenario()) == [virnet.encode("virNetMessageError", received), built.encode()]


def test_a_burst_of_unix_connects_beyond_the_old_backlog(tmp_path: Path) -> None:
    async def scenario() -> None:
        server, path = serve(tmp_path)
        await server.serve_unix(path)

        async def one(n: int) -> int:
            client = await rpc.Client.connect_unix(path, PROGRAM, VERSION, procedures={1: (INIT, INIT)})
            try:
                return int((await client.call(1, lxc.virLXCMonitorInitEventMsg(n))).initpid)
            finally:
                await client.close()

        results = await asyncio.gather(*(one(n) for n in range(1, 401)), return_exceptions=True)
        assert results == list(range(2, 402)), [r for r in results if isinstance(r, BaseException)][:3]
        await server.stop()

    run(scenario())


def test_stop_answers_calls_already_received(tmp_path: Path) -> None:
    async def slow(connection: Any, message: Any) -> Any:
        await asyncio.sleep(0.3)
        return message

    async def scenario() -> None:
        path = str(tmp_path / "stop.sock")
        server = rpc.Server(PROGRAM, VERSION, handlers={1: (slow, INIT, INIT)})
        await server.serve_unix(path)
        client = await rpc.Client.connect_unix(path, PROGRAM, VERSION, procedures={1: (INIT, INIT)})
        calls = [asyncio.ensure_future(client.call(1, lxc.virLXCMonitorInitEventMsg(n))) for n in range(1, 4)]
        await asyncio.sleep(0.1)
        await server.stop()
        assert [r.initpid for r in await asyncio.gather(*calls)] == [1, 2, 3]
        assert await asyncio.wait_for(client.closed, 5) is None
        assert server.connection_count == 0

    run(scenario())


# ---- keepalive (virkeepaliveprotocol.x) -------------------------------------------------------

# libvirtd 9.0's PONG as it came off its socket (tests/test_rpc_libvirtd.py probes it live)
LIBVIRTD_PONG = bytes.fromhex("0000001c 6b656570 00000001 00000002 00000002 00000000 00000000")


def test_keepalive_schedule_is_libvirts() -> None:
    """Silent for an interval: PING; each further interval of silence: PING again; once
    ``count`` PINGs went unanswered: dead. Anything received starts over."""
    state = rpc.Keepalive(5.0, 2, now=100.0)
    assert state.check(103.0, 100.0) == (None, 2.0)
    assert state.check(105.0, 100.0) == ("ping", 5.0)
    assert state.check(110.0, 100.0) == ("ping", 5.0)
    assert state.check(115.0, 100.0) == ("dead", 0.0)
    assert state.why_dead() == "no answer to 2 keepalive pings in 15 s"
    state = rpc.Keepalive(5.0, 2, now=100.0)
    assert state.check(105.0, 100.0) == ("ping", 5.0)
    assert state.check(110.0, 106.0) == (None, 1.0)  # the peer spoke at 106: counting restarts
    assert (state.check(111.0, 106.0), state.unanswered) == (("ping", 5.0), 1)
    assert rpc.Keepalive(1.0, 0, now=0.0).check(1.0, 0.0) == ("dead", 0.0)  # count 0: no PING at all
    with pytest.raises(ValueError):
        rpc.Keepalive(0.0, 1, now=0.0)
    assert rpc.keepalive_frame(rpc.KEEPALIVE_PONG) == LIBVIRTD_PONG


def test_the_server_answers_pings_and_drops_a_client_that_does_not_answer_its_own(tmp_path: Path) -> None:
    async def scenario() -> None:
        path = str(tmp_path / "ka.sock")
        server = rpc.Server(PROGRAM, VERSION, handlers={1: (echo_pid, INIT, INIT)}, keepalive_interval=0.2, keepalive_count=2)
        server.on_connect = lambda connection: connection.start_keepalive()
        await server.serve_unix(path)
        reader, writer = await asyncio.open_unix_connection(path)
        ping = rpc.keepalive_frame(rpc.KEEPALIVE_PING)
        writer.write(ping)  # answered, whether or not the server pings us
        assert await reader.readexactly(28) == LIBVIRTD_PONG
        started = time.monotonic()
        received = b""
        while chunk := await reader.read(4096):  # never answered: two PINGs, then the end
            received += chunk
        assert received == ping * 2 and 0.5 < time.monotonic() - started < 5
        assert server.errors.counts["keepalive"] == 1
        # a client that answers stays: the runtime's client PONGs every PING
        client = await rpc.Client.connect_unix(path, PROGRAM, VERSION, procedures={1: (INIT, INIT)})
        await asyncio.sleep(1.0)
        assert client.pings_received >= 3 and not client.closed.done()
        assert (await client.call(1, lxc.virLXCMonitorInitEventMsg(1))).initpid == 2
        assert server.errors.counts["keepalive"] == 1 and "ignored frame" not in server.errors.counts
        await client.close()
        await server.stop()

    run(scenario())


def test_the_client_pings_a_silent_server_and_gives_up_on_one_that_never_answers(tmp_path: Path) -> None:
    async def answering(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            header, _ = await rpc.read_frame(reader)
            if header.program == rpc.KEEPALIVE_PROGRAM:
                writer.write(LIBVIRTD_PONG)

    async def deaf(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            pass

    async def scenario() -> None:
        listener = await scripted_server(str(tmp_path / "answering.sock"), answering)
        client = await rpc.Client.connect_unix(str(tmp_path / "answering.sock"), PROGRAM, VERSION)
        client.start_keepalive(0.1, 2)
        await asyncio.sleep(1.0)
        assert client.keepalive is not None and client.keepalive.pings_sent >= 5 and not client.closed.done()
        await client.close()
        listener.close()

        listener = await scripted_server(str(tmp_path / "deaf.sock"), deaf)
        client = await rpc.Client.connect_unix(str(tmp_path / "deaf.sock"), PROGRAM, VERSION, procedures={1: (INIT, INIT)})
        client.start_keepalive(0.1, 2)
        with pytest.raises(rpc.KeepaliveTimeout, match="no answer to 2 keepalive pings in 0.3 s"):
            await client.call(1, lxc.virLXCMonitorInitEventMsg(1))  # fails with the connection
        assert isinstance(await client.closed, rpc.KeepaliveTimeout)
        await client.close()
        listener.close()

    run(scenario())
