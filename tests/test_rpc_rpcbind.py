"""ONC RPC against a real peer: Debian's rpcbind, started on loopback, spoken to with a client
generated from the corpus's libnfs/portmap.x (portmapper version 2)."""

from __future__ import annotations

import asyncio
import os
import struct
import subprocess
from types import ModuleType
from typing import Any

import pytest
from conftest import program, require, requires, requires_corpus
from corpus_options import CORPUS
from peers import rpcbind  # noqa: F401  (a fixture: the rpcbind on port 111, reused or started)

from xdrgen.compiler import compile_file

RPCINFO = program("rpcinfo")
FAKE_PROGRAM, FAKE_VERSION, FAKE_PORT = 0x20000099, 3, 40404
TCP, UDP = 6, 17

pytestmark = [requires_corpus, requires(RPCINFO, "needs rpcinfo (apt-get install rpcbind)")]


@pytest.fixture(scope="module")
def pmap(generated_package) -> ModuleType:  # type: ignore[no-untyped-def]
    return generated_package.load(compile_file(CORPUS / "libnfs" / "portmap.x"), "libnfs_portmap")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def rpc(pmap: ModuleType) -> Any:
    import importlib

    return importlib.import_module(pmap.__name__.rsplit(".", 1)[0] + ".xdr_rpc")


def dump_entries(pmap: ModuleType, results: bytes) -> list[tuple[int, int, int, int]]:
    node = pmap.decode("PMAP2DUMPres", results).list_  # "list" is escaped: it names a builtin
    entries = []
    while node is not None:
        entries.append((node.map.prog, node.map.vers, node.map.prot, node.map.port))
        node = node.next
    return entries


def rpcinfo_entries() -> list[tuple[int, int, int, int]]:
    out = subprocess.run([RPCINFO, "-p", "127.0.0.1"], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines()[1:]:
        prog, vers, proto, port = line.split()[:4]
        rows.append((int(prog), int(vers), TCP if proto == "tcp" else UDP, int(port)))
    return rows


def test_null_getport_set_dump_unset(rpcbind: None, pmap: ModuleType, rpc: Any) -> None:
    program = pmap.PMAP_PROGRAM_PROGRAM
    client = rpc.BlockingOncClient("127.0.0.1", 111, program.number, 2, credentials=rpc.Credentials.sys("xdrgen-test", 0, 0))
    try:
        v2 = program.version(2)
        assert client.call(v2.procedure("PMAP2_NULL").number) == b""
        getport = v2.procedure("PMAP2_GETPORT")

        def port_of(prog: int, vers: int, prot: int) -> int:
            args = getport.arguments[0].encode(pmap.pmap2_mapping(prog, vers, prot, 0))
            return int(getport.result.decode(client.call(getport.number, args)))

        assert port_of(100000, 2, TCP) == 111
        assert port_of(FAKE_PROGRAM, FAKE_VERSION, TCP) == 0

        mapping = pmap.pmap2_mapping(FAKE_PROGRAM, FAKE_VERSION, TCP, FAKE_PORT)
        set_ = v2.procedure("PMAP2_SET")
        assert set_.result.decode(client.call(set_.number, set_.arguments[0].encode(mapping))) == 1
        assert port_of(FAKE_PROGRAM, FAKE_VERSION, TCP) == FAKE_PORT

        dumped = dump_entries(pmap, client.call(v2.procedure("PMAP2_DUMP").number))
        assert (FAKE_PROGRAM, FAKE_VERSION, TCP, FAKE_PORT) in dumped
        assert sorted(set(dumped)) == sorted(set(rpcinfo_entries()))  # what rpcinfo -p sees

        unset = v2.procedure("PMAP2_UNSET")
        assert unset.result.decode(client.call(unset.number, unset.arguments[0].encode(mapping))) == 1
        assert port_of(FAKE_PROGRAM, FAKE_VERSION, TCP) == 0
        assert (FAKE_PROGRAM, FAKE_VERSION, TCP, FAKE_PORT) not in rpcinfo_entries()
    finally:
        client.close()


def test_udp_and_asyncio_clients_and_error_states(rpcbind: None, pmap: ModuleType, rpc: Any) -> None:
    udp = rpc.BlockingOncClient("127.0.0.1", 111, 100000, 2, udp=True)
    args = pmap.encode("PMAP2GETPORTargs", pmap.pmap2_mapping(100000, 2, UDP, 0))
    getport = pmap.PMAP_PROGRAM_PROGRAM.version(2).procedure("PMAP2_GETPORT")
    assert getport.result.decode(udp.call(getport.number, args)) == 111
    udp.close()

    async def scenario() -> None:
        client = await rpc.OncClient.connect("127.0.0.1", 111, 100000, 2)
        replies = await asyncio.gather(*(client.call(0) for _ in range(20)), client.call(4))
        assert replies[:20] == [b""] * 20
        assert (100000, 2, TCP, 111) in dump_entries(pmap, replies[20])
        with pytest.raises(rpc.AcceptError, match="PROC_UNAVAIL"):
            await client.call(99)
        await client.close()
        wrong_version = await rpc.OncClient.connect("127.0.0.1", 111, 100000, 9)
        with pytest.raises(rpc.AcceptError, match="PROG_MISMATCH"):
            await wrong_version.call(0)
        await wrong_version.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def owners(program: int) -> list[str]:
    """The owner column of ``rpcinfo``'s (rpcbind v4 DUMP) rows of ``program``."""
    out = subprocess.run([RPCINFO], capture_output=True, text=True, check=True).stdout
    return [line.split()[-1] for line in out.splitlines()[1:] if line.split() and line.split()[0] == str(program)]


def test_registration_goes_through_the_local_socket_and_other_users_cannot_unset_it(rpcbind: None, rpc: Any) -> None:
    """libtirpc daemons register over rpcbind's local socket, which records their uid; ours
    registered over TCP, as owner "unknown", and anybody removed them with one UNSET."""
    require(os.path.exists(rpc.RPCBIND_SOCKET), f"needs rpcbind's local socket {rpc.RPCBIND_SOCKET}")
    require(os.geteuid() == 0, "needs root, to run rpcinfo as user nobody")
    program = FAKE_PROGRAM + 1

    async def scenario() -> None:
        server = rpc.OncServer()
        server.add(program, 1, {1: (rpc.RAW, rpc.RAW, lambda context, data: data)})
        await server.start(register=True)
        try:
            assert owners(program) == ["superuser", "superuser"]  # tcp and udp, owned by uid 0
            for version, procedure, arguments in (
                (2, 2, struct.pack(">IIII", program, 1, 0, 0)),  # PMAPPROC_UNSET
                (4, 2, struct.pack(">II", program, 1) + b"\0" * 12),  # RPCBPROC_UNSET, any netid
            ):
                with rpc.BlockingOncClient("127.0.0.1", 111, 100000, version, timeout=5) as stranger:
                    assert stranger.call(procedure, arguments) == b"\0\0\0\0"  # refused over TCP
            nobody = subprocess.run([RPCINFO, "-d", str(program), "1"], user="nobody", capture_output=True, text=True)
            assert nobody.returncode != 0, nobody.stdout  # refused over the local socket
            assert owners(program) == ["superuser", "superuser"]
        finally:
            await server.stop()
        assert owners(program) == []  # the owner may unset them

    asyncio.run(asyncio.wait_for(scenario(), 60))
