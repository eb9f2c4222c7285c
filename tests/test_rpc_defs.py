"""xdrgen/rpc_defs.x, the ONC RPC definitions shipped with xdrgen (RFC 5531's auth flavours,
``opaque_auth``, ``authsys_parms``, the ``rpc_msg`` types, libtirpc's ``netobj``).

It compiles alone with no warnings into a ``mypy --strict`` clean module and ships in the
wheel. Its codec and xdr_rpc's hand-written call/reply code agree byte for byte on each
message of ``CALLS`` and ``REPLIES``, both ways: the generated codec decodes xdr_rpc's bytes
(``call_message``, and the replies ``OncServer`` writes) to the expected values, and
xdr_rpc parses the codec's bytes (``OncServer`` serves its calls, ``parse_reply`` reads its
replies). The authority is libtirpc: ``xdr_callmsg``/``xdr_replymsg`` (and
``xdr_authunix_parms`` for the credential body) build the same messages from the same
parameters, and decode the codec's bytes to the same fields.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.resources
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest
from conftest import LIBTIRPC_FLAGS, GeneratedPackage, module_available, program, require, requires, requires_corpus
from paths import CORPUS

from xdrgen import model as M
from xdrgen.compiler import compile_file, compile_set
from xdrgen.diagnostics import XdrgenError
from xdrgen.options import Options

ROOT = Path(__file__).resolve().parents[1]
RPC_DEFS = ROOT / "xdrgen" / "rpc_defs.x"

# the program the test server serves: versions 2..4, so a call for version 7 is PROG_MISMATCH
TEST_PROGRAM, LOW_VERSION, HIGH_VERSION = 0x20000F00, 2, 4
ECHO, TAKES_AN_INT, FAILS, MISSING = 0, 1, 2, 9
OTHER_PROGRAM = 0x20000F01
REFUSED_UID = 666  # the test server's auth policy refuses this caller (AUTH_TOOWEAK)


# ---- the message cases -------------------------------------------------------------------


@dataclass(frozen=True)
class AuthSys:
    stamp: int
    machinename: str
    uid: int
    gid: int
    gids: tuple[int, ...]


@dataclass(frozen=True)
class Call:
    """A call header: the parameters of one CALL message (its arguments are empty)."""

    name: str
    xid: int
    prog: int
    vers: int
    proc: int
    auth_sys: AuthSys | None = None
    flavor: int = 0  # used when auth_sys is None: 0 AUTH_NONE, 3 AUTH_DH (a body-less stand-in)
    rpcvers: int = 2


@dataclass(frozen=True)
class Reply:
    """A reply, and the call that makes xdr_rpc's OncServer answer with it."""

    name: str
    call: Call
    accepted: bool
    stat: int  # accept_stat if accepted, else reject_stat
    low: int | None = None  # mismatch_info
    high: int | None = None
    why: int | None = None  # auth_stat of AUTH_ERROR


SYS = AuthSys(0x5F5E1001, "client.example.org", 1000, 100, (4, 24, 27, 100, 1000, 65534))
CALLS = [
    Call("none", 0x12345678, 100003, 3, 1),
    Call("sys", 0xDEADBEEF, 100005, 3, 1, SYS),
    Call("sys-no-gids", 1, 100000, 2, 3, AuthSys(0, "h", 0, 0, ())),
    Call("sys-limits", 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, AuthSys(0xFFFFFFFF, "m" * 255, 0xFFFFFFFE, 0xFFFFFFFD, tuple(range(16)))),
]
REPLIES = [
    Reply("success", Call("c", 0x01010101, TEST_PROGRAM, LOW_VERSION, ECHO), True, 0),
    Reply("prog-unavail", Call("c", 0x02020202, OTHER_PROGRAM, 1, ECHO), True, 1),
    Reply("prog-mismatch", Call("c", 0x03030303, TEST_PROGRAM, 7, ECHO), True, 2, LOW_VERSION, HIGH_VERSION),
    Reply("proc-unavail", Call("c", 0x04040404, TEST_PROGRAM, HIGH_VERSION, MISSING), True, 3),
    Reply("garbage-args", Call("c", 0x05050505, TEST_PROGRAM, HIGH_VERSION, TAKES_AN_INT), True, 4),
    Reply("system-err", Call("c", 0x06060606, TEST_PROGRAM, HIGH_VERSION, FAILS, SYS), True, 5),
    Reply("rpc-mismatch", Call("c", 0x07070707, TEST_PROGRAM, LOW_VERSION, ECHO, rpcvers=3), False, 0, 2, 2),
    Reply("auth-rejectedcred", Call("c", 0x08080808, TEST_PROGRAM, LOW_VERSION, ECHO, flavor=3), False, 1, why=2),
    Reply("auth-tooweak", Call("c", 0x09090909, TEST_PROGRAM, LOW_VERSION, ECHO, AuthSys(7, "x", REFUSED_UID, 0, (1,))), False, 1, why=5),
]


