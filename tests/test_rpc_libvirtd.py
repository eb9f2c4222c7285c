"""libvirt RPC against a real peer: Debian's libvirtd with its test:///default driver, spoken
to with a client generated from the corpus's remote_protocol.x (C names from -D values)."""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import socket
import struct
import subprocess
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest
from conftest import program, requires, requires_corpus
from corpus_options import CORPUS, options_for

from xdrgen.compiler import Options, compile_file

LIBVIRTD = program("libvirtd")
VIRSH = program("virsh")
DRIVER_MODULES = ("libvirt_driver_secret.so", "libvirt_driver_nodedev.so")
# Debian's multiarch folder (x86_64-linux-gnu, aarch64-linux-gnu, ...)
DRIVERS = next((d for d in Path("/usr/lib").glob("*/libvirt/connection-driver") if (d / DRIVER_MODULES[0]).exists()), None)
LIFECYCLE_EVENT_ID = 0  # VIR_DOMAIN_EVENT_ID_LIFECYCLE
STARTED, STOPPED = 2, 5  # virDomainEventType

pytestmark = [
    requires_corpus,
    requires(LIBVIRTD and DRIVERS, "needs libvirtd and its driver modules (apt-get install libvirt-daemon)"),
    requires(VIRSH, "needs virsh (apt-get install libvirt-clients)"),
]


