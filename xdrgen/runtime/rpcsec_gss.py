"""RPCSEC_GSS (RFC 2203; version 1, as RFC 5403 keeps it) for the ONC RPC clients and servers of
``xdr_rpc``: Kerberos v5 (krb5, krb5i, krb5p) through GSS-API.

Written by xdrgen next to ``xdr_rpc``. Sans-I/O: the objects here make and check message bytes;
``xdr_rpc``'s clients and server move them. GSS-API comes from python-gssapi, imported only when
a GSS credential or acceptor is made (``pip install 'xdrgen-python[gss]'``).

On the wire (as libtirpc does it):

- the credential (flavour RPCSEC_GSS = 6) is ``rpc_gss_cred_vers_1_t``: version 1, gss_proc
  (DATA, INIT, CONTINUE_INIT, DESTROY), seq_num, service (none 1, integrity 2, privacy 3) and the
  context handle;
- INIT / CONTINUE_INIT are calls of procedure 0 whose argument is the GSS token; the reply's
  result is ``rpc_gss_init_res`` (handle, major, minor, seq_window, token) and, once the context
  is complete, its verifier is the MIC of seq_window;
- a DATA call's verifier is the MIC of the call header from the xid through the credential; the
  reply's verifier is the MIC of seq_num;
- integrity: arguments and results are ``opaque(seq_num + data)`` then ``opaque(MIC of it)``;
  privacy: ``opaque(wrap(seq_num + data))`` with confidentiality.

``ClientSession`` is one client context (the INIT token loop, sequence numbers, the window for
calls in flight, checking every reply). ``Acceptor`` is a server's table of contexts: bounded in
number, idle ones expire, replay and window checks of RFC 2203 section 5.3.3.1, and libtirpc's
auth_stat for every refusal. ``minimum_service`` makes an ``auth_policy`` out of the service a
program or procedure needs.
"""

from __future__ import annotations

import enum
import os
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Collection, Mapping

if TYPE_CHECKING:
    from . import xdr_rpc as _rpc
else:
    try:
        from . import xdr_rpc as _rpc
    except ImportError:  # the output folder is on sys.path rather than a package
        import xdr_rpc as _rpc

RPCSEC_GSS = 6
RPCSEC_GSS_VERSION = 1
MAXSEQ = 0x80000000  # a sequence number above it ends the context (RFC 2203 section 5.3.3.1)
GSS_S_COMPLETE, GSS_S_CONTINUE_NEEDED = 0, 1
# auth_stat values beyond RFC 5531's first six
AUTH_FAILED, RPCSEC_GSS_CREDPROBLEM, RPCSEC_GSS_CTXPROBLEM = 7, 13, 14
MAX_TOKEN = 64 * 1024  # an INIT token: a Kerberos AP-REQ with a large PAC is a few KiB
MAX_INIT_ROUNDS = 8  # Kerberos needs one; a server asking for more than this never finishes
INSTALL = "RPCSEC_GSS needs python-gssapi: pip install 'xdrgen-python[gss]'"

_U32 = struct.Struct(">I")


class GssProc(enum.IntEnum):
    DATA = 0
    INIT = 1
    CONTINUE_INIT = 2
    DESTROY = 3


class Service(enum.IntEnum):
    """The protection of a call's arguments and results: krb5 (NONE), krb5i, krb5p."""

    NONE = 1
    INTEGRITY = 2
    PRIVACY = 3


SERVICE_NAMES = {"none": Service.NONE, "krb5": Service.NONE, "integrity": Service.INTEGRITY, "krb5i": Service.INTEGRITY, "privacy": Service.PRIVACY, "krb5p": Service.PRIVACY}


class GssError(_rpc.RpcError):
    """A GSS failure on our side, or a reply whose verifier or wrapping does not check."""


def gssapi_module() -> Any:
    """python-gssapi, or GssError saying how to install it."""
    try:
        import gssapi  # type: ignore[import-not-found,import-untyped,unused-ignore]  # an optional extra
    except ImportError:
        raise GssError(INSTALL) from None
    return gssapi


