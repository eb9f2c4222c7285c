"""The ONC RPC server of xdr_rpc (OncServer) and the hardened ONC clients: accept and reject
states as libtirpc gives them, AUTH_SYS credentials reaching handlers, pipelining, fragments,
registration seen by Debian's rpcbind and rpcinfo, late replies, a stream misaligned by a
timeout, junk datagrams, results with bytes after them (rpc.rstatd) and streamed results
(ypserv's YPPROC_ALL)."""

from __future__ import annotations

import asyncio
import importlib
import socket
import struct
import subprocess
import threading
import time
from types import ModuleType
from typing import Any, Iterator

import pytest
from conftest import program, requires, requires_corpus
from corpus_options import CORPUS, options_for
from peers import rpcbind  # noqa: F401  (a fixture: the rpcbind on port 111, reused or started)

from generated import xdr_rpc as rpc
from xdrgen.compiler import Options, compile_file

PROGRAM = 0x20000123
SOURCE = """
struct pair { int a; int b; };
typedef string name<64>;
program TESTPROG {
    version TESTV1 {
        int ADD(pair) = 1;
        name GREET(name) = 2;
        void BOOM(void) = 3;
        int SUM(int, int) = 4;
        int SLOW(int) = 5;
    } = 1;
    version TESTV3 { int ADD(pair) = 1; } = 3;
} = 0x20000123;
"""


@pytest.fixture(scope="module")
def proto(generated_package: Any) -> ModuleType:
    return generated_package.load_source(SOURCE, "onc_server_test")  # type: ignore[no-any-return]


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def make_server(proto: ModuleType, **options: Any) -> rpc.OncServer:
    def add(context: rpc.CallContext, p: Any) -> int:
        return int(p.a + p.b)

    def greet(context: rpc.CallContext, who: str) -> str:
        assert rpc.current_call.get() is context
        uid = context.auth_sys.uid if context.auth_sys else None
        return f"hello {who} uid={uid} via {context.transport} from {context.address[0]}"

    def boom(context: rpc.CallContext) -> None:
        raise RuntimeError("secret detail")

    async def slow(context: rpc.CallContext, delay: int) -> int:
        await asyncio.sleep(delay / 1000)
        return delay

    server = rpc.OncServer(**options)
    table = proto.TESTPROG_PROGRAM
    server.add_table(table, 1, {"ADD": add, "GREET": greet, "BOOM": boom, "SUM": lambda c, x, y: x + y, "SLOW": slow})
    server.add_table(table, "TESTV3", {1: lambda c, p: 1000 + p.a + p.b})
    return server


