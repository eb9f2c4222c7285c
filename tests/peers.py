"""Real ONC RPC daemons as test peers: started by the test in a temp dir on loopback, polled
until they answer, stopped by PID, their log kept for failure messages.

The pieces:

- ``missing(reason)``: the one place a test gives up because something outside the clone is
  not there (a binary, root): conftest's ``require``, a skip or under CI a failure.
- ``Daemon``: a process we started, its log, ``wait_until(check)`` and ``stop()``.
- ``rpcbind_running()``: the machine's rpcbind (port 111, a singleton): the one already
  answering, or one started here with ``rpcbind -f -i`` and stopped afterwards.
- ``Portmapper``: GETPORT and UNSET over portmap version 2; ``rpcbind`` is a module
  fixture around ``rpcbind_running`` for test modules to import.
- ``daemon_in(...)``: a daemon in a fresh temp dir; ``registered_daemon(...)``: one that
  registers with rpcbind, yielded with its ports once each answers a NULL call.
- ``inetd_daemon(...)``: a daemon handed a loopback UDP socket as its stdin, as inetd does
  (rpc.rstatd and rpc.rusersd then serve that socket and register nothing).
- ``ProgramCalls``: one program version through today's untyped ``BlockingOncClient``,
  with the method names and signatures the generated typed client will have
  (``calls.nfsproc3_getattr(args)``), so the typed client can replace it without touching
  the tests. ``load_corpus_module`` generates its codecs from a corpus file.
- ``reply_states(...)``: how a server answers broken calls; ``tirpc_reply_states`` is what
  libtirpc/ntirpc servers answered.

The plumbing here (pings, GETPORT) uses xdrgen's runtime package directly; tests use the
runtime copied beside their generated modules.
"""

from __future__ import annotations

import contextlib
import keyword
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, NoReturn, Sequence

import pytest
from conftest import require

from xdrgen.runtime import xdr_rpc as rpc

LOOPBACK = "127.0.0.1"
PORTMAP_PROGRAM, PORTMAP_PORT = 100000, 111
IPPROTO_TCP, IPPROTO_UDP = 6, 17
# under load (2 busy cores shared by several agents) a daemon can take seconds to start
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def missing(reason: str) -> NoReturn:
    """Give up on a test whose peer cannot run here (one line saying why): a skip, or a
    failure under XDRGEN_REQUIRE_ALL=1 (conftest's ``require``)."""
    require(False, reason)
    raise AssertionError("unreachable: require(False) skips or fails")


def require_binary(name: str, package: str) -> str:
    """The path of ``name`` (searching sbin too), or ``missing`` naming its Debian package."""
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/lib/yp"]))
    if found is None:
        missing(f"{name} not installed (Debian package {package})")
    return found


def require_root(why: str) -> None:
    if os.geteuid() != 0:
        missing(f"needs root: {why}")