def service_of(value: Service | int | str) -> Service:
    """A Service from itself, its number, or a name (none/integrity/privacy, krb5/krb5i/krb5p)."""
    if isinstance(value, str):
        if value.lower() not in SERVICE_NAMES:
            raise ValueError(f"unknown RPCSEC_GSS service {value!r}: one of {', '.join(SERVICE_NAMES)}")
        return SERVICE_NAMES[value.lower()]
    return Service(value)


def _opaque(data: bytes) -> bytes:
    return _U32.pack(len(data)) + data + b"\0" * (-len(data) % 4)


def _take_opaque(data: bytes, offset: int, limit: int, what: str) -> tuple[bytes, int]:
    if offset + 4 > len(data):
        raise GssError(f"{what} cut short")
    (length,) = _U32.unpack_from(data, offset)
    end = offset + 4 + length
    if length > limit or end > len(data):
        raise GssError(f"{what} of {length} bytes (at most {min(limit, len(data) - offset - 4)})")
    return data[offset + 4 : end], end + (-length % 4)


@dataclass(frozen=True)
class Credential:
    """``rpc_gss_cred_vers_1_t``: the body of an RPCSEC_GSS credential."""

    proc: int
    seq_num: int
    service: int
    handle: bytes
    version: int = RPCSEC_GSS_VERSION

    def encode(self) -> bytes:
        return struct.pack(">IIII", self.version, self.proc, self.seq_num, self.service) + _opaque(self.handle)

    @classmethod
    def decode(cls, body: bytes) -> Credential:
        """As libtirpc's ``xdr_rpc_gss_cred``: GssError when the body does not hold one."""
        if len(body) < 20:
            raise GssError(f"RPCSEC_GSS credential of {len(body)} bytes")
        version, proc, seq_num, service = struct.unpack_from(">IIII", body)
        handle, _ = _take_opaque(body, 16, _rpc.MAX_AUTH_BYTES, "context handle")
        return cls(proc, seq_num, service, handle, version)


def opaque_auth(flavor: int, body: bytes) -> bytes:
    return _U32.pack(flavor) + _opaque(body)


def call_header(xid: int, program: int, version: int, procedure: int, credential: bytes) -> bytes:
    """The call header from the xid through the credential: what a DATA call's verifier signs."""
    return struct.pack(">IIIIII", xid, 0, _rpc.RPC_VERSION, program, version, procedure) + opaque_auth(RPCSEC_GSS, credential)


def wrap_body(context: Any, service: Service, seq_num: int, data: bytes) -> bytes:
    """Arguments or results under ``service``, for the call ``seq_num``."""
    if service == Service.NONE:
        return data
    body = _U32.pack(seq_num) + data
    if service == Service.INTEGRITY:
        return _opaque(body) + _opaque(context.get_signature(body))
    return _opaque(context.wrap(body, True).message)


def unwrap_body(context: Any, service: Service, seq_num: int, data: bytes) -> bytes:
    """The arguments or results inside ``data``; GssError when its MIC or wrapping does not
    check, it is not encrypted under privacy, or it names another sequence number."""
    if service == Service.NONE:
        return data
    body, end = _take_opaque(data, 0, len(data), "protected body")
    try:
        if service == Service.INTEGRITY:
            checksum, end = _take_opaque(data, end, len(data), "checksum")
            context.verify_signature(body, checksum)
        else:
            unwrapped = context.unwrap(body)
            if not unwrapped.encrypted:
                raise GssError("privacy body not encrypted")
            body = unwrapped.message
    except GssError:
        raise
    except Exception as error:  # gssapi's GSSError family: a bad MIC or token
        raise GssError(f"protected body does not check: {error}") from None
    if end != len(data):
        raise GssError(f"{len(data) - end} bytes after the protected body")
    if len(body) < 4 or _U32.unpack_from(body)[0] != seq_num:
        raise GssError(f"protected body is not for sequence number {seq_num}")
    return body[4:]


def _verify(context: Any, data: bytes, mic: bytes) -> bool:
    try:
        context.verify_signature(data, mic)
    except Exception:  # gssapi's GSSError family: any failure means "does not check"
        return False
    return True


# ---- the client side ---------------------------------------------------------------------------

