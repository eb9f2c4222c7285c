"""Hostile input: resource bounds on decode, validation on encode, and bounded fuzz runs."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import module_available, requires, requires_corpus

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
    "target, seeds",
    # the decoder targets include corpus files (fuzz/targets.py DECODER_SOURCES)
    [pytest.param("fuzz_decoders.py", None, marks=requires_corpus), ("fuzz_parser.py", ROOT / "tests" / "xdr")],
)
def test_bounded_fuzz_run(tmp_path: Path, target: str, seeds: Path | None) -> None:
    """A short version of the coverage-guided fuzzers (fuzz/README.md runs them for real)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    args = [sys.executable, str(ROOT / "fuzz" / target), "-runs=3000", "-seed=1", str(corpus)]
    if seeds is not None:
        args.append(str(seeds))
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Done 3000 runs" in result.stderr
