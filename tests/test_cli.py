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
    assert b"wrote 4 file(s), 0 unchanged" in first.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["__init__.py", "lxc_monitor_protocol.py", "rfc4506_file.py", "xdr_runtime.py"]
    mtime = (tmp_path / "out" / "lxc_monitor_protocol.py").stat().st_mtime_ns
    second = xdrgen(SEED, "-o", tmp_path / "out")
    assert b"wrote 0 file(s), 2 unchanged" in second.stderr
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
