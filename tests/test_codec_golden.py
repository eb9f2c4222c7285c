"""Golden byte vectors from authorities: RFC 4506's own example, and the LXC monitor events
checked by hand against RFC 4506's encoding rules."""

from __future__ import annotations

import copy
import pickle

from pathlib import Path

import pytest

from xdrgen.compiler import compile_file

HERE = Path(__file__).parent
ROOT = HERE.parent

# RFC 4506 section 7: the file "sillyprog" of type EXEC, interpreter "lisp", owner "john",
# contents "(quit)" -- the 48 bytes the RFC prints, line by line with its comments.
RFC_SILLYPROG = bytes.fromhex(
    "00000009"  # length of filename = 9
    "7369 6c6c"  # "sill"
    "7970 726f"  # "ypro"
    "6700 0000"  # "g" and 3 bytes of padding
    "00000002"  # filekind is EXEC = 2
    "00000004"  # length of interpretor = 4
    "6c69 7370"  # "lisp"
    "00000004"  # length of owner = 4
    "6a6f 686e"  # "john"
    "00000006"  # length of file data = 6
    "2871 7569"  # "(qui"
    "7429 0000"  # "t)" and 2 bytes of padding
    .replace(" ", "")
)


@pytest.fixture(scope="module")
def rfc(generated_package):  # type: ignore[no-untyped-def]
    return generated_package.load(compile_file(HERE / "xdr" / "rfc4506_file.x"), "rfc4506_file", format=True)


def test_rfc4506_example_encodes_to_the_printed_bytes(rfc) -> None:  # type: ignore[no-untyped-def]
    assert len(RFC_SILLYPROG) == 48
    value = rfc.file("sillyprog", rfc.filetype(rfc.EXEC, interpretor="lisp"), "john", b"(quit)")
    assert value.to_xdr() == RFC_SILLYPROG


def test_rfc4506_example_decodes(rfc) -> None:  # type: ignore[no-untyped-def]
    value = rfc.file.from_xdr(RFC_SILLYPROG)
    assert value.filename == "sillyprog"
    assert value.type.kind is rfc.filekind.EXEC
    assert value.type.interpretor == "lisp"
    match value.type:
        case rfc.filetype(kind=rfc.filekind.EXEC, interpretor=interpreter):
            assert interpreter == "lisp"
        case _:
            pytest.fail("union did not match")
    assert (value.owner, value.data) == ("john", b"(quit)")


@pytest.mark.parametrize(
    ("mutation", "message", "offset"),
    [
        (lambda b: b[:47], "truncated", 46),  # the padding after "t)" is cut
        (lambda b: b + b"\0\0\0\0", "4 bytes left after the value", 48),
        (lambda b: b[:15] + b"\x01" + b[16:], "non-zero padding", 13),
        (lambda b: b[:19] + b"\x07" + b[20:], "7 is not a value of enum filekind", 16),
        (lambda b: b"\x00\x00\x01\x00" + b[4:], "length 256 exceeds the maximum 255", 0),
        (lambda b: b"\xff\xff\xff\xff" + b[4:], "exceeds the maximum", 0),
    ],
)
def test_rfc4506_example_rejects_bad_bytes(rfc, mutation, message, offset) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(rfc.XdrError) as error:
        rfc.file.from_xdr(mutation(RFC_SILLYPROG))
    assert message in str(error.value)
    assert error.value.offset == offset
    assert error.value.path.startswith("rfc4506_file.")