class ServerThread:
    """An OncServer on its own event loop in a thread, for blocking clients and rpcinfo."""

    def __init__(self, factory: Any, **start: Any):
        self.loop = asyncio.new_event_loop()
        self.server: rpc.OncServer = factory()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(**start), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def served(proto: ModuleType) -> Iterator[ServerThread]:
    thread = ServerThread(lambda: make_server(proto))
    yield thread
    thread.stop()


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_results_and_accept_states(served: ServerThread, proto: ModuleType, udp: bool) -> None:
    ports = served.server.ports
    assert set(ports) == {"tcp", "udp"}
    port = ports["udp" if udp else "tcp"]
    client = rpc.BlockingOncClient("127.0.0.1", port, PROGRAM, 1, udp=udp, timeout=5, credentials=rpc.Credentials.sys("box", 1234, 5))
    v1 = proto.TESTPROG_PROGRAM.version(1)
    int_ = v1.procedure("ADD").result
    try:
        assert client.call(0) == b""  # procedure 0 answers although the .x declares none
        assert int_.decode(client.call(1, proto.pair(2, 40).to_xdr())) == 42
        greeting = client.call_decoded(2, v1.procedure("GREET").arguments[0].encode("ann"), v1.procedure("GREET").result)
        assert greeting == f"hello ann uid=1234 via {'udp' if udp else 'tcp'} from 127.0.0.1"
        assert client.call_decoded(4, int_.encode(2) + int_.encode(3), int_) == 5  # two arguments
        for procedure, arguments, state in [
            (99, b"", "PROC_UNAVAIL"),
            (1, proto.pair(1, 2).to_xdr() + b"\0\0\0\0", "GARBAGE_ARGS"),  # arguments are strict
            (1, b"\0\0\0\1", "GARBAGE_ARGS"),
            (3, b"", "SYSTEM_ERR"),
        ]:
            with pytest.raises(rpc.AcceptError, match=state):
                client.call(procedure, arguments)
        assert client.call(0) == b""  # the connection survived all of them
        assert client.reconnects == 0
    finally:
        client.close()
    with rpc.BlockingOncClient("127.0.0.1", port, PROGRAM, 2, udp=udp, timeout=5) as wrong_version:
        with pytest.raises(rpc.AcceptError, match="PROG_MISMATCH") as raised:
            wrong_version.call(0)
        assert (raised.value.low, raised.value.high) == (1, 3)
    with rpc.BlockingOncClient("127.0.0.1", port, PROGRAM + 1, 1, udp=udp, timeout=5) as wrong_program:
        with pytest.raises(rpc.AcceptError, match="PROG_UNAVAIL"):
            wrong_program.call(0)
    with rpc.BlockingOncClient("127.0.0.1", port, PROGRAM, 3, udp=udp, timeout=5) as v3:
        assert int_.decode(v3.call(1, proto.pair(2, 3).to_xdr())) == 1005  # same ports, another version
    assert served.server.errors.counts["handler error"] == 1


def raw_call(port: int, message: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(rpc.record(message))
        header = sock.recv(4, socket.MSG_WAITALL)
        return sock.recv(struct.unpack(">I", header)[0] & 0x7FFFFFFF, socket.MSG_WAITALL)


def test_rejections_as_libtirpc_gives_them(proto: ModuleType) -> None:
    thread = ServerThread(lambda: make_server(proto, auth_policy=lambda c: c.auth_sys is None or c.auth_sys.uid != 666))
    try:
        port = thread.server.ports["tcp"]
        bad_version = struct.pack(">IIIIII", 9, 0, 3, PROGRAM, 1, 0) + rpc.Credentials().encode() * 2
        assert raw_call(port, bad_version) == struct.pack(">IIIIII", 9, 1, 1, 0, 2, 2)  # RPC_MISMATCH 2..2
        long_name = struct.pack(">II", 0, 300) + b"x" * 300 + struct.pack(">III", 0, 0, 0)
        for credentials, auth_stat in [
            (rpc.Credentials(7, b"abcd"), rpc.AUTH_REJECTEDCRED),  # a flavour we do not know
            (rpc.Credentials(rpc.AUTH_SYS, b"\0\0\0\1"), rpc.AUTH_BADCRED),  # AUTH_SYS cut short
            (rpc.Credentials(rpc.AUTH_SYS, long_name), rpc.AUTH_BADCRED),  # machine name > 255
            (rpc.Credentials.sys("box", 666), rpc.AUTH_TOOWEAK),  # refused by the policy
        ]:
            with rpc.BlockingOncClient("127.0.0.1", port, PROGRAM, 1, credentials=credentials, timeout=5) as client:
                with pytest.raises(rpc.Rejected, match="AUTH_ERROR") as raised:
                    client.call(0)
                assert raised.value.auth_stat == auth_stat
        with rpc.BlockingOncClient("127.0.0.1", port, PROGRAM, 1, credentials=rpc.Credentials.sys("box", 1), timeout=5) as client:
            assert client.call(0) == b""
    finally:
        thread.stop()


def test_pipelined_calls_are_answered_as_they_finish(proto: ModuleType) -> None:
    async def scenario() -> None:
        server = make_server(proto)
        await server.start(udp=False)
        client = await rpc.OncClient.connect("127.0.0.1", server.ports["tcp"], PROGRAM, 1)
        int_ = proto.TESTPROG_PROGRAM.version(1).procedure("ADD").result
        finished: list[int] = []

        async def slow(ms: int) -> None:
            finished.append(int_.decode(await client.call(5, int_.encode(ms))))

        await asyncio.gather(slow(400), slow(10), *(client.call(0) for _ in range(50)))
        assert finished == [10, 400]
        # many clients at once
        others = [await rpc.OncClient.connect("127.0.0.1", server.ports["tcp"], PROGRAM, 1) for _ in range(50)]
        results = await asyncio.gather(*(c.call(1, proto.pair(n, 1).to_xdr()) for n, c in enumerate(others)))
        assert [int_.decode(r) for r in results] == [n + 1 for n in range(50)]
        for other in [client, *others]:
            await other.close()
        await server.stop()

    run(scenario())


def test_fragments_joined_and_bounded(proto: ModuleType) -> None:
    async def scenario() -> None:
        server = make_server(proto, limits=rpc.ServerLimits(max_fragments=100))
        await server.start(udp=False)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.ports["tcp"])
        message = rpc.call_message(1, PROGRAM, 1, 1, proto.pair(3, 4).to_xdr())
        writer.write(struct.pack(">I", 5) + message[:5] + struct.pack(">I", 0) + struct.pack(">I", len(message) - 5 | rpc.LAST_FRAGMENT) + message[5:])
        assert proto.TESTPROG_PROGRAM.version(1).procedure("ADD").result.decode(rpc.parse_reply(await rpc.read_record(reader))[1]) == 7
        writer.write(struct.pack(">I", 0) * 101)  # 101 empty fragments, none the last
        assert await asyncio.wait_for(reader.read(), 5) == b""  # dropped
        writer.close()
        assert server.errors.counts["bad message"] == 1
        await server.stop()

    run(scenario())


