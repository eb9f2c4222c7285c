"""RPCSEC_GSS (runtime/rpcsec_gss.py) between xdrgen's own clients and servers, in a throwaway
Kerberos realm (tests/krb5_realm.py): the typed clients (blocking and asyncio) call every
procedure of a typed server under krb5, krb5i and krb5p, the handler sees the principal, a
policy refuses too weak a service; and the server's refusals are libtirpc's auth_stat for a
replayed or out-of-window sequence number, a corrupted MIC, an unknown context, a bad
version, garbage INIT tokens, with the context table bounded. The bytes against libtirpc's
C client and server: tests/test_interop_rpcsec_gss_c.py."""

from __future__ import annotations

import asyncio
import struct
import subprocess
import sys
from types import ModuleType
from typing import Any

import pytest
from conftest import program, requires, sibling_module
from krb5_realm import REALM, Realm, realm  # noqa: F401  (realm: a module fixture)
from typed_peer import PROGRAM, V1, call_every_procedure, load_typed, servers, serving

from xdrgen.runtime import rpcsec_gss as gss_runtime
from xdrgen.runtime import xdr_rpc as rpc_runtime

SERVICES = ["krb5", "krb5i", "krb5p"]


# ---- without a realm: the parts that are plain data ------------------------------------------


def test_credential_round_trips_and_refuses_a_short_body() -> None:
    credential = gss_runtime.Credential(gss_runtime.GssProc.DATA, 7, gss_runtime.Service.PRIVACY, b"\x01\x02\x03")
    body = credential.encode()
    # RFC 2203 rpc_gss_cred_vers_1_t: version, proc, seq, service, opaque handle (padded)
    assert body == struct.pack(">IIIII", 1, 0, 7, 3, 3) + b"\x01\x02\x03\x00"
    assert gss_runtime.Credential.decode(body) == credential
    with pytest.raises(gss_runtime.GssError):
        gss_runtime.Credential.decode(body[:18])
    with pytest.raises(gss_runtime.GssError):
        gss_runtime.Credential.decode(struct.pack(">IIIII", 1, 0, 7, 3, 401) + b"\0" * 404)


def test_sequence_window_as_rfc_2203_section_5_3_3_1() -> None:
    context = gss_runtime.ServerContext(gss=None, handle=b"h", window=4, last_used=0.0)
    assert context.accept_seq(1) and context.accept_seq(3)
    assert not context.accept_seq(3)  # a replay
    assert context.accept_seq(2)  # late but inside the window, once
    assert not context.accept_seq(2)
    assert context.accept_seq(10)
    assert not context.accept_seq(6)  # 10 - 6 = 4: below a window of 4
    assert context.accept_seq(7) and not context.accept_seq(7)
    assert context.seen < 1 << 4  # the bitmap holds only the window


def test_minimum_service_policy() -> None:
    policy = gss_runtime.minimum_service("krb5i", procedures={(PROGRAM, V1, 3): "krb5p"})
    Caller, Service = gss_runtime.Caller, gss_runtime.Service

    def context(procedure: int, caller: Any) -> Any:
        return rpc_runtime.CallContext(1, PROGRAM, V1, procedure, rpc_runtime.Credentials(), None, None, "tcp", caller)

    assert policy(context(0, None))  # NULL is always allowed
    assert not policy(context(1, None))  # AUTH_NONE / AUTH_SYS
    assert not policy(context(1, Caller("alice", Service.NONE)))
    assert policy(context(1, Caller("alice", Service.INTEGRITY)))
    assert not policy(context(3, Caller("alice", Service.INTEGRITY)))
    assert policy(context(3, Caller("alice", Service.PRIVACY)))
    with pytest.raises(ValueError, match="unknown RPCSEC_GSS service"):
        gss_runtime.minimum_service("krb5x")


def test_without_gssapi_the_runtime_imports_and_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gssapi", None)  # import gssapi now raises ImportError
    assert rpc_runtime.Credentials.sys().flavor == rpc_runtime.AUTH_SYS
    with pytest.raises(rpc_runtime.RpcError, match=r"pip install 'xdrgen-python\[gss\]'"):
        rpc_runtime.Credentials.gss("svc@localhost")
    with pytest.raises(rpc_runtime.RpcError, match=r"pip install 'xdrgen-python\[gss\]'"):
        gss_runtime.Acceptor("svc@localhost")


# ---- in a realm ---------------------------------------------------------------------------------



@pytest.fixture(scope="module")
def typed(generated_package: Any) -> ModuleType:
    return load_typed(generated_package)


