"""Hostile input: resource bounds on decode, validation on encode, and bounded fuzz runs."""

from __future__ import annotations

import math
import random
import shutil
import re
import struct
import subprocess
import time
import sys
import tracemalloc
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import LIBTIRPC_FLAGS, corpus_present, module_available, requires, requires_c_reference, requires_corpus

ROOT = Path(__file__).parents[1]
SOURCE = """
enum colour { RED = 1, GREEN = 2 };
typedef int ints<>;
typedef opaque blob<>;
typedef string name<8>;
struct point { int x; unsigned y; };
struct shape {
    colour fill;
    bool visible;
    name label;
    point corners<3>;
    opaque tag[4];
    hyper big;
    point *origin;
    point pair[2];
};
union nest switch (bool more) {
case TRUE: nest *inner;
case FALSE: void;
};
union pick switch (colour c) {
case RED: int red;
case GREEN: name green;
};
"""


@pytest.fixture(scope="module")
def gen(generated_package) -> ModuleType:  # type: ignore[no-untyped-def]
    return generated_package.load_source(SOURCE, "hostile")  # type: ignore[no-any-return]


def peak_allocation(action: Any) -> int:
    tracemalloc.start()
    try:
        action()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("type_name", ["ints", "blob"])
def test_a_length_claiming_4_gib_fails_without_allocating(gen: ModuleType, type_name: str) -> None:
    def decode() -> None:
        with pytest.raises(gen.XdrError) as error:
            gen.decode(type_name, b"\xff\xff\xff\xff")
        assert error.value.offset == 4  # where the claimed items would start
        assert "bytes needed, 0 left" in str(error.value)

    assert peak_allocation(decode) < 64 * 1024  # the error object and traceback, not 4 GiB


def test_nesting_deeper_than_the_stack_is_an_xdr_error(gen: ModuleType) -> None:
    deep = b"\x00\x00\x00\x01\x00\x00\x00\x01" * 100_000 + b"\x00\x00\x00\x00" * 2
    with pytest.raises(gen.XdrError, match="nested too deeply"):
        gen.decode("nest", deep)
    value = gen.nest(False)
    for _ in range(100_000):
        value = gen.nest(True, inner=value)
    with pytest.raises(gen.XdrError, match="nested too deeply"):
        gen.encode("nest", value)


def test_max_size_rejects_before_decoding(gen: ModuleType) -> None:
    data = gen.encode("ints", list(range(100)))
    assert gen.decode("ints", data, max_size=len(data)) == list(range(100))
    with pytest.raises(gen.XdrError, match="exceeds max_size 64"):
        gen.decode("ints", data, max_size=64)


def test_a_fixed_struct_is_decoded_whole_or_not_at_all(gen: ModuleType) -> None:
    codec = gen.codec("point")
    assert codec.decode.__name__ == "_unpack_point"  # one Struct.unpack of all the input
    data = bytes.fromhex("ffffffff 00000002")
    for buffer in (data, bytearray(data), memoryview(data)):
        assert codec.decode(buffer) == gen.point(-1, 2)
    left_over = (data + b"\0" * 4, "4 bytes left after the value", 8, "hostile.point")
    for bad, message, offset, path in (left_over, (data[:6], "truncated", 4, "hostile.point.y")):
        with pytest.raises(gen.XdrError, match=message) as error:
            codec.decode(bad)
        assert (error.value.offset, error.value.path) == (offset, path)
    with pytest.raises(gen.XdrError, match="exceeds max_size 4"):
        codec.decode(data, max_size=4)


def test_subclasses_of_generated_structs_encode_like_them(gen: ModuleType) -> None:
    class labelled_point(gen.point):  # type: ignore[name-defined]
        pass

    plain = good_shape(gen)
    sub = good_shape(gen, corners=[labelled_point(1, 2)], pair=[labelled_point(0, 0), labelled_point(3, 4)])
    assert gen.encode("point", labelled_point(5, 6)) == gen.encode("point", gen.point(5, 6))
    assert gen.encode("shape", sub) == gen.encode("shape", plain)


class gen_point_with_y:  # a stand-in, replaced by a real point in the test
    def __init__(self, y: int):
        self.y = y