def test_stop_answers_calls_already_received(proto: ModuleType) -> None:
    async def scenario() -> None:
        server = make_server(proto)
        await server.start()
        client = await rpc.OncClient.connect("127.0.0.1", server.ports["tcp"], PROGRAM, 1)
        int_ = proto.TESTPROG_PROGRAM.version(1).procedure("ADD").result
        calls = [asyncio.ensure_future(client.call(5, int_.encode(300))) for _ in range(3)]
        await asyncio.sleep(0.1)
        await server.stop()
        assert [int_.decode(r) for r in await asyncio.gather(*calls)] == [300] * 3
        with pytest.raises(rpc.RpcError):
            await client.call(0, timeout=5)
        await client.close()
        with pytest.raises(rpc.ConnectFailed):
            await rpc.OncClient.connect("127.0.0.1", 1, PROGRAM, 1)

    run(scenario())


RPCINFO = program("rpcinfo")


def rpcinfo(*args: str) -> subprocess.CompletedProcess[str]:
    assert RPCINFO is not None
    return subprocess.run([RPCINFO, *args], capture_output=True, text=True, timeout=30)


@requires(RPCINFO, "needs rpcinfo (apt-get install rpcbind)")
def test_registered_with_rpcbind_seen_by_rpcinfo(rpcbind: None, proto: ModuleType) -> None:
    thread = ServerThread(lambda: make_server(proto), register=True)
    ports = thread.server.ports
    try:
        listed = rpcinfo("-p", "127.0.0.1").stdout
        for version in (1, 3):
            for transport in ("tcp", "udp"):
                row = [str(PROGRAM), str(version), transport, str(ports[transport])]
                assert any(line.split()[:4] == row for line in listed.splitlines()), listed
        for flag in ("-t", "-u"):
            result = rpcinfo(flag, "127.0.0.1", str(PROGRAM), "1")
            assert result.returncode == 0 and "ready and waiting" in result.stdout, result.stdout + result.stderr
        getaddr = rpcinfo("-T", "tcp", "127.0.0.1", str(PROGRAM), "3")  # rpcbind v3/v4 GETADDR
        assert getaddr.returncode == 0, getaddr.stderr
        assert rpc.lookup_port("127.0.0.1", PROGRAM, 1) == ports["tcp"]
        assert rpc.lookup_port("127.0.0.1", PROGRAM, 3, udp=True) == ports["udp"]
        assert run(rpc.lookup_port_async("127.0.0.1", PROGRAM, 3)) == ports["tcp"]
    finally:
        thread.stop()
    listed = rpcinfo("-p", "127.0.0.1").stdout
    assert not any(line.split()[:1] == [str(PROGRAM)] for line in listed.splitlines()), listed
    with pytest.raises(rpc.ConnectFailed, match="not registered"):
        rpc.lookup_port("127.0.0.1", PROGRAM, 1)