def test_encode_validates_before_writing(rfc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(rfc.XdrError) as error:
        rfc.file("x" * 256, rfc.filetype(rfc.TEXT), "john", b"").to_xdr()
    assert error.value.path == "rfc4506_file.file.filename"
    with pytest.raises(rfc.XdrError, match="another arm"):
        rfc.file("x", rfc.filetype(rfc.TEXT, creator="emacs"), "john", b"").to_xdr()
    with pytest.raises(rfc.XdrError, match="expected bytes"):
        rfc.file("x", rfc.filetype(rfc.TEXT), "john", "not bytes").to_xdr()


# ---- the LXC monitor protocol (the seed) ------------------------------------------------------


@pytest.fixture(scope="module")
def lxc(generated_package):  # type: ignore[no-untyped-def]
    return generated_package.load(compile_file(ROOT / "protocols" / "lxc_monitor_protocol.x"), "lxc_monitor_protocol", format=True)


@pytest.mark.parametrize(
    ("status", "wire"),
    [
        # enum values are implicit: ERROR = 0, SHUTDOWN = 1, REBOOT = 2; an enum is a
        # signed 32-bit big-endian int (RFC 4506 4.3)
        ("VIR_LXC_MONITOR_EXIT_STATUS_ERROR", "00000000"),
        ("VIR_LXC_MONITOR_EXIT_STATUS_SHUTDOWN", "00000001"),
        ("VIR_LXC_MONITOR_EXIT_STATUS_REBOOT", "00000002"),
    ],
)
def test_lxc_exit_event(lxc, status: str, wire: str) -> None:  # type: ignore[no-untyped-def]
    msg = lxc.virLXCMonitorExitEventMsg(getattr(lxc, status))
    assert msg.to_xdr().hex() == wire
    assert lxc.decode("virLXCMonitorExitEventMsg", bytes.fromhex(wire)) == msg


def test_lxc_init_event(lxc) -> None:  # type: ignore[no-untyped-def]
    # unsigned hyper: 8 bytes big-endian (RFC 4506 4.5); pid 4242 = 0x1092
    msg = lxc.virLXCMonitorInitEventMsg(4242)
    assert msg.to_xdr() == bytes.fromhex("0000000000001092")
    assert lxc.virLXCMonitorInitEventMsg.from_xdr(bytes.fromhex("ffffffffffffffff")).initpid == 2**64 - 1
    with pytest.raises(lxc.XdrError, match="out of range"):
        lxc.virLXCMonitorInitEventMsg(-1).to_xdr()


def test_lxc_constants_and_annotations(lxc) -> None:  # type: ignore[no-untyped-def]
    assert lxc.VIR_LXC_MONITOR_PROGRAM == 0x12341234
    assert lxc.VIR_LXC_MONITOR_PROGRAM_VERSION == 1
    assert lxc.VIR_LXC_MONITOR_PROC_EXIT_EVENT == 1
    assert lxc.VIR_LXC_MONITOR_PROC_INIT_EVENT == 2
    with pytest.raises(lxc.XdrError, match="3 is not a value of enum"):
        lxc.decode("virLXCMonitorExitEventMsg", bytes.fromhex("00000003"))


def test_long_linked_list_needs_no_recursion(generated_package) -> None:  # type: ignore[no-untyped-def]
    mod = generated_package.load_source(
        "struct entry { unsigned hyper fileid; string name<255>; unsigned hyper cookie; entry *nextentry; };\n"
        "struct dirlist { entry *entries; bool eof; };\n",
        "dirlist",
    )
    head = None
    for i in reversed(range(100_000)):
        head = mod.entry(i, f"{i:07d}", i + 1, head)
    data = mod.dirlist(head, True).to_xdr()
    assert len(data) == 4 + 100_000 * (8 + 4 + 8 + 8 + 4) + 4
    decoded = mod.dirlist.from_xdr(data)
    node, count = decoded.entries, 0
    while node is not None:
        assert (node.fileid, node.name) == (count, f"{count:07d}")
        node, count = node.nextentry, count + 1
    assert count == 100_000 and decoded.eof is True
    # == and repr walk the chain too (a dataclass's own would recurse 100,000 deep)
    assert decoded == mod.dirlist(head, True)
    changed = mod.dirlist.from_xdr(data)
    changed.entries.nextentry.nextentry.name = "other"
    assert changed != decoded
    text = repr(decoded.entries)
    assert text.startswith("entry(fileid=0, name='0000000', cookie=1, nextentry=...) -> entry(fileid=1,")
    assert text.count(" -> ") == 99_999
    # pickle and deepcopy rebuild the chain in a loop too (the default would recurse per node)
    for copied in (pickle.loads(pickle.dumps(decoded)), copy.deepcopy(decoded)):
        assert copied == decoded and copied.entries is not decoded.entries
        assert copied.to_xdr() == data
