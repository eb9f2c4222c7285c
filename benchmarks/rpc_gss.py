"""RPCSEC_GSS cost (issue 28 item 5): `python3 benchmarks/run.py gss`.

The pairs of rpc_pair.py (the generated blocking client against a generated server in a
subprocess; rpcgen's C client against rpcgen's C server, libtirpc), in a throwaway Kerberos
realm (tests/krb5_realm.py), one call in flight on loopback TCP, BENCH_NULL and BENCH_NAMES (a
1,000-entry reply), under AUTH_SYS, krb5i and krb5p. Printed: calls/s, CPU per call (client and
server together: this process's and the servers' /proc times; the C client's from its rusage),
and the krb5i and krb5p figures as ratios to AUTH_SYS measured in the same run, for Python and
for C side by side.
"""

from __future__ import annotations

import importlib
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import rpc_pair  # noqa: E402
from rpc_pair import CALLS, C_CLIENT, C_SERVER, ENTRIES, build_c, build_python, c_rounds, python_rounds, started, stop  # noqa: E402

FLAVOURS = ("AUTH_SYS", "krb5i", "krb5p")
TICKS = os.sysconf("SC_CLK_TCK")

GSS_C_SERVER = C_SERVER.replace(
    "    svc_run();",
    '    if (!rpc_gss_set_svc_name("svc@localhost", "kerberos_v5", 0, BENCH_PROG, BENCH_V1)) return 1;\n    svc_run();',
).replace('#include "bench.h"', '#include <rpc/rpcsec_gss.h>\n#include "bench.h"')
GSS_C_CLIENT = C_CLIENT.replace(
    "    int calls = atoi(argv[3])",
    """    if (argc > 5) {  /* krb5i or krb5p */
        rpc_gss_options_ret_t ret;
        AUTH *auth = rpc_gss_seccreate(c, "svc@localhost", "kerberos_v5", strcmp(argv[5], "krb5p") ? rpcsec_gss_svc_integrity : rpcsec_gss_svc_privacy, NULL, NULL, &ret);
        if (!auth) { fprintf(stderr, "rpc_gss_seccreate failed\\n"); return 1; }
        c->cl_auth = auth;
    } else {
        c->cl_auth = authunix_create_default();
    }
    int calls = atoi(argv[3])""",
).replace('#include "bench.h"', '#include <rpc/rpcsec_gss.h>\n#include "bench.h"')

SERVER_SCRIPT = rpc_pair.SERVER_SCRIPT.replace(
    "    server = Bench()", "    from rpcbenchgen import rpcsec_gss\n    server = Bench(gss=rpcsec_gss.Acceptor('svc@localhost'))"
)


def process_cpu(pid: int) -> float:
    """User + system seconds of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(run: Callable[[], list[float]], own_cpu: Callable[[], float], server_pid: int, calls: int) -> tuple[float, float]:
    """(median seconds per call, CPU seconds per call of client and server) of one measurement."""
    cpu, server = own_cpu(), process_cpu(server_pid)
    rounds = run()
    total = own_cpu() - cpu + process_cpu(server_pid) - server
    return statistics.median(rounds), total / (calls * len(rounds))


def main() -> None:
    from krb5_realm import running_realm

    with tempfile.TemporaryDirectory(prefix="xdrgen-gss-bench-") as folder:
        work, realm_dir = Path(folder) / "build", Path(folder) / "realm"
        work.mkdir()
        realm_dir.mkdir()
        with running_realm(realm_dir) as realm, realm.activate():  # the servers inherit its KRB5_* variables
            run(work)


def run(work: Path) -> None:
    bench = build_python(work)
    rpc = importlib.import_module("rpcbenchgen.xdr_rpc")
    c_pair = build_c(work, GSS_C_SERVER, GSS_C_CLIENT)
    credentials: dict[str, Any] = {"AUTH_SYS": rpc.Credentials.sys(), "krb5i": rpc.Credentials.gss("svc@localhost", "krb5i"), "krb5p": rpc.Credentials.gss("svc@localhost", "krb5p")}
    python_server, python_port = started([sys.executable, "-c", SERVER_SCRIPT.format(entries=ENTRIES), str(work)], work)
    c_server, c_port = None, 0
    try:
        if c_pair:
            c_server, c_port = started([str(c_pair[0])], work)
        print(f"RPCSEC_GSS: one call in flight, loopback TCP, median of {rpc_pair.ROUNDS} rounds; CPU = client + server per call")
        print(f"{'procedure':12} {'flavour':9} {'Python/s':>9} {'CPU us':>7} {'x AUTH_SYS':>10}   {'C/s':>7} {'CPU us':>7} {'x AUTH_SYS':>10}")
        for procedure, calls in CALLS.items():
            base: dict[str, tuple[float, float]] = {}
            for flavour in FLAVOURS:
                ours = measured(lambda: python_rounds(bench, python_port, procedure, calls, credentials[flavour]), time.process_time, python_server.pid, calls)
                row = f"{procedure:12} {flavour:9} {1 / ours[0]:9.0f} {ours[1] * 1e6:7.0f} "
                base.setdefault("py", ours)
                row += f"{ours[0] / base['py'][0]:9.2f}x" if flavour != "AUTH_SYS" else f"{'':10}"
                if c_pair and c_server is not None:
                    extra = () if flavour == "AUTH_SYS" else (flavour,)
                    theirs = measured(lambda: c_rounds(c_pair[1], c_port, procedure, calls, *extra), children_cpu, c_server.pid, calls)
                    base.setdefault("c", theirs)
                    row += f"   {1 / theirs[0]:7.0f} {theirs[1] * 1e6:7.0f} "
                    row += f"{theirs[0] / base['c'][0]:9.2f}x" if flavour != "AUTH_SYS" else ""
                print(row, flush=True)
    finally:
        stop(python_server, c_server)


if __name__ == "__main__":
    main()