def _server(typed: ModuleType, realm: Realm, **options: Any) -> Any:
    v1, v2 = servers(typed)
    seen: list[Any] = []

    class Watching(v1):  # type: ignore[misc,valid-type]
        def typed_echo(self, text: str) -> str:
            seen.append(self.call.gss)
            return str(super().typed_echo(text))

    acceptor = sibling_module(typed, "rpcsec_gss").Acceptor("svc@localhost", keytab=realm.workdir / "service.keytab")
    server = sibling_module(typed, "xdr_rpc").OncServer(Watching(), v2(), gss=acceptor, **options)
    server.seen = seen
    return server


@pytest.mark.parametrize("service", SERVICES)
def test_typed_blocking_client_calls_every_procedure_under(realm: Realm, typed: ModuleType, service: str) -> None:
    rpc, gss = sibling_module(typed, "xdr_rpc"), sibling_module(typed, "rpcsec_gss")
    with serving(lambda: _server(typed, realm), udp=False) as server:
        credentials = rpc.Credentials.gss("svc@localhost", service)
        with typed.TYPED_V1_Client("127.0.0.1", server.ports["tcp"], credentials=credentials, timeout=10) as client:
            call_every_procedure(client, typed)
            with pytest.raises(rpc.AcceptError) as raised:
                client.typed_missing(1)
            assert raised.value.state == rpc.PROC_UNAVAIL
            assert len(server.gss.contexts) == 1
            server.gss.contexts.clear()  # the server forgets the context: CREDPROBLEM, a new one
            assert client.typed_add(1, 2) == 3
            assert server.gss.stats["contexts made"] == 2
        assert server.gss.contexts == {}  # closing sent RPCSEC_GSS_DESTROY
        assert server.seen == [gss.Caller(f"alice@{REALM}", gss.service_of(service))]


@pytest.mark.parametrize("service", SERVICES)
def test_typed_async_client_with_many_calls_in_flight(realm: Realm, typed: ModuleType, service: str) -> None:
    rpc = sibling_module(typed, "xdr_rpc")

    in_flight, most = 0, 0

    async def run(port: int, server: Any) -> list[int]:
        client = await typed.TYPED_V1_AsyncClient.connect("127.0.0.1", port, credentials=rpc.Credentials.gss("svc@localhost", service), timeout=10)
        connection = client._xdr_client
        exchange = connection._exchange

        async def counted(*arguments: Any) -> bytes:
            nonlocal in_flight, most
            in_flight += 1
            most = max(most, in_flight)
            try:
                return bytes(await exchange(*arguments))
            finally:
                in_flight -= 1

        connection._exchange = counted
        async with client:
            # more calls at once than the server's window of 8: the client holds them back
            sums = list(await asyncio.gather(*(client.typed_add(i, 1000) for i in range(40))))
            server.gss.contexts.clear()  # the server forgets the context: CREDPROBLEM, a new one
            sums += await asyncio.gather(*(client.typed_add(i, 2000) for i in range(20)))
            return sums

    with serving(lambda: _server(typed, realm), udp=False) as server:
        server.gss.window = 8
        assert asyncio.run(run(server.ports["tcp"], server)) == [i + 1000 for i in range(40)] + [i + 2000 for i in range(20)]
        assert most == 8
        assert server.gss.contexts == {}  # closing sent RPCSEC_GSS_DESTROY
        assert server.gss.stats["contexts made"] == 2


def test_policy_refuses_a_weaker_service_with_auth_tooweak(realm: Realm, typed: ModuleType) -> None:
    rpc, gss = sibling_module(typed, "xdr_rpc"), sibling_module(typed, "rpcsec_gss")
    policy = gss.minimum_service("krb5i", procedures={(PROGRAM, V1, 3): "krb5p"})
    with serving(lambda: _server(typed, realm, auth_policy=policy), udp=False) as server:
        port = server.ports["tcp"]
        for credentials in (rpc.Credentials(), rpc.Credentials.sys(), rpc.Credentials.gss("svc@localhost", "krb5")):
            with typed.TYPED_V1_Client("127.0.0.1", port, credentials=credentials, timeout=10) as client:
                assert client.typed_null() is None  # NULL stays open
                with pytest.raises(rpc.Rejected) as raised:
                    client.typed_add(1, 2)
                assert raised.value.auth_stat == rpc.AUTH_TOOWEAK
        with typed.TYPED_V1_Client("127.0.0.1", port, credentials=rpc.Credentials.gss("svc@localhost", "krb5i"), timeout=10) as client:
            assert client.typed_add(1, 2) == 3
            with pytest.raises(rpc.Rejected) as raised:
                client.typed_echo("secret")
            assert raised.value.auth_stat == rpc.AUTH_TOOWEAK
        with typed.TYPED_V1_Client("127.0.0.1", port, credentials=rpc.Credentials.gss("svc@localhost", "krb5p"), timeout=10) as client:
            assert client.typed_echo("secret") == "terces"


