"""Interop with the C reference: Debian's rpcgen output compiled against libtirpc.

For hypothesis-generated values of every type, the bytes we encode are decoded and encoded
again by the C routines (must give the same bytes, consuming all of them), and the bytes C
wrote decode back in Python to the value we started from. libtirpc's leniencies (bool = 2,
undeclared enum values) are not exercised here: our decoder is stricter on purpose.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import LIBTIRPC_FLAGS, program, requires, requires_c_reference, requires_corpus
from corpus_options import CORPUS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import Strategies

from xdrgen import model as M
from xdrgen.compiler import compile_file

HERE = Path(__file__).parent


pytestmark = requires_c_reference

DRIVER = r"""
#include <rpc/rpc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "%(header)s"

struct xdrgen_case { const char *name; xdrproc_t proc; size_t size; };
static struct xdrgen_case table[] = {
%(entries)s
};

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

int main(void) {
    static char line[1 << 20];
    static unsigned char in[1 << 19], out[1 << 19];
    while (fgets(line, sizeof line, stdin)) {
        char *space = strchr(line, ' ');
        if (!space) return 2;
        *space = 0;
        size_t n = 0;
        for (char *p = space + 1; p[0] && p[0] != '\n'; p += 2) in[n++] = hexval(p[0]) * 16 + hexval(p[1]);
        struct xdrgen_case *e = NULL;
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            if (!strcmp(table[i].name, line)) e = &table[i];
        if (!e) return 3;
        void *obj = calloc(1, e->size);
        XDR dec, enc;
        xdrmem_create(&dec, (char *)in, n, XDR_DECODE);
        if (!e->proc(&dec, obj, 0)) { printf("DECODE-FAIL\n"); fflush(stdout); continue; }
        unsigned used = xdr_getpos(&dec);
        xdrmem_create(&enc, (char *)out, sizeof out, XDR_ENCODE);
        if (!e->proc(&enc, obj, 0)) { printf("ENCODE-FAIL\n"); fflush(stdout); continue; }
        unsigned len = xdr_getpos(&enc);
        printf("%%u ", used);
        for (unsigned i = 0; i < len; i++) printf("%%02x", out[i]);
        printf("\n");
        fflush(stdout);
        xdr_free(e->proc, obj);
        free(obj);
    }
    return 0;
}
"""


class CReference:
    """rpcgen's XDR routines for one .x file, compiled into a filter process."""

    def __init__(self, source: Path, work: Path, type_names: list[str]):
        stem = source.stem
        shutil.copy(source, work / source.name)
        for flag, suffix in (("-h", ".h"), ("-c", "_xdr.c")):
            subprocess.run(["rpcgen", flag, "-o", stem + suffix, source.name], cwd=work, check=True, capture_output=True)
        entries = "\n".join(f'    {{"{n}", (xdrproc_t)xdr_{n}, sizeof({n})}},' for n in type_names)
        (work / "driver.c").write_text(DRIVER % {"header": stem + ".h", "entries": entries})
        cflags = LIBTIRPC_FLAGS or []
        subprocess.run(
            ["gcc", "-O1", "-w", "-o", "driver", "driver.c", f"{stem}_xdr.c", *cflags],
            cwd=work, check=True, capture_output=True,
        )
        self.process = subprocess.Popen([str(work / "driver")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def round_trip(self, type_name: str, data: bytes) -> tuple[int, bytes]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(f"{type_name} {data.hex()}\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline().strip()
        assert reply and "FAIL" not in reply, f"C could not handle {type_name}: {reply}"
        used, _, hexed = reply.partition(" ")
        return int(used), bytes.fromhex(hexed)

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=10)


def _c_types(model: M.Module) -> list[str]:
    """Types the C side can name: rpcgen emits xdr_<name> for each definition."""
    return [t.name for t in model.types if not t.synthetic]


CASES = {
    "alltypes": HERE / "xdr" / "alltypes.x",
    "nfs_prot": CORPUS / "rpcsvc" / "nfs_prot.x",
    "mount": CORPUS / "rpcsvc" / "mount.x",
    "lxc_monitor_protocol": HERE.parent / "protocols" / "lxc_monitor_protocol.x",
}


@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=requires_corpus) if CASES[c].is_relative_to(CORPUS) else c for c in sorted(CASES)]
)
def test_both_directions_against_libtirpc(case: str, tmp_path: Path, generated_package) -> None:  # type: ignore[no-untyped-def]
    source = CASES[case]
    if case == "lxc_monitor_protocol":
        # its %#include names a libvirt header; the XDR part needs nothing from it
        text = re.sub(r"^%#include.*$", "", source.read_text(), flags=re.M)
        source = tmp_path / "src" / source.name
        source.parent.mkdir()
        source.write_text(text)
    compiled = compile_file(source)
    module = generated_package.load(compiled, f"interop_{case}")
    names = _c_types(compiled.model)
    reference = CReference(source, tmp_path, names)
    strategies = Strategies(compiled.model, module, c_safe=True)
    checked = {"count": 0}

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.data())
    def exchange(data: st.DataObject) -> None:
        for type_name in names:
            value = data.draw(strategies.for_name(type_name), label=type_name)
            ours = module.encode(type_name, value)
            used, theirs = reference.round_trip(type_name, ours)
            assert used == len(ours), f"C consumed {used} of {len(ours)} bytes of {type_name}"
            assert theirs == ours, f"{type_name}: C re-encoded {theirs.hex()} from {ours.hex()}"
            assert module.decode(type_name, theirs) == value
            checked["count"] += 1

    try:
        exchange()
    finally:
        reference.close()
    assert checked["count"] >= 40 * len(names) // 2
