"""The JSON mapping of `xdrgen decode` / `xdrgen encode`: linked lists as arrays (100,000-entry
READDIR replies), floats that are not finite, numbers out of range, and decode | encode giving
back the bytes of every value the corpus round-trip strategies draw."""

from __future__ import annotations

import json
import math
import os
import re
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_corpus

from xdrgen import model as M
from xdrgen.compiler import Options, compile_file
from xdrgen.diagnostics import XdrgenError
from xdrgen.jsonmap import JsonError, JsonMapping, parse_float, parse_int
from xdrgen.loader import load_generated

ROOT = Path(__file__).resolve().parents[1]

# The READDIR reply of NFSv3 (RFC 1813 section 3.3.16), cut to what the reply needs.
READDIR3 = """\
typedef unsigned hyper uint64;
typedef unsigned hyper fileid3;
typedef unsigned hyper cookie3;
typedef string filename3<>;
typedef opaque cookieverf3[8];
enum nfsstat3 { NFS3_OK = 0, NFS3ERR_IO = 5 };
struct entry3 { fileid3 fileid; filename3 name; cookie3 cookie; entry3 *nextentry; };
struct dirlist3 { entry3 *entries; bool eof; };
struct READDIR3resok { bool dir_attributes; cookieverf3 cookieverf; dirlist3 reply; };
union READDIR3res switch (nfsstat3 status) {
case NFS3_OK: READDIR3resok resok;
default: void;
};
struct floats { float f; double d; float fs<>; };
struct ints { int i; unsigned hyper u; };
"""


def _xdr_string(text: bytes) -> bytes:
    return struct.pack(">I", len(text)) + text + b"\0" * (-len(text) % 4)


def readdir_reply(count: int) -> bytes:
    """A READDIR3res of ``count`` entries, laid out by hand from RFC 4506/RFC 1813."""
    parts = [struct.pack(">II", 0, 0), b"verifier"]  # NFS3_OK, no dir_attributes, cookieverf
    for n in range(count):
        parts.append(struct.pack(">IQ", 1, 1000 + n) + _xdr_string(f"file{n}".encode()) + struct.pack(">Q", n + 1))
    parts.append(struct.pack(">II", 0, 1))  # no next entry; eof
    return b"".join(parts)


