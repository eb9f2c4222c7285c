"""RPCSEC_GSS against libtirpc (the C reference), in a throwaway Kerberos realm: the rpcgen C
client of tests/test_interop_rpc_c.py, given an ``rpc_gss_seccreate`` context, calls every
procedure of the typed Python server under krb5, krb5i and krb5p (the server's policy demands
that service, and the handlers see the C client's principal); the typed Python client calls
every procedure of the rpcgen C server, which ``rpc_gss_set_svc_name`` makes accept
RPCSEC_GSS and which refuses any other flavour (AUTH_TOOWEAK) and reports the principal and
service ``rpc_gss_getcred`` gives it."""

from __future__ import annotations

import os
import re
import socket
import struct
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest
from conftest import requires_c_reference, sibling_module
from krb5_realm import REALM, Realm, realm  # noqa: F401  (realm: a module fixture)
from peers import rpcbind  # noqa: F401  (rpcbind: a fixture, the rpcbind on port 111, reused or started)
from test_interop_rpc_c import CLIENT_MAIN, EXPECTED_CLIENT_OUTPUT, SERVER_MAIN, build_c_programs, running_c_server
from typed_peer import PROGRAM, V1, call_every_procedure, load_typed, servers, serving

from xdrgen.runtime import xdr_rpc as rpc_runtime

pytestmark = requires_c_reference

SERVICES = {"krb5": "rpcsec_gss_svc_none", "krb5i": "rpcsec_gss_svc_integrity", "krb5p": "rpcsec_gss_svc_privacy"}

SECURE_CLIENT = r"""
#include <rpc/rpcsec_gss.h>

/* argv[3]: krb5, krb5i or krb5p: an RPCSEC_GSS context with the server's svc@localhost */
static int secure(CLIENT *clnt, const char *service) {
    rpc_gss_service_t wanted = strcmp(service, "krb5p") == 0 ? rpcsec_gss_svc_privacy
        : strcmp(service, "krb5i") == 0 ? rpcsec_gss_svc_integrity : rpcsec_gss_svc_none;
    rpc_gss_options_ret_t ret;
    memset(&ret, 0, sizeof ret);
    AUTH *auth = rpc_gss_seccreate(clnt, "svc@localhost", "kerberos_v5", wanted, NULL, NULL, &ret);
    if (auth == NULL) {
        rpc_gss_error_t error;
        rpc_gss_get_error(&error);
        fprintf(stderr, "rpc_gss_seccreate: rpc error %d, system error %d, major %u, minor %u\n", error.rpc_gss_error, error.system_error, ret.major_status, ret.minor_status);
        return 0;
    }
    auth_destroy(clnt->cl_auth);
    clnt->cl_auth = auth;
    return 1;
}

int main(int argc"""

GSS_SERVER_CHECKS = r"""
#include <rpc/rpcsec_gss.h>

/* every call must come over RPCSEC_GSS; ECHO of "who" answers "<principal> <service>" */
static int gss_only(struct svc_req *r) {
    if (r->rq_cred.oa_flavor != RPCSEC_GSS) { svcerr_weakauth(r->rq_xprt); return 0; }
    return 1;
}
"""


def _gss_client_main() -> str:
    main = CLIENT_MAIN.replace("int main(int argc", SECURE_CLIENT, 1)
    # after each clnt_create's check: the RPCSEC_GSS context
    return re.sub(r'(\n    if \(clnt == NULL\) \{ clnt_pcreateerror\("[^"]*"\); return 1; \})', r'\1\n    if (!secure(clnt, argv[3])) return 1;', main)


def _gss_server_main() -> str:
    main = SERVER_MAIN.replace('#include "typed.h"\n', '#include "typed.h"\n' + GSS_SERVER_CHECKS, 1)
    echo = "typed_name *typed_echo_1_svc(typed_name text, struct svc_req *r) {\n"
    main = main.replace(
        echo,
        echo
        + """    if (!gss_only(r)) return NULL;
    if (strcmp(text, "who") == 0) {
        static char who[TYPED_NAME_MAX + 1]; static typed_name answer;
        rpc_gss_rawcred_t *raw;
        if (!rpc_gss_getcred(r, &raw, NULL, NULL)) { svcerr_systemerr(r->rq_xprt); return NULL; }
        snprintf(who, sizeof who, "%.*s %d", (int)raw->client_principal->len, raw->client_principal->name, (int)raw->service);
        answer = who; return &answer;
    }
""",
        1,
    )
    add = "int *typed_add_1_svc(int a, int b, struct svc_req *r) { "
    main = main.replace(add, add + "if (!gss_only(r)) return NULL; ", 1)
    register = "    printf(\"ports %d %d\\n\", port_of(tcp), port_of(udp));"
    accept = """    if (!rpc_gss_set_svc_name("svc@localhost", "kerberos_v5", 0, TYPED_PROG, TYPED_V1)) { fprintf(stderr, "rpc_gss_set_svc_name failed\\n"); return 1; }
"""
    return main.replace(register, accept + register, 1)



@pytest.fixture(scope="module")
def c_programs(tmp_path_factory: pytest.TempPathFactory, realm: Realm) -> tuple[Path, Path]:
    """The rpcgen -N C client and server with RPCSEC_GSS (rpc_gss_seccreate / rpc_gss_set_svc_name)."""
    return build_c_programs(tmp_path_factory.mktemp("rpcgen-gss"), _gss_client_main(), _gss_server_main())


@pytest.fixture(scope="module")
def typed(generated_package: Any) -> ModuleType:
    return load_typed(generated_package)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
@pytest.mark.parametrize("service", list(SERVICES))
def test_libtirpc_gss_client_calls_every_procedure_of_the_python_server(
    c_programs: tuple[Path, Path], typed: ModuleType, realm: Realm, rpcbind: Any, service: str, transport: str
) -> None:
    client, _ = c_programs
    rpc, gss = sibling_module(typed, "xdr_rpc"), sibling_module(typed, "rpcsec_gss")
    v1, v2 = servers(typed)
    callers: list[Any] = []

    class Watching(v1):  # type: ignore[misc,valid-type]
        def typed_add(self, a: int, b: int) -> int:
            callers.append(self.call.gss)
            return int(super().typed_add(a, b))

    acceptor = gss.Acceptor("svc@localhost", keytab=realm.workdir / "service.keytab")
    policy = gss.minimum_service(service)  # anything weaker than asked for is AUTH_TOOWEAK
    with serving(lambda: rpc.OncServer(Watching(), v2(), gss=acceptor, auth_policy=policy), register=True):
        done = subprocess.run([str(client), "127.0.0.1", transport, service], capture_output=True, text=True, timeout=60, env={**os.environ, **realm.env})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == EXPECTED_CLIENT_OUTPUT, done.stderr
    assert callers == [gss.Caller(f"alice@{REALM}", gss.service_of(service))] * 2
    assert acceptor.stats["refused"] == 0


