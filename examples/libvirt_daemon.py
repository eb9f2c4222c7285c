"""A libvirt daemon stand-in for testing libvirt tooling without a hypervisor, written with the
typed server xdrgen generates from libvirt's remote_protocol.x (protocols/remote_protocol.x).

    python3 examples/libvirt_daemon.py --socket /tmp/demo.sock [--screenshot FILE] &
    virsh -c 'test+unix:///default?socket=/tmp/demo.sock' list --all

It has one domain, ``demo`` (running; ``list``, ``dominfo``, ``domstate``, ``dumpxml``,
``start``/``destroy``/``shutdown`` with lifecycle events for ``virsh event``), a storage pool
``demo-pool`` holding a volume ``disk0`` kept in memory (``vol-upload`` / ``vol-download``,
libvirt streams both ways), ``screenshot`` of ``demo`` serving FILE's bytes, a console echoing
what is typed (DOMAIN_OPEN_CONSOLE, a stream both ways), and keepalive.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# the values remote_protocol.x takes from libvirt's C headers
DEFINES = {
    "VIR_UUID_BUFLEN": "16", "VIR_SECURITY_MODEL_BUFLEN": "257", "VIR_SECURITY_LABEL_BUFLEN": "4097",
    "VIR_SECURITY_DOI_BUFLEN": "257", "VIR_TYPED_PARAM_INT": "1", "VIR_TYPED_PARAM_UINT": "2",
    "VIR_TYPED_PARAM_LLONG": "3", "VIR_TYPED_PARAM_ULLONG": "4", "VIR_TYPED_PARAM_DOUBLE": "5",
    "VIR_TYPED_PARAM_BOOLEAN": "6", "VIR_TYPED_PARAM_STRING": "7",
}  # fmt: skip


def load_protocol() -> tuple[Any, Any]:
    """The module generated from protocols/remote_protocol.x, in a temporary package."""
    from xdrgen.compiler import Options
    from xdrgen.diagnostics import SourceCache
    from xdrgen.project import Project, render, write

    folder = Path(tempfile.mkdtemp(prefix="xdrgen-libvirt-")) / "remotegen"
    write(render(Project([ROOT / "protocols" / "remote_protocol.x"], folder, Options(defines=DEFINES)), SourceCache()))
    sys.path.insert(0, str(folder.parent))
    import remotegen.remote_protocol as remote
    import remotegen.xdr_rpc as rpc

    return remote, rpc


r, xdr_rpc = load_protocol()

# virerror.h's codes and error domains, libvirt-domain.h's states and events
NO_DOMAIN, NO_STORAGE_POOL, NO_STORAGE_VOL, OPERATION_INVALID = 42, 49, 50, 55
FROM_DOM, FROM_STORAGE = 10, 18
RUNNING, SHUT_OFF = 1, 5
STARTED, STOPPED = 2, 5  # lifecycle events; their details: BOOTED, DESTROYED / SHUTDOWN
BOOTED, DESTROYED, SHUTDOWN = 0, 1, 0
EVENT_LIFECYCLE, FEATURE_EVENT_CALLBACK = 0, 14
SPARSE_STREAM = 1  # VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM
MEMORY_KIB = 1024 * 1024
DISK_SIZE = 16 * 1024 * 1024

UUID = uuid.UUID("6a1e5b7c-0d1f-4c2e-9a3b-8d4e5f607182").bytes
XML = """<domain type='test'>
  <name>demo</name>
  <uuid>6a1e5b7c-0d1f-4c2e-9a3b-8d4e5f607182</uuid>
  <memory unit='KiB'>1048576</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