def test_lookup_falls_back_to_getaddr_where_portmap_v2_is_not_served() -> None:
    """A portmapper speaking only rpcbind v4 (played by an OncServer): GETPORT gets
    PROG_MISMATCH, GETADDR's universal address gives the port."""
    asked: list[bytes] = []

    def getaddr(context: rpc.CallContext, arguments: bytes) -> bytes:
        asked.append(arguments)
        address = b"127.0.0.1.156.64"  # port 156 * 256 + 64
        return struct.pack(">I", len(address)) + address

    async def scenario() -> None:
        portmapper = rpc.OncServer()
        portmapper.add(100000, 4, {3: (rpc.RAW, rpc.RAW, getaddr)})
        await portmapper.start()
        port = portmapper.ports["tcp"]
        assert await rpc.lookup_port_async("127.0.0.1", PROGRAM, 1, rpcbind_port=port) == 40000
        assert await asyncio.to_thread(rpc.lookup_port, "127.0.0.1", PROGRAM, 1, udp=True, rpcbind_port=port) == 40000
        await portmapper.stop()

    run(scenario())
    netids = [a[12:15] for a in asked]  # after prog, vers and the netid's length
    assert netids == [b"tcp", b"udp"]


# ---- the clients against peers that misbehave ------------------------------------------------


def test_a_late_reply_is_skipped_by_the_asyncio_client(proto: ModuleType) -> None:
    async def scenario() -> None:
        server = make_server(proto)
        await server.start(udp=False)
        client = await rpc.OncClient.connect("127.0.0.1", server.ports["tcp"], PROGRAM, 1)
        int_ = proto.TESTPROG_PROGRAM.version(1).procedure("ADD").result
        with pytest.raises(rpc.CallTimeout):
            await client.call(5, int_.encode(300), timeout=0.05)
        cancelled = asyncio.ensure_future(client.call(5, int_.encode(300)))
        await asyncio.sleep(0.05)
        cancelled.cancel()
        await asyncio.sleep(0.5)  # both late replies arrive now
        assert int_.decode(await client.call(1, proto.pair(1, 1).to_xdr())) == 2
        assert client.counters.unknown_replies == 2
        await client.close()
        await server.stop()

    run(scenario())


