"""Golden tests of the compiler-format error messages: the exact text of each error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden_errors"
CASES = sorted(p.stem for p in GOLDEN.glob("*.x"))


def test_there_are_at_least_15_distinct_errors() -> None:
    messages = {(GOLDEN / f"{c}.err").read_text().split(": error: ")[1].split("\n")[0] for c in CASES}
    assert len(messages) >= 15


@pytest.mark.parametrize("case", CASES)
def test_error_text(case: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "xdrgen", f"{case}.x", "--stdout"],
        cwd=GOLDEN,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.stderr == (GOLDEN / f"{case}.err").read_text()


def test_usage_errors_exit_2() -> None:
    result = subprocess.run([sys.executable, "-m", "xdrgen"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "no input files" in result.stderr
    result = subprocess.run([sys.executable, "-m", "xdrgen", "--no-such-flag"], capture_output=True, text=True)
    assert result.returncode == 2


def test_unreadable_file_is_a_clean_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "xdrgen", str(tmp_path / "missing.x"), "--stdout"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr
