"""The generated typed RPC classes against rpcgen's own C stubs (Debian rpcgen + libtirpc),
built from the same tests/xdr/typed.x: a C client made by ``rpcgen -N`` (clnt stubs and the
small main below) calls every procedure of a Python server made from the generated
``_Server`` classes, found through rpcbind, over TCP and UDP; and the generated ``_Client``
calls every procedure of a C server made by ``rpcgen -N -m`` (dispatcher, and the
procedures below), over TCP and UDP."""

from __future__ import annotations

import contextlib
import importlib
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest
from conftest import LIBTIRPC_FLAGS, program, requires, requires_c_reference
from peers import Daemon, rpcbind  # noqa: F401  (rpcbind: a fixture, the rpcbind on port 111, reused or started)
from typed_peer import PROGRAM, TYPED_X, V1, call_every_procedure, load_typed, servers, serving


pytestmark = requires_c_reference

CLIENT_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "typed.h"

#define CHECK(x) do { if (!(x)) { clnt_perror(clnt, #x); return 1; } } while (0)

int main(int argc, char **argv) {
    CLIENT *clnt = clnt_create(argv[1], TYPED_PROG, TYPED_V1, argv[2]);
    if (clnt == NULL) { clnt_pcreateerror("clnt_create"); return 1; }
    struct timeval timeout = {10, 0};
    clnt_control(clnt, CLSET_TIMEOUT, (char *)&timeout);

    CHECK(typed_null_1(clnt) != NULL);
    CHECK(typed_reset_1(clnt) != NULL);
    int *sum = typed_add_1(2, 40, clnt); CHECK(sum); printf("add %d\n", *sum);
    sum = typed_add_1(-7, 3, clnt); CHECK(sum); printf("add %d\n", *sum);
    typed_name *echo = typed_echo_1("hello, world", clnt); CHECK(echo); printf("echo %s\n", *echo);
    typed_point start = {1, 2};
    typed_point *moved = typed_move_1(start, 10, -20, clnt); CHECK(moved); printf("move %d %d\n", moved->x, moved->y);
    typed_shape shape;
    shape.kind = TYPED_CIRCLE; shape.typed_shape_u.radius = 3;
    typed_shape *grown = typed_grow_1(shape, 4, clnt); CHECK(grown); printf("grow %d %d\n", grown->kind, grown->typed_shape_u.radius);
    shape.kind = TYPED_SQUARE; shape.typed_shape_u.corner.x = 2; shape.typed_shape_u.corner.y = 5;
    grown = typed_grow_1(shape, 3, clnt); CHECK(grown);
    printf("grow %d %d %d\n", grown->kind, grown->typed_shape_u.corner.x, grown->typed_shape_u.corner.y);
    shape.kind = TYPED_LABEL; shape.typed_shape_u.label = "ab";
    grown = typed_grow_1(shape, 3, clnt); CHECK(grown); printf("grow %d %s\n", grown->kind, grown->typed_shape_u.label);
    typed_names *list = typed_list_1("n", 5, clnt); CHECK(list);
    printf("list");
    for (typed_names *node = list; node != NULL; node = node->next) printf(" %s", node->item);
    printf("\n");
    typed_names c = {"c", NULL}, b = {"b", &c}, a = {"a", &b};
    int *count = typed_count_1(a, clnt); CHECK(count); printf("count %d\n", *count);
    typed_stat *stat = typed_stat_1(clnt); CHECK(stat); printf("stat %d\n", stat->calls);
    if (typed_missing_1(1, clnt) == NULL) printf("missing%s\n", clnt_sperror(clnt, ""));
    clnt_destroy(clnt);

    clnt = clnt_create(argv[1], TYPED_PROG, TYPED_V2, argv[2]);
    if (clnt == NULL) { clnt_pcreateerror("clnt_create v2"); return 1; }
    int *product = typed_mul_2(6, 7, clnt); CHECK(product); printf("mul %d\n", *product);
    clnt_destroy(clnt);
    return 0;
}
"""

# what CLIENT_MAIN prints against a server doing what tests/typed_peer.py says
EXPECTED_CLIENT_OUTPUT = """\
add 42
add -4
echo dlrow ,olleh
move 11 -18
grow 0 12
grow 1 6 15
grow 2 ababab
list n0 n1 n2 n3 n4
count 3
stat 2
missing: RPC: Procedure unavailable
mul 42
"""

SERVER_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "typed.h"

extern void typed_prog_1(struct svc_req *, SVCXPRT *);
extern void typed_prog_2(struct svc_req *, SVCXPRT *);

static int adds;
static char nothing;

void *typed_null_1_svc(struct svc_req *r) { return &nothing; }
int *typed_add_1_svc(int a, int b, struct svc_req *r) { static int sum; adds++; sum = a + b; return &sum; }
void *typed_reset_1_svc(struct svc_req *r) { adds = 0; return &nothing; }
typed_name *typed_echo_1_svc(typed_name text, struct svc_req *r) {
    static char buffer[TYPED_NAME_MAX + 1]; static typed_name result;
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i++) buffer[i] = text[n - 1 - i];
    buffer[n] = 0; result = buffer; return &result;
}
typed_point *typed_move_1_svc(typed_point p, int dx, int dy, struct svc_req *r) {
    static typed_point result; result.x = p.x + dx; result.y = p.y + dy; return &result;
}
typed_shape *typed_grow_1_svc(typed_shape s, int n, struct svc_req *r) {
    static typed_shape result; static char label[TYPED_NAME_MAX + 1];
    result.kind = s.kind;
    if (s.kind == TYPED_CIRCLE) result.typed_shape_u.radius = s.typed_shape_u.radius * n;
    else if (s.kind == TYPED_SQUARE) {
        result.typed_shape_u.corner.x = s.typed_shape_u.corner.x * n;
        result.typed_shape_u.corner.y = s.typed_shape_u.corner.y * n;
    } else {
        label[0] = 0;
        for (int i = 0; i < n && strlen(label) + strlen(s.typed_shape_u.label) <= TYPED_NAME_MAX; i++) strcat(label, s.typed_shape_u.label);
        result.typed_shape_u.label = label;
    }
    return &result;
}
typed_names *typed_list_1_svc(typed_name prefix, int n, struct svc_req *r) {
    static typed_names nodes[100]; static char names[100][TYPED_NAME_MAX + 1];
    if (n < 1) n = 1;
    if (n > 100) n = 100;
    for (int i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "%s%d", prefix, i);
        nodes[i].item = names[i];
        nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
    }
    return &nodes[0];
}
int *typed_count_1_svc(typed_names list, struct svc_req *r) {
    static int count; count = 0;
    for (typed_names *node = &list; node != NULL; node = node->next) count++;
    return &count;
}
typed_stat *typed_stat_1_svc(struct svc_req *r) { static typed_stat result; result.calls = adds; return &result; }
int *typed_missing_1_svc(int x, struct svc_req *r) { svcerr_noproc(r->rq_xprt); return NULL; }
int *typed_mul_2_svc(int a, int b, struct svc_req *r) { static int product; product = a * b; return &product; }
int typed_prog_1_freeresult(SVCXPRT *t, xdrproc_t f, caddr_t p) { return 1; }
int typed_prog_2_freeresult(SVCXPRT *t, xdrproc_t f, caddr_t p) { return 1; }

static int loopback_socket(int type) {
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, type, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) < 0) { perror("bind"); exit(1); }
    return fd;
}

static int port_of(int fd) {
    struct sockaddr_in address; socklen_t length = sizeof address;
    getsockname(fd, (struct sockaddr *)&address, &length);
    return ntohs(address.sin_port);
}

int main(void) {
    int tcp = loopback_socket(SOCK_STREAM), udp = loopback_socket(SOCK_DGRAM);
    if (listen(tcp, 64) < 0) { perror("listen"); return 1; }  /* libtirpc takes a bound socket as it is */
    SVCXPRT *tcp_transport = svctcp_create(tcp, 0, 0), *udp_transport = svcudp_create(udp);
    if (!tcp_transport || !udp_transport) { fprintf(stderr, "cannot create transports\n"); return 1; }
    /* protocol 0: served, not registered with rpcbind (the test passes the ports) */
    if (!svc_register(tcp_transport, TYPED_PROG, TYPED_V1, typed_prog_1, 0) || !svc_register(udp_transport, TYPED_PROG, TYPED_V1, typed_prog_1, 0)
        || !svc_register(tcp_transport, TYPED_PROG, TYPED_V2, typed_prog_2, 0) || !svc_register(udp_transport, TYPED_PROG, TYPED_V2, typed_prog_2, 0)) {
        fprintf(stderr, "cannot register\n"); return 1;
    }
    printf("ports %d %d\n", port_of(tcp), port_of(udp));
    fflush(stdout);
    svc_run();
    return 1;
}
"""