def fake_tcp_peer(script: Any) -> tuple[int, threading.Thread]:
    """A one-thread TCP peer that hands each accepted socket to ``script(n, sock)``."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        with listener:
            for n in range(2):
                sock, _ = listener.accept()
                with sock:
                    script(n, sock)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return port, thread


def read_call(sock: socket.socket) -> int:
    (word,) = struct.unpack(">I", sock.recv(4, socket.MSG_WAITALL))
    return int(struct.unpack_from(">I", sock.recv(word & 0x7FFFFFFF, socket.MSG_WAITALL))[0])


def reply(xid: int, results: bytes) -> bytes:
    return struct.pack(">IIIIII", xid, 1, 0, 0, 0, 0) + results


def test_a_timeout_mid_reply_does_not_misalign_the_blocking_client() -> None:
    def script(n: int, sock: socket.socket) -> None:
        xid = read_call(sock)
        whole = rpc.record(reply(xid, b"\0\0\0\1" * 10))
        if n == 0:
            sock.sendall(whole[:20])  # half a reply, then nothing until the client gives up
            time.sleep(1.0)
            return
        sock.sendall(whole)

    port, thread = fake_tcp_peer(script)
    client = rpc.BlockingOncClient("127.0.0.1", port, PROGRAM, 1, timeout=0.3)
    with pytest.raises(rpc.CallTimeout):
        client.call(1)
    client.timeout = 5
    assert client.call(1) == b"\0\0\0\1" * 10  # a fresh connection, not the rest of the old reply
    assert client.reconnects == 1
    client.close()
    thread.join(5)


def test_junk_datagrams_are_skipped() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def serve() -> None:
        data, address = sock.recvfrom(65536)
        xid = struct.unpack_from(">I", data)[0]
        sock.sendto(b"junk", address)
        sock.sendto(b"\0", address)
        sock.sendto(reply(xid - 1, b"late"), address)
        sock.sendto(struct.pack(">II", xid, 7), address)  # our xid, but no reply
        sock.sendto(reply(xid, b"\0\0\0\5"), address)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with rpc.BlockingOncClient("127.0.0.1", sock.getsockname()[1], PROGRAM, 1, udp=True, timeout=5) as client:
        assert client.call(1) == b"\0\0\0\5"
        assert (client.counters.junk_datagrams, client.counters.unknown_replies) == (3, 1)
    thread.join(5)
    sock.close()


def test_endless_empty_fragments_are_refused_by_the_clients() -> None:
    def script(n: int, sock: socket.socket) -> None:
        read_call(sock)
        try:
            sock.sendall(b"\0\0\0\0" * 20000)
            time.sleep(0.5)
        except OSError:
            pass

    port, thread = fake_tcp_peer(script)
    blocking = rpc.BlockingOncClient("127.0.0.1", port, PROGRAM, 1, timeout=5)
    began = time.monotonic()
    with pytest.raises(rpc.RpcError, match="more than 8192 fragments"):
        blocking.call(1)
    blocking.close()

    async def scenario() -> None:
        client = await rpc.OncClient.connect("127.0.0.1", port, PROGRAM, 1)
        with pytest.raises(rpc.RpcError, match="more than 8192 fragments"):
            await client.call(1)
        await client.close()

    run(scenario())
    assert time.monotonic() - began < 3
    thread.join(5)


# ---- results with more bytes than the result, and streamed results ---------------------------


def corpus_module(generated_package: Any, relative: str, name: str) -> ModuleType:
    defines, pre = options_for(relative)
    return generated_package.load(compile_file(CORPUS / relative, Options(defines=defines, pre_includes=pre)), name)  # type: ignore[no-any-return]


@requires_corpus
def test_rstatd_style_trailing_bytes_and_ypserv_style_streams(generated_package: Any) -> None:
    """rpc.rstatd answers RSTATPROC_STATS v3 with 4 bytes more than rstat.x's result (rup and
    rsysinfo accept it); ypserv answers YPPROC_ALL with several ypresp_all in one record. A
    server of ours plays both, the replies built from the corpus's own .x files."""
    rstat = corpus_module(generated_package, "rpcsvc/rstat.x", "rpcsvc_rstat")
    yp = corpus_module(generated_package, "rpcsvc/yp.x", "rpcsvc_yp")
    stats = rstat.RSTATPROG_PROGRAM.version(3).procedure("RSTATPROC_STATS")
    zero, size = stats.result.decode_from(bytes(4096))
    rstat_reply = stats.result.encode(zero) + b"\0\0\0\x2a"
    every = yp.YPPROG_PROGRAM.version(2).procedure("YPPROC_ALL")
    entries = [yp.ypresp_all(True, yp.ypresp_key_val(yp.ypstat.YP_TRUE, f"v{n}".encode(), f"k{n}".encode())) for n in range(3)]
    stream = b"".join(every.result.encode(e) for e in [*entries, yp.ypresp_all(False)])

    async def scenario() -> None:
        server = rpc.OncServer()
        server.add(100001, 3, {1: ((), rpc.RAW, lambda c: rstat_reply)})
        server.add(100004, 2, {8: (rpc.RAW, rpc.RAW, lambda c, a: stream)})
        await server.start(udp=False)
        port = server.ports["tcp"]
        client = await rpc.OncClient.connect("127.0.0.1", port, 100001, 3)
        assert await client.call_decoded(1, b"", stats.result) == zero
        assert (client.counters.trailing_replies, client.counters.trailing_bytes) == (1, 4)
        client.strict_results = True
        with pytest.raises(ValueError, match="4 bytes left"):
            await client.call_decoded(1, b"", stats.result)
        await client.close()
        ypclient = await rpc.OncClient.connect("127.0.0.1", port, 100004, 2)
        request = every.arguments[0].encode(yp.ypreq_nokey("dom", "hosts.byname"))
        with pytest.raises(rpc.StreamedReply, match="call_stream"):
            await ypclient.call_decoded(8, request, every.result)  # never just the first entry
        received = [value async for value in ypclient.call_stream(8, request, every.result)]
        assert received == [*entries, yp.ypresp_all(False)]
        await ypclient.close()
        await server.stop()

    run(scenario())
    assert size == len(rstat_reply) - 4