@pytest.fixture(scope="module")
def c_server(c_programs: tuple[Path, Path], realm: Realm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """The rpcgen -N -m server accepting RPCSEC_GSS as svc@localhost: its ports by transport."""
    with running_c_server(c_programs[1], tmp_path_factory.mktemp("c-server"), env=realm.env) as ports:
        yield ports


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
@pytest.mark.parametrize("service", list(SERVICES))
def test_typed_client_calls_every_procedure_of_the_libtirpc_gss_server(c_server: dict[str, int], typed: ModuleType, service: str, udp: bool) -> None:
    rpc = sibling_module(typed, "xdr_rpc")
    port = c_server["udp" if udp else "tcp"]
    with typed.TYPED_V1_Client("127.0.0.1", port, udp=udp, timeout=10) as client:
        with pytest.raises(rpc.Rejected) as raised:
            client.typed_add(1, 2)  # AUTH_NONE: refused
        assert raised.value.auth_stat == rpc.AUTH_TOOWEAK
    credentials = rpc.Credentials.gss("svc@localhost", service)
    with typed.TYPED_V1_Client("127.0.0.1", port, udp=udp, credentials=credentials, timeout=10) as client:
        call_every_procedure(client, typed)
        with pytest.raises(rpc.AcceptError) as raised_accept:
            client.typed_missing(1)
        assert raised_accept.value.state == rpc.PROC_UNAVAIL
        # libtirpc's rpc_gss_service_t: none 1, integrity 2, privacy 3
        assert client.typed_echo("who") == f"alice@{REALM} {int(credentials.service)}"


# ---- refusals: the same message to libtirpc's server and to ours gets the same answer ------------

ADD, ADD_ARGS = 1, struct.pack(">ii", 2, 40)
AUTH_STAT_NAMES = {1: "AUTH_BADCRED", 2: "AUTH_REJECTEDCRED", 7: "AUTH_FAILED", 13: "RPCSEC_GSS_CREDPROBLEM", 14: "RPCSEC_GSS_CTXPROBLEM"}
EXPECTED_REFUSALS = {
    "fresh call": "SUCCESS",
    "the same call again": "RPCSEC_GSS_CTXPROBLEM",
    "a sequence number below the window": "RPCSEC_GSS_CTXPROBLEM",
    "a sequence number above MAXSEQ": "RPCSEC_GSS_CTXPROBLEM",
    "a corrupted header MIC": "RPCSEC_GSS_CREDPROBLEM",
    "a corrupted argument checksum": "GARBAGE_ARGS",
    "credential version 2": "AUTH_BADCRED",
    "service 4": "AUTH_BADCRED",
    "a context the server does not have": "RPCSEC_GSS_CREDPROBLEM",
    "INIT with a garbage token": "AUTH_REJECTEDCRED",
    "after all that, a fresh call": "SUCCESS",
}


class Wire:
    """One TCP connection, one record out and one back (libtirpc keeps a context per connection)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), 10)

    def send(self, message: bytes) -> bytes:
        self.sock.sendall(rpc_runtime.record(message))
        (mark,) = struct.unpack(">I", self._exactly(4))
        return self._exactly(mark & 0x7FFFFFFF)

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            assert chunk, "the server closed the connection"
            data += chunk
        return data


def _outcome(reply: bytes) -> str:
    _, _, stat = struct.unpack_from(">III", reply)
    if stat == 1:
        return AUTH_STAT_NAMES.get(struct.unpack_from(">I", reply, 16)[0], reply.hex())
    (verifier_length,) = struct.unpack_from(">I", reply, 16)
    state = struct.unpack_from(">I", reply, 20 + verifier_length + (-verifier_length % 4))[0]
    return {0: "SUCCESS", 4: "GARBAGE_ARGS"}.get(state, f"accept_stat {state}")


def _refusals(port: int) -> dict[str, str]:
    wire = Wire(port)
    session = rpc_runtime.Credentials.gss("svc@localhost", "krb5i").session(PROGRAM, V1)  # type: ignore[attr-defined]
    xid = 0x5000

    def exchange(procedure: int, seal: Any) -> bytes:
        message, check = seal(0x4000)
        return rpc_runtime.parse_reply(wire.send(message), check)[1]

    while not session.established:
        exchange(0, session.init_call)
    outcomes: dict[str, str] = {}

    def add(what: str, change: Any = None, seq: int | None = None) -> bytes:
        nonlocal xid
        xid += 1
        if seq is not None:
            session.seq_num = seq - 1
        message = bytearray(session.data_call(xid, ADD, ADD_ARGS)[0])
        if change is not None:
            change(message)
        outcomes[what] = _outcome(wire.send(bytes(message)))
        return bytes(message)

    def flip(offset: int) -> Any:
        def change(message: bytearray) -> None:
            message[offset] ^= 1

        return change

    credential_end = 32 + struct.unpack_from(">I", bytes(session.data_call(1, ADD, b"")[0]), 28)[0]
    first = add("fresh call", seq=200)
    outcomes["the same call again"] = _outcome(wire.send(first))
    add("a sequence number below the window", seq=4)  # past libtirpc's window of 5, and our 128
    add("a sequence number above MAXSEQ", seq=0x80000001)
    session.seq_num = 300
    add("a corrupted header MIC", flip(credential_end + 8 + 20))
    add("a corrupted argument checksum", flip(-3))

    def credential_word(index: int, value: int) -> Any:
        def change(message: bytearray) -> None:
            struct.pack_into(">I", message, 32 + 4 * index, value)

        return change

    add("credential version 2", credential_word(0, 2))
    add("service 4", credential_word(3, 4))
    stranger = Wire(port)  # a connection (libtirpc) and a handle (ours) without a context
    session.handle, handle = bytes(16), session.handle
    xid += 1
    outcomes["a context the server does not have"] = _outcome(stranger.send(session.data_call(xid, ADD, ADD_ARGS)[0]))
    session.handle = handle
    init = rpc_runtime.call_message(xid, PROGRAM, V1, 0, struct.pack(">I", 8) + b"\x60\x06garbage"[:8], rpc_runtime.Credentials(6, gss_credential(1)))
    outcomes["INIT with a garbage token"] = _outcome(Wire(port).send(init))
    session.seq_num = 400
    add("after all that, a fresh call")
    return outcomes


def gss_credential(proc: int) -> bytes:
    """An RPCSEC_GSS credential body: version 1, ``proc``, sequence 0, integrity, no handle."""
    return struct.pack(">IIIII", 1, proc, 0, 2, 0)


def test_libtirpc_server_refusals(c_server: dict[str, int], realm: Realm) -> None:
    assert _refusals(c_server["tcp"]) == EXPECTED_REFUSALS


def test_our_server_refuses_the_same_way_as_libtirpc(typed: ModuleType, realm: Realm) -> None:
    rpc, gss = sibling_module(typed, "xdr_rpc"), sibling_module(typed, "rpcsec_gss")
    acceptor = gss.Acceptor("svc@localhost", keytab=realm.workdir / "service.keytab")
    with serving(lambda: rpc.OncServer(servers(typed)[0](), gss=acceptor), udp=False) as server:
        assert _refusals(server.ports["tcp"]) == EXPECTED_REFUSALS
