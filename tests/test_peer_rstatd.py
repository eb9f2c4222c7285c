"""Debian's rpc.rstatd as a peer, spoken to with codecs generated from the corpus's
rpcsvc/rstat.x: RSTATPROC_STATS and RSTATPROC_HAVEDISK of versions 1-3, checked against
/proc read before and after the call.

The daemon runs as inetd runs it: its stdin a UDP socket on loopback; it registers nothing
and exits on its own about a second after its last call, so each call gets a fresh daemon.

Its STATS replies are 108 bytes in every version, more than rstat.x's result of that version
(72, 96, 104 bytes): C clients (rup, rsysinfo) read the result and ignore the rest, as
libtirpc does. The test decodes the result with ``decode_from`` and asserts the leftover
count; a strict decode refuses the reply."""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any, NamedTuple

import pytest
from peers import ProgramCalls, inetd_daemon, load_corpus_module, require_binary

RSTAT_PROGRAM = 100001
REPLY_SIZE = 108  # what Debian's rpc.rstatd sends for STATS, whatever the version
RESULT = {1: ("stats", 72), 2: ("statsswtch", 96), 3: ("statstime", 104)}
FSCALE = 256  # avenrun is the load average scaled by this


class Proc(NamedTuple):
    """The kernel counters rstatd reports, read from /proc."""

    cpu: tuple[int, int, int, int]  # user, nice, system, idle ticks
    intr: int
    ctxt: int
    pgpgin: int
    pgpgout: int
    btime: int
    load: tuple[float, float, float]
    now: float


def read_proc() -> Proc:
    stat = {line.split()[0]: line.split()[1:] for line in open("/proc/stat")}
    vmstat = dict(line.split() for line in open("/proc/vmstat"))
    load = open("/proc/loadavg").read().split()[:3]
    cpu = tuple(int(x) for x in stat["cpu"][:4])
    return Proc(cpu, int(stat["intr"][0]), int(stat["ctxt"][0]), int(vmstat["pgpgin"]), int(vmstat["pgpgout"]), int(stat["btime"][0]), (float(load[0]), float(load[1]), float(load[2])), time.time())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def rstat(generated_package: Any) -> tuple[ModuleType, Any]:
    return load_corpus_module(generated_package, "rpcsvc/rstat.x", "rpcsvc_rstat")  # type: ignore[no-any-return]


def call_rstatd(rstat: tuple[ModuleType, Any], tmp_path: Any, version: int, procedure: str, *, decoded: bool = False) -> Any:
    """The raw results of one call to a fresh rpc.rstatd on a loopback socket; ``decoded``:
    the result as the runtime decodes it, and the client's counters."""
    module, rpc = rstat
    binary = require_binary("rpc.rstatd", "rstatd")
    with inetd_daemon("rstatd", [binary], tmp_path) as (daemon, port):
        client = rpc.BlockingOncClient("127.0.0.1", port, RSTAT_PROGRAM, version, udp=True, timeout=20.0)
        with ProgramCalls(client, module.RSTATPROG_PROGRAM.version(version), module) as calls:
            try:
                if decoded:
                    return getattr(calls, procedure.lower())(), client.counters
                return calls.raw(procedure)
            except Exception:
                pytest.fail(f"{procedure} v{version} failed\n{daemon.describe()}")


VERSION_NAMES = {1: "RSTATVERS_ORIG", 2: "RSTATVERS_SWTCH", 3: "RSTATVERS_TIME"}


def typed_stats(rstat: tuple[ModuleType, Any], tmp_path: Any, version: int) -> tuple[Any, Any]:
    """RSTATPROC_STATS through ``<VERSION>_Client`` (UDP), and the client's counters."""
    module, _ = rstat
    binary = require_binary("rpc.rstatd", "rstatd")
    (tmp_path / "typed").mkdir(exist_ok=True)
    with inetd_daemon("rstatd", [binary], tmp_path / "typed") as (daemon, port):
        with getattr(module, f"{VERSION_NAMES[version]}_Client")("127.0.0.1", port, udp=True, timeout=20.0) as client:
            try:
                return client.rstatproc_stats(), client.counters
            except Exception:
                pytest.fail(f"typed RSTATPROC_STATS v{version} failed\n{daemon.describe()}")


def between(low: float, value: float, high: float) -> bool:
    return low <= value <= high


@pytest.mark.parametrize("version", [1, 2, 3])
def test_stats_match_proc_and_carry_extra_bytes(rstat: tuple[ModuleType, Any], tmp_path: Any, version: int) -> None:
    module, _ = rstat
    type_name, result_size = RESULT[version]
    before = read_proc()
    raw = call_rstatd(rstat, tmp_path, version, "RSTATPROC_STATS")
    after = read_proc()

    # the fact: the reply holds more than the result rstat.x declares
    assert len(raw) == REPLY_SIZE
    stats, end = module.codec(type_name).decode_from(raw)
    assert end == result_size and len(raw) - end == REPLY_SIZE - result_size
    assert isinstance(stats, getattr(module, type_name))
    with pytest.raises(module.XdrError, match=f"{REPLY_SIZE - result_size} bytes left"):
        module.RSTATPROG_PROGRAM.version(version).procedure("RSTATPROC_STATS").result.decode(raw)
    # the client takes the result and skips the rest, as rup and rsysinfo do, and counts it
    through_client, counters = call_rstatd(rstat, tmp_path, version, "RSTATPROC_STATS", decoded=True)
    assert isinstance(through_client, getattr(module, type_name))
    assert (counters.trailing_replies, counters.trailing_bytes) == (1, REPLY_SIZE - result_size)
    # and so does the typed client generated from rstat.x
    typed, counters = typed_stats(rstat, tmp_path, version)
    assert isinstance(typed, getattr(module, type_name))
    assert (counters.trailing_replies, counters.trailing_bytes) == (1, REPLY_SIZE - result_size)

    # the values are the kernel's, read while the daemon ran
    for index, name in enumerate(["user", "nice", "system", "idle"]):
        assert between(before.cpu[index], stats.cp_time[index], after.cpu[index]), (name, before.cpu, stats.cp_time, after.cpu)
    assert between(before.intr, stats.v_intr, after.intr)
    assert between(before.pgpgin, stats.v_pgpgin, after.pgpgin)
    assert between(before.pgpgout, stats.v_pgpgout, after.pgpgout)
    if version >= 2:
        assert between(before.ctxt, stats.v_swtch, after.ctxt)
        assert abs(stats.boottime.tv_sec - before.btime) <= 1  # rstatd works it out from uptime
        for index in range(3):
            low, high = sorted((before.load[index], after.load[index]))
            assert between(low * FSCALE - 2, stats.avenrun[index], high * FSCALE + 2), (index, before.load, stats.avenrun, after.load)
    if version == 3:
        assert between(int(before.now), stats.curtime.tv_sec, after.now)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_havedisk_is_an_unsigned_int(rstat: tuple[ModuleType, Any], tmp_path: Any, version: int) -> None:
    module, _ = rstat
    raw = call_rstatd(rstat, tmp_path, version, "RSTATPROC_HAVEDISK")
    assert len(raw) == 4  # HAVEDISK replies are exactly their result
    assert module.RSTATPROG_PROGRAM.version(version).procedure("RSTATPROC_HAVEDISK").result.decode(raw) in (0, 1)