@requires_corpus
def test_a_typed_server_streams_several_results_over_a_unix_socket(generated_package: Any, tmp_path: Any) -> None:
    """ypserv's YPPROC_ALL from a typed server: the method returns ``Results`` (ypresp_all
    values until more = FALSE), with no raw bytes; served and called over a UNIX socket by
    both typed clients, the caller's transport being "unix"."""
    yp = corpus_module(generated_package, "rpcsvc/yp.x", "rpcsvc_yp")
    runtime = importlib.import_module(f"{generated_package.name}.xdr_rpc")
    entries = [yp.ypresp_all(True, yp.ypresp_key_val(yp.ypstat.YP_TRUE, f"v{n}".encode(), f"k{n}".encode())) for n in range(3)]
    everything = [*entries, yp.ypresp_all(False)]
    transports: list[str] = []

    class Yp(yp.YPVERS_Server):  # type: ignore[misc,name-defined]
        def ypproc_domain(self, domain: str) -> bool:
            transports.append(self.call.transport)
            return domain == "dom"

        def ypproc_all(self, request: Any) -> Any:
            assert request.map == "hosts.byname"
            return runtime.Results(iter(everything))

    path = str(tmp_path / "yp.sock")
    request = yp.ypreq_nokey("dom", "hosts.byname")

    async def scenario() -> None:
        server = Yp()
        await server.start(tcp=False, udp=False, unix=path)
        client = await yp.YPVERS_AsyncClient.connect(path, unix=True, timeout=10)
        assert await client.ypproc_domain("dom") is True
        assert [value async for value in client.stream("YPPROC_ALL", request)] == everything
        with pytest.raises(runtime.StreamedReply):
            await client.ypproc_all(request)
        await client.close()
        blocking = await asyncio.to_thread(yp.YPVERS_Client, path, unix=True, timeout=10)
        assert await asyncio.to_thread(lambda: list(blocking.stream("YPPROC_ALL", request))) == everything
        assert await asyncio.to_thread(blocking.ypproc_domain, "other") is False
        blocking.close()
        await server.stop()

    run(scenario())
    assert transports == ["unix", "unix"]