class Daemon:
    """A daemon process this test started: stdout and stderr go to ``log_path``; stopped by PID."""

    def __init__(self, name: str, argv: Sequence[str], workdir: Path, *, stdin: int | None = None, env: dict[str, str] | None = None):
        self.name = name
        self.argv = list(argv)
        self.workdir = workdir
        self.log_path = workdir / f"{name}.out"
        self.extra_logs: list[Path] = []  # files the daemon writes its own log to
        with open(self.log_path, "wb") as log:
            # its own session: a terminal's ^C or the test's signals do not reach it, and
            # stop() can signal exactly it
            self.process = subprocess.Popen(
                self.argv,
                cwd=workdir,
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **env} if env is not None else None,  # added to ours (a realm's KRB5_*)
            )
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self, tail: int = 60) -> str:
        """The last ``tail`` lines of what the daemon printed and logged."""
        parts = []
        for path in [self.log_path, *self.extra_logs]:
            try:
                lines = path.read_text(errors="replace").splitlines()
            except OSError:
                continue
            parts.append(f"--- {path.name} ---\n" + "\n".join(lines[-tail:]))
        return "\n".join(parts)

    def describe(self) -> str:
        state = "running" if self.alive() else f"exited with {self.process.returncode}"
        return f"{self.name} (pid {self.pid}, {state}): {' '.join(self.argv)}\n{self.log()}"

    def wait_until(self, check: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
        """Poll ``check`` until it is true; fail with the daemon's log if it exits first or
        ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            if check():
                return
            if not self.alive():
                pytest.fail(f"{self.name} exited before {what}\n{self.describe()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name}: no {what} within {timeout} s\n{self.describe()}")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited within STOP_TIMEOUT; returns the exit
        status. Signals only this PID, and only while it is our unreaped child."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        return self.process.returncode


def ping(port: int, program: int, version: int, *, udp: bool = False, timeout: float = 2.0) -> bool:
    """Whether procedure 0 of ``program`` ``version`` answers on loopback ``port``."""
    try:
        client = rpc.BlockingOncClient(LOOPBACK, port, program, version, udp=udp, timeout=timeout)
    except OSError:
        return False
    try:
        client.call(0)
        return True
    except (OSError, rpc.RpcError):
        return False
    finally:
        client.close()


class Portmapper:
    """Portmap version 2 on loopback port 111: GETPORT and UNSET, each on a fresh UDP call."""

    def _call(self, procedure: int, program: int, version: int, protocol: int, port: int = 0) -> int:
        client = rpc.BlockingOncClient(LOOPBACK, PORTMAP_PORT, PORTMAP_PROGRAM, 2, udp=True, timeout=5.0)
        try:
            results = client.call(procedure, struct.pack(">IIII", program, version, protocol, port))
        finally:
            client.close()
        (value,) = struct.unpack(">I", results)
        return int(value)

    def getport(self, program: int, version: int, protocol: int = IPPROTO_TCP) -> int:
        """The port ``program`` ``version`` is registered on for ``protocol``; 0 if none."""
        try:
            return self._call(3, program, version, protocol)
        except (OSError, rpc.RpcError):
            return 0

    def unset(self, program: int, version: int) -> None:
        """Drop every registration of ``program`` ``version`` (rpcbind takes UNSET from root
        on loopback), e.g. one a killed daemon left behind."""
        self._call(2, program, version, 0)

    def wait_for(self, daemon: Daemon, program: int, version: int, protocol: int = IPPROTO_TCP) -> int:
        """The port ``daemon`` registered for ``program`` ``version``, once it also answers
        a NULL call there."""
        found: list[int] = []

        def registered_and_answering() -> bool:
            port = self.getport(program, version, protocol)
            if port and ping(port, program, version, udp=protocol == IPPROTO_UDP):
                found.append(port)
                return True
            return False

        daemon.wait_until(registered_and_answering, f"answer to program {program} v{version} via rpcbind")
        return found[-1]


@contextlib.contextmanager
def rpcbind_running() -> Iterator[Portmapper]:
    """A Portmapper for the rpcbind on port 111: the one already answering, else one started
    here (``rpcbind -f -i``: foreground, takes SET from local callers; never ``-w``, which
    brings back stale registrations) and stopped on exit."""
    if ping(PORTMAP_PORT, PORTMAP_PROGRAM, 2):
        yield Portmapper()
        return
    binary = require_binary("rpcbind", "rpcbind")
    require_root("rpcbind binds port 111")
    with tempfile.TemporaryDirectory(prefix="xdrgen-rpcbind-") as workdir:
        daemon = Daemon("rpcbind", [binary, "-f", "-i"], Path(workdir))
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not ping(PORTMAP_PORT, PORTMAP_PROGRAM, 2, timeout=1.0):
                if not daemon.alive() and ping(PORTMAP_PORT, PORTMAP_PROGRAM, 2):
                    break  # another test started one at the same moment: use that one
                if time.monotonic() > deadline or not daemon.alive():
                    pytest.fail(f"rpcbind did not start answering\n{daemon.describe()}")
                time.sleep(0.05)
            yield Portmapper()
        finally:
            daemon.stop()


@pytest.fixture(scope="module")
def rpcbind() -> Iterator[Portmapper]:
    """Module fixture around ``rpcbind_running`` (import it into the test module)."""
    with rpcbind_running() as portmapper:
        yield portmapper


@contextlib.contextmanager
def daemon_in(name: str, argv: Callable[[Path], Sequence[str]], *, prepare: Callable[[Path], None] | None = None, logs: Sequence[str] = ()) -> Iterator[Daemon]:
    """A daemon started in a fresh temp dir (``prepare`` fills it first; ``argv`` gets its
    path) and stopped, by PID, on exit. ``logs`` names files in that dir the daemon writes
    its own log to; failure messages show them."""
    with tempfile.TemporaryDirectory(prefix=f"xdrgen-{name}-") as workdir:
        path = Path(workdir)
        if prepare is not None:
            prepare(path)
        daemon = Daemon(name, argv(path), path)
        daemon.extra_logs = [path / log for log in logs]
        try:
            yield daemon
        finally:
            daemon.stop()


@contextlib.contextmanager
def registered_daemon(
    portmapper: Portmapper,
    name: str,
    argv: Callable[[Path], Sequence[str]],
    registrations: Sequence[tuple[int, int]],
    *,
    prepare: Callable[[Path], None] | None = None,
    logs: Sequence[str] = (),
) -> Iterator[tuple[Daemon, dict[tuple[int, int], int]]]:
    """A daemon that registers the (program, version) pairs ``registrations`` with rpcbind,
    started in a fresh temp dir. Yields it and the TCP port of each pair, once each answers
    a NULL call there. A registration left by a dead daemon is dropped first; a live one
    belongs to someone else, and the test gives up rather than take it over. On exit the
    daemon is stopped by PID and anything it left registered is dropped."""
    for program, version in registrations:
        existing = portmapper.getport(program, version)
        if existing and ping(existing, program, version):
            missing(f"program {program} v{version} is already served on port {existing} by a daemon this test did not start")
        portmapper.unset(program, version)
    with daemon_in(name, argv, prepare=prepare, logs=logs) as daemon:
        try:
            yield daemon, {pair: portmapper.wait_for(daemon, *pair) for pair in registrations}
        finally:
            daemon.stop()
            for program, version in registrations:
                portmapper.unset(program, version)


@contextlib.contextmanager
def inetd_daemon(name: str, argv: Sequence[str], workdir: Path) -> Iterator[tuple[Daemon, int]]:
    """``argv`` started as inetd starts a UDP ``wait`` service: its stdin is a UDP socket
    bound to a free loopback port, which it serves without registering anywhere. Yields the
    daemon and the port; stops it (if it has not already exited on its own) on exit."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        listener.bind((LOOPBACK, 0))
        port = listener.getsockname()[1]
        daemon = Daemon(name, argv, workdir, stdin=listener.fileno())
    finally:
        listener.close()  # the daemon holds its own copy
    try:
        yield daemon, port
    finally:
        daemon.stop()


def free_port() -> int:
    """A TCP and UDP port free on loopback just now (for daemons that must be told a port)."""
    while True:
        with socket.socket() as tcp:
            tcp.bind((LOOPBACK, 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((LOOPBACK, port))
                except OSError:
                    continue
            return port


# attributes the generated clients have besides their procedure methods (issue 14's list)
CLIENT_ATTRIBUTES = frozenset({"start", "stop", "ports", "close", "connect", "call"})


def method_name(procedure: str, type_names: Collection[str] = ()) -> str:
    """A procedure's method name in a generated client: lower-cased, with a trailing ``_``
    where it would clash with a type of the module, a client attribute or a keyword
    (``SM_STAT`` next to struct ``sm_stat`` becomes ``sm_stat_``)."""
    name = procedure.lower()
    if name in type_names or name in CLIENT_ATTRIBUTES or keyword.iskeyword(name):
        name += "_"
    return name


class ProgramCalls:
    """One version of a program called through today's untyped client, shaped like the
    generated typed client will be: one method per procedure, named by ``method_name``,
    taking the ``.x`` arguments and returning the decoded result (None for void). Swapping
    in the typed client leaves the tests' calls as they are. ``raw`` gives the result bytes
    undecoded, for replies that carry more than the result."""

    def __init__(self, client: Any, version: Any, module: Any = None):
        self.client = client
        self.version = version
        type_names = set(getattr(module, "CODECS", ()))
        self.methods = {method_name(procedure.name, type_names): procedure for procedure in version.procedures}

    def _encoded(self, procedure_name: str, arguments: tuple[Any, ...]) -> tuple[Any, bytes]:
        procedure = self.version.procedure(procedure_name)
        if len(arguments) != len(procedure.arguments):
            raise TypeError(f"{procedure.name} takes {len(procedure.arguments)} arguments, got {len(arguments)}")
        return procedure, b"".join(codec.encode(value) for codec, value in zip(procedure.arguments, arguments))

    def raw(self, procedure_name: str, *arguments: Any) -> bytes:
        procedure, encoded = self._encoded(procedure_name, arguments)
        return bytes(self.client.call(procedure.number, encoded))

    def stream(self, procedure_name: str, *arguments: Any) -> list[Any]:
        """The results of a streamed reply (ypserv's YPPROC_ALL), through the runtime."""
        procedure, encoded = self._encoded(procedure_name, arguments)
        return list(self.client.call_stream(procedure.number, encoded, procedure.result))

    def __getattr__(self, attribute: str) -> Callable[..., Any]:
        procedure = self.__dict__.get("methods", {}).get(attribute)
        if procedure is None:
            raise AttributeError(f"{self.version.name} has no procedure method {attribute!r}")

        def call(*arguments: Any) -> Any:
            # as libtirpc: bytes after a complete result are skipped (and counted by the client)
            _, encoded = self._encoded(procedure.name, arguments)
            return self.client.call_decoded(procedure.number, encoded, procedure.result)

        return call

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> ProgramCalls:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

def load_corpus_module(generated_package: Any, relative: str, module_name: str) -> tuple[Any, Any]:
    """The module generated from corpus file ``relative`` (with its tests/corpus_options.py
    defines and pre-includes) and the ``xdr_rpc`` runtime beside it."""
    import importlib

    from corpus_options import CORPUS, options_for

    from xdrgen.compiler import Options, compile_file

    if not (CORPUS / relative).is_file():
        missing(f"corpus file {relative} not found under {CORPUS} (set XDRGEN_CORPUS)")
    defines, pre = options_for(relative)
    module = generated_package.load(compile_file(CORPUS / relative, Options(defines=defines, pre_includes=pre)), module_name)
    return module, importlib.import_module(f"{generated_package.name}.xdr_rpc")


def reply_states(rpc: Any, port: int, program: int, version: int, procedure: int, good_arguments: bytes, credentials: Any) -> dict[str, str]:
    """How a server at loopback ``port`` answers a good call and broken ones, each on a
    fresh TCP connection, as the text of the runtime's exception (or "ok"): an unknown
    procedure, version and program, arguments cut short, AUTH_NONE instead of
    ``credentials``, an unknown credential flavour, a malformed AUTH_SYS body, and RPC
    version 3 ("closed without a reply" where the server hung up instead of answering).
    The auth_stat of a rejection is read from the exception's text, the runtime keeping no
    field for it."""

    def outcome(send: Callable[[], object]) -> str:
        try:
            send()
            return "ok"
        except (rpc.AcceptError, rpc.Rejected) as error:
            return str(error)
        except (ConnectionError, rpc.ConnectionClosed):
            return "closed without a reply"

    def call(prog: int = program, vers: int = version, proc: int = procedure, arguments: bytes = good_arguments, auth: Any = credentials) -> Callable[[], bytes]:
        def send() -> bytes:
            client = rpc.BlockingOncClient(LOOPBACK, port, prog, vers, timeout=30.0, credentials=auth)
            try:
                return bytes(client.call(proc, arguments))
            finally:
                client.close()

        return send

    def rpc_version(number: int) -> Callable[[], bytes]:
        def send() -> bytes:
            message = bytearray(rpc.call_message(1, program, version, 0, b"", credentials))
            message[8:12] = struct.pack(">I", number)  # rpcvers
            with socket.create_connection((LOOPBACK, port), 30.0) as sock:
                sock.sendall(rpc.record(bytes(message)))
                (length,) = struct.unpack(">I", _receive(sock, 4))
                return bytes(rpc.parse_reply(_receive(sock, length & 0x7FFFFFFF))[1])

        return send

    return {
        "good": outcome(call()),
        "unknown procedure": outcome(call(proc=0x7FFF)),
        "unknown version": outcome(call(vers=version + 100)),
        "unknown program": outcome(call(prog=0x3FFFFFF0)),
        "short arguments": outcome(call(arguments=good_arguments[: len(good_arguments) // 2 - 1] or b"\x00")),
        "AUTH_NONE": outcome(call(auth=rpc.Credentials())),
        "unknown flavour": outcome(call(auth=rpc.Credentials(77, b""))),
        "malformed AUTH_SYS": outcome(call(auth=rpc.Credentials(1, b"\x00\x00\x00\x01"))),
        "RPC version 2, by hand": outcome(rpc_version(2)),
        "RPC version 3": outcome(rpc_version(3)),
    }


def tirpc_reply_states(low: int, high: int, *, auth_none: str = "ok") -> dict[str, str]:
    """What ``reply_states`` found from servers built on libtirpc (rpc.statd, ypserv) and
    ganesha's ntirpc alike, serving versions ``low``..``high``: the RFC 5531 accept states,
    AUTH_REJECTEDCRED (2) for an unknown flavour, AUTH_BADCRED (1) for a malformed AUTH_SYS
    body, and no RPC_MISMATCH reply for RPC version 3: the call fails to decode and the
    connection is dropped."""
    return {
        "good": "ok",
        "unknown procedure": "PROC_UNAVAIL",
        "unknown version": f"PROG_MISMATCH (server has versions {low}..{high})",
        "unknown program": "PROG_UNAVAIL",
        "short arguments": "GARBAGE_ARGS",
        "AUTH_NONE": auth_none,
        "unknown flavour": "AUTH_ERROR (auth_stat 2)",
        "malformed AUTH_SYS": "AUTH_ERROR (auth_stat 1)",
        "RPC version 2, by hand": "ok",
        "RPC version 3": "closed without a reply",
    }


def _receive(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("connection closed inside a reply")
        data += chunk
    return data
