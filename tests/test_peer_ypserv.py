"""Debian's ypserv (NIS) as a peer, spoken to with codecs generated from the corpus's
rpcsvc/yp.x (YPPROG v2): DOMAIN, MATCH, FIRST/NEXT over a map, ALL, MASTER, ORDER and MAPLIST,
checked against the map's source text.

Started as ``ypserv -d DBDIR`` (debug: foreground, log to stderr) with maps built by
``makedbm`` in DBDIR/xdrgentest/; it registers with rpcbind, where the test finds it. It
reads the system's /etc/ypserv.conf and securenets (Debian's defaults let loopback read
these maps).

YPPROC_ALL answers with a stream: several ypresp_all values, the last one ``more = FALSE``,
in one reply record. Until the runtime has a streamed-reply API, ``read_all`` decodes them
with ``decode_from`` in a loop."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest
from peers import Daemon, Portmapper, ProgramCalls, load_corpus_module, registered_daemon, reply_states, require_binary, require_root, rpcbind, tirpc_reply_states  # noqa: F401

YP_PROGRAM, YP_VERSION = 100004, 2
DOMAIN, MAP, OTHER_MAP, MASTER = "xdrgentest", "hosts.byname", "services.byname", "peerhost.example"
ENTRIES = {f"host{n:02d}": f"10.0.{n // 8}.{n} host{n:02d} alias-{n}" for n in range(40)}
BIG_MAP = "big.byname"  # ~400 KB of entries: ALL sends it as a record of many fragments
BIG_ENTRIES = {f"key-{n:05d}": f"value {n} " + "x" * (n % 200) for n in range(4000)}


@pytest.fixture(scope="module")
def yp(generated_package: Any) -> tuple[ModuleType, Any]:
    return load_corpus_module(generated_package, "rpcsvc/yp.x", "rpcsvc_yp")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def ypserv(rpcbind: Portmapper) -> Iterator[tuple[Daemon, int]]:  # noqa: F811
    binary = require_binary("ypserv", "ypserv")
    makedbm = require_binary("makedbm", "ypserv")
    require_root("ypserv registers with rpcbind from a reserved port")

    def prepare(workdir: Path) -> None:
        (workdir / "db" / DOMAIN).mkdir(parents=True)
        for map_name, entries in [(MAP, ENTRIES), (OTHER_MAP, {"echo/tcp": "echo 7/tcp"}), (BIG_MAP, BIG_ENTRIES)]:
            source = workdir / f"{map_name}.txt"
            source.write_text("".join(f"{key}\t{value}\n" for key, value in entries.items()))
            subprocess.run([makedbm, "-m", MASTER, str(source), str(workdir / "db" / DOMAIN / map_name)], check=True, capture_output=True)

    argv = lambda workdir: [binary, "-d", str(workdir / "db")]  # noqa: E731
    with registered_daemon(rpcbind, "ypserv", argv, [(YP_PROGRAM, YP_VERSION), (YP_PROGRAM, 1)], prepare=prepare) as (daemon, ports):
        yield daemon, ports[YP_PROGRAM, YP_VERSION]


@pytest.fixture()
def calls(yp: tuple[ModuleType, Any], ypserv: tuple[Daemon, int]) -> Iterator[ProgramCalls]:
    module, rpc = yp
    _, port = ypserv
    client = rpc.BlockingOncClient("127.0.0.1", port, YP_PROGRAM, YP_VERSION, timeout=30.0)
    with ProgramCalls(client, module.YPPROG_PROGRAM.version(YP_VERSION), module) as calls:
        yield calls


def read_all(module: ModuleType, calls: ProgramCalls, request: Any) -> list[Any]:
    """The key/value results of YPPROC_ALL: ypresp_all values decoded one after another from
    the one reply until ``more`` is false, which must end the reply."""
    raw = calls.raw("YPPROC_ALL", request)
    codec = module.codec("ypresp_all")
    results, offset = [], 0
    while True:
        item, offset = codec.decode_from(raw, offset)
        if not item.more:
            break
        results.append(item.val)
    assert offset == len(raw), f"{len(raw) - offset} bytes after the last ypresp_all"
    # the runtime's streamed-reply reader gives the same ypresp_all values, the last one included
    streamed = calls.stream("YPPROC_ALL", request)
    assert [item.val for item in streamed[:-1]] == results and not streamed[-1].more
    runtime = sys.modules[type(calls.client).__module__]
    with pytest.raises(runtime.StreamedReply):  # the plain call refuses a streamed reply
        calls.ypproc_all(request)
    return results


def test_domain(yp: tuple[ModuleType, Any], calls: ProgramCalls) -> None:
    assert calls.ypproc_domain(DOMAIN) is True
    assert calls.ypproc_domain("not-served") is False


def test_match(yp: tuple[ModuleType, Any], calls: ProgramCalls) -> None:
    module, _ = yp
    for key in ["host00", "host17", "host39"]:
        reply = calls.ypproc_match(module.ypreq_key(DOMAIN, MAP, key.encode()))
        assert (reply.stat, reply.val) == (module.ypstat.YP_TRUE, ENTRIES[key].encode())
    missing_key = calls.ypproc_match(module.ypreq_key(DOMAIN, MAP, b"host99"))
    assert missing_key.stat == module.ypstat.YP_NOKEY
    no_map = calls.ypproc_match(module.ypreq_key(DOMAIN, "no.such.map", b"host00"))
    assert no_map.stat == module.ypstat.YP_NOMAP


def test_first_next_walks_the_whole_map(yp: tuple[ModuleType, Any], calls: ProgramCalls) -> None:
    module, _ = yp
    # rpcsvc/yp.x declares FIRST with a ypreq_key (Sun's has ypreq_nokey); ypserv reads the
    # domain and map and ignores the key that follows
    walked = []
    reply = calls.ypproc_first(module.ypreq_key(DOMAIN, MAP, b""))
    while reply.stat == module.ypstat.YP_TRUE:
        walked.append((reply.key.decode(), reply.val.decode()))
        assert len(walked) <= len(ENTRIES), "NEXT did not end"
        reply = calls.ypproc_next(module.ypreq_key(DOMAIN, MAP, reply.key))
    assert reply.stat == module.ypstat.YP_NOMORE
    # every entry once; makedbm's own YP_LAST_MODIFIED / YP_MASTER_NAME keys are not listed
    assert sorted(walked) == sorted(ENTRIES.items())

    streamed = read_all(module, calls, module.ypreq_nokey(DOMAIN, MAP))
    assert all(item.stat == module.ypstat.YP_TRUE for item in streamed)
    assert [(item.key.decode(), item.val.decode()) for item in streamed] == walked  # same order


def test_all_of_a_big_map(yp: tuple[ModuleType, Any], calls: ProgramCalls, ypserv: tuple[Daemon, int]) -> None:
    module, rpc = yp
    _, port = ypserv
    streamed = read_all(module, calls, module.ypreq_nokey(DOMAIN, BIG_MAP))
    assert {item.key.decode(): item.val.decode() for item in streamed} == BIG_ENTRIES
    assert len(streamed) == len(BIG_ENTRIES)

    # the reply came as a record of several fragments, which the client joined
    with socket.create_connection(("127.0.0.1", port), 30.0) as sock:
        request = module.encode("ypreq_nokey", module.ypreq_nokey(DOMAIN, BIG_MAP))
        sock.sendall(rpc.record(rpc.call_message(7, YP_PROGRAM, YP_VERSION, calls.version.procedure("YPPROC_ALL").number, request)))
        fragments = 0
        while True:
            (header,) = struct.unpack(">I", receive(sock, 4))
            receive(sock, header & 0x7FFFFFFF)
            fragments += 1
            if header & 0x80000000:
                break
    assert fragments > 1


def receive(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        assert chunk, "ypserv closed the connection inside a reply"
        data += chunk
    return data


def test_all_of_a_missing_map_is_one_final_result(yp: tuple[ModuleType, Any], calls: ProgramCalls) -> None:
    module, _ = yp
    raw = calls.raw("YPPROC_ALL", module.ypreq_nokey(DOMAIN, "no.such.map"))
    first, offset = module.codec("ypresp_all").decode_from(raw)
    # the stream starts with more = TRUE carrying the error status, then ends
    assert first.more and first.val.stat == module.ypstat.YP_NOMAP
    last, offset = module.codec("ypresp_all").decode_from(raw, offset)
    assert not last.more and offset == len(raw)


def test_master_order_maplist(yp: tuple[ModuleType, Any], calls: ProgramCalls, ypserv: tuple[Daemon, int]) -> None:
    module, _ = yp
    daemon, _ = ypserv
    master = calls.ypproc_master(module.ypreq_nokey(DOMAIN, MAP))
    assert (master.stat, master.peer) == (module.ypstat.YP_TRUE, MASTER)

    # ORDER is the map's YP_LAST_MODIFIED, which `makedbm -u` prints
    dump = subprocess.run([require_binary("makedbm", "ypserv"), "-u", str(daemon.workdir / "db" / DOMAIN / MAP)], capture_output=True, text=True, check=True).stdout
    stamps = dict(line.split("\t", 1) for line in dump.splitlines())
    order = calls.ypproc_order(module.ypreq_nokey(DOMAIN, MAP))
    assert (order.stat, order.ordernum) == (module.ypstat.YP_TRUE, int(stamps["YP_LAST_MODIFIED"]))

    maplist = calls.ypproc_maplist(DOMAIN)
    assert maplist.stat == module.ypstat.YP_TRUE
    names, node = [], maplist.maps
    while node is not None:
        names.append(node.map)
        node = node.next
    assert sorted(names) == sorted([MAP, OTHER_MAP, BIG_MAP])


def test_udp(yp: tuple[ModuleType, Any], ypserv: tuple[Daemon, int], rpcbind: Portmapper) -> None:  # noqa: F811
    module, rpc = yp
    daemon, _ = ypserv
    port = rpcbind.getport(YP_PROGRAM, YP_VERSION, 17)
    assert port, daemon.describe()
    client = rpc.BlockingOncClient("127.0.0.1", port, YP_PROGRAM, YP_VERSION, udp=True, timeout=30.0)
    with ProgramCalls(client, module.YPPROG_PROGRAM.version(YP_VERSION), module) as calls:
        assert calls.ypproc_domain(DOMAIN) is True
        reply = calls.ypproc_match(module.ypreq_key(DOMAIN, MAP, b"host05"))
        assert reply.val == ENTRIES["host05"].encode()


def test_reply_states(yp: tuple[ModuleType, Any], ypserv: tuple[Daemon, int]) -> None:
    module, rpc = yp
    daemon, port = ypserv
    states = reply_states(rpc, port, YP_PROGRAM, YP_VERSION, 1, module.encode("domainname", DOMAIN), rpc.Credentials.sys("localhost", 0, 0))
    assert states == tirpc_reply_states(1, 2)
    assert daemon.alive(), daemon.describe()


def test_the_typed_client_streams_all_and_refuses_it_as_a_plain_call(yp: tuple[ModuleType, Any], ypserv: tuple[Daemon, int], calls: ProgramCalls) -> None:
    """YPVERS_Client, generated from yp.x, found through rpcbind: ``stream`` reads YPPROC_ALL's
    results one by one; the plain method refuses the streamed reply (libtirpc's client would
    return the first entry)."""
    module, rpc = yp
    request = module.ypreq_nokey(DOMAIN, MAP)
    with module.YPVERS_Client("127.0.0.1") as client:  # no port: asked of rpcbind
        assert client.ypproc_domain(DOMAIN) is True
        streamed = list(client.stream("YPPROC_ALL", request))
        with pytest.raises(rpc.StreamedReply):
            client.ypproc_all(request)
    assert [item.val for item in streamed[:-1]] == read_all(module, calls, request) and not streamed[-1].more