def test_policy_refuses_a_principal_it_does_not_list(realm: Realm, typed: ModuleType) -> None:
    rpc, gss = sibling_module(typed, "xdr_rpc"), sibling_module(typed, "rpcsec_gss")
    realm.add_principal("bob", "bob.keytab")
    policy = gss.minimum_service("krb5", principals={f"alice@{REALM}"})
    with serving(lambda: _server(typed, realm, auth_policy=policy), udp=False) as server:
        with typed.TYPED_V1_Client("127.0.0.1", server.ports["tcp"], credentials=rpc.Credentials.gss("svc@localhost"), timeout=10) as client:
            assert client.typed_add(1, 2) == 3  # alice
        with realm.activate(KRB5_CLIENT_KTNAME=f"FILE:{realm.workdir / 'bob.keytab'}", KRB5CCNAME=f"FILE:{realm.workdir / 'bob.ccache'}"):
            credentials = rpc.Credentials.gss("svc@localhost", initiator=f"bob@{REALM}")
            with typed.TYPED_V1_Client("127.0.0.1", server.ports["tcp"], credentials=credentials, timeout=10) as client:
                with pytest.raises(rpc.Rejected) as raised:
                    client.typed_add(1, 2)
    assert raised.value.auth_stat == rpc.AUTH_TOOWEAK


# ---- the server's refusals, message by message ---------------------------------------------------

ADD = 1
ARGS = struct.pack(">ii", 2, 40)


class Conversation:
    """A ClientSession and an OncServer's _process fed directly, no sockets: the sans-I/O
    pieces exactly as the clients and the server use them."""

    def __init__(self, server: Any, service: str = "krb5i"):
        self.server = server
        self.session = rpc_runtime.Credentials.gss("svc@localhost", service).session(PROGRAM, V1)  # type: ignore[attr-defined]
        self.xid = 100

    def send(self, message: bytes) -> bytes:
        reply = asyncio.run(self.server._process(message, ("127.0.0.1", 1), "tcp"))
        assert reply is not None
        return bytes(reply)

    def exchange(self, procedure: int, seal: Any) -> bytes:
        self.xid += 1
        message, check = seal(self.xid)
        return rpc_runtime.parse_reply(self.send(message), check)[1]

    def establish(self) -> None:
        while not self.session.established:
            self.exchange(0, self.session.init_call)

    def sealed_add(self) -> bytes:
        self.xid += 1
        return bytes(self.session.data_call(self.xid, ADD, ARGS)[0])


def _auth_stat(reply: bytes) -> int:
    xid, mtype, stat, reject, auth_stat = struct.unpack(">IIIII", reply)
    assert (mtype, stat, reject) == (1, 1, rpc_runtime.AUTH_ERROR), reply.hex()
    return int(auth_stat)


@pytest.fixture
def server(realm: Realm, typed: ModuleType) -> Any:
    return rpc_runtime.OncServer(servers(typed)[0](), gss=gss_runtime.Acceptor("svc@localhost", keytab=realm.workdir / "service.keytab"))


def test_replayed_and_out_of_window_calls_get_ctxproblem(server: Any) -> None:
    talk = Conversation(server)
    talk.establish()
    first = talk.sealed_add()
    assert rpc_runtime.parse_reply(talk.send(first))[0] == talk.xid
    assert _auth_stat(talk.send(first)) == gss_runtime.RPCSEC_GSS_CTXPROBLEM  # the same call again
    stale = talk.sealed_add()
    for _ in range(server.gss.window):
        talk.send(talk.sealed_add())
    assert _auth_stat(talk.send(stale)) == gss_runtime.RPCSEC_GSS_CTXPROBLEM  # fell below the window
    talk.session.seq_num = gss_runtime.MAXSEQ  # the next one is past MAXSEQ
    assert _auth_stat(talk.send(talk.sealed_add())) == gss_runtime.RPCSEC_GSS_CTXPROBLEM


def test_a_corrupted_header_mic_gets_credproblem_and_a_bad_body_garbage_args(server: Any) -> None:
    talk = Conversation(server)
    talk.establish()
    message = bytearray(talk.sealed_add())
    credential_length = struct.unpack_from(">I", message, 28)[0]
    verifier_body = 32 + credential_length + 8
    message[verifier_body + 20] ^= 1  # inside the MIC's checksum
    assert _auth_stat(talk.send(bytes(message))) == gss_runtime.RPCSEC_GSS_CREDPROBLEM
    message = bytearray(talk.sealed_add())
    message[-5] ^= 1  # the integrity checksum of the arguments
    with pytest.raises(rpc_runtime.AcceptError) as raised:
        rpc_runtime.parse_reply(talk.send(bytes(message)))
    assert raised.value.state == rpc_runtime.GARBAGE_ARGS


