"""Round trips per second (issue 14 item 6): `python3 benchmarks/rpc_pair.py` (or
`python3 benchmarks/run.py rpc`).

One call in flight on loopback TCP, for BENCH_NULL and for BENCH_NAMES (a 1,000-entry
``*next`` list of short names, prebuilt by the server) of benchmarks/bench.x:

- Python: the generated blocking ``BENCH_V1_Client`` against a ``BENCH_V1_Server`` subclass
  running in a subprocess of its own (so the two do not share a GIL);
- C: an ``rpcgen -N`` client (clnt stubs and a timing loop) against an ``rpcgen -N -m`` server
  (dispatcher and the procedures), built here with gcc and libtirpc.

Each pair is timed in ROUNDS rounds of CALLS calls; it prints the median round trips/s of each
and the Python/C time ratio (the goal for the large reply: within 4x).

Then the UDP amplification of an OncServer with the default limits (issue 25 item 5): the
largest reply a 44-byte call can get, and what a result too big for ``max_udp_reply`` gets,
beside libtirpc's 182x (its 8,800-byte default UDP buffer, as the issue measured it).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xdrgen.compiler import compile_file  # noqa: E402
from xdrgen.generator import RPC_RUNTIME_MODULES, companions, generate, runtime_source  # noqa: E402

BENCH_X = ROOT / "benchmarks" / "bench.x"
ROUNDS = 7
CALLS = {"NULL": 2000, "NAMES 1000": 200}
ENTRIES = 1000

C_SERVER = r"""
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "bench.h"
extern void bench_prog_1(struct svc_req *, SVCXPRT *);
static char nothing;
static name_node nodes[%(entries)d];
static char names[%(entries)d][16];
void *bench_null_1_svc(struct svc_req *r) { return &nothing; }
name_node *bench_names_1_svc(int n, struct svc_req *r) { return &nodes[0]; }
int bench_prog_1_freeresult(SVCXPRT *t, xdrproc_t f, caddr_t p) { return 1; }
int main(void) {
    for (int i = 0; i < %(entries)d; i++) {
        snprintf(names[i], sizeof names[i], "name%%04d", i);
        nodes[i].name = names[i];
        nodes[i].next = i + 1 < %(entries)d ? &nodes[i + 1] : NULL;
    }
    struct sockaddr_in a = {0}; socklen_t len = sizeof a;
    a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 16)) return 1;
    getsockname(fd, (struct sockaddr *)&a, &len);
    SVCXPRT *t = svctcp_create(fd, 0, 0);
    if (!t || !svc_register(t, BENCH_PROG, BENCH_V1, bench_prog_1, 0)) return 1;
    printf("%%d\n", ntohs(a.sin_port)); fflush(stdout);
    svc_run();
    return 1;
}
"""

C_CLIENT = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "bench.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); a.sin_port = htons(atoi(argv[1]));
    int sock = RPC_ANYSOCK;
    CLIENT *c = clnttcp_create(&a, BENCH_PROG, BENCH_V1, &sock, 0, 0);
    if (!c) { clnt_pcreateerror("clnttcp_create"); return 1; }
    int calls = atoi(argv[3]), rounds = atoi(argv[4]), names = !strcmp(argv[2], "names");
    for (int r = 0; r < rounds; r++) {
        double start = now();
        for (int i = 0; i < calls; i++) {
            if (names) {
                name_node *list = bench_names_1(%(entries)d, c);
                if (!list) { clnt_perror(c, "names"); return 1; }
                xdr_free((xdrproc_t)xdr_name_node, (char *)list);  /* as a real client would */
            } else if (!bench_null_1(c)) { clnt_perror(c, "null"); return 1; }
        }
        printf("%%.9f\n", (now() - start) / calls); fflush(stdout);
    }
    return 0;
}
"""

SERVER_SCRIPT = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from rpcbenchgen import bench
names = None
for i in reversed(range({entries})):
    names = bench.name_node(f"name{{i:04d}}", names)
class Bench(bench.BENCH_V1_Server):
    def bench_names(self, n):
        return names