def test_udp_garbage_and_oversized_datagrams_are_dropped(proto: ModuleType) -> None:
    thread = ServerThread(lambda: make_server(proto, limits=rpc.ServerLimits(max_datagram=1024)))
    try:
        port = thread.server.ports["udp"]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("127.0.0.1", port))
            sock.settimeout(0.3)
            for datagram in (b"", b"\xff" * 3, b"\0\0\0\0\0\0\0\1" + b"\0" * 32, rpc.call_message(5, PROGRAM, 1, 2, b"\0" * 2000)):
                sock.send(datagram)
                with pytest.raises((TimeoutError, socket.timeout)):
                    sock.recv(65536)  # no answer: dropped (too short, not a call, too big)
        with rpc.BlockingOncClient("127.0.0.1", port, PROGRAM, 1, udp=True, timeout=5) as client:
            assert client.call(0) == b""
        assert thread.server.errors.counts["bad message"] == 4
    finally:
        thread.stop()


def sized_server(**limits: Any) -> rpc.OncServer:
    """Procedure 1 answers as many zero bytes as its 4-byte argument says."""
    server = rpc.OncServer(limits=rpc.ServerLimits(**limits))
    server.add(PROGRAM, 1, {1: (rpc.RAW, rpc.RAW, lambda context, data: bytes(int.from_bytes(data, "big")))})
    return server


def test_udp_replies_over_the_cap_are_answered_system_err() -> None:
    """A 44-byte call got a 65,424-byte reply (1,487x) and one too big for a datagram was
    dropped, the caller waiting for its timeout. Above max_udp_reply (libtirpc's 8,800
    bytes) the reply is SYSTEM_ERR, as rpcgen's servers send when it does not fit."""
    thread = ServerThread(sized_server)
    try:
        port = thread.server.ports["udp"]
        with rpc.BlockingOncClient("127.0.0.1", port, PROGRAM, 1, udp=True, timeout=5) as client:
            assert client.call(1, struct.pack(">I", 8800 - 24)) == bytes(8800 - 24)  # the largest that fits
            for size in (8800 - 23, 65424, 70000):
                began = time.monotonic()
                with pytest.raises(rpc.AcceptError) as error:
                    client.call(1, struct.pack(">I", size))
                assert error.value.state == rpc.SYSTEM_ERR
                assert time.monotonic() - began < 1
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # the amplification, measured
            call = rpc.call_message(9, PROGRAM, 1, 1, struct.pack(">I", 1 << 20))
            sock.sendto(call, ("127.0.0.1", port))
            sock.settimeout(5)
            assert len(sock.recv(65536)) / len(call) <= 8800 / 44
        assert thread.server.errors.counts["reply too big"] == 4
    finally:
        thread.stop()
    thread = ServerThread(lambda: sized_server(max_udp_reply=65507))
    try:
        with rpc.BlockingOncClient("127.0.0.1", thread.server.ports["udp"], PROGRAM, 1, udp=True, timeout=5) as client:
            assert client.call(1, struct.pack(">I", 60000)) == bytes(60000)
    finally:
        thread.stop()


def test_a_timeout_scope_inside_a_handler_times_the_handler() -> None:
    """A handler entering ``asyncio.timeout`` before its first wait: the scope belongs to the
    call's task, so it ends the handler (SYSTEM_ERR) and not the connection's read loop (as
    it would if the read loop ran calls up to their first wait)."""

    async def bounded(context: rpc.CallContext, data: bytes) -> bytes:
        async with asyncio.timeout(0.2):
            await asyncio.sleep(5)
        return data

    async def scenario() -> None:
        server = rpc.OncServer()
        server.add(PROGRAM, 1, {1: (rpc.RAW, rpc.RAW, bounded), 2: (rpc.RAW, rpc.RAW, lambda context, data: data)})
        await server.start(udp=False)
        client = await rpc.OncClient.connect("127.0.0.1", server.ports["tcp"], PROGRAM, 1)
        began = time.monotonic()
        with pytest.raises(rpc.AcceptError) as error:
            await client.call(1, b"x", timeout=5)
        assert error.value.state == rpc.SYSTEM_ERR and time.monotonic() - began < 1
        assert await client.call(2, b"still here", timeout=5) == b"still here"
        await client.close()
        await server.stop()

    run(scenario())