def test_unknown_context_bad_version_and_bad_service(server: Any) -> None:
    talk = Conversation(server)
    talk.establish()
    talk.session.handle = b"\0" * 16
    assert _auth_stat(talk.send(talk.sealed_add())) == gss_runtime.RPCSEC_GSS_CREDPROBLEM
    header = struct.pack(">IIIIII", 5, 0, 2, PROGRAM, V1, ADD)
    for version, service in ((2, 2), (1, 4)):
        credential = struct.pack(">IIIII", version, 0, 1, service, 0)
        message = header + gss_runtime.opaque_auth(6, credential) + gss_runtime.opaque_auth(0, b"") + ARGS
        assert _auth_stat(talk.send(message)) == rpc_runtime.AUTH_BADCRED
    oversized = header + struct.pack(">II", 6, 401) + bytes(404) + gss_runtime.opaque_auth(0, b"") + ARGS
    assert _auth_stat(talk.send(oversized)) == rpc_runtime.AUTH_BADCRED
    short = header + gss_runtime.opaque_auth(6, bytes(12)) + gss_runtime.opaque_auth(0, b"") + ARGS
    assert _auth_stat(talk.send(short)) == rpc_runtime.AUTH_BADCRED


def test_client_refuses_a_reply_whose_verifier_does_not_check(server: Any) -> None:
    talk = Conversation(server)
    talk.establish()
    message, check = talk.session.data_call(1, ADD, ARGS)
    reply = bytearray(talk.send(message))
    assert check is not None
    rpc_runtime.parse_reply(bytes(reply), check)  # as it came: fine
    reply[30] ^= 1  # inside the verifier (MIC of the sequence number)
    with pytest.raises(gss_runtime.GssError, match="verifier"):
        rpc_runtime.parse_reply(bytes(reply), check)
    reply[30] ^= 1
    reply[-3] ^= 1  # inside the results' checksum
    with pytest.raises(gss_runtime.GssError, match="does not check"):
        rpc_runtime.parse_reply(bytes(reply), check)


def test_garbage_init_tokens_and_init_floods_cost_bounded_memory(realm: Realm, typed: ModuleType) -> None:
    acceptor = gss_runtime.Acceptor("svc@localhost", keytab=realm.workdir / "service.keytab", max_contexts=4)
    server = rpc_runtime.OncServer(servers(typed)[0](), gss=acceptor)
    header = struct.pack(">IIIIII", 9, 0, 2, PROGRAM, V1, 0)
    init = gss_runtime.opaque_auth(6, gss_runtime.Credential(gss_runtime.GssProc.INIT, 0, 2, b"").encode()) + gss_runtime.opaque_auth(0, b"")
    talk = Conversation(server)
    for token in (b"", b"\x60\x82garbage", b"\0" * 5000):
        assert _auth_stat(talk.send(header + init + gss_runtime._opaque(token))) == rpc_runtime.AUTH_REJECTEDCRED
    too_big = header + init + struct.pack(">I", gss_runtime.MAX_TOKEN + 1) + b"\0" * (gss_runtime.MAX_TOKEN + 4)
    assert _auth_stat(talk.send(too_big)) == rpc_runtime.AUTH_REJECTEDCRED
    not_null = struct.pack(">IIIIII", 9, 0, 2, PROGRAM, V1, ADD) + init + gss_runtime._opaque(b"x")
    assert _auth_stat(talk.send(not_null)) == gss_runtime.AUTH_FAILED
    assert acceptor.contexts == {}
    talks = [Conversation(server) for _ in range(10)]
    for each in talks:
        each.establish()
    assert len(acceptor.contexts) == 4 and acceptor.stats["contexts evicted"] == 6
    assert rpc_runtime.parse_reply(talks[-1].send(talks[-1].sealed_add()))[1]  # the young ones work
    assert _auth_stat(talks[0].send(talks[0].sealed_add())) == gss_runtime.RPCSEC_GSS_CREDPROBLEM  # evicted


