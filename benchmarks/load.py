"""Load test of xdr_rpc's two servers (issue 18 item 5): `python3 benchmarks/load.py`
(or `python3 benchmarks/run.py load`).

For each server (libvirt framing, ONC RPC over TCP), started in a subprocess of its own with
glibc's mmap threshold fixed, N concurrent clients (default 200) call an echo procedure for
S seconds (default 20) after a warm-up, once keeping their connection (persistent) and once
opening a new connection for every call (reconnect). It prints calls/s, p50/p99 latency, the
server's RSS after warm-up and at the end, and PASS/FAIL for "RSS grew <= 10% after warm-up".
The clients run in this process on asyncio, so on a small box they, not the server, may be
the limit of calls/s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from rpc_servers import PROGRAM, VERSION, rss, server_process  # noqa: E402

from generated import xdr_rpc as rpc  # noqa: E402

PAYLOAD = b"0123456789abcdef" * 8  # 128 bytes each way


async def connect(framing: str, port: int) -> Any:
    if framing == "libvirt":
        return await rpc.Client.connect_tcp("127.0.0.1", port, PROGRAM, VERSION, procedures={1: (rpc.RAW, rpc.RAW)})
    return await rpc.OncClient.connect("127.0.0.1", port, PROGRAM, VERSION)


async def one_call(framing: str, client: Any) -> None:
    result = await client.call(1, PAYLOAD)
    if result != PAYLOAD:
        raise AssertionError("echo returned other bytes")


async def drive(framing: str, port: int, clients: int, seconds: float, persistent: bool, on_warm: Callable[[], Awaitable[None]], warm_up: float) -> tuple[list[float], int]:
    """Latencies (s) of the calls made after warm-up, and the number of failed calls."""
    latencies: list[float] = []
    failures = 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    warm_at, end_at = start + warm_up, start + warm_up + seconds

    async def worker() -> None:
        nonlocal failures
        client = await connect(framing, port) if persistent else None
        try:
            while (now := loop.time()) < end_at:
                try:
                    if persistent:
                        await one_call(framing, client)
                    else:
                        fresh = await connect(framing, port)
                        try:
                            await one_call(framing, fresh)
                        finally:
                            await fresh.close()
                except (rpc.RpcError, OSError, AssertionError):
                    failures += 1
                    continue
                if now >= warm_at:
                    latencies.append(loop.time() - now)
        finally:
            if client is not None:
                await client.close()

    async def warm_mark() -> None:
        await asyncio.sleep(warm_up)
        await on_warm()

    await asyncio.gather(warm_mark(), *(worker() for _ in range(clients)))
    return latencies, failures


def run_case(framing: str, persistent: bool, clients: int, seconds: float, warm_up: float) -> bool:
    with server_process(framing, max_connections=max(1024, clients * 2)) as (pid, port):
        marks: dict[str, int] = {}

        async def on_warm() -> None:
            marks["warm"] = rss(pid)

        latencies, failures = asyncio.run(drive(framing, port, clients, seconds, persistent, on_warm, warm_up))
        marks["end"] = rss(pid)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    growth = (marks["end"] - marks["warm"]) / marks["warm"]
    ok = growth <= 0.10
    mode = "persistent" if persistent else "reconnect"
    print(
        f"{framing:8} {mode:10} {clients:4} clients {seconds:4.0f} s: {len(latencies) / seconds:8.0f} calls/s, "
        f"p50 {p50:7.2f} ms, p99 {p99:7.2f} ms, failed {failures}, RSS warm {marks['warm'] / 2**20:6.1f} MiB, "
        f"end {marks['end'] / 2**20:6.1f} MiB ({growth:+.1%}) {'PASS' if ok else 'FAIL'}",
        flush=True,
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warm-up", type=float, default=3.0)
    parser.add_argument("--framing", choices=["libvirt", "onc"], action="append")
    args = parser.parse_args(argv)
    results = [
        run_case(framing, persistent, args.clients, args.seconds, args.warm_up)
        for framing in args.framing or ["libvirt", "onc"]
        for persistent in (True, False)
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
