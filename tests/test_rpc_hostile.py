"""Hostile clients against both servers of xdr_rpc (libvirt framing and ONC RPC), each in a
subprocess measured from outside: garbage, a 2 GiB header, half a message then silence,
silent connections, floods and bursts of connections, 16 MiB messages that go wrong, handlers
that raise. The server must keep serving, free what the bad client held, and never send a
traceback. Memory bounds are asserted on RSS with glibc's mmap threshold fixed.

Counts: 100 hostile 16 MiB clients, as in the issue; 40,000 short connections (the issue
says 100,000, which takes 25 s per server on a 2-core box; at the ~2.5 KB per connection the
issue measured, 40,000 would still exceed the 10 MB bound ten times over)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from rpc_servers import FRAMINGS, call_bytes, claim, closed_by_server, open_files, read_reply, round_trip, rss, server_process, settle

from generated import xdr_rpc as rpc

MIB = 1024 * 1024


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def garbage(framing: str) -> bytes:
    """A complete message of valid framing and nonsense content."""
    if framing == "libvirt":
        # a CALL_WITH_FDS without its descriptor count: libvirtd resets the connection (a frame
        # of an unknown type it reads and ignores, and so does the server now)
        return b"\x00\x00\x00\x1c" + b"\x12\x34\x56\x78" * 3 + b"\x00\x00\x00\x04" + b"\x12\x34\x56\x78" * 2
    return rpc.record(b"\x01\x02\x03\x04\x00\x00\x00\x07" + b"\xff" * 32)  # message type 7


@pytest.mark.parametrize("framing", FRAMINGS)
def test_garbage_and_a_2gib_header_drop_only_that_client(framing: str) -> None:
    with server_process(framing) as (pid, port):
        start = settle(pid, 0.2)
        for hostile in (garbage(framing), claim(framing, 0x7FFFFFF0), b"\xff" * 64):
            with connect(port) as sock:
                sock.sendall(hostile)
                began = time.monotonic()
                assert closed_by_server(sock, 5)
                assert time.monotonic() - began < 2  # at once: the header alone decides
        assert round_trip(port, framing) == (True, b"ping")
        assert rss(pid) - start < 2 * MIB  # nothing allocated for the 2 GiB the header claimed


@pytest.mark.parametrize("framing", FRAMINGS)
def test_half_a_message_then_silence_is_dropped_at_the_deadline(framing: str) -> None:
    with server_process(framing, message_deadline=1.0, idle_timeout=30) as (pid, port):
        with connect(port) as stalled, connect(port) as idle:
            stalled.sendall(claim(framing, 1000) + b"\0" * 100)
            began = time.monotonic()
            assert closed_by_server(stalled, 5)
            assert 0.8 < time.monotonic() - began < 4
            assert not closed_by_server(idle, 0.1)  # idle, not mid-message: still welcome
            idle.sendall(call_bytes(framing, 1, 1, b"ok"))
            assert read_reply(idle, framing) == (True, b"ok")


@pytest.mark.parametrize("framing", FRAMINGS)
def test_an_idle_connection_is_closed(framing: str) -> None:
    with server_process(framing, idle_timeout=1.0) as (pid, port):
        with connect(port) as sock:
            began = time.monotonic()
            assert closed_by_server(sock, 5)
            assert 0.8 < time.monotonic() - began < 4
        with connect(port) as busy:  # waiting for a slow reply is not idling
            busy.sendall(call_bytes(framing, 1, 3, b"slow"))
            assert read_reply(busy, framing) == (True, b"slow")


@pytest.mark.parametrize("framing", FRAMINGS)
def test_a_handler_that_raises_is_answered_and_the_connection_kept(framing: str) -> None:
    with server_process(framing) as (pid, port):
        with connect(port) as sock:
            sock.sendall(call_bytes(framing, 1, 2, b"x"))
            ok, payload = read_reply(sock, framing)
            assert not ok
            if framing == "libvirt":
                error = rpc.MessageError.decode(payload)
                assert (error.code, error.domain, error.message) == (rpc.VIR_ERR_INTERNAL_ERROR, rpc.VIR_FROM_RPC, "internal error in procedure 2")
            else:
                assert payload == b"SYSTEM_ERR"
            assert b"Traceback" not in payload and b"a bug in the handler" not in payload
            sock.sendall(call_bytes(framing, 2, 1, b"again"))
            assert read_reply(sock, framing) == (True, b"again")


@pytest.mark.parametrize("framing", FRAMINGS)
def test_a_flood_of_silent_connections_neither_locks_clients_out_nor_exhausts_files(framing: str) -> None:
    cap = 100
    with server_process(framing, max_connections=cap, idle_timeout=60) as (pid, port):
        silent = [connect(port) for _ in range(3 * cap)]
        try:
            time.sleep(0.3)
            assert open_files(pid) < cap + 30  # the cap holds: the longest idle are closed
            for _ in range(5):
                assert round_trip(port, framing) == (True, b"ping")
            evicted = sum(closed_by_server(s, 0.01) for s in silent)
            assert evicted >= 2 * cap
        finally:
            for sock in silent:
                sock.close()


@pytest.mark.parametrize("framing", FRAMINGS)
def test_a_burst_of_2000_clients_loses_no_call(framing: str) -> None:
    """Connect, call, close, 2,000 at once: above the cap of 1,024, main evicted the just
    accepted as idle before their calls were read (422 ONC / 584 libvirt calls lost)."""
    clients = 2000
    more_files(clients + 200)

    async def one(port: int, n: int) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(call_bytes(framing, n + 1, 1, n.to_bytes(4, "big")))
        await writer.drain()
        sock = writer.get_extra_info("socket")
        assert sock is not None
        if framing == "libvirt":
            length = int.from_bytes(await reader.readexactly(4), "big")
            data = (await reader.readexactly(length - 4))[24:]
        else:
            length = int.from_bytes(await reader.readexactly(4), "big") & 0x7FFFFFFF
            data = rpc.parse_reply(await reader.readexactly(length))[1]
        writer.close()
        return data

    async def burst(port: int) -> list[bytes | BaseException]:
        return await asyncio.gather(*(one(port, n) for n in range(clients)), return_exceptions=True)

    with server_process(framing) as (pid, port):
        results = asyncio.run(asyncio.wait_for(burst(port), 120))
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures[:3]
    assert results == [n.to_bytes(4, "big") for n in range(clients)]


def hostile_big_client(port: int, framing: str, kind: int) -> None:
    """16 MiB - 100 bytes of a 16 MiB message, then: close (0), or stall until dropped (1);
    or (2) a whole 16 MiB message that is no call."""
    size = 16 * MIB - 64
    with connect(port) as sock:
        try:
            if kind == 2:
                if framing == "libvirt":
                    sock.sendall(struct_frame_of_type(2, size))
                else:
                    sock.sendall(rpc.record(b"\0\0\0\1\0\0\0\1" + bytes(size - 8)))
            else:
                sock.sendall(claim(framing, size) + bytes(size - 100 - (24 if framing == "libvirt" else 0)))
            if kind != 0:
                closed_by_server(sock, 10)
        except ConnectionError:
            pass  # dropped before it finished sending: what a server should do


def struct_frame_of_type(kind: int, size: int) -> bytes:
    return rpc.HEADER.pack(size + 4, 0x20000077, 1, 1, kind, 0, 0) + bytes(size - 24)


@pytest.mark.parametrize("framing", FRAMINGS)
def test_hostile_16mib_clients_leave_no_memory_behind(framing: str) -> None:
    with server_process(framing, max_message=16 * MIB, message_deadline=1.0) as (pid, port):
        for n in range(20):
            round_trip(port, framing, bytes(1000))
        start = settle(pid)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: hostile_big_client(port, framing, n % 3), range(100)))
        assert round_trip(port, framing) == (True, b"ping")
        grown = settle(pid, 1.5) - start
        assert grown < 20 * MIB, f"RSS grew by {grown / MIB:.1f} MiB"


@pytest.mark.parametrize("framing", FRAMINGS)
def test_short_connections_are_forgotten(framing: str) -> None:
    def churn(count: int) -> None:
        for n in range(count):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                if n % 10 == 0:
                    sock.sendall(call_bytes(framing, n + 1, 1, b"hi"))
                    read_reply(sock, framing)

    with server_process(framing) as (pid, port):
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(churn, [500] * 4))  # warm-up
        start = settle(pid)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(churn, [10000] * 4))
        assert round_trip(port, framing) == (True, b"ping")
        grown = settle(pid) - start
        assert grown < 10 * MIB, f"RSS grew by {grown / MIB:.1f} MiB"


@pytest.mark.parametrize("framing", FRAMINGS)
def test_a_trickling_message_is_dropped_at_its_deadline(framing: str) -> None:
    """One byte (or, for ONC, one empty fragment) every 0.2 s: each read makes progress, but
    the deadline counts from the message's first bytes."""
    with server_process(framing, message_deadline=1.0) as (pid, port):
        with connect(port) as sock:
            began = time.monotonic()
            sock.sendall(claim(framing, 0, last=False) if framing == "onc" else claim(framing, 1000))
            try:
                while time.monotonic() - began < 5:
                    time.sleep(0.2)
                    sock.sendall(b"\0\0\0\0" if framing == "onc" else b"\0")
            except ConnectionError:
                pass
            assert closed_by_server(sock, 1)
            assert time.monotonic() - began < 2.5


