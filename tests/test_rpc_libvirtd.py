"""libvirt RPC against a real peer: Debian's libvirtd with its test:///default driver, spoken
to with a client generated from the corpus's remote_protocol.x (C names from -D values)."""

from __future__ import annotations

import asyncio
import importlib
import os
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