def ids(cases: list[Any]) -> list[str]:
    return [case.name for case in cases]


# ---- the generated module and xdr_rpc, side by side ----------------------------------------


@pytest.fixture(scope="module")
def defs(generated_package: GeneratedPackage) -> ModuleType:
    return generated_package.load(compile_file(RPC_DEFS), "rpc_defs")


@pytest.fixture(scope="module")
def rpc(defs: ModuleType) -> ModuleType:
    """The xdr_rpc written beside the generated module (the same runtime, the same XdrError)."""
    return importlib.import_module(defs.__name__.rsplit(".", 1)[0] + ".xdr_rpc")


def credential(m: ModuleType, call: Call) -> Any:
    if call.auth_sys is None:
        return m.opaque_auth(m.auth_flavor(call.flavor), b"")
    a = call.auth_sys
    body = m.authsys_parms(stamp=a.stamp, machinename=a.machinename, uid=a.uid, gid=a.gid, gids=list(a.gids)).to_xdr()
    return m.opaque_auth(flavor=m.AUTH_SYS, body=body)


def call_value(m: ModuleType, call: Call) -> Any:
    """The rpc_msg of ``call`` built with the generated classes."""
    header = m.call_body(
        rpcvers=call.rpcvers, prog=call.prog, vers=call.vers, proc=call.proc, cred=credential(m, call), verf=m.opaque_auth(m.AUTH_NONE, b"")
    )
    return m.rpc_msg(xid=call.xid, body=m.rpc_msg_body(m.CALL, cbody=header))


def reply_value(m: ModuleType, reply: Reply) -> Any:
    """The rpc_msg of ``reply`` built with the generated classes."""
    if reply.accepted:
        stat = m.accept_stat(reply.stat)
        if stat == m.SUCCESS:
            data = m.accepted_reply_reply_data(stat, results=b"")
        elif stat == m.PROG_MISMATCH:
            data = m.accepted_reply_reply_data(stat, mismatch_info=m.accepted_reply_reply_data_mismatch_info(low=reply.low, high=reply.high))
        else:
            data = m.accepted_reply_reply_data(stat)
        body = m.reply_body(m.MSG_ACCEPTED, areply=m.accepted_reply(verf=m.opaque_auth(m.AUTH_NONE, b""), reply_data=data))
    elif reply.stat == m.RPC_MISMATCH:
        rejected = m.rejected_reply(m.RPC_MISMATCH, mismatch_info=m.rejected_reply_mismatch_info(low=reply.low, high=reply.high))
        body = m.reply_body(m.MSG_DENIED, rreply=rejected)
    else:
        body = m.reply_body(m.MSG_DENIED, rreply=m.rejected_reply(m.AUTH_ERROR, why=m.auth_stat(reply.why)))
    return m.rpc_msg(xid=reply.call.xid, body=m.rpc_msg_body(m.REPLY, rbody=body))


def hand_written_call(rpc: ModuleType, call: Call) -> bytes:
    """xdr_rpc's bytes for ``call``: ``call_message`` with ``Credentials``."""
    if call.auth_sys is None:
        credentials = rpc.Credentials(call.flavor, b"")
    else:
        a = call.auth_sys
        credentials = rpc.Credentials.sys(a.machinename, a.uid, a.gid, a.gids, a.stamp)
    return bytes(rpc.call_message(call.xid, call.prog, call.vers, call.proc, b"", credentials))


