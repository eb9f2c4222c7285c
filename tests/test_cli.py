"""The xdrgen command: outputs, summaries, --check, dumps, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
SEED = ROOT / "protocols" / "lxc_monitor_protocol.x"


def xdrgen(*args: str | Path, cwd: Path | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "xdrgen", *map(str, args)],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_dump_ast_is_json_with_annotations() -> None:
    result = xdrgen("--dump-ast", SEED)
    assert result.returncode == 0, result.stderr
    tree = json.loads(result.stdout)
    text = json.dumps(tree)
    assert "virLXCMonitorExitEventMsg" in text and "skipgen skipgen" in text


def test_dump_model_is_json() -> None:
    result = xdrgen("--dump-model", SEED)
    model = json.loads(result.stdout)
    assert "virLXCMonitorInitEventMsg" in json.dumps(model)


def test_writes_modules_runtime_and_package_then_leaves_unchanged_files(tmp_path: Path) -> None:
    first = xdrgen(SEED, ROOT / "tests" / "xdr" / "rfc4506_file.x", "-o", tmp_path / "out")
    assert first.returncode == 0, first.stderr
    assert b"wrote 5 file(s), 0 unchanged" in first.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["__init__.py", "lxc_monitor_protocol.py", "rfc4506_file.py", "xdr_rpc.py", "xdr_runtime.py"]
    mtime = (tmp_path / "out" / "lxc_monitor_protocol.py").stat().st_mtime_ns
    second = xdrgen(SEED, "-o", tmp_path / "out")
    assert b"wrote 0 file(s), 3 unchanged" in second.stderr
    assert (tmp_path / "out" / "lxc_monitor_protocol.py").stat().st_mtime_ns == mtime
    assert xdrgen(SEED, "-o", tmp_path / "out", "-q").stderr == b""


def test_a_failed_run_leaves_old_output_intact(tmp_path: Path) -> None:
    good = tmp_path / "p.x"
    good.write_text("typedef int t;\n")
    assert xdrgen(good, "-o", tmp_path).returncode == 0
    before = (tmp_path / "p.py").read_bytes()
    good.write_text("typedef hyper t;\n")
    bad = tmp_path / "q.x"
    bad.write_text("typedef int t\n")
    result = xdrgen(good, bad, "-o", tmp_path)
    assert result.returncode == 1 and b"q.x:1:14: error: expected one of ';', '<', '['" in result.stderr
    # nothing is written unless every input compiles
    assert (tmp_path / "p.py").read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_module_names_are_identifiers(tmp_path: Path) -> None:
    odd = tmp_path / "my-proto.v2.x"
    odd.write_text("typedef int t;\n")
    assert xdrgen(odd, "-o", tmp_path / "out").returncode == 0
    assert (tmp_path / "out" / "my_proto_v2.py").exists()


def test_werror_and_help() -> None:
    helped = xdrgen("--help")
    assert helped.returncode == 0 and b"examples:" in helped.stdout
    version = xdrgen("--version")
    assert version.stdout.startswith(b"xdrgen ")


def test_plain_xdrgen_uses_tool_xdrgen_of_pyproject(tmp_path: Path) -> None:
    (tmp_path / "proto").mkdir()
    (tmp_path / "proto" / "a.x").write_text("const SIZE = 4;\ntypedef opaque id[SIZE];\n")
    (tmp_path / "proto" / "b.x").write_text("typedef opaque uuid[VIR_UUID_BUFLEN];\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.xdrgen]\ninputs = ["proto/*.x"]\noutput = "pkg/xdr"\ndefines = { VIR_UUID_BUFLEN = 16 }\n'
    )
    (tmp_path / "sub").mkdir()
    first = xdrgen(cwd=tmp_path / "sub")  # found from a subfolder, as git and black do
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in (tmp_path / "pkg" / "xdr").iterdir()) == ["__init__.py", "a.py", "b.py", "xdr_runtime.py"]  # no program: no xdr_rpc.py
    assert xdrgen("--check", cwd=tmp_path).returncode == 0
    (tmp_path / "proto" / "a.x").write_text("const SIZE = 8;\ntypedef opaque id[SIZE];\n")
    stale = xdrgen("--check", cwd=tmp_path)
    assert stale.returncode == 1
    assert b"-SIZE: Final = 4" in stale.stdout and b"+SIZE: Final = 8" in stale.stdout


def test_bad_configuration_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.xdrgen]\ninputs = ["missing/*.x"]\noutptu = "x"\n')
    result = xdrgen(cwd=tmp_path)
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert b"unknown key(s) outptu" in result.stderr


def test_no_inputs_and_no_configuration_is_a_usage_error(tmp_path: Path) -> None:
    result = xdrgen(cwd=tmp_path)
    assert result.returncode == 2 and b"no input files" in result.stderr


# ---- decode / encode ----------------------------------------------------------------------

RFC_FILE = ROOT / "tests" / "xdr" / "rfc4506_file.x"
# RFC 4506 section 7: the file "sillyprog" of owner "john", encoded (48 bytes)
RFC_BYTES = bytes.fromhex(
    "00000009 73696c6c 7970726f 67000000 00000002 00000004 6c697370 00000004 6a6f686e 00000006 28717569 74290000"
)


def test_decode_prints_the_json_mapping() -> None:
    result = xdrgen("decode", RFC_FILE, "file", stdin=RFC_BYTES)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "filename": "sillyprog",
        "type": {"kind": "EXEC", "interpretor": "lisp"},
        "owner": "john",
        "data": "2871756974290000"[:12],
    }


def test_decode_then_encode_reproduces_the_bytes() -> None:
    decoded = xdrgen("decode", RFC_FILE, "file", stdin=RFC_BYTES)
    encoded = xdrgen("encode", RFC_FILE, "file", stdin=decoded.stdout)
    assert encoded.returncode == 0, encoded.stderr
    assert encoded.stdout == RFC_BYTES
    as_hex = xdrgen("encode", RFC_FILE, "file", "--hex", stdin=decoded.stdout)
    assert bytes.fromhex(as_hex.stdout.decode()) == RFC_BYTES
    again = xdrgen("decode", RFC_FILE, "file", "--hex", stdin=as_hex.stdout)
    assert again.stdout == decoded.stdout


def test_decode_and_encode_errors_are_clean() -> None:
    bad_padding = RFC_BYTES[:15] + b"\x01" + RFC_BYTES[16:]
    result = xdrgen("decode", RFC_FILE, "file", stdin=bad_padding)
    assert result.returncode == 1 and b"at offset 13" in result.stderr and b"Traceback" not in result.stderr
    result = xdrgen("encode", RFC_FILE, "file", stdin=b'{"filename": "x", "type": {"kind": "TEXT"}, "owner": 3, "data": ""}')
    assert result.returncode == 1 and b"file.owner: expected a string, got int" in result.stderr
    result = xdrgen("decode", RFC_FILE, "nosuchtype", stdin=b"")
    assert result.returncode == 2 and b"no type 'nosuchtype'" in result.stderr