def good_shape(gen: ModuleType, **changes: Any) -> Any:
    fields = dict(
        fill=gen.colour.RED, visible=True, label="ok", corners=[gen.point(1, 2)], tag=b"abcd",
        big=-(2**63), origin=None, pair=[gen.point(0, 0), gen.point(3, 4)],
    )
    fields.update({k: gen.point(0, v.y) if isinstance(v, gen_point_with_y) else v for k, v in changes.items()})
    return gen.shape(**fields)


@pytest.mark.parametrize(
    "changes, message, path",
    [
        ({"fill": 3}, "3 is not a value of enum colour", "hostile.shape.fill"),
        ({"visible": 1}, "expected bool", "hostile.shape.visible"),
        ({"label": "x" * 9}, "length 9 exceeds the maximum 8", "hostile.shape.label"),
        ({"label": b"bytes"}, "expected str", "hostile.shape.label"),
        ({"corners": [None] * 4}, "length 4 exceeds the maximum 3", "hostile.shape.corners"),
        ({"tag": b"abc"}, "exactly 4 bytes", "hostile.shape.tag"),
        ({"big": 2**63}, "out of range", "hostile.shape.big"),
        ({"pair": [None]}, "exactly 2 items", "hostile.shape.pair"),
        ({"corners": [("1", 2)]}, "expected point", "hostile.shape.corners"),
        ({"origin": 5}, "expected point", "hostile.shape.origin"),
        ({"origin": gen_point_with_y(-1)}, "out of range", "hostile.shape.origin.y"),
    ],
)
def test_encode_validates_before_writing(gen: ModuleType, changes: dict[str, Any], message: str, path: str) -> None:
    assert gen.encode("shape", good_shape(gen))  # the unchanged value is fine
    with pytest.raises(gen.XdrError, match=message) as error:
        gen.encode("shape", good_shape(gen, **changes))
    assert error.value.path == path and error.value.offset is None


def test_integer_ranges_on_encode(gen: ModuleType) -> None:
    with pytest.raises(gen.XdrError, match="out of range") as error:
        gen.encode("point", gen.point(0, -1))
    assert error.value.path == "hostile.point.y"
    with pytest.raises(gen.XdrError, match="expected int"):
        gen.encode("point", gen.point(1.5, 0))


def test_union_arm_must_match_its_discriminant(gen: ModuleType) -> None:
    assert gen.decode("pick", gen.encode("pick", gen.pick(gen.colour.RED, red=7))) == gen.pick(gen.colour.RED, red=7)
    with pytest.raises(gen.XdrError, match="a field of another arm is set") as error:
        gen.encode("pick", gen.pick(gen.colour.RED, red=7, green="x"))
    assert error.value.path == "hostile.pick"
    with pytest.raises(gen.XdrError, match="the arm 'green' is not set"):
        gen.encode("pick", gen.pick(gen.colour.GREEN))
    with pytest.raises(gen.XdrError, match="9 is not a value of enum colour") as error:
        gen.encode("pick", gen.pick(9))
    assert error.value.path == "hostile.pick.c"


@pytest.mark.parametrize(
    "data, message, offset",
    [
        ("00000001 00000002", "bool must be 0 or 1, not 2", 4),  # shape: bad bool
        ("00000003", "3 is not a value of enum colour", 0),
        ("00000001 00000001 00000001 61000000 00000004", "length 4 exceeds the maximum 3", 16),
        ("00000001 00000001 00000001 61000100", "non-zero padding", 13),
        ("00000001 00000001 00000001", "truncated", 12),
    ],
)
def test_decode_errors_carry_offset_and_path(gen: ModuleType, data: str, message: str, offset: int) -> None:
    with pytest.raises(gen.XdrError, match=message) as error:
        gen.decode("shape", bytes.fromhex(data))
    assert error.value.offset == offset
    assert error.value.path.startswith("hostile.shape.")


