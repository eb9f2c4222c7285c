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
    assert b"wrote 7 file(s), 0 unchanged" in first.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["__init__.py", "lxc_monitor_protocol.py", "lxc_monitor_protocol_rpc.py", "rfc4506_file.py", "rpcsec_gss.py", "xdr_rpc.py", "xdr_runtime.py"]
    mtime = (tmp_path / "out" / "lxc_monitor_protocol.py").stat().st_mtime_ns
    second = xdrgen(SEED, ROOT / "tests" / "xdr" / "rfc4506_file.x", "-o", tmp_path / "out")
    assert b"wrote 0 file(s), 6 unchanged" in second.stderr
    assert (tmp_path / "out" / "lxc_monitor_protocol.py").stat().st_mtime_ns == mtime
    assert xdrgen(SEED, ROOT / "tests" / "xdr" / "rfc4506_file.x", "-o", tmp_path / "out", "-q").stderr == b""


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


# ---- behaving like a compiler ---------------------------------------------------------------

USAGE_LINE = b"usage: xdrgen [options] [FILE.x ...]  |  xdrgen {decode,encode} [options] [FILE.x] TYPE  |  xdrgen help [COMMAND]"


def _one_error_line(stderr: bytes) -> bytes:
    """The error of a usage failure: the usage line, then one line."""
    lines = stderr.splitlines()
    assert b"Traceback" not in stderr and len(lines) == 2 and lines[0].startswith(b"usage: xdrgen"), stderr
    return lines[1]


def test_an_unterminated_comment_says_so(tmp_path: Path) -> None:
    source = tmp_path / "open.x"
    source.write_text("typedef int t;\n  /* not closed\nstruct s { int a; };\n")
    result = xdrgen(source, "--stdout")
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        f"{source}:2:3: error: unterminated comment: '/*' has no closing '*/'",
        "  /* not closed",
        "  ^",
    ]


def test_o_naming_a_file_is_a_usage_error(tmp_path: Path) -> None:
    existing = tmp_path / "module.py"
    existing.write_text("")
    result = xdrgen(RFC_FILE, "-o", existing)
    assert result.returncode == 2
    assert b"is a file; -o names the folder the modules go to" in _one_error_line(result.stderr)
    result = xdrgen(RFC_FILE, "-o", tmp_path / "new.py")
    assert result.returncode == 2 and b"-o names a folder for the modules, not a file" in _one_error_line(result.stderr)
    assert not (tmp_path / "new.py").exists()


def test_a_bad_macro_name_is_a_usage_error() -> None:
    result = xdrgen(RFC_FILE, "-D", "2FAST=1", "--stdout")
    assert result.returncode == 2
    assert _one_error_line(result.stderr) == b"xdrgen: error: -D 2FAST=1: '2FAST' is not a macro name"
    assert result.stderr.splitlines()[0] == USAGE_LINE
    target = xdrgen(RFC_FILE, "--target", "header", "--stdout")
    assert target.returncode == 2
    assert _one_error_line(target.stderr) == b"xdrgen: error: unknown target 'header'; use one of hdr, xdr, svc, clnt, tbl"


def test_a_closed_pipe_ends_the_run_quietly(tmp_path: Path) -> None:
    big = tmp_path / "big.x"
    big.write_text("".join(f"struct s{i} {{ int a; hyper b; string c<>; }};\n" for i in range(3000)))
    shell = f"{sys.executable} -m xdrgen --dump-ast {big} | head -1; exit ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", shell], capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout == b"{\n"
    assert result.stderr == b""  # no traceback, no "Exception ignored" from the final flush
    assert result.returncode == 1