def test_idle_contexts_expire(realm: Realm, typed: ModuleType) -> None:
    now = [1000.0]
    acceptor = gss_runtime.Acceptor("svc@localhost", keytab=realm.workdir / "service.keytab", idle_timeout=60, clock=lambda: now[0])
    talk = Conversation(rpc_runtime.OncServer(servers(typed)[0](), gss=acceptor))
    talk.establish()
    now[0] += 59
    assert rpc_runtime.parse_reply(talk.send(talk.sealed_add()))[1]
    now[0] += 61
    assert _auth_stat(talk.send(talk.sealed_add())) == gss_runtime.RPCSEC_GSS_CREDPROBLEM
    assert acceptor.contexts == {} and acceptor.stats["contexts expired"] == 1
    # the client's answer to CREDPROBLEM: a new context, and the call again
    assert talk.session.call_blocking(talk.exchange, ADD, ARGS) == struct.pack(">i", 42)
    assert len(acceptor.contexts) == 1


# ---- our bytes as Wireshark reads them ------------------------------------------------------------

TSHARK_FIELDS = ["rpc.xid", "rpc.msgtyp", "rpc.authgss.version", "rpc.authgss.procedure", "rpc.authgss.seqnum", "rpc.authgss.service",
                 "rpc.authgss.context", "rpc.authgss.major", "rpc.authgss.window", "rpc.authgss.data.length", "rpc.authgss.checksum"]


def _text2pcap_dump(outbound: bool, data: bytes) -> str:
    """One packet in text2pcap's hex dump format, with -D's direction mark."""
    rows = [f"{i:06x} " + " ".join(f"{byte:02x}" for byte in data[i : i + 16]) for i in range(0, len(data), 16)]
    return "\n".join(["O" if outbound else "I", *rows]) + "\n"


@requires(program("tshark") and program("text2pcap"), "needs tshark and text2pcap (apt-get install tshark)")
def test_tshark_dissects_our_rpcsec_gss_messages(server: Any, tmp_path: Any) -> None:
    """Wireshark's RPCSEC_GSS dissector (not our decoder) reads the credential, the INIT reply
    and the integrity and privacy bodies of our client's calls as RFC 2203 lays them out."""
    dumps: list[str] = []
    handles = {}
    for service in ("krb5", "krb5i", "krb5p"):
        talk = Conversation(server, service)
        send = talk.send

        def recorded(message: bytes) -> bytes:
            reply = send(message)
            dumps.extend([_text2pcap_dump(True, rpc_runtime.record(message)), _text2pcap_dump(False, rpc_runtime.record(reply))])
            return reply

        talk.send = recorded  # type: ignore[method-assign]
        assert talk.session.call_blocking(talk.exchange, ADD, ARGS) == struct.pack(">i", 42)
        handles[service] = talk.session.handle.hex()
    (tmp_path / "dump.txt").write_text("\n".join(dumps))
    subprocess.run([str(program("text2pcap")), "-q", "-D", "-T", "40000,2049", str(tmp_path / "dump.txt"), str(tmp_path / "gss.pcap")], check=True, timeout=60)
    fields = [argument for name in TSHARK_FIELDS for argument in ("-e", name)]
    done = subprocess.run(
        [str(program("tshark")), "-r", str(tmp_path / "gss.pcap"), "-o", "rpc.dissect_unknown_programs:TRUE", "-d", "tcp.port==2049,rpc", "-T", "fields", *fields],
        capture_output=True, text=True, timeout=60, check=True,
    )
    rows = [dict(zip(TSHARK_FIELDS, line.split("\t"))) for line in done.stdout.splitlines()]
    assert len(rows) == 12  # INIT, its reply, ADD, its reply: for each service
    for index, (service, number) in enumerate((("krb5", "1"), ("krb5i", "2"), ("krb5p", "3"))):
        init, init_reply, call, _ = rows[4 * index : 4 * index + 4]
        assert (init["rpc.authgss.version"], init["rpc.authgss.procedure"], init["rpc.authgss.seqnum"], init["rpc.authgss.service"]) == ("1", "1", "0", number)
        assert (init_reply["rpc.authgss.context"], init_reply["rpc.authgss.major"], init_reply["rpc.authgss.window"]) == (handles[service], "0", str(server.gss.window))
        assert (call["rpc.authgss.procedure"], call["rpc.authgss.service"], call["rpc.authgss.context"]) == ("0", number, handles[service])
        if service == "krb5i":
            assert call["rpc.authgss.seqnum"] == "1,1"  # the credential's, and the one inside the body
            assert call["rpc.authgss.data.length"] == str(4 + len(ARGS))
            assert call["rpc.authgss.checksum"][8:12] == "0404"  # after its length: an RFC 4121 MIC token
        else:
            assert call["rpc.authgss.seqnum"] == "1"
        if service == "krb5p":
            assert int(call["rpc.authgss.data.length"]) > 4 + len(ARGS)  # a wrap token around seq + arguments
