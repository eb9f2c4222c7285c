"""The committed generated/ folder: up to date with the CLI, and mypy --strict clean."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# Committed output, so that a reviewer sees the generated code change in a diff: the LXC
# monitor (README's quick start), NFSv3 with its typed RPC module, and a union-heavy file, in
# one folder with one runtime. XDRGEN_UPDATE_GOLDEN=1 python3 -m pytest tests/test_generated.py
# writes them again.
GOLDEN = ["protocols/lxc_monitor_protocol.x", "protocols/nfs3_readonly.x", "tests/xdr/alltypes.x"]
UPDATE = os.environ.get("XDRGEN_UPDATE_GOLDEN", "") not in ("", "0")


def test_committed_module_is_not_stale() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "xdrgen", *GOLDEN, "-o", "generated", *(() if UPDATE else ("--check",))],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"{result.stdout}{result.stderr}\nregenerate with XDRGEN_UPDATE_GOLDEN=1 python3 -m pytest tests/test_generated.py"


def test_golden_output_holds_an_rpc_module_and_unions() -> None:
    assert (ROOT / "generated" / "nfs3_readonly_rpc.py").is_file()
    assert (ROOT / "generated" / "alltypes.py").read_text().count("(_rt.Union)") >= 3


def test_check_reports_a_stale_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(ROOT / "generated", out)
    target = out / "lxc_monitor_protocol.py"
    target.write_text(target.read_text().replace("VIR_LXC_MONITOR_PROGRAM_VERSION: Final = 1", "VIR_LXC_MONITOR_PROGRAM_VERSION: Final = 2"))
    result = subprocess.run(
        [sys.executable, "-m", "xdrgen", str(ROOT / "protocols/lxc_monitor_protocol.x"), "-o", str(out), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "-VIR_LXC_MONITOR_PROGRAM_VERSION: Final = 2" in result.stdout
    assert "+VIR_LXC_MONITOR_PROGRAM_VERSION: Final = 1" in result.stdout


def test_output_is_deterministic(tmp_path: Path) -> None:
    for run in ("a", "b"):
        subprocess.run([sys.executable, "-m", "xdrgen", str(ROOT / "protocols/lxc_monitor_protocol.x"), "-o", str(tmp_path / run), "-q"], check=True)
    assert (tmp_path / "a/lxc_monitor_protocol.py").read_bytes() == (tmp_path / "b/lxc_monitor_protocol.py").read_bytes()


@pytest.mark.parametrize("package", ["generated", "xdrgen"])
def test_mypy_strict(tmp_path: Path, package: str) -> None:
    """The committed generated package (module + both runtimes) and xdrgen itself."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), package], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