def _rpcgen(flags: list[str], source: Path, out: Path) -> None:
    done = subprocess.run(["rpcgen", *flags, "-o", str(out), source.name], cwd=source.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"rpcgen {' '.join(flags)}: {done.stderr}"


def _gcc(out: Path, sources: list[Path]) -> None:
    assert LIBTIRPC_FLAGS is not None
    done = subprocess.run(["gcc", "-w", "-O1", "-o", str(out), *map(str, sources), *LIBTIRPC_FLAGS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"gcc: {done.stderr}"


@pytest.fixture(scope="module")
def c_programs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The C client (rpcgen -N clnt stubs + CLIENT_MAIN) and server (rpcgen -N -m + SERVER_MAIN)."""
    return build_c_programs(tmp_path_factory.mktemp("rpcgen"), CLIENT_MAIN, SERVER_MAIN)


def build_c_programs(work: Path, client_main: str, server_main: str) -> tuple[Path, Path]:
    """typed.x through rpcgen -N, built with ``client_main`` and ``server_main`` in ``work``."""
    source = work / "typed.x"
    source.write_text(TYPED_X.read_text())
    _rpcgen(["-N", "-h"], source, work / "typed.h")
    _rpcgen(["-N", "-c"], source, work / "typed_xdr.c")
    _rpcgen(["-N", "-l"], source, work / "typed_clnt.c")
    _rpcgen(["-N", "-m"], source, work / "typed_svc.c")
    (work / "client_main.c").write_text(client_main)
    (work / "server_main.c").write_text(server_main)
    _gcc(work / "client", [work / "client_main.c", work / "typed_clnt.c", work / "typed_xdr.c"])
    _gcc(work / "server", [work / "server_main.c", work / "typed_svc.c", work / "typed_xdr.c"])
    return work / "client", work / "server"


@pytest.fixture(scope="module")
def typed(generated_package: Any) -> ModuleType:
    return load_typed(generated_package)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_rpcgen_c_client_calls_every_procedure_of_the_python_server(
    c_programs: tuple[Path, Path], typed: ModuleType, rpcbind: Any, transport: str
) -> None:
    client, _ = c_programs
    v1, v2 = servers(typed)
    rpc = importlib.import_module(typed.__name__.rsplit(".", 1)[0] + ".xdr_rpc")  # never rely on another test having imported it
    with serving(lambda: rpc.OncServer(v1(), v2()), register=True) as server:
        assert rpcbind.getport(PROGRAM, V1, 6 if transport == "tcp" else 17) == server.ports[transport]
        done = subprocess.run([str(client), "127.0.0.1", transport], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == EXPECTED_CLIENT_OUTPUT, done.stderr


@contextlib.contextmanager
def running_c_server(server: Path, workdir: Path, env: dict[str, str] | None = None) -> Iterator[dict[str, int]]:
    """The C server ``server`` (SERVER_MAIN's main) running on loopback: its ports by transport."""
    daemon = Daemon("typed-c-server", [str(server)], workdir, env=env)
    found: list[re.Match[str]] = []

    def listening() -> bool:
        match = re.search(r"ports (\d+) (\d+)", daemon.log_path.read_text())
        found.extend([match] if match else [])
        return match is not None

    try:
        daemon.wait_until(listening, "its ports on stdout", timeout=30)
        yield {"tcp": int(found[0][1]), "udp": int(found[0][2])}
    finally:
        daemon.stop()


@pytest.fixture(scope="module")
def c_server(c_programs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """The rpcgen -N -m server, running on loopback: its ports by transport."""
    with running_c_server(c_programs[1], tmp_path_factory.mktemp("c-server")) as ports:
        yield ports


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_typed_client_calls_every_procedure_of_the_rpcgen_c_server(c_server: dict[str, int], typed: ModuleType, udp: bool) -> None:
    rpc = importlib.import_module(typed.__name__.rsplit(".", 1)[0] + ".xdr_rpc")  # never rely on another test having imported it
    port = c_server["udp" if udp else "tcp"]
    with typed.TYPED_V1_Client("127.0.0.1", port, udp=udp, timeout=10) as client:
        call_every_procedure(client, typed)
        with pytest.raises(rpc.AcceptError) as raised:
            client.typed_missing(1)
        assert raised.value.state == rpc.PROC_UNAVAIL
    with typed.TYPED_V2_Client("127.0.0.1", port, udp=udp, timeout=10) as client:
        assert client.typed_mul(6, 7) == 42