@requires(module_available("atheris"), "needs atheris (pip install -e '.[fuzz]')")
@pytest.mark.parametrize(
    "target, options",
    [
        # long inputs from the first run on; the decoder targets include corpus files (fuzz/targets.py)
        pytest.param("fuzz_decoders.py", ["-max_len=8192", "-len_control=0"], marks=requires_corpus),
        ("fuzz_parser.py", ["-max_len=8192"]),  # seeded with the real .x files (fuzz/targets.py)
    ],
)
def test_bounded_fuzz_run(tmp_path: Path, target: str, options: list[str]) -> None:
    """A short version of the coverage-guided fuzzers (fuzz/README.md runs them for real)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    args = [sys.executable, str(ROOT / "fuzz" / target), "-runs=3000", "-seed=1", *options, str(corpus)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Done 3000 runs" in result.stderr
    if target == "fuzz_parser.py":
        sys.path.insert(0, str(ROOT / "fuzz"))
        try:
            from targets import PARSER_SEED_SOURCES
        finally:
            sys.path.pop(0)
        real = sum(len(list(source.rglob("*.x"))) for source in PARSER_SEED_SOURCES if source.is_dir())
        seeded = re.search(r"INFO: seed corpus: files: (\d+)", result.stderr)
        assert seeded is not None and int(seeded.group(1)) == real, result.stderr[:2000]
        # the project's own .x files always; the 102 real-world ones when the corpus is there
        assert real >= (100 if corpus_present() else 10), real


# ---- numbers and offsets at the edges (issue 18) ----------------------------------------------

EDGES = """
struct both { float f; double d; };
typedef float floats<>;
typedef double doubles<3>;
struct counted { int n; float f<>; };
union maybe switch (int k) { case 1: float f; case 2: double d; default: void; };
typedef opaque zero[0];
typedef int no_ints[0];
struct zeros { zero z<>; };
struct empty_lists { no_ints z<>; };
"""


@pytest.fixture(scope="module")
def edges(generated_package) -> ModuleType:  # type: ignore[no-untyped-def]
    return generated_package.load_source(EDGES, "edges")  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "type_name, build, message, path",
    [
        ("both", lambda m: m.both(10**400, 1.0), "an integer of 1329 bits does not fit in a float", "edges.both.f"),
        ("both", lambda m: m.both(1.0, 10**400), "an integer of 1329 bits does not fit in a double", "edges.both.d"),
        ("both", lambda m: m.both(1.0, -(10**5000)), "an integer of 16610 bits does not fit in a double", "edges.both.d"),
        ("both", lambda m: m.both(1e300, 1.0), "1e+300 does not fit in a float", "edges.both.f"),
        ("floats", lambda m: [1.0, 10**400], "does not fit in a float", "edges.floats"),
        ("doubles", lambda m: [10**400], "does not fit in a double", "edges.doubles"),
        ("counted", lambda m: m.counted(1, [1e39]), "1e+39 does not fit in a float", "edges.counted.f"),
        ("maybe", lambda m: m.maybe(2, d=10**400), "does not fit in a double", "edges.maybe.d"),
    ],
)
def test_numbers_too_large_for_a_float_are_xdr_errors(edges: ModuleType, type_name: str, build: Any, message: str, path: str) -> None:
    with pytest.raises(edges.XdrError, match=re.escape(message)) as error:
        edges.encode(type_name, build(edges))
    assert (error.value.path, error.value.offset) == (path, None)
    assert edges.encode("both", edges.both(2**127, 2**1023)) == bytes.fromhex("7f000000 7fe0000000000000")  # ints that fit


def test_decode_from_refuses_offsets_outside_the_input(edges: ModuleType) -> None:
    codec = edges.codec("both")
    data = bytes(4) + edges.encode("both", edges.both(1.5, -2.0))
    assert codec.decode_from(data, 4) == (edges.both(1.5, -2.0), 16)
    for offset in (-4, -12, -1, len(data) + 1, 2**40):
        with pytest.raises(edges.XdrError, match=f"offset {offset} is outside the 16 bytes") as error:
            codec.decode_from(data, offset)
        assert error.value.offset == offset
    with pytest.raises(edges.XdrError, match="truncated"):
        codec.decode_from(data, len(data))  # the end itself is a place to start, with nothing there


def _float32_nan_patterns() -> list[int]:
    """Signalling and quiet NaNs of both signs: payload edges and a spread between them."""
    payloads = [1, 2, 0x1FFFFF, 0x200000, 0x3FFFFF, 0x400000, 0x400001, 0x7FFFFF, *range(3, 0x7FFFFF, 65_537)]
    return [sign | 0x7F800000 | payload for sign in (0, 0x80000000) for payload in payloads]


def test_float32_nan_bits_survive_the_runtime_codec() -> None:
    """C's xdr_float copies the bits; struct's "f" turns 7f800001 into 7fc00001."""
    from xdrgen.runtime import xdr_runtime as rt

    assert struct.pack(">f", struct.unpack(">f", bytes.fromhex("7f800001"))[0]) == bytes.fromhex("7fc00001")  # the bug
    for bits in _float32_nan_patterns():
        data = bits.to_bytes(4, "big")
        value, end = rt.dec_float(data, 0, "t.f")
        assert math.isnan(value) and end == 4
        out: list[bytes] = []
        rt.enc_float(out, value, "t.f")
        assert out == [data], f"{bits:08x} -> {out[0].hex()}"
        assert rt.float32_to_bits(rt.float32_from_bits(bits)) == bits
    # a NaN made in Python (a double) narrows as a C cast does: sign and top payload bits, quiet
    assert rt.pack_float32(math.nan) == struct.pack(">f", math.nan) == bytes.fromhex("7fc00000")
    assert rt.pack_float32(-math.nan) == bytes.fromhex("ffc00000")
    assert rt.pack_float32(struct.unpack(">d", bytes.fromhex("7ff0000000000001"))[0]) == bytes.fromhex("7fc00000")
    rng = random.Random(4)
    for bits in [0, 0x80000000, 1, 0x7F7FFFFF, 0x7F800000, 0xFF800000] + [rng.getrandbits(32) for _ in range(20_000)]:
        data = bits.to_bytes(4, "big")
        if not math.isnan(struct.unpack(">f", data)[0]):  # every other value: exactly what struct does
            assert rt.unpack_float32(data, 0) == struct.unpack(">f", data)[0]
            assert rt.pack_float32(rt.unpack_float32(data, 0)) == data


def test_float32_nan_bits_survive_a_generated_codec(edges: ModuleType) -> None:
    for bits in _float32_nan_patterns()[:40]:
        nan = bits.to_bytes(4, "big")
        for type_name, data in [
            ("both", nan + bytes(8)),
            ("floats", bytes.fromhex("00000002") + nan + nan),
            ("counted", bytes(4) + bytes.fromhex("00000001") + nan),
            ("maybe", bytes.fromhex("00000001") + nan),
        ]:
            assert edges.encode(type_name, edges.decode(type_name, data)).hex() == data.hex()


def test_zero_size_items_are_bounded_by_the_runtime() -> None:
    """libtirpc (rpcgen -c code of ``zero z<>``) decodes any count of zero-size items, one
    call each: 1,000,000 in 2.7 ms, 0xffffffff in 18 s. The runtime refuses more than
    ZERO_SIZE_ITEMS_MAX; below that, a count needs nothing after it."""
    from xdrgen.runtime import xdr_runtime as rt

    limit = rt.ZERO_SIZE_ITEMS_MAX
    assert rt.dec_count(limit.to_bytes(4, "big"), 0, rt.UINT32_MAX, 0, "t.z") == (limit, 4)
    for count in (limit + 1, 1_000_000, 0xFFFFFFFF):
        with pytest.raises(rt.XdrError, match=f"{count} items of zero size exceed the limit of {limit}") as error:
            rt.dec_count(count.to_bytes(4, "big"), 0, rt.UINT32_MAX, 0, "t.z")
        assert (error.value.offset, error.value.path) == (0, "t.z")
        with pytest.raises(rt.XdrError, match="items of zero size exceed"):
            rt.enc_count([], count, rt.UINT32_MAX, "t.z", min_item_size=0)


@pytest.mark.parametrize("type_name", ["zeros", "empty_lists"])
def test_zero_size_items_are_bounded_in_a_generated_codec(edges: ModuleType, type_name: str) -> None:
    limit = 65_536
    decoded = edges.decode(type_name, limit.to_bytes(4, "big"))
    assert len(decoded.z) == limit and edges.encode(type_name, decoded) == limit.to_bytes(4, "big")
    for count in (limit + 1, 0xFFFFFFFF):  # 0xffffffff ran for ever
        started = time.perf_counter()
        with pytest.raises(edges.XdrError, match="items of zero size exceed the limit") as error:
            edges.decode(type_name, count.to_bytes(4, "big"))
        assert time.perf_counter() - started < 0.5
        assert (error.value.offset, error.value.path) == (0, f"edges.{type_name}.z")
    with pytest.raises(edges.XdrError, match="items of zero size exceed the limit"):
        edges.encode(type_name, getattr(edges, type_name)([decoded.z[0]] * (limit + 1)))


ZERO_SIZE_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include "zero.h"
/* decode the 4-byte count argv[2] (hex), nothing after it, as argv[1]; print ok and length */
int main(int argc, char **argv) {
    unsigned count = strtoul(argv[2], NULL, 16);
    char buf[4] = { count >> 24, count >> 16, count >> 8, count };
    XDR xdrs;
    xdrmem_create(&xdrs, buf, sizeof buf, XDR_DECODE);
    zeros z = { { 0, NULL } };
    empty_lists e = { { 0, NULL } };
    bool_t ok = argv[1][0] == 'z' ? xdr_zeros(&xdrs, &z) : xdr_empty_lists(&xdrs, &e);
    printf("%d %u\n", ok, argv[1][0] == 'z' ? z.z.z_len : e.z.z_len);
    return 0;
}
"""


