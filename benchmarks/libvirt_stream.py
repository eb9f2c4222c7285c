"""A 64 MiB libvirt stream each way (issue 27 item 6): `python3 benchmarks/libvirt_stream.py`
(or `python3 benchmarks/run.py stream`).

The server is examples/libvirt_daemon.py's, with a 64 MiB volume, in a subprocess of its own
(so client and server do not share a GIL), on a loopback UNIX socket. Measured in the same run:

- the typed client: STORAGE_VOL_DOWNLOAD (read stream) and STORAGE_VOL_UPLOAD (write stream)
  of the whole volume, chunks counted and dropped / sent from one 256 KiB buffer;
- virsh (libvirt 9.0's C client) doing `vol-download` / `vol-upload` of the same volume from
  the same server, as the baseline (libvirtd's test driver has no volume transfers, so the
  C server cannot be timed here).

It prints MB/s (median of ROUNDS) and the peak RSS (VmHWM) of the client and the server
processes: a stream must not cost its size in memory.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZE = 64 * 1024 * 1024
ROUNDS = 3


def rss_mib(pid: int | str = "self", field: str = "VmHWM") -> float:
    """A process's peak (VmHWM) or current (VmRSS) resident memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("libvirt_daemon", ROOT / "examples" / "libvirt_daemon.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve(path: str) -> None:
    """The server process: the example's daemon with a volume of SIZE bytes."""
    example = load_example()
    example.DISK_SIZE = SIZE

    async def main() -> None:
        daemon = example.Daemon(b"")
        await daemon.serve_unix(path)
        print("listening", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


async def typed_client(path: str, remote: Any) -> tuple[float, float]:
    """Seconds to download and to upload the volume with the typed client."""
    async with await remote.REMOTE_Client.connect_unix(path) as client:
        await client.connect_open("test:///default", 0)
        pool = (await client.storage_pool_lookup_by_name("demo-pool")).pool
        vol = (await client.storage_vol_lookup_by_name(pool, "disk0")).vol
        started = time.perf_counter()
        _, stream = await client.storage_vol_download(vol, 0, 0, 0)
        received = 0
        async for chunk in stream:
            received += len(chunk)
        download = time.perf_counter() - started
        assert received == SIZE, received
        block = os.urandom(256 * 1024)
        started = time.perf_counter()
        await client.storage_vol_upload(vol, 0, SIZE, 0, (block for _ in range(SIZE // len(block))))
        upload = time.perf_counter() - started
        await client.connect_close()
    return download, upload


def virsh(path: str, folder: Path) -> tuple[float, float]:
    uri = f"test+unix:///default?socket={path}"
    started = time.perf_counter()
    subprocess.run(["virsh", "-c", uri, "vol-download", "--pool", "demo-pool", "disk0", str(folder / "down.img")], check=True, capture_output=True)
    download = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(["virsh", "-c", uri, "vol-upload", "--pool", "demo-pool", "disk0", str(folder / "down.img")], check=True, capture_output=True)
    return download, time.perf_counter() - started


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="xdrgen-stream-"))
    path = str(folder / "bench.sock")
    server = subprocess.Popen([sys.executable, __file__, "--serve", path], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline() == "listening\n"
        example = load_example()
        before = rss_mib(field="VmRSS"), rss_mib(server.pid, "VmRSS")  # loaded, nothing streamed yet
        mib = SIZE / 1e6
        typed = [asyncio.run(typed_client(path, example.r)) for _ in range(ROUNDS)]
        print(f"64 MiB stream over a UNIX socket, median of {ROUNDS} (MB/s):")
        print(f"  typed client  download {mib / statistics.median(t[0] for t in typed):7.0f}   upload {mib / statistics.median(t[1] for t in typed):7.0f}")
        if shutil.which("virsh"):
            timed = [virsh(path, folder) for _ in range(ROUNDS)]
            print(f"  virsh (C)     download {mib / statistics.median(t[0] for t in timed):7.0f}   upload {mib / statistics.median(t[1] for t in timed):7.0f}"
                  "   (a process per transfer: its start-up is in its time)")  # fmt: skip
        print(f"peak RSS: typed client process {rss_mib():.0f} MiB ({before[0]:.0f} before streaming), "
              f"server process {rss_mib(server.pid):.0f} MiB ({before[1]:.0f} before, with its 64 MiB volume)")  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2])
    else:
        main()
