"""What the fast codecs write out and what they call (issue 17's size goal), and unions that keep
their arm in one slot: the bytes are RFC 4506's whichever way the code is shaped, and a value
the fast path refuses is still explained by the checked codec with its field path."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from types import ModuleType

import pytest

from xdrgen.python.fast import COPY_BUDGET

# "handle" (2 leaves) is used in more places than COPY_BUDGET allows copies of it: its users
# call its functions. "once" is used once: written out where it is used. "label" (a typedef'd
# string) is used that often too: decoders call its decoder.
USERS = COPY_BUDGET  # 2 leaves x 16 uses > 16
SOURCE = (
    "typedef string label<8>;\n"
    "struct handle { label name; opaque id[3]; };\n"
    "struct once { string note<4>; int n; };\n"
    "struct user0 { int before; handle h; label tag; once o; };\n"
    + "".join(f"struct user{i} {{ int before; handle h; label tag; }};\n" for i in range(1, USERS))
    + "union pick switch (int which) { case 0: void; case 1: handle h; case 2: label *maybe; default: int other; };\n"
    # a union written out in a list's loop, after a string (parts pending), whose arm calls
    # handle's functions (which adds the parts before the call)
    + "union either switch (bool b) { case TRUE: handle h; case FALSE: void; };\n"
    + "struct chain { string tag<4>; either e; chain *next; };\n"
)


@pytest.fixture(scope="module")
def shared(generated_package) -> ModuleType:  # type: ignore[no-untyped-def]
    return generated_package.load_source(SOURCE, "shared")  # type: ignore[no-any-return]


def test_a_struct_used_in_many_places_is_called_and_one_used_once_written_out(shared: ModuleType) -> None:
    import inspect

    pack = inspect.getsource(shared._pack_user0)
    decode = inspect.getsource(shared._dec_user0)
    assert "_pack_handle(" in pack and "_dec_handle(" in decode and "_dec_label(" in decode
    assert "_pack_once(" not in pack and "_dec_once(" not in decode  # once: in line


def test_called_structs_encode_as_written_out_ones_do(shared: ModuleType) -> None:
    value = shared.user0(-1, shared.handle("ab", b"xyz"), "t", shared.once("n", 7))
    data = shared.encode("user0", value)
    # before, then handle (name "ab" padded, id padded to 4), tag "t", once ("n", 7)
    assert data == bytes.fromhex("ffffffff 00000002 61620000 78797a00 00000001 74000000 00000001 6e000000 00000007")
    assert shared.decode("user0", data) == value
    assert shared.codec("user0").encode.__name__ == "_pack_user0"  # a _pack_ with a call inside


def test_a_union_in_a_loop_may_call_a_struct_of_its_arm(shared: ModuleType) -> None:
    import inspect

    assert "_pack_handle(" in inspect.getsource(shared._enc_chain) and "_pack_either(" not in inspect.getsource(shared._enc_chain)
    value = shared.chain("t", shared.either(True, h=shared.handle("ab", b"xyz")), shared.chain("", shared.either(False), None))
    # "t", TRUE and the handle, TRUE (a node follows); "", FALSE, FALSE (none follows)
    data = bytes.fromhex("00000001 74000000 00000001 00000002 61620000 78797a00 00000001 00000000 00000000 00000000")
    assert shared.encode("chain", value) == data and shared.decode("chain", data) == value


def test_a_bad_value_inside_a_called_struct_is_named_from_the_outer_value(shared: ModuleType) -> None:
    with pytest.raises(shared.XdrError, match="length 15 exceeds the maximum 8") as error:
        shared.encode("user3", shared.user3(1, shared.handle("too long a name", b"xyz"), "t"))
    assert error.value.path == "shared.user3.h.name"
    with pytest.raises(shared.XdrError) as error:
        shared.encode("user3", shared.user3(1, shared.handle("ab", b"xy"), "t"))
    assert error.value.path == "shared.user3.h.id"
    with pytest.raises(shared.XdrError) as error:  # a called decoder refuses: the checked one says where
        shared.decode("user0", bytes.fromhex("00000001 00000009") + bytes(40))
    assert error.value.path == "shared.user0.h.name"


def test_a_fixed_opaque_packed_in_its_run_takes_what_the_checked_codec_takes(shared: ModuleType) -> None:
    expected = bytes.fromhex("00000002 61620000 78797a00")
    for data in (b"xyz", bytearray(b"xyz"), memoryview(b"xyz")):  # a memoryview: the checked codec
        assert shared.encode("handle", shared.handle("ab", data)) == expected
    with pytest.raises(shared.XdrError):
        shared.encode("handle", shared.handle("ab", "xyz"))  # a str of the right length


def test_a_variable_opaque_packed_in_its_run_takes_what_the_checked_codec_takes(generated_package) -> None:  # type: ignore[no-untyped-def]
    mod = generated_package.load_source("struct blob { int before; opaque data<8>; int after; };\n", "blob")
    # RFC 4506 4.10: the length, the bytes, zeros to a multiple of four
    expected = bytes.fromhex("ffffffff 00000003 78797a00 00000002")
    for data in (b"xyz", bytearray(b"xyz"), memoryview(b"xyz")):  # a memoryview: the checked codec
        assert mod.encode("blob", mod.blob(-1, data, 2)) == expected
    assert mod.encode("blob", mod.blob(-1, b"", 2)) == bytes.fromhex("ffffffff 00000000 00000002")
    for wrong in ("xyz", [120, 121, 122], 3, b"123456789"):
        with pytest.raises(mod.XdrError) as error:
            mod.encode("blob", mod.blob(-1, wrong, 2))
        assert error.value.path == "blob.blob.data"


def test_a_union_keeps_its_arm_in_one_slot_with_the_dataclass_api(shared: ModuleType) -> None:
    value = shared.pick(1, h=shared.handle("ab", b"xyz"))
    assert value._xdr_arm == ("h", shared.handle("ab", b"xyz")) and value.maybe is None and value.other is None
    data = shared.encode("pick", value)
    assert data == bytes.fromhex("00000001 00000002 61620000 78797a00") and shared.decode("pick", data) == value
    assert [f.name for f in dataclasses.fields(shared.pick)] == ["which", "h", "maybe", "other"]
    assert dataclasses.replace(value, h=None, other=5) == shared.pick(1, other=5)
    assert pickle.loads(pickle.dumps(value)) == value == copy.deepcopy(value)
    assert repr(shared.pick(9, other=3)) == "pick(which=9, h=None, maybe=None, other=3)"
    match shared.decode("pick", bytes.fromhex("00000009 00000003")):
        case shared.pick(which=9, other=n):
            assert n == 3
        case _:
            pytest.fail("no match")
    # set as attributes: each arm field is a property over the one slot
    value.other = 4
    assert value._xdr_arm == {"h": shared.handle("ab", b"xyz"), "other": 4}
    with pytest.raises(shared.XdrError, match="a field of another arm is set"):
        shared.encode("pick", value)
    value.h = None
    value.which = 7
    assert value._xdr_arm == ("other", 4) and shared.encode("pick", value) == bytes.fromhex("00000007 00000004")
    with pytest.raises(AttributeError):
        value.not_a_field = 1


def test_union_arms_absent_optional_and_void(shared: ModuleType) -> None:
    assert shared.encode("pick", shared.pick(2)) == bytes.fromhex("00000002 00000000")  # an absent optional
    assert shared.decode("pick", bytes.fromhex("00000002 00000000")) == shared.pick(2)
    some = shared.pick(2, maybe="hi")
    assert shared.decode("pick", shared.encode("pick", some)) == some
    assert shared.encode("pick", shared.pick(0)) == bytes.fromhex("00000000")
    with pytest.raises(shared.XdrError, match="a field of another arm is set"):
        shared.encode("pick", shared.pick(0, other=1))
    with pytest.raises(shared.XdrError, match="the arm 'h' is not set") as error:
        shared.encode("pick", shared.pick(1))
    assert error.value.path == "shared.pick.h"


def test_bytes_that_are_not_utf8_round_trip_through_each_shape_of_string_code(shared: ModuleType) -> None:
    """The fast path encodes and decodes strings strictly; bytes that are not UTF-8 (here 0xff,
    a lone continuation byte 0x80) are refused there, and the checked codec gives the text
    with surrogateescape: the same value and bytes as for any other string."""
    odd = b"\xff\x80".decode("utf-8", "surrogateescape")
    assert odd == "\udcff\udc80"
    # user0: "once.note" written out in line, "tag" through the called label decoder, "h.name"
    # inside the called handle struct; pick: a string behind an optional in a union arm
    for type_name, value, data in (
        ("user0", shared.user0(1, shared.handle(odd, b"xyz"), odd, shared.once(odd, 2)),
         bytes.fromhex("00000001 00000002 ff800000 78797a00 00000002 ff800000 00000002 ff800000 00000002")),
        ("pick", shared.pick(2, maybe=odd), bytes.fromhex("00000002 00000001 00000002 ff800000")),
        ("label", odd, bytes.fromhex("00000002 ff800000")),
    ):
        assert shared.encode(type_name, value) == data
        assert shared.decode(type_name, data) == value
        assert shared.codec(type_name).decode_from(data + b"tail", 0) == (value, len(data))


def test_arrays_of_numbers_use_one_struct_per_count_and_keep_only_so_many(generated_package) -> None:  # type: ignore[no-untyped-def]
    """Arrays of numbers are packed with a Struct per count (``_rt.Items``), which a peer
    sending every count it likes must not be able to grow without bound."""
    mod = generated_package.load_source("struct nums { int values<>; hyper wide[2]; };\n", "nums")
    runtime = mod._rt
    for count in range(runtime.ITEMS_KEPT + 200):
        value = mod.nums(list(range(-count, 0)), [-(2**63), 2**63 - 1])
        data = mod.encode("nums", value)
        # RFC 4506 4.13: the count, the items; then the fixed array of two hypers
        assert data == (count.to_bytes(4, "big") + b"".join(i.to_bytes(4, "big", signed=True) for i in range(-count, 0))
                        + bytes.fromhex("8000000000000000 7fffffffffffffff"))
        assert mod.decode("nums", data) == value
    tables = [v for v in vars(mod).values() if isinstance(v, runtime.Items)]
    assert len(tables) == 2 and all(len(table) == runtime.ITEMS_KEPT + 1 for table in tables)  # counts 0..ITEMS_KEPT


# Unions whose arms are flat, inside a list's nodes and as array items: the loop's body has them
# written out (no call per item), the TRUE before each node packed with the node's first values.
LOOPS = """
enum color { RED = 0, GREEN = 1, BLUE = 5 };
struct point { int x; unsigned int y; };
union shape switch (color c) { case RED: point center; case GREEN: case BLUE: string label<8>; default: void; };
union maybe switch (bool present) { case TRUE: unsigned hyper value; case FALSE: void; };
struct tagged { unsigned int id; shape s; maybe m; tagged *next; };
struct shapes { shape many<3>; maybe pair[2]; };
"""


@pytest.fixture(scope="module")
def loops(generated_package) -> ModuleType:  # type: ignore[no-untyped-def]
    return generated_package.load_source(LOOPS, "loops")  # type: ignore[no-any-return]


def test_flat_unions_in_a_loop_are_written_out_and_give_rfc_4506_bytes(loops: ModuleType) -> None:
    import inspect

    m = loops
    for function in (m._enc_tagged, m._dec_tagged, m._enc_shapes, m._dec_shapes):
        source = inspect.getsource(function)
        assert not any(f"{prefix}{name}(" in source for prefix in ("_enc_", "_dec_", "_pack_") for name in ("shape", "maybe"))
    chain = m.tagged(7, m.shape(m.RED, center=m.point(-1, 2)), m.maybe(True, value=5),
                     m.tagged(8, m.shape(m.GREEN, label="hey"), m.maybe(False), m.tagged(9, m.shape(m.BLUE, label=""), m.maybe(False), None)))
    # each node: id, the discriminant and arm of s, those of m, then TRUE if another node follows
    data = bytes.fromhex(
        "00000007 00000000 ffffffff 00000002 00000001 0000000000000005 00000001"
        " 00000008 00000001 00000003 68657900 00000000 00000001"
        " 00000009 00000005 00000000 00000000 00000000"
    )
    assert m.encode("tagged", chain) == data and m.decode("tagged", data) == chain
    assert m.encode("tagged", chain.next.next) == data[-20:]  # a node alone: no TRUE before it
    items = m.shapes([m.shape(m.GREEN, label="abcde"), m.shape(m.RED, center=m.point(3, 4)), m.shape(m.BLUE, label="")],
                     [m.maybe(True, value=1), m.maybe(False)])
    data = bytes.fromhex("00000003 00000001 00000005 61626364 65000000 00000000 00000003 00000004 00000005 00000000"
                         " 00000001 0000000000000001 00000000")
    assert m.encode("shapes", items) == data and m.decode("shapes", data) == items


def test_a_bad_union_in_a_loop_is_refused_and_named(loops: ModuleType) -> None:
    m = loops
    point = m.point(1, 2)
    for value, path, reason in (
        (m.tagged(1, m.shape(m.RED, label="x"), m.maybe(False), None), "loops.tagged.s.center", "the arm 'center' is not set"),
        # maybe has one arm field: no name to compare, yet the wrong arm is still caught
        (m.tagged(1, m.shape(m.RED, center=point), m.maybe(False, value=3), None), "loops.tagged.m", "a field of another arm is set"),
        (m.tagged(1, m.shape(m.RED, center=point), m.maybe(True), None), "loops.tagged.m.value", "the arm 'value' is not set"),
        (m.tagged(1, m.shape(m.RED, center=point), m.maybe(False), m.tagged(2, m.maybe(False), m.maybe(False), None)),
         "loops.tagged.s", "expected shape, got maybe"),
        (m.shapes([m.shape(m.GREEN, label="123456789")], [m.maybe(False), m.maybe(False)]), "loops.shapes.many.label", "exceeds the maximum 8"),
        (m.shapes([], [m.maybe(False), m.maybe(1, value=2)]), "loops.shapes.pair.present", "expected bool"),
    ):
        with pytest.raises(m.XdrError, match=reason) as error:
            m.encode(type(value).__name__, value)
        assert error.value.path == path
    data = m.encode("shapes", m.shapes([m.shape(m.GREEN, label="abcde")], [m.maybe(False), m.maybe(False)]))
    for end in range(len(data)):
        with pytest.raises(m.XdrError):
            m.decode("shapes", data[:end])
    with pytest.raises(m.XdrError, match="non-zero padding") as error:
        m.decode("shapes", data[:17] + b"\x01" + data[18:])  # the first byte after "abcde"
    assert error.value.path == "loops.shapes.many.label"


def test_a_string_read_with_the_values_after_it_refuses_bad_input_and_keeps_few_structs(generated_package) -> None:  # type: ignore[no-untyped-def]
    """A string or opaque followed by fixed-size values is read with them in one unpack, by a
    Struct for its length (``_rt.Sized``): short input, padding that is not zeros and lengths
    past the end are still refused with the field's path, and many lengths do not grow it."""
    mod = generated_package.load_source("struct named { unsigned hyper id; string name<>; opaque tag<>; unsigned int mode; };\n", "named")
    import inspect

    assert "_sized[" in inspect.getsource(mod._dec_named)
    runtime = mod._rt
    for size in range(0, runtime.ITEMS_KEPT + 100, 7):
        value = mod.named(size, "n" * size, b"t" * (size % 5), 0o644)
        # RFC 4506: the hyper, then each length, its bytes and zeros to a multiple of 4, the uint
        data = (size.to_bytes(8, "big") + size.to_bytes(4, "big") + b"n" * size + bytes(-size % 4)
                + (size % 5).to_bytes(4, "big") + b"t" * (size % 5) + bytes(-(size % 5) % 4) + (0o644).to_bytes(4, "big"))
        assert mod.encode("named", value) == data and mod.decode("named", data) == value
    tables = [v for v in vars(mod).values() if isinstance(v, runtime.Sized)]
    assert tables and all(len(table) <= runtime.ITEMS_KEPT + 1 for table in tables)
    data = mod.encode("named", mod.named(1, "abc", b"xy", 2))  # 8 + 4+4 + 4+4 + 4 bytes
    for end in range(len(data)):
        with pytest.raises(mod.XdrError):
            mod.decode("named", data[:end])
    for offset, path in ((15, "named.named.name"), (23, "named.named.tag")):  # a padding byte set
        with pytest.raises(mod.XdrError, match="non-zero padding") as error:
            mod.decode("named", data[:offset] + b"\x01" + data[offset + 1 :])
        assert error.value.path == path
    for length in (2**32 - 1, 2**31, 1000):  # lengths past the end
        with pytest.raises(mod.XdrError, match="truncated") as error:
            mod.decode("named", data[:8] + length.to_bytes(4, "big") + data[12:])
        assert error.value.path == "named.named.name"