def make_server(rpc: ModuleType, defs: ModuleType) -> Any:
    """An OncServer holding TEST_PROGRAM versions 2..4 (not listening: messages go straight
    to the code that answers them)."""

    def echo(context: Any) -> None:
        return None

    def fails(context: Any) -> None:
        raise RuntimeError("this procedure always fails (the test's SYSTEM_ERR)")

    table = {ECHO: ((), None, echo), TAKES_AN_INT: ((defs.codec("auth_stat"),), None, echo), FAILS: ((), None, fails)}
    server = rpc.OncServer(auth_policy=lambda context: context.auth_sys is None or context.auth_sys.uid != REFUSED_UID)
    for version in range(LOW_VERSION, HIGH_VERSION + 1):
        server.add(TEST_PROGRAM, version, table)
    return server


def serve(server: Any, message: bytes) -> bytes:
    reply = asyncio.run(server._process(message, ("127.0.0.1", 1), "udp"))
    assert reply is not None
    return bytes(reply)


# ---- (a) the file itself -----------------------------------------------------------------


def test_compiles_alone_without_warnings() -> None:
    compiled = compile_file(RPC_DEFS)
    assert [str(w) for w in compiled.reporter.warnings] == []
    names = {t.name for t in compiled.model.types}
    assert {"auth_flavor", "opaque_auth", "authsys_parms", "netobj", "msg_type", "reply_stat", "accept_stat", "reject_stat",
            "auth_stat", "rpc_msg", "call_body", "reply_body", "accepted_reply", "rejected_reply"} <= names


def test_is_found_as_a_package_resource_and_ships_in_the_wheel(tmp_path: Path) -> None:
    import xdrgen

    resource = importlib.resources.files("xdrgen") / "rpc_defs.x"
    assert resource.is_file() and "struct rpc_msg" in resource.read_text()
    if Path(xdrgen.__file__).parent == RPC_DEFS.parent:  # the tree under test, not an installed copy
        assert resource.read_text() == RPC_DEFS.read_text()
    require(module_available("hatchling"), "needs hatchling (pip install -e '.[test]')")
    from hatchling.builders.wheel import WheelBuilder

    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("xdrgen/rpc_defs.x").decode() == RPC_DEFS.read_text()


