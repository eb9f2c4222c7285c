"""Debian's rpc.statd (nfs-common) as a peer, spoken to with codecs generated from the corpus's
rpcsvc/sm_inter.x: SM_STAT, SM_MON and SM_UNMON, checked against the state and monitor files
the daemon keeps in its own state directory.

Started as ``rpc.statd -F -d -L -P DIR`` (foreground, log to stderr, no reboot notification,
DIR holding sm/ and sm.bak/); it registers SM_PROG v1 with rpcbind, where the test finds it."""

from __future__ import annotations

import struct
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest
from peers import Daemon, Portmapper, ProgramCalls, load_corpus_module, registered_daemon, reply_states, require_binary, require_root, rpcbind, tirpc_reply_states  # noqa: F401

SM_PROGRAM, SM_VERSION = 100024, 1
NLM_PROGRAM, NLM_V4, NLM_SM_NOTIFY = 100021, 4, 16  # the callback lockd would register
PRIVATE = bytes(range(0x30, 0x40))  # 16 bytes statd stores for the caller and hands back


@pytest.fixture(scope="module")
def sm(generated_package: Any) -> tuple[ModuleType, Any]:
    return load_corpus_module(generated_package, "rpcsvc/sm_inter.x", "rpcsvc_sm_inter")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def statd(rpcbind: Portmapper) -> Iterator[tuple[Daemon, int]]:  # noqa: F811
    binary = require_binary("rpc.statd", "nfs-common")
    require_root("rpc.statd keeps its state as root")

    def prepare(workdir: Path) -> None:
        (workdir / "state").mkdir()
        (workdir / "state" / "sm").mkdir()
        (workdir / "state" / "sm.bak").mkdir()

    argv = lambda workdir: [binary, "-F", "-d", "-L", "-P", str(workdir / "state")]  # noqa: E731
    with registered_daemon(rpcbind, "statd", argv, [(SM_PROGRAM, SM_VERSION)], prepare=prepare) as (daemon, ports):
        yield daemon, ports[SM_PROGRAM, SM_VERSION]


def sm_calls(sm: tuple[ModuleType, Any], port: int, *, udp: bool = False) -> Any:
    """The generated typed client of SM_VERS (``SM_STAT`` is its method ``sm_stat_``)."""
    module, rpc = sm
    return module.SM_VERS_Client("127.0.0.1", port, udp=udp, credentials=rpc.Credentials.sys("localhost", 0, 0), timeout=30.0)


def local_state(daemon: Daemon) -> int:
    """The NSM state number statd wrote to DIR/state (a host-order int)."""
    (state,) = struct.unpack("=i", (daemon.workdir / "state" / "state").read_bytes())
    return int(state)


def monitored(daemon: Daemon) -> dict[str, str]:
    sm_dir = daemon.workdir / "state" / "sm"
    return {path.name: path.read_text() for path in sm_dir.iterdir()}


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_sm_stat_reports_the_local_state(sm: tuple[ModuleType, Any], statd: tuple[Daemon, int], rpcbind: Portmapper, udp: bool) -> None:  # noqa: F811
    module, _ = sm
    daemon, tcp_port = statd
    port = rpcbind.getport(SM_PROGRAM, SM_VERSION, 17) if udp else tcp_port
    assert port, daemon.describe()
    with sm_calls(sm, port, udp=udp) as calls:
        reply = calls.sm_stat_(module.sm_name("localhost"))
    assert isinstance(reply, module.sm_stat_res)
    assert reply.res_stat == module.res.stat_succ
    assert reply.state == local_state(daemon)
    assert reply.state % 2 == 1  # odd: the host is up (NSM)


def test_sm_mon_and_unmon_keep_the_monitor_file(sm: tuple[ModuleType, Any], statd: tuple[Daemon, int]) -> None:
    module, _ = sm
    daemon, port = statd
    callback = module.my_id("localhost", NLM_PROGRAM, NLM_V4, NLM_SM_NOTIFY)
    watched = module.mon_id("127.0.0.1", callback)
    with sm_calls(sm, port) as calls:
        reply = calls.sm_mon(module.mon(watched, PRIVATE))
        assert (reply.res_stat, reply.state) == (module.res.stat_succ, local_state(daemon)), daemon.log()
        files = monitored(daemon)
        # one record per monitored host: address, callback program/version/procedure, private
        # bytes, then the names (statd names the file after the canonical name)
        assert len(files) == 1, files
        record = next(iter(files.values())).split()
        assert record[1:5] == [f"{NLM_PROGRAM:08x}", f"{NLM_V4:08x}", f"{NLM_SM_NOTIFY:08x}", PRIVATE.hex()]
        assert "127.0.0.1" in record[5:]

        unmon = calls.sm_unmon(watched)
        assert isinstance(unmon, module.sm_stat) and unmon.state == local_state(daemon)
        assert monitored(daemon) == {}


def test_sm_mon_of_a_name_that_does_not_resolve_fails(sm: tuple[ModuleType, Any], statd: tuple[Daemon, int]) -> None:
    module, _ = sm
    daemon, port = statd
    watched = module.mon_id("no-such-host.invalid", module.my_id("localhost", NLM_PROGRAM, NLM_V4, NLM_SM_NOTIFY))
    with sm_calls(sm, port) as calls:
        reply = calls.sm_mon(module.mon(watched, PRIVATE))
    assert reply.res_stat == module.res.stat_fail
    assert reply.state == -1  # what statd sends with stat_fail
    assert monitored(daemon) == {}



def test_unmon_all(sm: tuple[ModuleType, Any], statd: tuple[Daemon, int]) -> None:
    module, _ = sm
    daemon, port = statd
    callback = module.my_id("localhost", NLM_PROGRAM, NLM_V4, NLM_SM_NOTIFY)
    with sm_calls(sm, port) as calls:
        assert calls.sm_mon(module.mon(module.mon_id("127.0.0.1", callback), PRIVATE)).res_stat == module.res.stat_succ
        assert monitored(daemon)
        assert calls.sm_unmon_all(callback).state == local_state(daemon)
        assert monitored(daemon) == {}
        # a void procedure: an empty result. (statd 2.6.2 takes SM_SIMU_CRASH only from a
        # reserved port and then changes nothing a client can see.)
        assert calls.sm_simu_crash() is None
    module, rpc = sm
    with rpc.BlockingOncClient("127.0.0.1", port, SM_PROGRAM, SM_VERSION, credentials=rpc.Credentials.sys("localhost", 0, 0), timeout=30.0) as raw:
        assert raw.call(module.SM_SIMU_CRASH) == b""


def test_reply_states(sm: tuple[ModuleType, Any], statd: tuple[Daemon, int]) -> None:
    module, rpc = sm
    daemon, port = statd
    states = reply_states(rpc, port, SM_PROGRAM, SM_VERSION, 1, module.encode("sm_name", module.sm_name("localhost")), rpc.Credentials.sys("localhost", 0, 0))
    assert states == tirpc_reply_states(1, 1)
    assert daemon.alive(), daemon.describe()