def test_subcommands_after_options_and_help() -> None:
    as_hex = RFC_BYTES.hex()
    result = xdrgen("-q", "decode", RFC_FILE, "file", "--hex", stdin=as_hex.encode())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["owner"] == "john"
    result = xdrgen("-I", "decode", "encode", RFC_FILE, "file", stdin=result.stdout)  # -I's value is not the command
    assert result.returncode == 0 and result.stdout == RFC_BYTES
    helped = xdrgen("help")
    assert helped.returncode == 0 and helped.stdout.splitlines()[0] == USAGE_LINE and b"examples:" in helped.stdout
    decode_help = xdrgen("help", "decode")
    assert decode_help.returncode == 0 and decode_help.stdout.startswith(b"usage: xdrgen decode [options] [FILE.x ...] TYPE")
    assert xdrgen("--help").stdout.splitlines()[0] == USAGE_LINE


def test_decode_and_encode_read_tool_xdrgen(tmp_path: Path) -> None:
    (tmp_path / "proto").mkdir()
    (tmp_path / "proto" / "ids.x").write_text("typedef opaque uuid[VIR_UUID_BUFLEN];\nstruct domain { uuid id; int state; };\n")
    (tmp_path / "proto" / "other.x").write_text("struct other { int x; };\n")
    (tmp_path / "pyproject.toml").write_text('[tool.xdrgen]\ninputs = ["proto/*.x"]\ndefines = { VIR_UUID_BUFLEN = 16 }\n')
    message = bytes(range(16)) + b"\0\0\0\x07"
    result = xdrgen("decode", "domain", cwd=tmp_path, stdin=message)  # the type is found in the project's inputs
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"id": bytes(range(16)).hex(), "state": 7}
    back = xdrgen("encode", "proto/ids.x", "domain", cwd=tmp_path, stdin=result.stdout)  # an input: its -D values apply
    assert back.returncode == 0 and back.stdout == message, back.stderr
    elsewhere = xdrgen("decode", "domain", cwd=tmp_path.parent, stdin=message)
    assert elsewhere.returncode == 2 and b"no FILE.x given, and no [tool.xdrgen]" in _one_error_line(elsewhere.stderr)


def test_decode_suggests_close_type_names_and_reads_hex_as_written() -> None:
    result = xdrgen("decode", RFC_FILE, "fiel", stdin=RFC_BYTES)
    assert result.returncode == 2
    assert _one_error_line(result.stderr).endswith(b"no type 'fiel' in " + str(RFC_FILE).encode() + b"; did you mean 'file'?")
    words = " ".join(f"0x{RFC_BYTES[i:i + 4].hex()}" for i in range(0, len(RFC_BYTES), 4))
    for text in (words, RFC_BYTES.hex(), "\n".join(words.split())):
        result = xdrgen("decode", RFC_FILE, "file", "--hex", stdin=text.encode())
        assert result.returncode == 0, (text, result.stderr)
        assert json.loads(result.stdout)["filename"] == "sillyprog"


def test_binary_input_to_encode_is_reported_as_not_json() -> None:
    result = xdrgen("encode", RFC_FILE, "file", stdin=RFC_BYTES)
    assert result.returncode == 1
    assert result.stderr == b"xdrgen: error: invalid input: stdin: expected JSON, got binary data (xdrgen decode reads bytes)\n"


def test_dumps_of_several_inputs_are_one_json_document() -> None:
    for option, name in (("--dump-ast", "Specification"), ("--dump-model", "Module")):
        result = xdrgen(option, SEED, RFC_FILE)
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        assert list(document) == [str(SEED), str(RFC_FILE)]
        assert all(tree["node"] == name for tree in document.values())