@pytest.mark.parametrize("framing", FRAMINGS)
def test_many_big_messages_at_once_cost_at_most_the_buffer_limit(framing: str) -> None:
    """8 clients start 16 MiB messages at the same time and stall; with max_buffered at
    32 MiB the server's peak RSS stays near 32 MiB above its start (it would be 128 MiB)."""
    with server_process(framing, max_message=16 * MIB, max_buffered=32 * MIB, message_deadline=2.0) as (pid, port):
        round_trip(port, framing, bytes(1000))
        start = settle(pid, 0.2)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: hostile_big_client(port, framing, 1), range(8)))
        assert round_trip(port, framing) == (True, b"ping")
        peak = rss(pid, "VmHWM") - start
        assert peak < 48 * MIB, f"peak RSS {peak / MIB:.1f} MiB above the start"


@pytest.mark.parametrize("framing", FRAMINGS)
def test_at_the_cap_a_connection_with_a_call_in_progress_is_kept_and_a_newcomer_waits(framing: str) -> None:
    """Every slot holds a running call: nobody is evicted (all get their replies) and the
    newcomer, which main closed at once, is served once a slot is free."""
    cap = 10
    with server_process(framing, max_connections=cap, accept_grace=0.5) as (pid, port):
        busy = [connect(port) for _ in range(cap)]
        try:
            for sock in busy:
                sock.sendall(call_bytes(framing, 1, 3, b"slow"))
            time.sleep(0.2)
            began = time.monotonic()
            assert round_trip(port, framing, timeout=5) == (True, b"ping")
            assert time.monotonic() - began < 3
            assert [read_reply(sock, framing) for sock in busy] == [(True, b"slow")] * cap
        finally:
            for sock in busy:
                sock.close()