@pytest.mark.parametrize("reference", [pytest.param("rpcgen -c + libtirpc", marks=requires_c_reference)])
def test_zero_size_items_up_to_the_limit_decode_as_libtirpc_decodes_them(tmp_path: Path, edges: ModuleType, reference: str) -> None:
    """rpcgen -c code with libtirpc takes any count of zero-size items with nothing after the
    count; up to ZERO_SIZE_ITEMS_MAX we give the same value (above it C goes on: 1,000,000
    items in 2.7 ms, 0xffffffff in 18 s, where we refuse)."""
    (tmp_path / "zero.x").write_text(EDGES)
    (tmp_path / "main.c").write_text(ZERO_SIZE_C)
    for flag, out in (("-h", "zero.h"), ("-c", "zero_xdr.c")):
        subprocess.run(["rpcgen", flag, "-o", out, "zero.x"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["gcc", "-o", "zero", "main.c", "zero_xdr.c", *(LIBTIRPC_FLAGS or [])], cwd=tmp_path, check=True, capture_output=True)
    for type_name in ("zeros", "empty_lists"):
        for count in (0, 1, 3, 65_536):
            c_says = subprocess.run([str(tmp_path / "zero"), type_name, f"{count:x}"], capture_output=True, text=True, check=True).stdout.split()
            assert c_says == ["1", str(count)]
            assert len(edges.decode(type_name, count.to_bytes(4, "big")).z) == count


def test_fast_and_checked_encoders_agree_on_bools_for_numbers(generated_package) -> None:  # type: ignore[no-untyped-def]
    """True is an int in Python (and to mypy): both encoders take it as 1 for an int, an enum
    value and a float. The checked one is reached by a string too long in the same struct."""
    mod = generated_package.load_source(
        "enum e { A = 0, B = 1 };\nstruct s { int i; e k; float f; double d; string t<2>; };\n", "bools"
    )
    assert mod.encode("s", mod.s(True, True, True, False, "ab")) == mod.encode("s", mod.s(1, mod.B, 1.0, 0.0, "ab"))
    with pytest.raises(mod.XdrError) as error:  # the fast path refuses "abc"; the checked one names it
        mod.encode("s", mod.s(True, True, True, False, "abc"))
    assert error.value.path == "bools.s.t"
    with pytest.raises(mod.XdrError) as error:
        mod.encode("s", mod.s("1", mod.B, 1.0, 0.0, "ab"))  # a str is still not an int
    assert error.value.path == "bools.s.i"