def test_warning_kinds_can_be_silenced(tmp_path: Path) -> None:
    sun = tmp_path / "sun.x"
    sun.write_text("struct msg { int from; };\nenum e { A = 1, B = 1 };\n")
    result = xdrgen(sun, "-o", tmp_path / "out")
    assert result.returncode == 0
    assert b"warning: 'from' is a Python keyword; it is generated as 'from_' [-Wkeyword]" in result.stderr
    assert b"[-Walias]" in result.stderr
    assert xdrgen(sun, "-o", tmp_path / "out", "-Werror").returncode == 1
    strict = xdrgen(sun, "-o", tmp_path / "out", "-Werror", "-Wno-keyword", "-Wno-alias")
    assert strict.returncode == 0 and b"warning" not in strict.stderr, strict.stderr
    only_alias = xdrgen(sun, "-o", tmp_path / "out", "-Werror=alias", "-q")
    assert only_alias.returncode == 1
    assert b"[-Werror=alias]" in only_alias.stderr and b"[-Wkeyword]" not in only_alias.stderr
    assert xdrgen(sun, "-o", tmp_path / "out", "-Werror=keyword", "-Wno-keyword").returncode == 0
    bad = xdrgen(sun, "-Wno-keywords")
    assert bad.returncode == 2 and b"unknown warning 'keywords'; the kinds are keyword, shadow" in _one_error_line(bad.stderr)


def test_every_checker_warning_has_a_kind(tmp_path: Path) -> None:
    from xdrgen.compiler import compile_file
    from xdrgen.options import WARNING_CATEGORIES

    source = tmp_path / "all.x"
    source.write_text(
        "typedef int t;\ntypedef int t;\n"  # duplicate
        "struct in { int a; };\n"  # keyword
        "typedef int encode;\n"  # shadow
        "enum e { A = 1, B = 1 };\n"  # alias
        "struct pl { int x; pl next; };\n"  # recursion
        "union u switch (int d) { case 1: int d; default: void; };\n"  # discriminant
    )
    warnings = compile_file(source).reporter.warnings
    assert sorted(w.category or "" for w in warnings) == sorted(WARNING_CATEGORIES)


def _project(tmp_path: Path, table: str) -> Path:
    (tmp_path / "a.x").write_text("typedef opaque id[SIZE];\n")
    (tmp_path / "pyproject.toml").write_text(f'[tool.xdrgen]\ninputs = ["a.x"]\noutput = "out"\n{table}\n')
    return tmp_path


def test_tool_xdrgen_defines_and_target_are_checked(tmp_path: Path) -> None:
    listed = xdrgen(cwd=_project(tmp_path, 'defines = ["SIZE"]'))
    assert listed.returncode == 0, listed.stderr
    assert "SIZE: Final = 1" in (tmp_path / "out" / "a.py").read_text()
    refused = xdrgen(cwd=_project(tmp_path, "defines = { SIZE = true }"))
    assert refused.returncode == 1 and b"Traceback" not in refused.stderr
    assert b"[tool.xdrgen]: 'defines': SIZE = true is not a C value; write SIZE = 1 or SIZE = 0" in refused.stderr
    target = xdrgen(cwd=_project(tmp_path, 'defines = ["SIZE=4"]\ntarget = "header"'))
    assert target.returncode == 1
    assert b"'target': unknown target 'header'; use one of hdr, xdr, svc, clnt, tbl" in target.stderr
    bad_name = xdrgen(cwd=_project(tmp_path, 'defines = ["4SIZE=4"]'))
    assert bad_name.returncode == 1 and b"'defines': -D 4SIZE=4: '4SIZE' is not a macro name" in bad_name.stderr


def test_hatch_hook_warns_about_unknown_keys_and_writes_with_the_umask(tmp_path: Path) -> None:
    from xdrgen.hatch_hook import XdrgenBuildHook

    (tmp_path / "a.x").write_text("typedef int t;\n")
    (tmp_path / "pyproject.toml").write_text('[tool.xdrgen]\ninputs = ["a.x"]\noutput = "out"\n')

    class App:
        def __init__(self) -> None:
            self.said: list[str] = []

        def display_info(self, text: str) -> None:
            self.said.append(text)

        display_warning = display_info

    app = App()
    config = {"enable-by-default": True, "ouput": "x", "inputs": ["a.x"]}
    hook = XdrgenBuildHook(str(tmp_path), config, None, None, str(tmp_path), "wheel", app)
    old = os.umask(0o027)
    try:
        build_data: dict[str, list[str]] = {"artifacts": []}
        hook.initialize("standard", build_data)
    finally:
        os.umask(old)
    assert any("unknown key(s) ouput ignored" in s for s in app.said), app.said
    assert not any("enable-by-default" in s for s in app.said)
    module = tmp_path / "out" / "a.py"
    assert module.stat().st_mode & 0o777 == 0o640
    assert "Do not edit: written by the xdrgen build hook while the package is built" in module.read_text().splitlines()[1]
    assert sorted(build_data["artifacts"]) == ["out/__init__.py", "out/a.py", "out/xdr_runtime.py"]