# ---- every wait of the clients is bounded by its timeout ----------------------------------------

SLACK = 0.5  # what "within T" allows beyond T on a loaded 2-core box


def test_replies_with_other_xids_do_not_hold_the_blocking_client_past_its_timeout() -> None:
    """The skip loop never looked at the deadline: with a 2 s timeout the call returned after
    32 s, when the server stopped sending replies to other xids."""

    def script(n: int, sock: socket.socket) -> None:
        xid = read_call(sock)
        began, k = time.monotonic(), 0
        try:
            while time.monotonic() - began < 5:  # 5 s of replies to somebody else, back to back
                k += 1
                sock.sendall(rpc.record(reply(xid + k, b"")))
        except OSError:
            pass

    port, thread = fake_tcp_peer(script)
    client = rpc.BlockingOncClient("127.0.0.1", port, PROGRAM, 1, timeout=1.0)
    began = time.monotonic()
    with pytest.raises(rpc.CallTimeout):
        client.call(1)
    assert time.monotonic() - began < 1.0 + SLACK
    assert client.counters.unknown_replies >= 5
    client.close()


def silent_listener() -> tuple[socket.socket, list[socket.socket]]:
    """A server that accepts connections and never reads: what they send piles up."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        try:
            while True:
                sock, _ = listener.accept()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                accepted.append(sock)
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    return listener, accepted


def full_backlog() -> tuple[socket.socket, list[socket.socket]]:
    """A listening socket whose backlog is full: a connect to it waits (its SYN is dropped)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers: list[socket.socket] = []
    for _ in range(8):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(listener.getsockname())
        fillers.append(sock)
    time.sleep(0.2)
    return listener, fillers


def test_a_server_that_stops_reading_does_not_hold_the_asyncio_client() -> None:
    """A 16 MiB call to a server that reads nothing blocked for more than 25 s, and close()
    hung: the send is bounded by the call's timeout, close() by its own."""
    listener, accepted = silent_listener()

    async def scenario() -> None:
        client = await rpc.OncClient.connect("127.0.0.1", listener.getsockname()[1], PROGRAM, 1, max_size=1 << 20)
        began = time.monotonic()
        with pytest.raises(rpc.CallTimeout):
            await client.call(1, bytes(16 << 20), timeout=1.0)
        assert time.monotonic() - began < 1.0 + SLACK
        began = time.monotonic()
        with pytest.raises(rpc.RpcError):  # the connection was given up: the call is not sent
            await client.call(1, b"", timeout=1.0)
        await client.close()
        assert time.monotonic() - began < 2.0 + SLACK

    try:
        asyncio.run(asyncio.wait_for(scenario(), 30))
    finally:
        listener.close()
        for sock in accepted:
            sock.close()


def test_connects_are_bounded_by_their_timeout() -> None:
    """Blocking and asyncio clients and both rpcbind lookups, against a peer whose backlog
    is full (the SYN goes unanswered): none had a connect timeout but the blocking client."""
    listener, fillers = full_backlog()
    port = listener.getsockname()[1]

    def within(seconds: float, call: Any) -> None:
        began = time.monotonic()
        with pytest.raises(rpc.ConnectFailed):
            call()
        assert time.monotonic() - began < seconds + SLACK

    try:
        within(1.0, lambda: rpc.BlockingOncClient("127.0.0.1", port, PROGRAM, 1, timeout=1.0))
        within(1.0, lambda: rpc.lookup_port("127.0.0.1", PROGRAM, 1, timeout=1.0, rpcbind_port=port))
        within(1.0, lambda: asyncio.run(rpc.OncClient.connect("127.0.0.1", port, PROGRAM, 1, timeout=1.0)))
        within(1.0, lambda: asyncio.run(rpc.lookup_port_async("127.0.0.1", PROGRAM, 1, timeout=1.0, rpcbind_port=port)))
    finally:
        listener.close()
        for sock in fillers:
            sock.close()