async def main():
    server = Bench()
    await server.start(udp=False)
    print(server.ports["tcp"], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def build_python(work: Path) -> object:
    out = work / "rpcbenchgen"
    out.mkdir()
    (out / "__init__.py").write_text("")
    for runtime in RPC_RUNTIME_MODULES:
        (out / f"{runtime}.py").write_text(runtime_source(runtime))
    compiled = compile_file(BENCH_X)
    (out / "bench.py").write_text(generate(compiled.model, "bench.x", compiled.text, "bench"))
    for companion, text in companions(compiled.model, "bench.x", compiled.text, "bench").items():
        (out / f"{companion}.py").write_text(text)
    sys.path.insert(0, str(work))
    return importlib.import_module("rpcbenchgen.bench")


def build_c(work: Path, server: str = C_SERVER, client: str = C_CLIENT) -> tuple[Path, Path] | None:
    """The C server and client, or None without rpcgen, gcc or libtirpc."""
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libtirpc"], capture_output=True, text=True)
    if flags.returncode != 0:
        return None
    (work / "bench.x").write_text(BENCH_X.read_text())
    try:
        for option, name in (("-h", "bench.h"), ("-c", "bench_xdr.c"), ("-l", "bench_clnt.c"), ("-m", "bench_svc.c")):
            subprocess.run(["rpcgen", "-N", option, "-o", name, "bench.x"], cwd=work, check=True, capture_output=True)
        (work / "server.c").write_text(server % {"entries": ENTRIES})
        (work / "client.c").write_text(client % {"entries": ENTRIES})
        for binary, sources in (("server", ["server.c", "bench_svc.c"]), ("client", ["client.c", "bench_clnt.c"])):
            subprocess.run(["gcc", "-O2", "-w", "-o", binary, *sources, "bench_xdr.c", *flags.stdout.split()], cwd=work, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"C pair not built: {error}")
        return None
    return work / "server", work / "client"


def started(argv: list[str], cwd: Path) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def python_rounds(bench: object, port: int, procedure: str, calls: int, credentials: object = None) -> list[float]:
    """Seconds per call of each round."""
    times = []
    with bench.BENCH_V1_Client("127.0.0.1", port, credentials=credentials) as client:  # type: ignore[attr-defined]
        call = client.bench_null if procedure == "NULL" else (lambda: client.bench_names(ENTRIES))
        assert procedure == "NULL" or client.bench_names(ENTRIES).name == "name0000"
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for _ in range(calls):
                call()
            times.append((time.perf_counter() - start) / calls)
    return times


def c_rounds(client: Path, port: int, procedure: str, calls: int, *extra: str) -> list[float]:
    done = subprocess.run([str(client), str(port), "null" if procedure == "NULL" else "names", str(calls), str(ROUNDS), *extra], capture_output=True, text=True, check=True)
    return [float(line) for line in done.stdout.split()]


LIBTIRPC_UDP_AMPLIFICATION = 182  # issue 25: a 44-byte call against libtirpc's 8,800-byte buffer


def udp_amplification() -> None:
    """Reply/call bytes over UDP for a handler answering ``size`` bytes, default limits."""
    rpc = importlib.import_module("rpcbenchgen.xdr_rpc")
    program = 0x20000777

    async def reply_to(size: int) -> tuple[int, int]:
        server = rpc.OncServer()
        server.add(program, 1, {1: (rpc.RAW, rpc.RAW, lambda context, data: bytes(size))})
        await server.start(tcp=False)
        loop = asyncio.get_running_loop()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            call = rpc.call_message(1, program, 1, 1, b"\0\0\0\0")
            await loop.sock_sendto(sock, call, ("127.0.0.1", server.ports["udp"]))
            reply = await asyncio.wait_for(loop.sock_recv(sock, 65536), 5)
        await server.stop()
        return len(call), len(reply)

    cap = rpc.ServerLimits().max_udp_reply
    logging.getLogger("xdr_rpc").setLevel(logging.ERROR)  # the refused reply is logged: expected here
    print(f"\nUDP amplification (reply/call bytes), default max_udp_reply = {cap}; libtirpc: {LIBTIRPC_UDP_AMPLIFICATION}x")
    for size, what in ((cap - 24, "the largest result that fits"), (65424, "a 65,424-byte result (1,487x before the cap)")):
        call, reply = asyncio.run(reply_to(size))
        print(f"  {what:46} {call}-byte call -> {reply:5}-byte reply: {reply / call:6.1f}x")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="xdrgen-rpc-bench-") as folder:
        work = Path(folder)
        bench = build_python(work)
        c_pair = build_c(work)
        python_server, python_port = started([sys.executable, "-c", SERVER_SCRIPT.format(entries=ENTRIES), str(work)], work)
        c_server, c_port = started([str(c_pair[0])], work) if c_pair else (None, 0)
        try:
            print(f"round trips/s, one call in flight, loopback TCP, median of {ROUNDS} rounds")
            print(f"{'procedure':12} {'Python':>10} {'C (rpcgen)':>11} {'Python/C time':>14}")
            for procedure, calls in CALLS.items():
                ours = statistics.median(python_rounds(bench, python_port, procedure, calls))
                if c_pair:
                    theirs = statistics.median(c_rounds(c_pair[1], c_port, procedure, calls))
                    print(f"{procedure:12} {1 / ours:10.0f} {1 / theirs:11.0f} {ours / theirs:13.2f}x")
                else:
                    print(f"{procedure:12} {1 / ours:10.0f} {'-':>11} {'-':>14}")
        finally:
            stop(python_server, c_server)
        udp_amplification()


def stop(*processes: subprocess.Popen[str] | None) -> None:
    """End the servers this script started."""
    for process in processes:
        if process is not None:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