def test_generated_module_is_mypy_strict_clean(tmp_path: Path) -> None:
    out = tmp_path / "rpcdefs_out"
    done = subprocess.run([sys.executable, "-m", "xdrgen", str(RPC_DEFS), "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), out.name],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert checked.returncode == 0, checked.stdout
    assert "rpc_defs.py" in {p.name for p in out.iterdir()}


def test_wire_values_are_the_rfcs(defs: ModuleType) -> None:
    """The numbers RFC 5531 (and libtirpc, for netobj) give; compared with xdr_rpc's below."""
    m = defs
    assert {f.name: int(f) for f in m.auth_flavor} == {
        "AUTH_NONE": 0, "AUTH_SYS": 1, "AUTH_SHORT": 2, "AUTH_DH": 3, "AUTH_KERB": 4, "AUTH_RSA": 5, "RPCSEC_GSS": 6, "AUTH_TLS": 7}
    assert [int(s) for s in m.auth_stat] == list(range(15))
    assert (m.RPC_VERS, m.MAX_AUTH_BYTES, m.MAXNETOBJ_SZ) == (2, 400, 1024)
    assert m.encode("netobj", b"abcde") == b"\0\0\0\5abcde\0\0\0"
    with pytest.raises(m.XdrError):
        m.encode("netobj", bytes(1025))
    with pytest.raises(m.XdrError):
        m.encode("opaque_auth", m.opaque_auth(m.AUTH_SYS, bytes(401)))
    with pytest.raises(m.XdrError):
        m.encode("authsys_parms", m.authsys_parms(0, "h", 0, 0, list(range(17))))
    # a peer's lengths are checked against the limits before anything is read or allocated
    with pytest.raises(m.XdrError) as huge:
        m.decode("opaque_auth", b"\0\0\0\1\xff\xff\xff\xff")
    assert huge.value.offset == 4
    with pytest.raises(m.XdrError):
        m.decode("authsys_parms", bytes(4) + b"\0\0\1\0" + bytes(256 + 8) + b"\0\0\0\1" + bytes(4))
    with pytest.raises(m.XdrError):
        m.decode("opaque_auth", b"\0\0\0\x08" + bytes(4))  # flavour 8 is not in RFC 5531's enum


def test_netobj_is_wire_identical_to_the_builtin(generated_package: GeneratedPackage) -> None:
    """model.C_TYPE_NAMES's built-in netobj (used when a file names it without defining it)."""
    builtin = generated_package.load_source("struct holder { netobj n; };", "netobj_builtin")
    defined = generated_package.load_source(RPC_DEFS.read_text() + "\nstruct holder { netobj n; };", "netobj_defined")
    for data in (b"", b"x", bytes(range(256)) * 4):
        assert builtin.encode("holder", builtin.holder(data)) == defined.encode("holder", defined.holder(data))
    with pytest.raises(builtin.XdrError):
        builtin.encode("holder", builtin.holder(bytes(1025)))


def test_constants_match_xdr_rpc(defs: ModuleType, rpc: ModuleType) -> None:
    m = defs
    assert (rpc.RPC_VERSION, rpc.AUTH_NONE, rpc.AUTH_SYS, rpc.MAX_AUTH_BYTES) == (m.RPC_VERS, m.AUTH_NONE, m.AUTH_SYS, m.MAX_AUTH_BYTES)
    assert (rpc.SUCCESS, rpc.PROG_UNAVAIL, rpc.PROG_MISMATCH, rpc.PROC_UNAVAIL, rpc.GARBAGE_ARGS, rpc.SYSTEM_ERR) == tuple(m.accept_stat)
    assert (rpc.RPC_MISMATCH, rpc.AUTH_ERROR) == tuple(m.reject_stat)
    assert (rpc.AUTH_OK, rpc.AUTH_BADCRED, rpc.AUTH_REJECTEDCRED, rpc.AUTH_BADVERF, rpc.AUTH_REJECTEDVERF, rpc.AUTH_TOOWEAK) == tuple(m.auth_stat)[:6]


# ---- (b) the generated codec and xdr_rpc's hand-written code --------------------------------


@pytest.mark.parametrize("call", CALLS, ids=ids(CALLS))
def test_call_bytes_equal_xdr_rpcs(call: Call, defs: ModuleType, rpc: ModuleType) -> None:
    ours = defs.encode("rpc_msg", call_value(defs, call))
    theirs = hand_written_call(rpc, call)
    assert ours == theirs
    decoded = defs.decode("rpc_msg", theirs)
    assert decoded == call_value(defs, call)
    cred = decoded.body.cbody.cred
    if call.auth_sys is not None:
        a = call.auth_sys
        assert cred.flavor is defs.AUTH_SYS
        assert defs.authsys_parms.from_xdr(cred.body) == defs.authsys_parms(stamp=a.stamp, machinename=a.machinename, uid=a.uid, gid=a.gid, gids=list(a.gids))
        parsed = rpc.AuthSys.parse(cred.body)
        assert (parsed.stamp, parsed.machine, parsed.uid, parsed.gid, parsed.gids) == (a.stamp, a.machinename, a.uid, a.gid, a.gids)


@pytest.mark.parametrize("call", CALLS, ids=ids(CALLS))
def test_xdr_rpcs_server_reads_our_calls(call: Call, defs: ModuleType, rpc: ModuleType) -> None:
    seen: list[Any] = []
    server = rpc.OncServer()
    server.add(call.prog, call.vers, {call.proc: ((), None, lambda context: seen.append(context))})
    reply = serve(server, defs.encode("rpc_msg", call_value(defs, call)))
    assert defs.decode("rpc_msg", reply) == reply_value(defs, Reply("ok", call, True, 0))
    (context,) = seen
    assert (context.xid, context.program, context.version, context.procedure) == (call.xid, call.prog, call.vers, call.proc)
    if call.auth_sys is None:
        assert context.credentials == rpc.Credentials() and context.auth_sys is None
    else:
        a = call.auth_sys
        assert context.credentials.flavor == rpc.AUTH_SYS
        assert (context.auth_sys.stamp, context.auth_sys.machine, context.auth_sys.uid, context.auth_sys.gid, context.auth_sys.gids) == (
            a.stamp, a.machinename, a.uid, a.gid, a.gids)


@pytest.mark.parametrize("reply", REPLIES, ids=ids(REPLIES))
def test_xdr_rpcs_server_replies_decode_to_the_expected_values(reply: Reply, defs: ModuleType, rpc: ModuleType) -> None:
    """The call (encoded by the codec) provokes the reply from OncServer; the codec decodes
    the reply to the expected value and encodes that value to the server's bytes."""
    theirs = serve(make_server(rpc, defs), defs.encode("rpc_msg", call_value(defs, reply.call)))
    expected = reply_value(defs, reply)
    assert defs.decode("rpc_msg", theirs) == expected
    assert defs.encode("rpc_msg", expected) == theirs


@pytest.mark.parametrize("reply", REPLIES, ids=ids(REPLIES))
def test_xdr_rpcs_parse_reply_reads_our_replies(reply: Reply, defs: ModuleType, rpc: ModuleType) -> None:
    ours = defs.encode("rpc_msg", reply_value(defs, reply))
    if reply.accepted and reply.stat == defs.SUCCESS:
        assert rpc.parse_reply(ours + b"results") == (reply.call.xid, b"results")
    elif reply.accepted:
        with pytest.raises(rpc.AcceptError) as accepted:
            rpc.parse_reply(ours)
        assert (accepted.value.state, accepted.value.low, accepted.value.high) == (reply.stat, reply.low, reply.high)
    else:
        with pytest.raises(rpc.Rejected) as rejected:
            rpc.parse_reply(ours)
        assert (rejected.value.state, rejected.value.auth_stat) == (reply.stat, reply.why)
        if reply.low is not None:
            assert f"versions {reply.low}..{reply.high}" in str(rejected.value)


# ---- (c) the authority: libtirpc --------------------------------------------------------------

LIBTIRPC_DRIVER = r"""
/* Builds ONC RPC messages with libtirpc from parameters, and decodes messages, one line each:
 *   call XID PROG VERS PROC RPCVERS FLAVOR [STAMP MACHINE UID GID GID...]  (FLAVOR 1: AUTH_SYS)
 *   accepted XID STAT [LOW HIGH]       denied XID 0 LOW HIGH       denied XID 1 WHY
 *   decode HEX
 * answering "HEX" (what libtirpc encoded) or, for decode, "FIELDS|USED|HEX" (the fields
 * libtirpc decoded in the build line's words, the bytes it consumed, and its re-encoding). */
#include <rpc/rpc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char out[1 << 16], body[MAX_AUTH_BYTES];

static void print_hex(const unsigned char *p, unsigned n) {
    for (unsigned i = 0; i < n; i++) printf("%02x", p[i]);
}

static int encode(struct rpc_msg *msg) {
    XDR x;
    xdrmem_create(&x, (char *)out, sizeof out, XDR_ENCODE);
    if (!(msg->rm_direction == CALL ? xdr_callmsg(&x, msg) : xdr_replymsg(&x, msg))) return -1;
    return (int)xdr_getpos(&x);
}

static void build(char *words[], int count) {
    struct rpc_msg msg;
    memset(&msg, 0, sizeof msg);
    msg.rm_xid = strtoul(words[1], NULL, 0);
    if (!strcmp(words[0], "call")) {
        msg.rm_direction = CALL;
        msg.rm_call.cb_rpcvers = strtoul(words[5], NULL, 0);
        msg.rm_call.cb_prog = strtoul(words[2], NULL, 0);
        msg.rm_call.cb_vers = strtoul(words[3], NULL, 0);
        msg.rm_call.cb_proc = strtoul(words[4], NULL, 0);
        msg.rm_call.cb_cred.oa_flavor = strtoul(words[6], NULL, 0);
        msg.rm_call.cb_verf = _null_auth;
        if (msg.rm_call.cb_cred.oa_flavor == AUTH_SYS) {
            struct authunix_parms sys;
            gid_t gids[64];
            sys.aup_time = strtoul(words[7], NULL, 0);
            sys.aup_machname = words[8];
            sys.aup_uid = strtoul(words[9], NULL, 0);
            sys.aup_gid = strtoul(words[10], NULL, 0);
            sys.aup_len = count - 11;
            for (int i = 11; i < count; i++) gids[i - 11] = strtoul(words[i], NULL, 0);
            sys.aup_gids = gids;
            XDR x;
            xdrmem_create(&x, (char *)body, sizeof body, XDR_ENCODE);
            if (!xdr_authunix_parms(&x, &sys)) { printf("ENCODE-FAIL\n"); return; }
            msg.rm_call.cb_cred.oa_base = (caddr_t)body;
            msg.rm_call.cb_cred.oa_length = xdr_getpos(&x);
        }
    } else {
        msg.rm_direction = REPLY;
        if (!strcmp(words[0], "accepted")) {
            msg.rm_reply.rp_stat = MSG_ACCEPTED;
            msg.acpted_rply.ar_verf = _null_auth;
            msg.acpted_rply.ar_stat = strtoul(words[2], NULL, 0);
            if (msg.acpted_rply.ar_stat == SUCCESS) {
                msg.acpted_rply.ar_results.where = NULL;
                msg.acpted_rply.ar_results.proc = (xdrproc_t)xdr_void;
            } else if (msg.acpted_rply.ar_stat == PROG_MISMATCH) {
                msg.acpted_rply.ar_vers.low = strtoul(words[3], NULL, 0);
                msg.acpted_rply.ar_vers.high = strtoul(words[4], NULL, 0);
            }
        } else {
            msg.rm_reply.rp_stat = MSG_DENIED;
            msg.rjcted_rply.rj_stat = strtoul(words[2], NULL, 0);
            if (msg.rjcted_rply.rj_stat == RPC_MISMATCH) {
                msg.rjcted_rply.rj_vers.low = strtoul(words[3], NULL, 0);
                msg.rjcted_rply.rj_vers.high = strtoul(words[4], NULL, 0);
            } else {
                msg.rjcted_rply.rj_why = strtoul(words[3], NULL, 0);
            }
        }
    }
    int n = encode(&msg);
    if (n < 0) { printf("ENCODE-FAIL\n"); return; }
    print_hex(out, n);
    printf("\n");
}

static void decode(const char *hex) {
    static unsigned char in[1 << 16];
    size_t n = 0;
    for (const char *p = hex; p[0] && p[1]; p += 2) { unsigned v; sscanf(p, "%2x", &v); in[n++] = v; }
    struct rpc_msg msg;
    memset(&msg, 0, sizeof msg);
    msg.acpted_rply.ar_results.where = NULL;
    msg.acpted_rply.ar_results.proc = (xdrproc_t)xdr_void;  /* SUCCESS: no results follow */
    int is_call = n >= 8 && in[4] == 0 && in[5] == 0 && in[6] == 0 && in[7] == 0;
    XDR x;
    xdrmem_create(&x, (char *)in, n, XDR_DECODE);
    if (!(is_call ? xdr_callmsg(&x, &msg) : xdr_replymsg(&x, &msg))) { printf("DECODE-FAIL\n"); return; }
    unsigned used = xdr_getpos(&x);
    if (is_call) {
        struct call_body *c = &msg.rm_call;
        printf("call %u %u %u %u %u %u", msg.rm_xid, (unsigned)c->cb_prog, (unsigned)c->cb_vers, (unsigned)c->cb_proc,
               (unsigned)c->cb_rpcvers, (unsigned)c->cb_cred.oa_flavor);
        if (c->cb_cred.oa_flavor == AUTH_SYS) {
            struct authunix_parms sys;
            memset(&sys, 0, sizeof sys);
            XDR b;
            xdrmem_create(&b, c->cb_cred.oa_base, c->cb_cred.oa_length, XDR_DECODE);
            if (!xdr_authunix_parms(&b, &sys) || xdr_getpos(&b) != c->cb_cred.oa_length) { printf(" AUTHSYS-FAIL\n"); return; }
            printf(" %u %s %u %u", (unsigned)sys.aup_time, sys.aup_machname, (unsigned)sys.aup_uid, (unsigned)sys.aup_gid);
            for (unsigned i = 0; i < sys.aup_len; i++) printf(" %u", (unsigned)sys.aup_gids[i]);
        }
        if (c->cb_verf.oa_flavor != AUTH_NONE || c->cb_verf.oa_length != 0) printf(" VERF?");
    } else if (msg.rm_reply.rp_stat == MSG_ACCEPTED) {
        struct accepted_reply *a = &msg.acpted_rply;
        printf("accepted %u %u", msg.rm_xid, (unsigned)a->ar_stat);
        if (a->ar_stat == PROG_MISMATCH) printf(" %u %u", (unsigned)a->ar_vers.low, (unsigned)a->ar_vers.high);
        if (a->ar_verf.oa_flavor != AUTH_NONE || a->ar_verf.oa_length != 0) printf(" VERF?");
    } else {
        struct rejected_reply *r = &msg.rjcted_rply;
        printf("denied %u %u", msg.rm_xid, (unsigned)r->rj_stat);
        if (r->rj_stat == RPC_MISMATCH) printf(" %u %u", (unsigned)r->rj_vers.low, (unsigned)r->rj_vers.high);
        else printf(" %u", (unsigned)r->rj_why);
    }
    int m = encode(&msg);
    if (m < 0) { printf("|ENCODE-FAIL\n"); return; }
    printf("|%u|", used);
    print_hex(out, m);
    printf("\n");
}

int main(void) {
    static char line[1 << 18];
    while (fgets(line, sizeof line, stdin)) {
        char *words[64];
        int count = 0;
        for (char *w = strtok(line, " \n"); w && count < 64; w = strtok(NULL, " \n")) words[count++] = w;
        if (count == 2 && !strcmp(words[0], "decode")) decode(words[1]);
        else if (count >= 3) build(words, count);
        else printf("BAD-LINE\n");
        fflush(stdout);
    }
    return 0;
}
"""


class Libtirpc:
    """LIBTIRPC_DRIVER compiled and running as a filter process."""

    def __init__(self, work: Path):
        (work / "rpcmsg.c").write_text(LIBTIRPC_DRIVER)
        built = subprocess.run(["gcc", "-O1", "-Wall", "-o", "rpcmsg", "rpcmsg.c", *(LIBTIRPC_FLAGS or [])], cwd=work, capture_output=True, text=True)
        assert built.returncode == 0, built.stderr
        self.process = subprocess.Popen([str(work / "rpcmsg")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, line: str) -> str:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        assert answer and "FAIL" not in answer and "?" not in answer, f"libtirpc: {line!r} -> {answer!r}"
        return answer

    def build(self, words: str) -> bytes:
        return bytes.fromhex(self.ask(words))

    def decode(self, data: bytes) -> tuple[str, int, bytes]:
        fields, used, hexed = self.ask(f"decode {data.hex()}").split("|")
        return fields, int(used), bytes.fromhex(hexed)

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=10)


def call_words(call: Call) -> str:
    """The driver's build line for ``call``; also what its decode prints for it."""
    words = f"call {call.xid} {call.prog} {call.vers} {call.proc} {call.rpcvers}"
    if call.auth_sys is None:
        return f"{words} {call.flavor}"
    a = call.auth_sys
    return " ".join([words, "1", str(a.stamp), a.machinename, str(a.uid), str(a.gid), *map(str, a.gids)])


def reply_words(reply: Reply) -> str:
    if reply.accepted:
        words = f"accepted {reply.call.xid} {reply.stat}"
    else:
        words = f"denied {reply.call.xid} {reply.stat}"
    if reply.low is not None:
        words += f" {reply.low} {reply.high}"
    if reply.why is not None:
        words += f" {reply.why}"
    return words


@pytest.fixture(scope="module")
def libtirpc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Libtirpc]:
    driver = Libtirpc(tmp_path_factory.mktemp("libtirpc_rpcmsg"))
    yield driver
    driver.close()


requires_gcc = requires(program("gcc"), "needs gcc (apt-get install gcc)")
requires_libtirpc = requires(LIBTIRPC_FLAGS, "needs pkg-config and libtirpc (apt-get install pkg-config libtirpc-dev)")


# libtirpc's xdr_callmsg neither writes nor reads a call of another RPC version (it returns
# FALSE), so the rpc-mismatch call has only xdr_rpc's server as its reader
C_CALLS = [*CALLS, *(r.call for r in REPLIES if r.call.rpcvers == 2)]
C_CALL_IDS = [*ids(CALLS), *(f"{r.name}-call" for r in REPLIES if r.call.rpcvers == 2)]


@requires_gcc
@requires_libtirpc
@pytest.mark.parametrize("call", C_CALLS, ids=C_CALL_IDS)
def test_calls_match_libtirpc(call: Call, defs: ModuleType, libtirpc: Libtirpc) -> None:
    ours = defs.encode("rpc_msg", call_value(defs, call))
    assert libtirpc.build(call_words(call)) == ours
    fields, used, again = libtirpc.decode(ours)
    assert (fields, used, again) == (call_words(call), len(ours), ours)


@requires_gcc
@requires_libtirpc
@pytest.mark.parametrize("reply", REPLIES, ids=ids(REPLIES))
def test_replies_match_libtirpc(reply: Reply, defs: ModuleType, libtirpc: Libtirpc) -> None:
    ours = defs.encode("rpc_msg", reply_value(defs, reply))
    assert libtirpc.build(reply_words(reply)) == ours
    fields, used, again = libtirpc.decode(ours)
    assert (fields, used, again) == (reply_words(reply), len(ours), ours)


# ---- the corpus names it resolves -------------------------------------------------------------

# The corpus's NFSv4 files that need it, the -D values they need besides, the names each
# leaves undefined on its own (what `xdrgen FILE` reports) and the names of rpc_defs.x it
# defines differently: with --rpc-defs the file's own definition wins. (libnfs's nfs4.x also defines
# authsys_parms, exactly as rpc_defs.x does, so that repeat is accepted.)
NFS4_FILES = {
    "nfs4/libnfs/nfs4.x": ({}, {"AUTH_NONE", "AUTH_SYS"}, {"RPCSEC_GSS"}),
    "nfs4/ganesha/nfs4.x": ({}, {"RPCSEC_GSS"}, set()),
    "nfs4/ganesha/nfsv41.x": ({}, {"RPCSEC_GSS", "AUTH_NONE", "AUTH_SYS", "authsys_parms"}, set()),
    "nfs4/filesys/nfs42_prot.x": ({}, {"RPCSEC_GSS", "AUTH_NONE", "AUTH_SYS", "authsys_parms"}, set()),
    "nfs4/filesys/nfs4_prot.x": ({"opaqueref": "opaque"}, {"RPCSEC_GSS", "AUTH_NONE", "AUTH_SYS", "authsys_parms"}, set()),
}


def defined_names() -> set[str]:
    """Every name rpc_defs.x defines: constants, types and enum members."""
    model = compile_file(RPC_DEFS).model
    names = {c.name for c in model.constants} | {t.name for t in model.types}
    return names | {member for t in model.types if isinstance(t, M.EnumDef) for member in (v.name for v in t.values)}


@requires_corpus
@pytest.mark.parametrize("name", sorted(NFS4_FILES))
def test_corpus_nfs4_files_need_only_its_names(name: str) -> None:
    defines, undefined, clashes = NFS4_FILES[name]
    path = CORPUS / name
    with pytest.raises(XdrgenError) as alone:
        compile_file(path, Options(defines=dict(defines)))
    assert {d.message.split("'")[1] for d in alone.value.diagnostics} == undefined  # every error is an undefined name
    assert undefined | clashes <= defined_names()
    units = compile_set([path], Options(defines=dict(defines), rpc_defs=True))
    assert units[0].model.types
    # with --rpc-defs, names the file defines itself stay its own (libnfs's RPCSEC_GSS constant)
    assert clashes <= {c.name for c in units[0].model.constants}