def test_output_files_get_the_umask_also_when_replaced(tmp_path: Path) -> None:
    source = tmp_path / "p.x"
    source.write_text("typedef int t;\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "p.py").write_text("old")
    (out / "p.py").chmod(0o600)
    result = subprocess.run(
        ["bash", "-c", f"umask 022 && exec {sys.executable} -m xdrgen {source} -o {out}"],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()} == {"__init__.py": 0o644, "p.py": 0o644, "xdr_runtime.py": 0o644}


def test_xdr_rpc_is_written_for_programs_the_libvirt_convention_or_when_asked(tmp_path: Path) -> None:
    plain = tmp_path / "plain.x"
    plain.write_text("typedef int t;\n")
    program = tmp_path / "prog.x"
    program.write_text("program P { version V { void NULLPROC(void) = 0; } = 1; } = 0x20000001;\n")
    libvirt = tmp_path / "lv.x"
    libvirt.write_text("const FOO_PROGRAM = 0x1234;\nconst FOO_PROTOCOL_VERSION = 1;\nenum foo_procedure { FOO_PROC_A = 1 };\n")
    for inputs, extra, expected in [
        ([plain], [], False),
        ([plain], ["--rpc"], True),
        ([plain, program], [], True),
        ([libvirt], [], True),
        ([SEED], [], True),  # LXC's monitor protocol: VIR_LXC_MONITOR_PROGRAM(_VERSION), virLXCMonitorProcedure
    ]:
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        assert xdrgen(*inputs, *extra, "-o", out).returncode == 0
        assert (out / "xdr_rpc.py").exists() == expected, (inputs, extra)
    configured = tmp_path / "configured"
    configured.mkdir()
    (configured / "plain.x").write_text("typedef int t;\n")
    (configured / "pyproject.toml").write_text('[tool.xdrgen]\ninputs = ["plain.x"]\noutput = "out"\nrpc = true\n')
    assert xdrgen(cwd=configured).returncode == 0
    assert (configured / "out" / "xdr_rpc.py").exists()


def test_header_gives_the_regenerate_command_relative_to_the_project(tmp_path: Path) -> None:
    project = tmp_path / "checkout"
    (project / "proto" / "inc").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "p"\n')  # no [tool.xdrgen]: paths only
    (project / "proto" / "inc" / "c.x").write_text("const N = 2;\n")
    (project / "proto" / "m.x").write_text('#include "c.x"\ntypedef opaque id[SIZE];\ntypedef int n[N];\n')
    first = xdrgen("proto/m.x", "-I", "proto/inc", "-D", "SIZE=8", "-D", "FLAG", "-o", "gen", cwd=project)
    assert first.returncode == 0, first.stderr
    header = (project / "gen" / "m.py").read_text().splitlines()[1]
    assert header.endswith("Do not edit: regenerate with `xdrgen proto/m.x -I proto/inc -D SIZE=8 -D FLAG`.")
    # from another folder, with absolute paths, the text is the same: --check agrees
    moved = tmp_path / "moved"
    project.rename(moved)
    again = xdrgen(moved / "proto/m.x", "-I", moved / "proto/inc", "-D", "SIZE=8", "-D", "FLAG", "-o", moved / "gen", "--check", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    (moved / "pyproject.toml").write_text('[tool.xdrgen]\ninputs = ["proto/m.x"]\noutput = "gen"\ninclude-dirs = ["proto/inc"]\ndefines = ["SIZE=8"]\n')
    assert xdrgen(cwd=moved, stdin=b"").returncode == 0
    assert (moved / "gen" / "m.py").read_text().splitlines()[1].endswith("regenerate with `xdrgen` ([tool.xdrgen] of pyproject.toml).")


def test_check_reports_a_module_whose_source_is_gone(tmp_path: Path) -> None:
    for name in ("keep", "gone"):
        (tmp_path / f"{name}.x").write_text("typedef int t;\n")
    (tmp_path / "pyproject.toml").write_text('[tool.xdrgen]\ninputs = ["*.x"]\noutput = "out"\n')
    assert xdrgen(cwd=tmp_path).returncode == 0
    (tmp_path / "out" / "handwritten.py").write_text("# Generated by hand\n")
    assert xdrgen("--check", cwd=tmp_path).returncode == 0
    (tmp_path / "gone.x").unlink()
    result = xdrgen("--check", cwd=tmp_path)
    assert result.returncode == 1
    assert f"xdrgen: {tmp_path / 'out' / 'gone.py'}: generated from gone.x, which is not an input any more".encode() in result.stderr
    assert b"0 file(s) out of date, 1 without a source" in result.stderr
    written = xdrgen(cwd=tmp_path)
    assert written.returncode == 0 and b"warning: " in written.stderr and b"gone.py: generated from gone.x" in written.stderr


def test_without_o_modules_go_to_one_generated_folder_not_the_current_one(tmp_path: Path) -> None:
    result = xdrgen(SEED, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generated"]  # no loose __init__.py
    assert (tmp_path / "generated" / "lxc_monitor_protocol.py").is_file()
    assert b"default: generated/" in xdrgen("--help").stdout


def test_a_folder_input_compiles_its_x_files_as_one_set(tmp_path: Path) -> None:
    proto = tmp_path / "proto"
    proto.mkdir()
    (proto / "base.x").write_text("typedef int count;\n")
    (proto / "uses.x").write_text("struct tally { count n; };\n")  # a type of the other file
    (proto / "notes.txt").write_text("not a .x file\n")
    result = xdrgen(proto, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert {"base.py", "uses.py"} <= {p.name for p in (tmp_path / "out").iterdir()}
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "a.x").write_text("typedef int a;\n")
    empty = xdrgen(tmp_path / "empty", "-o", tmp_path / "out2")
    assert empty.returncode == 2 and not (tmp_path / "out2").exists()
    line = _one_error_line(empty.stderr)
    assert b"a folder with no .x files in it (its subfolders have 1: name them, e.g. " in line


def test_check_against_a_missing_or_empty_folder_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for folder, state in (("missing", b"no such folder"), ("empty", b"an empty folder")):
        result = xdrgen(SEED, "-o", tmp_path / folder, "--check")
        assert result.returncode == 1 and result.stdout == b""
        assert result.stderr.count(b"\n") == 1 and state in result.stderr, result.stderr
        assert b"run without --check to write its 6 file(s)" in result.stderr
    assert not (tmp_path / "missing").exists() and not any((tmp_path / "empty").iterdir())


def test_werror_prints_error_not_warning(tmp_path: Path) -> None:
    sun = tmp_path / "sun.x"
    sun.write_text("struct msg { int from; };\nenum e { A = 1, B = 1 };\n")
    one = xdrgen(sun, "-o", tmp_path / "out", "-Werror=keyword")
    assert one.returncode == 1
    assert b"error: 'from' is a Python keyword; it is generated as 'from_' [-Werror=keyword]" in one.stderr
    assert b"warning: 'from'" not in one.stderr and b"warning: " in one.stderr  # the alias stays a warning
    every = xdrgen(sun, "-o", tmp_path / "out", "-Werror", "-q")
    assert b"warning:" not in every.stderr and every.stderr.count(b"[-Werror=") == 2