@pytest.fixture(scope="module")
def libvirtd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """libvirtd in a temp dir of its own: its socket there, no auth on it, and a driver folder
    holding only two harmless driver modules (the qemu module aborts start-up on a machine with
    no libvirt-qemu user; the test driver is built into libvirt itself)."""
    home = tmp_path_factory.mktemp("libvirtd")
    drivers = home / "drivers"
    drivers.mkdir()
    assert LIBVIRTD is not None and VIRSH is not None and DRIVERS is not None
    for module in DRIVER_MODULES:
        (drivers / module).symlink_to(DRIVERS / module)
    config = home / "libvirtd.conf"
    config.write_text(
        f'unix_sock_dir = "{home}"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n'
        'listen_tls = 0\nlisten_tcp = 0\nlog_outputs = "3:stderr"\n'
        # clients that ask for keepalive are PINGed each second and dropped after 2 silent ones
        "keepalive_interval = 1\nkeepalive_count = 2\n"
    )
    env = {**os.environ, "LIBVIRT_DRIVER_DIR": str(drivers)}
    daemon = subprocess.Popen(
        [LIBVIRTD, "--config", str(config), "--pid-file", str(home / "libvirtd.pid")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(home / "libvirtd.log", "wb"),
    )
    socket_path = home / "libvirt-sock"
    deadline = time.monotonic() + 30
    while not socket_path.exists():
        assert daemon.poll() is None, (home / "libvirtd.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "libvirtd did not create its socket"
        time.sleep(0.1)
    yield socket_path
    daemon.terminate()
    daemon.wait(15)


@pytest.fixture(scope="module")
def remote(generated_package) -> ModuleType:  # type: ignore[no-untyped-def]
    defines, pre = options_for("libvirt/remote_protocol.x")
    compiled = compile_file(CORPUS / "libvirt" / "remote_protocol.x", Options(defines=defines, pre_includes=pre))
    return generated_package.load(compiled, "libvirt_remote")  # type: ignore[no-any-return]


def procedure_codecs(remote: ModuleType) -> tuple[dict[int, tuple[Any, Any]], dict[int, Any]]:
    """libvirt's naming convention: REMOTE_PROC_FOO_BAR takes remote_foo_bar_args and returns
    remote_foo_bar_ret; events carry remote_foo_bar_msg."""
    procedures, events = {}, {}
    for member in remote.remote_procedure:
        base = "remote_" + member.name.removeprefix("REMOTE_PROC_").lower()
        codecs = remote.CODECS
        procedures[member.value] = (codecs.get(base + "_args"), codecs.get(base + "_ret"))
        if base + "_msg" in codecs:
            events[member.value] = codecs[base + "_msg"]
    return procedures, events


def virsh(socket_path: Path, *args: str) -> str:
    uri = f"test+unix:///default?socket={socket_path}"
    return subprocess.run([VIRSH, "-c", uri, *args], capture_output=True, text=True, check=True, timeout=60).stdout


def test_connect_version_list_and_lifecycle_events(libvirtd: Path, remote: ModuleType) -> None:
    rpc = importlib.import_module(remote.__name__.rsplit(".", 1)[0] + ".xdr_rpc")
    P = remote.remote_procedure
    procedures, events = procedure_codecs(remote)

    async def scenario() -> None:
        client = await rpc.Client.connect_unix(
            str(libvirtd), remote.REMOTE_PROGRAM, remote.REMOTE_PROTOCOL_VERSION,
            procedures=procedures, events=events, error_codec=remote.codec("remote_error"),
        )
        received: asyncio.Queue[Any] = asyncio.Queue()
        client.on_event(P.REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, received.put_nowait)

        await client.call(P.REMOTE_PROC_CONNECT_OPEN, remote.remote_connect_open_args("test:///default", 0))
        version = await client.call(P.REMOTE_PROC_CONNECT_GET_VERSION)
        assert version.hv_ver > 0
        listed = await client.call(P.REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS, remote.remote_connect_list_all_domains_args(1, 0))
        names = sorted(d.name for d in listed.domains)
        assert names == sorted(virsh(libvirtd, "list", "--all", "--name").split())
        assert "test" in names

        registered = await client.call(
            P.REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
            remote.remote_connect_domain_event_callback_register_any_args(LIFECYCLE_EVENT_ID, None),
        )
        domain = (await client.call(P.REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, remote.remote_domain_lookup_by_name_args("test"))).dom
        await client.call(P.REMOTE_PROC_DOMAIN_DESTROY, remote.remote_domain_destroy_args(domain))
        await client.call(P.REMOTE_PROC_DOMAIN_CREATE, remote.remote_domain_create_args(domain))
        seen = [await asyncio.wait_for(received.get(), 10) for _ in range(2)]
        assert [(m.callbackID, m.msg.dom.name, m.msg.event) for m in seen] == [
            (registered.callbackID, "test", STOPPED),
            (registered.callbackID, "test", STARTED),
        ]
        with pytest.raises(rpc.RemoteError) as error:  # a libvirt error, decoded as remote_error
            await client.call(P.REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, remote.remote_domain_lookup_by_name_args("no-such-domain"))
        assert (error.value.error.code, error.value.error.message) == (42, "Domain not found")  # VIR_ERR_NO_DOMAIN
        await client.call(P.REMOTE_PROC_CONNECT_CLOSE)
        await client.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_typed_client_calls_and_lifecycle_events(libvirtd: Path, remote: ModuleType) -> None:
    """The same conversation through the generated REMOTE_Client (libvirt_remote_rpc.py): typed
    methods with the argument fields as parameters, a typed event callback, remote_error raised."""
    rpc = importlib.import_module(remote.__name__.rsplit(".", 1)[0] + ".xdr_rpc")

    async def scenario() -> None:
        async with await remote.REMOTE_Client.connect_unix(str(libvirtd)) as client:
            received: asyncio.Queue[Any] = asyncio.Queue()
            client.on_domain_event_callback_lifecycle(received.put_nowait)
            assert await client.connect_open("test:///default", 0) is None
            version = await client.connect_get_version()
            assert isinstance(version, remote.remote_connect_get_version_ret) and version.hv_ver > 0
            listed = await client.connect_list_all_domains(1, 0)
            assert sorted(d.name for d in listed.domains) == sorted(virsh(libvirtd, "list", "--all", "--name").split())
            registered = await client.connect_domain_event_callback_register_any(LIFECYCLE_EVENT_ID, None)
            domain = (await client.domain_lookup_by_name("test")).dom
            await client.domain_destroy(domain)
            await client.domain_create(domain)
            seen = [await asyncio.wait_for(received.get(), 10) for _ in range(2)]
            assert all(isinstance(m, remote.remote_domain_event_callback_lifecycle_msg) for m in seen)
            assert [(m.callbackID, m.msg.dom.name, m.msg.event) for m in seen] == [
                (registered.callbackID, "test", STOPPED),
                (registered.callbackID, "test", STARTED),
            ]
            with pytest.raises(rpc.RemoteError) as error:
                await client.domain_lookup_by_name("no-such-domain")
            assert isinstance(error.value.error, remote.remote_error)
            assert (error.value.error.code, error.value.error.message) == (42, "Domain not found")  # VIR_ERR_NO_DOMAIN
            await client.connect_close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


# ---- the typed server next to libvirtd: the same bytes for the same frames ------------------

KEEPALIVE_PROGRAM = 0x6B656570  # virkeepaliveprotocol.x


def raw_frame(program: int, version: int, procedure: int, kind: int, serial: int, status: int, payload: bytes = b"") -> bytes:
    """A frame laid out by hand (virnetprotocol.x), so header fields may be anything."""
    return struct.pack(">IIIiIIi", 28 + len(payload), program, version, procedure, kind, serial, status) + payload


def exchange(path: str, frames: list[bytes], count: int) -> list[bytes]:
    """Send ``frames`` on one fresh connection; the first ``count`` frames that come back
    (each frame's bytes), in serial order: libvirtd answers calls from a pool of workers."""
    received: list[bytes] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(20)
        sock.connect(path)
        sock.sendall(b"".join(frames))
        stream = sock.makefile("rb")
        while len(received) < count:
            length_word = stream.read(4)
            assert len(length_word) == 4, f"connection closed after {received}"
            received.append(length_word + stream.read(struct.unpack(">I", length_word)[0] - 4))
    return sorted(received, key=lambda frame: frame[20:24])


def test_broken_headers_are_refused_as_libvirtd_refuses_them(libvirtd: Path, remote: ModuleType, tmp_path: Path) -> None:
    """A CALL of another version, with a status other than OK, of an unknown program or
    procedure, and frames a client may not send (REPLY, MESSAGE, STREAM of no stream, an unknown
    type): libvirtd's answers, byte for byte, from the typed server; the connection stays up."""
    rpc = importlib.import_module(remote.__name__.rsplit(".", 1)[0] + ".xdr_rpc")
    program = remote.REMOTE_PROGRAM
    frames = [
        raw_frame(program, 2, 157, 0, 1, 0),  # version 2
        raw_frame(program, 1, 157, 0, 2, 1),  # status ERROR
        raw_frame(program, 1, 157, 0, 3, 2, b"\0" * 8),  # status CONTINUE, with a payload
        raw_frame(program, 1, 157, 0, 4, 7),  # no such status
        raw_frame(0x12345678, 1, 1, 0, 5, 0),  # unknown program
        raw_frame(KEEPALIVE_PROGRAM, 1, 1, 0, 6, 0),  # the keepalive program takes no calls
        raw_frame(program, 1, 99999, 0, 7, 0),  # unknown procedure
        raw_frame(program, 2, 99999, 0, 8, 1),  # the version is looked at first, then the status
        raw_frame(program, 1, 99999, 0, 9, 1),
        raw_frame(program, 1, 157, 1, 10, 0),  # REPLY from a client: dropped
        raw_frame(program, 1, 157, 2, 11, 0),  # MESSAGE: dropped
        raw_frame(program, 1, 157, 3, 12, 2, b"data"),  # STREAM of no stream: dropped
        raw_frame(program, 1, 157, 3, 13, 1),
        raw_frame(program, 1, 157, 5, 14, 0),  # REPLY_WITH_FDS
        raw_frame(program, 1, 157, 9, 15, 0),  # no such type
        raw_frame(program, 2, 157, 4, 17, 0, b"\0" * 4),  # CALL_WITH_FDS passing no descriptors: a CALL
        raw_frame(program, 2, 157, 0, 16, 0),  # the connection is still up
    ]
    expected = exchange(str(libvirtd), frames, 11)  # one reply per refused call, none for the dropped frames
    assert [struct.unpack(">I", reply[20:24])[0] for reply in expected] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17]

    async def scenario() -> list[bytes]:
        server = remote.REMOTE_Server()
        await server.serve_unix(str(tmp_path / "typed.sock"))
        got = await asyncio.to_thread(exchange, str(tmp_path / "typed.sock"), frames, 11)
        await server.stop()
        assert server.errors.counts["refused call"] == 10 and server.errors.counts["ignored frame"] == 6
        return got

    assert asyncio.run(asyncio.wait_for(scenario(), 60)) == expected
    assert rpc.MessageError.decode(expected[0][28:]).message == "Cannot find program 536903814 version 2"


# ---- virsh through a typed proxy: libvirtd's answers, errors and events, unchanged -----------


def typed_proxy(remote: ModuleType, upstream: Path) -> Any:
    """A REMOTE_Server forwarding every call of each client to a REMOTE_Client of its own
    connected to ``upstream``, and that client's events back: a handler raises the
    RemoteError the typed client received; a read stream's handler returns the upstream's
    Stream as its chunks, a write stream's hands its incoming data on."""

    class Proxy(remote.REMOTE_Server):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            super().__init__(on_connect=self.open_upstream)
            self.upstreams: dict[Any, Any] = {}
            for spec in self.CALLS:
                self.handlers[spec.number] = (self.forwarder(spec.number), *self.handlers[spec.number][1:])

        async def open_upstream(self, connection: Any) -> None:
            client = await remote.REMOTE_Client.connect_unix(str(upstream))
            for spec in client.EVENTS:
                client.client.on_event(spec.number, lambda value, spec=spec: connection.send_event(spec.number, value, spec.message))
            self.upstreams[connection] = client

        def forwarder(self, number: int) -> Any:
            async def forward(connection: Any, *arguments: Any) -> Any:
                client = self.upstreams[connection].client
                if self.stream_procedures.get(number) == "read":  # (result, the upstream's Stream as chunks)
                    return await client.call_reading(number, *arguments)
                if self.stream_procedures.get(number) == "write":
                    *arguments, data = arguments
                    return await client.call_writing(number, *arguments, data=data)
                return await client.call(number, *arguments)

            return forward

    return Proxy()


def run_virsh(socket_path: Path | str, *args: str) -> tuple[int, str, str]:
    """virsh's exit status, output and errors; the test driver's CPU time is the clock's."""
    uri = f"test+unix:///default?socket={socket_path}"
    done = subprocess.run([VIRSH, "-c", uri, *args], capture_output=True, text=True, timeout=60)
    return done.returncode, re.sub(r"(CPU time:\s+)\S+", r"\1-", done.stdout), done.stderr


VIRSH_COMMANDS = [
    ("list", "--all"),
    ("dominfo", "test"),
    ("domstate", "--reason", "test"),
    ("dumpxml", "test"),
    ("domjobinfo", "test"),  # VIR_ERR_NO_SUPPORT from the test driver: virsh's fallback tests the code
    ("dominfo", "no-such-domain"),
    ("suspend", "test"),
    ("destroy test; domstate test; start test; domstate test; suspend test; resume test; domstate test",),
    ("undefine", "test"),  # a running domain: an error carrying the domain
    ("net-list", "--all"),
    ("net-info", "no-such-net"),
    ("pool-list", "--all"),
    ("vol-list", "default-pool"),
    ("nodeinfo",),
    ("version",),
    ("hostname",),
    ("capabilities",),
    ("define", "/no/such/file.xml"),
    ("vol-upload", "--pool", "default-pool", "no-such-vol", "/dev/null"),
]


def test_virsh_cannot_tell_a_typed_proxy_from_libvirtd(libvirtd: Path, remote: ModuleType, tmp_path: Path) -> None:
    """virsh's output, errors and exit status through the proxy are libvirtd's own, for
    listings, lifecycle commands and errors (the errors pass through intact: code, domain,
    message and fields); a lifecycle event reaches `virsh event` through the proxy, and
    `virsh screenshot` gets libvirtd's bytes through it (a stream relayed)."""
    proxy_path = tmp_path / "proxy.sock"

    async def scenario() -> None:
        proxy = typed_proxy(remote, libvirtd)
        await proxy.serve_unix(str(proxy_path))
        for command in VIRSH_COMMANDS:
            direct = await asyncio.to_thread(run_virsh, libvirtd, *command)
            through = await asyncio.to_thread(run_virsh, proxy_path, *command)
            assert through == direct, command
        assert "error: failed to get domain 'no-such-domain'" in (await asyncio.to_thread(run_virsh, proxy_path, "dominfo", "no-such-domain"))[2]
        # a stream through the proxy: libvirtd's screenshot, relayed chunk by chunk
        for where, name in ((libvirtd, "direct.png"), (proxy_path, "proxied.png")):
            assert (await asyncio.to_thread(run_virsh, where, "screenshot", "test", str(tmp_path / name)))[0] == 0
        assert (tmp_path / "proxied.png").read_bytes() == (tmp_path / "direct.png").read_bytes()
        # an event through the proxy: virsh waits for two lifecycle events while another virsh
        # (also through the proxy, the test driver's state being shared) destroys and starts
        uri = f"test+unix:///default?socket={proxy_path}"
        watcher = await asyncio.create_subprocess_exec(
            VIRSH, "-c", uri, "event", "--domain", "test", "--event", "lifecycle", "--loop",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        assert watcher.stdout is not None
        try:
            deadline = time.monotonic() + 20
            while not proxy.connections and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # its callback registered (virsh says nothing when it is)
            assert (await asyncio.to_thread(run_virsh, proxy_path, "destroy test; start test"))[0] == 0
            lines = [(await asyncio.wait_for(watcher.stdout.readline(), 20)).decode().strip() for _ in range(2)]
        finally:
            watcher.terminate()
            await watcher.wait()
        assert lines == ["event 'lifecycle' for domain 'test': Stopped Destroyed", "event 'lifecycle' for domain 'test': Started Booted"]
        for client in proxy.upstreams.values():
            await client.close()
        await proxy.stop()

    asyncio.run(asyncio.wait_for(scenario(), 240))


# ---- keepalive ---------------------------------------------------------------------------------


def keepalive_server(remote: ModuleType) -> Any:
    """The least a server needs for `virsh event`: no auth, open/close, event callbacks."""

    class Events(remote.REMOTE_Server):  # type: ignore[name-defined,misc]
        def auth_list(self, connection: Any) -> Any:
            return remote.remote_auth_list_ret([0])  # REMOTE_AUTH_NONE

        def connect_supports_feature(self, connection: Any, feature: int) -> Any:
            return remote.remote_connect_supports_feature_ret(int(feature == 14))  # REMOTE_EVENT_CALLBACK

        def connect_open(self, connection: Any, name: str, flags: int) -> None:
            return None

        def connect_close(self, connection: Any) -> None:
            return None

        def connect_domain_event_callback_register_any(self, connection: Any, eventID: int, dom: Any) -> Any:
            return remote.remote_connect_domain_event_callback_register_any_ret(1)

        def connect_domain_event_callback_deregister_any(self, connection: Any, callbackID: int) -> None:
            return None

    return Events


def test_virsh_keepalive_against_a_typed_server(libvirtd: Path, remote: ModuleType, tmp_path: Path) -> None:
    """`virsh -k 1 -K 2` waits 4 s for events: with a server that PINGs nobody virsh PINGs it
    each second (and would give up after 2 unanswered), with one that PINGs every 0.3 s virsh
    answers those; either way virsh ends as it ends against libvirtd (which also asks)."""
    command = ("-k", "1", "-K", "2", "event", "--event", "lifecycle", "--loop", "--timeout", "4")

    def virsh_keepalive(path: Path | str) -> tuple[int, str, str]:
        done = subprocess.run([VIRSH, "-c", f"test+unix:///default?socket={path}", *command], capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout, done.stderr

    expected = virsh_keepalive(libvirtd)
    assert "event loop timed out" in expected[1]

    async def scenario(interval: float | None) -> Any:
        server = keepalive_server(remote)(keepalive_interval=interval, keepalive_count=2)
        connections: list[Any] = []
        server.on_connect = connections.append
        await server.serve_unix(str(tmp_path / "ka.sock"))
        assert await asyncio.to_thread(virsh_keepalive, tmp_path / "ka.sock") == expected
        await server.stop()
        assert "keepalive" not in server.errors.counts
        (connection,) = connections
        return connection

    silent = asyncio.run(asyncio.wait_for(scenario(None), 60))
    assert silent.keepalive is None and silent.pings_received >= 3  # virsh's, each answered
    pinging = asyncio.run(asyncio.wait_for(scenario(0.3), 60))
    assert pinging.keepalive is not None and pinging.keepalive.pings_sent >= 8 and pinging.keepalive.unanswered <= 1


def test_typed_client_keepalive_with_libvirtd(libvirtd: Path, remote: ModuleType) -> None:
    """libvirtd (keepalive_interval 1, count 2) PINGs a client that asked about the keepalive
    feature: the typed client answers, so it is still connected seconds later; its own PINGs
    (start_keepalive) are answered by libvirtd's PONGs."""

    async def scenario() -> None:
        async with await remote.REMOTE_Client.connect_unix(str(libvirtd)) as client:
            await client.connect_open("test:///default", 0)
            assert (await client.connect_supports_feature(10)).supported == 1  # VIR_DRV_FEATURE_PROGRAM_KEEPALIVE
            await asyncio.sleep(3.5)  # silent: without PONGs libvirtd drops us after 3 s
            assert client.client.pings_received >= 2 and not client.closed.done()
            assert (await client.connect_get_hostname()).hostname
            assert await client.start_keepalive(0.2, 2)
            await asyncio.sleep(1.5)
            state = client.client.keepalive
            assert state.pings_sent >= 5 and state.unanswered <= 1 and not client.closed.done()
            await client.connect_close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


# ---- streams ----------------------------------------------------------------------------------


def test_typed_client_screenshot_is_virshs(libvirtd: Path, remote: ModuleType, tmp_path: Path) -> None:
    """DOMAIN_SCREENSHOT (@readstream) from libvirtd's test driver: the typed client's bytes
    are `virsh screenshot`'s; an aborted screenshot leaves the connection usable."""
    shot = tmp_path / "virsh.png"
    virsh(libvirtd, "screenshot", "test", str(shot))

    async def scenario() -> None:
        async with await remote.REMOTE_Client.connect_unix(str(libvirtd)) as client:
            await client.connect_open("test:///default", 0)
            domain = (await client.domain_lookup_by_name("test")).dom
            result, stream = await client.domain_screenshot(domain, 0, 0)
            assert result.mime == "image/png"
            assert b"".join([chunk async for chunk in stream]) == shot.read_bytes()
            _, stream = await client.domain_screenshot(domain, 0, 0)
            await stream.abort()
            assert (await client.connect_get_hostname()).hostname and client.client.streams == {}
            _, stream = await client.domain_screenshot(domain, 0, 0)
            assert await stream.read_all() == shot.read_bytes()
            await client.connect_close()

    asyncio.run(asyncio.wait_for(scenario(), 60))