</domain>
"""
POOL = r.remote_nonnull_storage_pool("demo-pool", uuid.UUID("0c7b0f6e-2b0a-4b8e-8f51-7c2a9d3e4b10").bytes)
VOLUME = r.remote_nonnull_storage_vol("demo-pool", "disk0", "/demo-pool/disk0")


def not_found(code: int, domain: int, what: str, name: str) -> Any:
    return xdr_rpc.RemoteError(xdr_rpc.MessageError(code, domain, f"{what} not found: {name}", 2, None, f"{what} not found: %s", name, None, -1, -1))


class Daemon(r.REMOTE_Server):  # type: ignore[name-defined,misc]
    """The demo host: one domain, one pool with one volume, a screenshot."""

    def __init__(self, screenshot: bytes) -> None:
        super().__init__()
        self.screenshot = screenshot
        self.running = True
        self.disk = bytearray(DISK_SIZE)
        self.callbacks: dict[Any, set[int]] = {}  # lifecycle callbacks of each connection
        self.last_callback = 0

    @property
    def domain(self) -> Any:
        return r.remote_nonnull_domain("demo", UUID, 1 if self.running else -1)

    def found(self, name: str) -> Any:
        if name != "demo":
            raise not_found(NO_DOMAIN, FROM_DOM, "Domain", name)
        return self.domain

    # -- the connection
    def auth_list(self, connection: Any) -> Any:
        return r.remote_auth_list_ret([0])  # REMOTE_AUTH_NONE

    def connect_supports_feature(self, connection: Any, feature: int) -> Any:
        return r.remote_connect_supports_feature_ret(int(feature == FEATURE_EVENT_CALLBACK))

    def connect_open(self, connection: Any, name: str | None, flags: int) -> None:
        return None

    def connect_close(self, connection: Any) -> None:
        self.callbacks.pop(connection, None)

    def connect_get_type(self, connection: Any) -> Any:
        return r.remote_connect_get_type_ret("Test")

    def connect_get_uri(self, connection: Any) -> Any:
        return r.remote_connect_get_uri_ret("test:///default")

    def connect_get_hostname(self, connection: Any) -> Any:
        return r.remote_connect_get_hostname_ret("demo-host")

    # -- the domain
    def connect_list_all_domains(self, connection: Any, need_results: int, flags: int) -> Any:
        return r.remote_connect_list_all_domains_ret([self.domain], 1)

    def domain_lookup_by_name(self, connection: Any, name: str) -> Any:
        return r.remote_domain_lookup_by_name_ret(self.found(name))

    def domain_lookup_by_uuid(self, connection: Any, uuid: bytes) -> Any:
        return r.remote_domain_lookup_by_uuid_ret(self.found("demo" if uuid == UUID else "?"))

    def domain_lookup_by_id(self, connection: Any, id: int) -> Any:
        return r.remote_domain_lookup_by_id_ret(self.found("demo" if self.running and id == 1 else str(id)))

    def domain_get_state(self, connection: Any, dom: Any, flags: int) -> Any:
        return r.remote_domain_get_state_ret(RUNNING if self.running else SHUT_OFF, 1 if self.running else 0)

    def domain_get_info(self, connection: Any, dom: Any) -> Any:
        return r.remote_domain_get_info_ret(RUNNING if self.running else SHUT_OFF, MEMORY_KIB, MEMORY_KIB, 1, 0)

    def domain_get_os_type(self, connection: Any, dom: Any) -> Any:
        return r.remote_domain_get_os_type_ret("hvm")

    def domain_is_persistent(self, connection: Any, dom: Any) -> Any:
        return r.remote_domain_is_persistent_ret(1)

    def domain_is_active(self, connection: Any, dom: Any) -> Any:
        return r.remote_domain_is_active_ret(int(self.running))

    def domain_get_autostart(self, connection: Any, dom: Any) -> Any:
        return r.remote_domain_get_autostart_ret(0)

    def domain_has_managed_save_image(self, connection: Any, dom: Any, flags: int) -> Any:
        return r.remote_domain_has_managed_save_image_ret(0)

    def domain_get_xml_desc(self, connection: Any, dom: Any, flags: int) -> Any:
        return r.remote_domain_get_xml_desc_ret(XML)

    async def domain_create(self, connection: Any, dom: Any) -> None:
        await self.switch(True, BOOTED)

    async def domain_create_with_flags(self, connection: Any, dom: Any, flags: int) -> Any:
        await self.switch(True, BOOTED)
        return r.remote_domain_create_with_flags_ret(self.domain)

    async def domain_destroy(self, connection: Any, dom: Any) -> None:
        await self.switch(False, DESTROYED)

    async def domain_destroy_flags(self, connection: Any, dom: Any, flags: int) -> None:
        await self.switch(False, DESTROYED)

    async def domain_shutdown(self, connection: Any, dom: Any) -> None:
        await self.switch(False, SHUTDOWN)

    async def switch(self, running: bool, detail: int) -> None:
        """Start or stop ``demo``, and tell every registered callback."""
        if running == self.running:
            text = "domain is already running" if running else "domain is not running"
            raise xdr_rpc.RemoteError(xdr_rpc.MessageError(OPERATION_INVALID, FROM_DOM, f"Requested operation is not valid: {text}", 2, None, "Requested operation is not valid: %s", text, None, -1, -1))
        self.running = running
        event = r.remote_domain_event_lifecycle_msg(self.domain, STARTED if running else STOPPED, detail)
        for connection, callbacks in list(self.callbacks.items()):
            for callback in sorted(callbacks):
                await connection.send_domain_event_callback_lifecycle(r.remote_domain_event_callback_lifecycle_msg(callback, event))

    def connect_domain_event_callback_register_any(self, connection: Any, eventID: int, dom: Any) -> Any:
        if eventID != EVENT_LIFECYCLE:
            self._unsupported(f"domain event {eventID}")
        self.last_callback += 1
        self.callbacks.setdefault(connection, set()).add(self.last_callback)
        return r.remote_connect_domain_event_callback_register_any_ret(self.last_callback)

    def connect_domain_event_callback_deregister_any(self, connection: Any, callbackID: int) -> None:
        self.callbacks.get(connection, set()).discard(callbackID)

    def domain_screenshot(self, connection: Any, dom: Any, screen: int, flags: int) -> Any:
        self.found(dom.name)
        return r.remote_domain_screenshot_ret("image/png"), self.screenshot

    def domain_open_console(self, connection: Any, dom: Any, dev_name: str | None, flags: int) -> Any:
        """A console that prompts, then echoes what is typed, as a terminal does."""
        self.found(dom.name)
        keyboard = connection.incoming()

        async def screen() -> Any:
            yield b"demo login: "
            async for keys in keyboard:
                yield keys

        return None, screen()

    # -- the pool and its volume
    def storage_pool_lookup_by_name(self, connection: Any, name: str) -> Any:
        if name != POOL.name:
            raise not_found(NO_STORAGE_POOL, FROM_STORAGE, "Storage pool", name)
        return r.remote_storage_pool_lookup_by_name_ret(POOL)

    def storage_pool_is_active(self, connection: Any, pool: Any) -> Any:
        return r.remote_storage_pool_is_active_ret(1)

    def storage_vol_lookup_by_name(self, connection: Any, pool: Any, name: str) -> Any:
        if (pool.name, name) != (POOL.name, VOLUME.name):
            raise not_found(NO_STORAGE_VOL, FROM_STORAGE, "Storage volume", name)
        return r.remote_storage_vol_lookup_by_name_ret(VOLUME)

    def storage_vol_get_info(self, connection: Any, vol: Any) -> Any:
        return r.remote_storage_vol_get_info_ret(0, DISK_SIZE, DISK_SIZE)  # VIR_STORAGE_VOL_FILE

    def span(self, offset: int, length: int) -> tuple[int, int]:
        """The bytes ``offset``..``end`` of the volume a transfer covers (length 0: to the end)."""
        end = DISK_SIZE if length == 0 else offset + length
        if not 0 <= offset <= end <= DISK_SIZE:
            raise xdr_rpc.RpcError(f"offset {offset} and length {length} do not fit the volume of {DISK_SIZE} bytes")
        return offset, end

    async def storage_vol_upload(self, connection: Any, vol: Any, offset: int, length: int, flags: int, data: Any) -> None:
        position, end = self.span(offset, length)
        async for chunk in data:
            size = chunk.length if isinstance(chunk, xdr_rpc.StreamHole) else len(chunk)
            if position + size > end:
                raise xdr_rpc.RpcError(f"more data than the {end - offset} bytes announced")
            self.disk[position : position + size] = bytes(size) if isinstance(chunk, xdr_rpc.StreamHole) else chunk
            position += size

    def storage_vol_download(self, connection: Any, vol: Any, offset: int, length: int, flags: int) -> Any:
        start, end = self.span(offset, length)
        sparse = flags & SPARSE_STREAM  # the client takes holes: zeros are not sent

        def chunks() -> Any:
            for position in range(start, end, xdr_rpc.STREAM_CHUNK):
                chunk = bytes(self.disk[position : min(position + xdr_rpc.STREAM_CHUNK, end)])
                yield xdr_rpc.StreamHole(len(chunk)) if sparse and chunk.count(0) == len(chunk) else chunk

        return None, chunks()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket", required=True, help="the UNIX socket to listen on")
    parser.add_argument("--screenshot", type=Path, help="the file served as demo's screenshot")
    options = parser.parse_args()
    daemon = Daemon(options.screenshot.read_bytes() if options.screenshot else b"")
    await daemon.serve_unix(options.socket)
    print("listening", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
