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