# (verifier flavour, verifier body, results) -> results: how a reply to one call is checked
ReplyCheck = Callable[[int, bytes, bytes], bytes]
Sealed = tuple[bytes, ReplyCheck | None]


@dataclass(frozen=True)
class GssCredentials(_rpc.Credentials):
    """What a client asks for: the target service (``"nfs@server.example"``, GSS host-based
    name), the protection (``service``) and optionally which of our principals to use
    (``initiator``; else the default one of the credential cache or ``KRB5_CLIENT_KTNAME``).
    Made with ``Credentials.gss(...)``; each connection gets its own ``ClientSession``."""

    flavor: int = RPCSEC_GSS
    target: str = ""
    service: Service = Service.INTEGRITY
    initiator: str | None = None

    def session(self, program: int, version: int) -> ClientSession:
        return ClientSession(self, program, version)


class ClientSession:
    """One client context with one server: INIT / CONTINUE_INIT until the GSS context is
    complete, then DATA calls numbered from 1 and checked on reply, DESTROY at the end.
    ``init_call``, ``data_call`` and ``destroy_call`` give a call message and the check for its
    reply; ``call_blocking`` / ``call_async`` drive them over a client's exchange function,
    establishing the context first and again once when the server answers CREDPROBLEM or
    CTXPROBLEM (it lost or expired the context)."""

    def __init__(self, credentials: GssCredentials, program: int, version: int):
        gssapi = gssapi_module()
        self.credentials, self.program, self.version = credentials, program, version
        self.service = service_of(credentials.service)
        self._gssapi = gssapi
        self._target = gssapi.Name(credentials.target, gssapi.NameType.hostbased_service)
        self.context: Any = None
        self.handle = b""
        self.window = 0
        self.seq_num = 0
        self.established = False
        self._next_token: bytes | None = None  # our answer to the server's token, for CONTINUE_INIT
        self.in_flight = 0
        self._lock: Any = None  # asyncio.Lock / Condition, made inside the loop that uses them
        self._room: Any = None

    def reset(self) -> None:
        """Forget the context (the server lost it, or sequence numbers ran out)."""
        self.context, self.handle, self.window, self.seq_num, self.established = None, b"", 0, 0, False
        self._next_token = None

    def _new_context(self) -> Any:
        gssapi = self._gssapi
        creds = None
        if self.credentials.initiator is not None:
            creds = gssapi.Credentials(name=gssapi.Name(self.credentials.initiator, gssapi.NameType.kerberos_principal), usage="initiate")
        flags = gssapi.RequirementFlag
        wanted = flags.mutual_authentication | flags.integrity | (flags.confidentiality if self.service == Service.PRIVACY else 0)
        return gssapi.SecurityContext(name=self._target, usage="initiate", mech=gssapi.MechType.kerberos, flags=wanted, creds=creds)

    def _message(self, xid: int, procedure: int, credential: Credential, verifier: bytes, arguments: bytes) -> bytes:
        return call_header(xid, self.program, self.version, procedure, credential.encode()) + verifier + arguments

    def init_call(self, xid: int) -> Sealed:
        """The next INIT (or CONTINUE_INIT, carrying our answer to the server's token) call
        and the check of its reply, which steps the context with the server's token and, once
        the server says it is complete, checks the verifier (the MIC of the window)."""
        first = self.context is None
        if first:
            try:
                self.context = self._new_context()
                token = self.context.step()
            except Exception as error:
                self.reset()
                raise GssError(f"cannot start a GSS context for {self.credentials.target}: {error}") from None
        else:
            token = self._next_token
        credential = Credential(GssProc.INIT if first else GssProc.CONTINUE_INIT, 0, self.service, self.handle)
        message = self._message(xid, 0, credential, opaque_auth(_rpc.AUTH_NONE, b""), _opaque(token or b""))
        return message, self._check_init

    def _check_init(self, verifier_flavor: int, verifier: bytes, results: bytes) -> bytes:
        try:
            handle, offset = _take_opaque(results, 0, _rpc.MAX_AUTH_BYTES, "context handle")
            if offset + 12 > len(results):
                raise GssError("rpc_gss_init_res cut short")
            major, minor, window = struct.unpack_from(">III", results, offset)
            token, _ = _take_opaque(results, offset + 12, len(results), "GSS token")
            if major not in (GSS_S_COMPLETE, GSS_S_CONTINUE_NEEDED):
                raise GssError(f"the server's GSS-API failed: major {major:#x}, minor {minor}")
            if token and not self.context.complete:
                try:
                    self._next_token = self.context.step(token)
                except Exception as error:
                    raise GssError(f"the server's GSS token does not check: {error}") from None
            elif major == GSS_S_CONTINUE_NEEDED:
                raise GssError("the server wants another round but sent no token")
            self.handle = handle
            if major == GSS_S_COMPLETE:
                if not self.context.complete:
                    raise GssError("the server completed a context we did not")
                if verifier_flavor != RPCSEC_GSS or not _verify(self.context, _U32.pack(window), verifier):
                    raise GssError("the INIT reply's verifier (MIC of the window) does not check")
                if window < 1:
                    raise GssError("the server gave a sequence window of 0")
                self.window, self.established = window, True
        except GssError:
            self.reset()
            raise
        return b""

    def _next_seq(self) -> int:
        self.seq_num += 1
        return self.seq_num

    def data_call(self, xid: int, procedure: int, arguments: bytes) -> Sealed:
        """A DATA call and the check of its reply (verifier = MIC of seq_num, results
        unwrapped and their sequence number checked)."""
        if not self.established:
            raise GssError("no RPCSEC_GSS context yet")
        seq_num = self._next_seq()
        credential = Credential(GssProc.DATA, seq_num, self.service, self.handle).encode()
        header = call_header(xid, self.program, self.version, procedure, credential)
        verifier = opaque_auth(RPCSEC_GSS, self.context.get_signature(header))
        return header + verifier + wrap_body(self.context, self.service, seq_num, arguments), self._reply_check(seq_num, self.service)

    def destroy_call(self, xid: int) -> Sealed:
        """RPCSEC_GSS_DESTROY for the context (a procedure 0 call, checked like DATA)."""
        seq_num = self._next_seq()
        credential = Credential(GssProc.DESTROY, seq_num, self.service, self.handle).encode()
        header = call_header(xid, self.program, self.version, 0, credential)
        message = header + opaque_auth(RPCSEC_GSS, self.context.get_signature(header))
        return message, self._reply_check(seq_num, Service.NONE)

    def _reply_check(self, seq_num: int, service: Service) -> ReplyCheck:
        context = self.context

        def check(verifier_flavor: int, verifier: bytes, results: bytes) -> bytes:
            if verifier_flavor != RPCSEC_GSS or not _verify(context, _U32.pack(seq_num), verifier):
                raise GssError(f"the reply's verifier (MIC of sequence number {seq_num}) does not check")
            return unwrap_body(context, service, seq_num, results)

        return check

    def _needs_context(self) -> bool:
        return not self.established or self.seq_num >= MAXSEQ - 1

    @staticmethod
    def _lost_context(error: BaseException) -> bool:
        # by its auth_stat, not its class: the client may use another copy of xdr_rpc
        return getattr(error, "auth_stat", None) in (RPCSEC_GSS_CREDPROBLEM, RPCSEC_GSS_CTXPROBLEM)

    def _init_rounds(self) -> range:
        """The INIT / CONTINUE_INIT round trips allowed: a server that never completes is an error."""
        self.reset()
        return range(MAX_INIT_ROUNDS)

    def _not_established(self) -> GssError:
        self.reset()
        return GssError(f"no RPCSEC_GSS context with {self.credentials.target} after {MAX_INIT_ROUNDS} round trips")

    def call_blocking(self, exchange: Callable[[int, Callable[[int], Sealed]], bytes], procedure: int, arguments: bytes) -> bytes:
        """A DATA call over ``exchange(procedure, seal)`` (which gives ``seal`` the xid and
        sends the message it returns), establishing the context first when needed."""
        for attempt in (1, 2):
            if self._needs_context():
                for _ in self._init_rounds():
                    exchange(0, self.init_call)
                    if self.established:
                        break
                else:
                    raise self._not_established()
            try:
                return exchange(procedure, lambda xid: self.data_call(xid, procedure, arguments))
            except Exception as error:  # Rejected, of whichever xdr_rpc sent the call
                if attempt == 2 or not self._lost_context(error):
                    raise
                self.reset()
        raise AssertionError("unreachable")

    async def call_async(self, exchange: Callable[[int, Callable[[int], Sealed]], Awaitable[bytes]], procedure: int, arguments: bytes) -> bytes:
        """As ``call_blocking`` for the asyncio client: one establishment at a time, and at
        most ``window`` DATA calls in flight (the server drops sequence numbers that fall
        out of its window)."""
        import asyncio

        if self._lock is None:
            self._lock, self._room = asyncio.Lock(), asyncio.Condition()
        for attempt in (1, 2):
            async with self._lock:
                if self._needs_context():
                    for _ in self._init_rounds():
                        await exchange(0, self.init_call)
                        if self.established:
                            break
                    else:
                        raise self._not_established()
                    async with self._room:
                        self._room.notify_all()  # the window may have grown
            async with self._room:
                await self._room.wait_for(lambda: self.in_flight < self.window)
                self.in_flight += 1
            used = self.context
            try:
                return await exchange(procedure, lambda xid: self.data_call(xid, procedure, arguments))
            except Exception as error:  # Rejected, of whichever xdr_rpc sent the call
                if attempt == 2 or not self._lost_context(error):
                    raise
                if self.context is used:  # not made again already by another call
                    self.established = False
            finally:
                async with self._room:
                    self.in_flight -= 1
                    self._room.notify_all()
        raise AssertionError("unreachable")