def more_files(count: int) -> None:
    """Raise this process's file limit to hold ``count`` sockets (within the hard limit)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < count:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count if hard == resource.RLIM_INFINITY else min(count, hard), hard))


@pytest.mark.parametrize("framing", FRAMINGS)
def test_connections_stalled_after_five_bytes_do_not_lock_newcomers_out(framing: str) -> None:
    """1,100 connections that each send 5 bytes (a header, or part of one) held every slot of
    the 1,024 for 30 s: 0 of 99 newcomers were served and a client connected before them was
    evicted. Stalled half-messages of one address beyond its share are closed first."""
    more_files(1400)
    with server_process(framing, accept_grace=1.0) as (pid, port):
        with connect(port) as earlier:
            earlier.sendall(call_bytes(framing, 1, 1, b"first"))
            assert read_reply(earlier, framing) == (True, b"first")
            stalled = []
            try:
                for _ in range(1100):
                    sock = connect(port)
                    sock.sendall(claim(framing, 1000)[:5])
                    stalled.append(sock)
                began = time.monotonic()
                served = sum(round_trip(port, framing, timeout=5) == (True, b"ping") for _ in range(99))
                assert served == 99
                assert time.monotonic() - began < 20
                earlier.sendall(call_bytes(framing, 2, 1, b"still here"))
                assert read_reply(earlier, framing) == (True, b"still here")
            finally:
                for sock in stalled:
                    sock.close()


@pytest.mark.parametrize("framing", FRAMINGS)
def test_silent_connections_beyond_the_file_limit_lock_nobody_out(framing: str, tmp_path: Path) -> None:
    """The issue's lockout: more silent connections than the process may open files. The cap
    follows the file limit, so accept() never fails and the log does not fill up."""
    log = tmp_path / "server.log"
    with open(log, "w") as stderr, server_process(framing, nofile=256, stderr=stderr) as (pid, port):
        silent = [connect(port) for _ in range(600)]
        try:
            time.sleep(0.3)
            for _ in range(5):
                assert round_trip(port, framing) == (True, b"ping")
            assert open_files(pid) <= 256
        finally:
            for sock in silent:
                sock.close()
    lines = log.read_text().splitlines()
    assert len(lines) < 10 and not any("accept" in line for line in lines), lines[:20]


def test_repeated_errors_are_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    errors = rpc.ErrorLog(logging.getLogger("xdr_rpc.test"), interval=0.2)
    with caplog.at_level(logging.WARNING, logger="xdr_rpc.test"):
        for n in range(1000):
            errors.report("bad message", f"client {n}: garbage")
        errors.report("idle", "client x: idle")
        time.sleep(0.25)
        errors.report("bad message", "client 1000: garbage")
    assert [r.getMessage() for r in caplog.records] == [
        "client 0: garbage",
        "client x: idle",
        "client 1000: garbage (999 more 'bad message' records held back)",
    ]
    assert errors.counts == {"bad message": 1001, "idle": 1}


@pytest.mark.parametrize("framing", FRAMINGS)
def test_headers_without_bodies_reserve_nothing(framing: str) -> None:
    """The cheapest lockout: headers announcing the largest message (64 ONC fragment headers
    of 4 bytes announcing 4 MiB, 16 libvirt headers of 28 bytes announcing 16 MiB) held the
    whole 256 MiB budget, so every other client's call waited for its 30 s deadline. The
    budget is charged as bytes arrive: a newcomer is answered at once."""
    count, size = (16, 16 * MIB - 28) if framing == "libvirt" else (64, 4 * MIB)
    with server_process(framing, max_message=16 * MIB if framing == "libvirt" else None) as (pid, port):
        stalled = [connect(port) for _ in range(count)]
        try:
            for sock in stalled:
                sock.sendall(claim(framing, size))
            time.sleep(0.3)
            began = time.monotonic()
            assert round_trip(port, framing, bytes(1000), timeout=5) == (True, bytes(1000))
            assert time.monotonic() - began < 2
        finally:
            for sock in stalled:
                sock.close()


def pipeline_without_reading(port: int, framing: str, calls: int) -> socket.socket:
    """A connection that sends ``calls`` calls of procedure 4 (1 MiB replies) and reads none."""
    sock = connect(port)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"".join(call_bytes(framing, n + 1, 4) for n in range(calls)))
    return sock


@pytest.mark.parametrize("framing", FRAMINGS)
def test_replies_never_read_count_against_the_buffer_limit(framing: str) -> None:
    """8 connections pipeline 100 calls each to a handler answering 1 MiB and never read:
    the replies held 537 MB whatever max_buffered said. Unsent replies are charged to the
    same budget, a connection over its share is not read, and is dropped at its deadline."""
    with server_process(framing, max_buffered=16 * MIB, message_deadline=2.0) as (pid, port):
        round_trip(port, framing, bytes(1000))
        start, files = settle(pid, 0.2), open_files(pid)
        hogs = [pipeline_without_reading(port, framing, 100) for _ in range(8)]
        try:
            time.sleep(1.0)
            assert round_trip(port, framing, timeout=5) == (True, b"ping")  # others are served meanwhile
            assert open_files(pid) >= files + len(hogs)
            time.sleep(3.0)
            assert open_files(pid) == files  # dropped at the deadline (the peer cannot tell: its window is shut)
            peak = rss(pid, "VmHWM") - start
            assert peak < 16 * MIB + 8 * 3 * MIB, f"peak RSS {peak / MIB:.1f} MiB above the start"
        finally:
            for sock in hogs:
                sock.close()
        assert round_trip(port, framing) == (True, b"ping")