def xdrgen(*args: str | Path, stdin: bytes, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "xdrgen", *map(str, args)],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture(scope="module")
def readdir_x(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("jsonmap") / "readdir3.x"
    path.write_text(READDIR3)
    return path


@pytest.fixture(scope="module")
def mapping(readdir_x: Path) -> tuple[JsonMapping, Any]:
    compiled = compile_file(readdir_x)
    generated = load_generated([compiled])[compiled.module_name]
    return JsonMapping(compiled.model, {compiled.module_name: generated}), generated


def strict_loads(text: str | bytes) -> Any:
    """JSON as the standard has it: bare NaN / Infinity are refused."""

    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_a_100000_entry_readdir_reply_decodes_to_a_json_array_and_encodes_back(readdir_x: Path) -> None:
    data = readdir_reply(100_000)
    started = time.perf_counter()
    decoded = xdrgen("decode", readdir_x, "READDIR3res", stdin=data)
    assert decoded.returncode == 0, decoded.stderr[-2000:]
    reply = strict_loads(decoded.stdout)
    entries = reply["resok"]["reply"]["entries"]
    assert isinstance(entries, list) and len(entries) == 100_000
    assert entries[0] == {"fileid": 1000, "name": "file0", "cookie": 1}
    assert entries[-1] == {"fileid": 100_999, "name": "file99999", "cookie": 100_000}
    assert reply["resok"]["reply"]["eof"] is True
    encoded = xdrgen("encode", readdir_x, "READDIR3res", stdin=decoded.stdout)
    assert encoded.returncode == 0, encoded.stderr[-2000:]
    assert encoded.stdout == data
    assert time.perf_counter() - started < 60


def test_an_empty_list_is_an_empty_array_and_a_bare_node_type_is_a_non_empty_array(mapping: tuple[JsonMapping, Any]) -> None:
    jm, generated = mapping
    empty = generated.decode("dirlist3", struct.pack(">II", 0, 0))
    assert jm.to_json(M.NamedType("dirlist3"), empty) == {"entries": [], "eof": False}
    assert jm.from_json(M.NamedType("dirlist3"), {"entries": [], "eof": False}, "dirlist3") == empty
    # a value of the node type itself is the list from that node on
    # the entries of a two-entry reply: after status, dir_attributes, cookieverf and the first
    # "value follows" word, up to the eof word
    node = generated.decode("entry3", readdir_reply(2)[20:-4])
    as_json = jm.to_json(M.NamedType("entry3"), node)
    assert as_json == [{"fileid": 1000, "name": "file0", "cookie": 1}, {"fileid": 1001, "name": "file1", "cookie": 2}]
    assert jm.from_json(M.NamedType("entry3"), as_json, "entry3") == node
    with pytest.raises(JsonError, match=r"entry3: expected at least one entry3 entry"):
        jm.from_json(M.NamedType("entry3"), [], "entry3")
    with pytest.raises(JsonError, match=r"x\.entries\[1\]: unknown key\(s\) nextentry"):
        jm.from_json(M.NamedType("dirlist3"), {"entries": [as_json[0], {**as_json[1], "nextentry": None}], "eof": True}, "x")


FLOAT_CASES = [
    # (float bits, double bits, JSON for f, JSON for d)
    ("7f800000", "7ff0000000000000", "Infinity", "Infinity"),
    ("ff800000", "fff0000000000000", "-Infinity", "-Infinity"),
    ("7fc00000", "7ff8000000000000", "NaN", "NaN"),
    ("ffc00000", "fff8000000000000", "NaN:0xffc00000", "NaN:0xfff8000000000000"),
    ("7fc00001", "7ff8000000000001", "NaN:0x7fc00001", "NaN:0x7ff8000000000001"),
    ("7fc12345", "7ff0000000000001", "NaN:0x7fc12345", "NaN:0x7ff0000000000001"),  # double: signalling
    ("3f800000", "c000000000000000", 1.0, -2.0),
]


@pytest.mark.parametrize("f_bits, d_bits, f_json, d_json", FLOAT_CASES)
def test_floats_that_are_not_finite_are_strings_that_keep_every_bit(readdir_x: Path, f_bits: str, d_bits: str, f_json: Any, d_json: Any) -> None:
    data = bytes.fromhex(f_bits + d_bits + "00000001" + f_bits)
    decoded = xdrgen("decode", readdir_x, "floats", stdin=data)
    assert decoded.returncode == 0, decoded.stderr
    assert strict_loads(decoded.stdout) == {"f": f_json, "d": d_json, "fs": [f_json]}
    encoded = xdrgen("encode", readdir_x, "floats", "--hex", stdin=decoded.stdout)
    assert encoded.returncode == 0, encoded.stderr
    assert encoded.stdout.decode().strip() == data.hex()


def test_float_helpers_refuse_what_the_type_cannot_hold(mapping: tuple[JsonMapping, Any]) -> None:
    jm, _ = mapping
    floats = M.NamedType("floats")
    ok = {"f": 1.5, "d": -0.0, "fs": []}
    assert math.copysign(1, jm.from_json(floats, ok, "floats").d) == -1
    for key, value, message in [
        ("d", parse_float("1e400"), r"floats\.d: 1e400 is out of range for double"),
        ("d", 10**400, r"floats\.d: a 401-digit number is out of range for double"),
        ("f", 3.5e38, r"floats\.f: 3\.5e\+38 is out of range for float"),
        ("f", "NaN:0x7ff8000000000001", r"floats\.f: expected a number, .* 8 hex digits"),
        ("d", "NaN:0x3ff0000000000000", r"floats\.d: expected a number"),  # 1.0, not a NaN
        ("d", "nan", r"floats\.d: expected a number"),
        ("d", True, r"floats\.d: expected a number, got true/false"),
    ]:
        with pytest.raises(JsonError, match=message):
            jm.from_json(floats, {**ok, key: value}, "floats")


@pytest.mark.parametrize(
    "text, message",
    [
        (b'{"f": 1, "d": 1e400, "fs": []}', b"floats.d: 1e400 is out of range for double"),
        (b'{"f": 1, "d": 1' + b"0" * 400 + b', "fs": []}', b"floats.d: a 401-digit number is out of range for double"),
        (b'{"f": 1e39, "d": 1, "fs": []}', b"floats.f: 1e+39 is out of range for float"),
    ],
)
def test_encode_refuses_numbers_out_of_range_for_floats_without_a_traceback(readdir_x: Path, text: bytes, message: bytes) -> None:
    result = xdrgen("encode", readdir_x, "floats", stdin=text)
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert message in result.stderr, result.stderr


def test_encode_refuses_integers_of_thousands_of_digits_without_a_traceback(readdir_x: Path) -> None:
    digits = b"9" * 5000
    for text, message in [
        (b'{"i": ' + digits + b', "u": 0}', b"ints.i: a 5000-digit number is out of range for int"),
        (b'{"i": 0, "u": -1}', b"ints.u: -1 is out of range for unsigned hyper"),
        (b'{"i": 0, "u": 18446744073709551616}', b"ints.u: 18446744073709551616 is out of range for unsigned hyper"),
        (b'{"i": 1e3, "u": 0}', b"ints.i: expected an integer, got float"),
    ]:
        result = xdrgen("encode", readdir_x, "ints", stdin=text)
        assert result.returncode == 1 and b"Traceback" not in result.stderr, result.stderr
        assert message in result.stderr, result.stderr


def test_number_hooks_keep_long_numbers_as_text() -> None:
    assert parse_int("12") == 12 and parse_float("1.5") == 1.5
    assert str(parse_int("1" * 401)) == "1" * 401 and isinstance(parse_int("1" * 401), str)
    assert str(parse_float("-1e400")) == "-1e400"


# ---- decode | encode on the corpus ---------------------------------------------------------


@requires_corpus
def test_json_round_trip_gives_back_the_bytes_of_every_corpus_value(generated_package) -> None:  # type: ignore[no-untyped-def]
    """For each corpus file and one drawn value of each of its types: value -> JSON text ->
    value -> bytes equals the value's bytes (what `decode | encode` does)."""
    from corpus_options import CORPUS, REJECTED, corpus_files, options_for
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from strategies import Strategies

    started = time.perf_counter()
    checked = 0
    for relative in [f for f in corpus_files() if f not in REJECTED]:
        defines, pre = options_for(relative)
        try:
            compiled = compile_file(CORPUS / relative, Options(defines=defines, pre_includes=pre))
        except XdrgenError:
            continue
        name = "json_" + re.sub(r"\W", "_", relative.removesuffix(".x"))
        module = generated_package.load(compiled, name)
        jm = JsonMapping(compiled.model, generated_package.modules(compiled, module))
        strategies = Strategies(compiled.model, module)
        type_names = [t.name for t in compiled.model.types]

        @settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(data=st.data())
        def round_trip(chunk: list[str], data: st.DataObject) -> None:
            for type_name in chunk:
                value = data.draw(strategies.for_name(type_name), label=type_name)
                expected = module.encode(type_name, value)
                text = json.dumps(jm.to_json(M.NamedType(type_name), value), allow_nan=False)
                back = jm.from_json(M.NamedType(type_name), json.loads(text, parse_int=parse_int, parse_float=parse_float), type_name)
                assert module.encode(type_name, back) == expected, (relative, type_name, text)

        for start in range(0, len(type_names), 16):
            round_trip(chunk=type_names[start : start + 16])
        checked += 1
    assert checked >= 90
    assert time.perf_counter() - started < 120