# ---- the server side ---------------------------------------------------------------------------


@dataclass
class ServerContext:
    """One context a client made with the server: its GSS context, the principal, the
    sequence window (highest number seen and a bit per number below it) and when it was used."""

    gss: Any
    handle: bytes
    window: int
    last_used: float
    principal: str | None = None
    seq_last: int = 0
    seen: int = 0  # bit i: seq_last - i was received

    def accept_seq(self, seq_num: int) -> bool:
        """RFC 2203 section 5.3.3.1: False for a replay or a number below the window."""
        if seq_num > self.seq_last:
            self.seen = ((self.seen << (seq_num - self.seq_last)) | 1) & ((1 << self.window) - 1)
            self.seq_last = seq_num
            return True
        offset = self.seq_last - seq_num
        if offset >= self.window or self.seen >> offset & 1:
            return False
        self.seen |= 1 << offset
        return True


@dataclass(frozen=True)
class Caller:
    """Who made an RPCSEC_GSS call, for the handler (``CallContext.gss``)."""

    principal: str
    service: Service


@dataclass
class Verdict:
    """What the server does with an RPCSEC_GSS call: send ``reply`` as it is (a control
    procedure's answer or a refusal), or run the procedure on ``arguments`` and answer with
    ``accepted`` (which signs the reply and protects the results)."""

    xid: int
    reply: bytes | None = None
    arguments: bytes = b""
    caller: Caller | None = None
    context: ServerContext | None = None
    seq_num: int = 0
    service: Service = Service.NONE

    def accepted(self, state: int, body: bytes = b"") -> bytes:
        assert self.context is not None
        verifier = self.context.gss.get_signature(_U32.pack(self.seq_num))
        if state == _rpc.SUCCESS:
            body = wrap_body(self.context.gss, self.service, self.seq_num, body)
        return struct.pack(">III", self.xid, 1, 0) + opaque_auth(RPCSEC_GSS, verifier) + _U32.pack(state) + body