def test_struct_names_give_their_run_back(generated_package) -> None:  # type: ignore[no-untyped-def]
    """Each Struct and table is defined once under a name that gives its run back: an empty
    fixed opaque ("0s") is not the bytes of any length ("s") beside it, and "ii" and "2i" are
    one Struct. (Two tables of one name had the later one serve both: wrong bytes, or a decoder
    that unpacked too few values.)"""
    import re

    source = (
        "struct A { string a<>; unsigned u; opaque z[0]; };\n"
        "struct B { unsigned u; opaque z[0]; string a<>; };\n"
        "struct D { string s<>; unsigned u; opaque z[0]; };\n"
        "struct E { opaque z[0]; string s<>; };\n"
        "struct P { int a; int b; };\n"
        "struct Q { int v[2]; };\n"
    )
    mod = generated_package.load_source(source, "runs")
    import inspect

    defined = re.findall(r"^(_S_\w+): Final", inspect.getsource(mod), re.M)
    assert len(defined) == len(set(defined)), defined
    for type_name, value, data in (
        ("A", mod.A("hello", 7, b""), "00000005 68656c6c 6f000000 00000007"),
        ("B", mod.B(7, b"", "hi"), "00000007 00000002 68690000"),
        ("D", mod.D("abc", 7, b""), "00000003 61626300 00000007"),
        ("E", mod.E(b"", "abc"), "00000003 61626300"),
        ("P", mod.P(-1, 2), "ffffffff 00000002"),
        ("Q", mod.Q([-1, 2]), "ffffffff 00000002"),
    ):
        assert mod.encode(type_name, value) == bytes.fromhex(data), type_name
        assert mod.decode(type_name, bytes.fromhex(data)) == value, type_name


def test_the_fast_path_takes_only_what_the_checked_codec_takes(generated_package) -> None:  # type: ignore[no-untyped-def]
    """An enum is a member (a plain int of a member's value goes to the checked codec, which
    takes it; a float equal to one is refused), and a bool discriminant is a bool even where one
    arm has both labels (1 == True)."""
    mod = generated_package.load_source(
        "enum color { RED = 0, GREEN = 1 };\n"
        "struct paint { color c; int n; };\n"
        "union tinted switch (color c) { case RED: int r; case GREEN: void; };\n"
        "union both switch (bool b) { case TRUE: case FALSE: int v; };\n"
        "struct chain { both x; tinted t; chain *next; };\n",
        "taken",
    )
    assert mod.encode("paint", mod.paint(1, 5)) == mod.encode("paint", mod.paint(mod.GREEN, 5)) == bytes.fromhex("00000001 00000005")
    assert mod.encode("tinted", mod.tinted(0, r=3)) == bytes.fromhex("00000000 00000003")
    assert mod.encode("both", mod.both(True, v=5)) == bytes.fromhex("00000001 00000005")
    fine = mod.chain(mod.both(False, v=1), mod.tinted(mod.GREEN), None)
    assert mod.encode("chain", fine) == bytes.fromhex("00000000 00000001 00000001 00000000")
    for type_name, value, path in (
        ("paint", mod.paint(1.0, 5), "taken.paint.c"),
        ("tinted", mod.tinted(0.0, r=3), "taken.tinted.c"),
        ("both", mod.both(1, v=5), "taken.both.b"),
        ("chain", mod.chain(mod.both(0, v=5), mod.tinted(mod.GREEN), None), "taken.chain.x.b"),
        ("chain", mod.chain(mod.both(True, v=5), mod.tinted(1.0), None), "taken.chain.t.c"),
    ):
        with pytest.raises(mod.XdrError) as error:
            mod.encode(type_name, value)
        assert error.value.path == path, (type_name, value)