def _denied(xid: int, auth_stat: int) -> Verdict:
    return Verdict(xid, struct.pack(">IIIII", xid, 1, 1, _rpc.AUTH_ERROR, auth_stat))


class Acceptor:
    """A server's RPCSEC_GSS side: accepts contexts for ``principal`` (a host-based name,
    ``"nfs@server.example"``; None: any key in the keytab) with the keys of ``keytab`` (else
    ``KRB5_KTNAME`` or the system keytab), keeps at most ``max_contexts`` of them (the least
    recently used goes first) and drops those idle for ``idle_timeout`` seconds. Every refusal
    carries the auth_stat libtirpc gives: AUTH_BADCRED (bad credential, version or service),
    AUTH_REJECTEDCRED (a GSS token that does not check), AUTH_FAILED (INIT on a procedure
    other than 0), RPCSEC_GSS_CREDPROBLEM (unknown or incomplete context, a header MIC that
    does not check), RPCSEC_GSS_CTXPROBLEM (a replayed, too old or too large sequence number);
    arguments whose protection does not check are GARBAGE_ARGS."""

    def __init__(self, principal: str | None = None, *, keytab: str | os.PathLike[str] | None = None, window: int = 128, max_contexts: int = 1024, idle_timeout: float = 300.0, clock: Callable[[], float] = time.monotonic):
        gssapi = gssapi_module()
        self._gssapi = gssapi
        store = {"keytab": os.fspath(keytab)} if keytab is not None else None
        name = gssapi.Name(principal, gssapi.NameType.hostbased_service) if principal else None
        kerberos = [gssapi.MechType.kerberos]  # as libtirpc: not SPNEGO, which would answer anything
        try:
            if store:
                self.credentials = gssapi.Credentials(name=name, usage="accept", mechs=kerberos, store=store)
            else:
                self.credentials = gssapi.Credentials(name=name, usage="accept", mechs=kerberos)
        except Exception as error:
            raise GssError(f"no keys to accept RPCSEC_GSS contexts for {principal or 'any principal'}: {error}") from None
        self.window, self.max_contexts, self.idle_timeout, self.clock = window, max_contexts, idle_timeout, clock
        self.contexts: dict[bytes, ServerContext] = {}  # oldest use first
        self.stats = {"contexts made": 0, "contexts evicted": 0, "contexts expired": 0, "refused": 0}

    def _lookup(self, handle: bytes, now: float) -> ServerContext | None:
        context = self.contexts.pop(handle, None)
        if context is None:
            return None
        if now - context.last_used > self.idle_timeout:
            self.stats["contexts expired"] += 1
            return None
        context.last_used = now
        self.contexts[handle] = context  # to the young end
        return context

    def _expire(self, now: float) -> None:
        while self.contexts:
            handle, oldest = next(iter(self.contexts.items()))
            if now - oldest.last_used <= self.idle_timeout and len(self.contexts) < self.max_contexts:
                return
            del self.contexts[handle]
            self.stats["contexts expired" if now - oldest.last_used > self.idle_timeout else "contexts evicted"] += 1

    def receive(self, message: bytes, arguments_offset: int, credential_body: bytes, verifier_body: bytes) -> Verdict:
        """Check one RPCSEC_GSS call (``message`` whole; its arguments start at
        ``arguments_offset``): a Verdict to answer it with."""
        xid, _, _, program, version, procedure = struct.unpack_from(">IIIIII", message)
        verdict = self._receive(xid, program, version, procedure, message, arguments_offset, credential_body, verifier_body)
        if verdict.reply is not None and verdict.context is None:
            self.stats["refused"] += 1
        return verdict

    def _receive(self, xid: int, program: int, version: int, procedure: int, message: bytes, arguments_offset: int, body: bytes, verifier: bytes) -> Verdict:
        try:
            credential = Credential.decode(body)
        except GssError:
            return _denied(xid, _rpc.AUTH_BADCRED)
        if credential.version != RPCSEC_GSS_VERSION or credential.service not in Service._value2member_map_:
            return _denied(xid, _rpc.AUTH_BADCRED)
        now = self.clock()
        if credential.proc in (GssProc.INIT, GssProc.CONTINUE_INIT):
            if procedure != 0:
                return _denied(xid, AUTH_FAILED)
            return self._init(xid, credential, message, arguments_offset, now)
        if credential.proc not in (GssProc.DATA, GssProc.DESTROY):
            return _denied(xid, _rpc.AUTH_REJECTEDCRED)
        if credential.proc == GssProc.DESTROY and procedure != 0:
            return _denied(xid, AUTH_FAILED)
        context = self._lookup(credential.handle, now)
        if context is None or not context.gss.complete:
            return _denied(xid, RPCSEC_GSS_CREDPROBLEM)
        header = call_header(xid, program, version, procedure, body)
        if not _verify(context.gss, header, verifier):
            return _denied(xid, RPCSEC_GSS_CREDPROBLEM)
        if credential.seq_num > MAXSEQ or not context.accept_seq(credential.seq_num):
            return _denied(xid, RPCSEC_GSS_CTXPROBLEM)
        service = Service(credential.service)
        verdict = Verdict(xid, context=context, seq_num=credential.seq_num, service=service, caller=Caller(context.principal or "", service))
        if credential.proc == GssProc.DESTROY:
            del self.contexts[credential.handle]
            verdict.service = Service.NONE
            verdict.reply = verdict.accepted(_rpc.SUCCESS)
            return verdict
        try:
            verdict.arguments = unwrap_body(context.gss, service, credential.seq_num, message[arguments_offset:])
        except GssError:
            verdict.reply = verdict.accepted(_rpc.GARBAGE_ARGS)
        return verdict

    def _init(self, xid: int, credential: Credential, message: bytes, offset: int, now: float) -> Verdict:
        try:
            token, end = _take_opaque(message, offset, MAX_TOKEN, "INIT token")
        except GssError:
            return _denied(xid, _rpc.AUTH_REJECTEDCRED)
        if not token:
            return _denied(xid, _rpc.AUTH_REJECTEDCRED)
        if credential.proc == GssProc.INIT:
            handle = os.urandom(16)
            context = ServerContext(self._gssapi.SecurityContext(creds=self.credentials, usage="accept"), handle, self.window, now)
        else:
            found = self._lookup(credential.handle, now)
            if found is None or found.gss.complete:
                return _denied(xid, RPCSEC_GSS_CREDPROBLEM)
            context = found
        try:
            answer = context.gss.step(token) or b""
        except Exception:  # gssapi's GSSError family: a token that does not check
            self.contexts.pop(context.handle, None)
            return _denied(xid, _rpc.AUTH_REJECTEDCRED)
        if credential.proc == GssProc.INIT:
            self._expire(now)
            self.contexts[context.handle] = context
            self.stats["contexts made"] += 1
        verifier = opaque_auth(_rpc.AUTH_NONE, b"")
        major = GSS_S_CONTINUE_NEEDED
        if context.gss.complete:
            major = GSS_S_COMPLETE
            context.principal = str(context.gss.initiator_name)
            verifier = opaque_auth(RPCSEC_GSS, context.gss.get_signature(_U32.pack(self.window)))
        result = _opaque(context.handle) + struct.pack(">III", major, 0, self.window) + _opaque(answer)
        return Verdict(xid, struct.pack(">III", xid, 1, 0) + verifier + _U32.pack(_rpc.SUCCESS) + result, context=context)


def minimum_service(
    default: Service | str | None = None,
    *,
    programs: Mapping[int, Service | str] | None = None,
    procedures: Mapping[tuple[int, int, int], Service | str] | None = None,
    principals: Collection[str] | None = None,
) -> Callable[[Any], bool]:
    """An ``auth_policy`` for OncServer: a call to ``(program, version, procedure)`` in
    ``procedures``, else to a program in ``programs``, else any call when ``default`` is set,
    must come over RPCSEC_GSS with at least that service, and from one of ``principals``
    (``"alice@REALM"``) when they are given; others get AUTH_TOOWEAK. Procedure 0 (NULL) is
    always allowed, as clients probe with it."""
    by_program = {number: service_of(s) for number, s in (programs or {}).items()}
    by_procedure = {key: service_of(s) for key, s in (procedures or {}).items()}
    fallback = service_of(default) if default is not None else None

    def policy(context: Any) -> bool:
        if context.procedure == 0:
            return True
        needed = by_procedure.get((context.program, context.version, context.procedure), by_program.get(context.program, fallback))
        if needed is None:
            return True
        caller = context.gss
        return caller is not None and caller.service >= needed and (principals is None or caller.principal in principals)

    return policy
