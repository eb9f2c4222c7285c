"""The requirement helper of tests/conftest.py and the corpus location of tests/paths.py: an
unmet requirement is a one-line skip naming the test, and a failure under XDRGEN_REQUIRE_ALL=1."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

SUITE = '''
import pytest
from conftest import require, requires


@requires(False, "needs the moon (apt-get install moon)")
def test_marked() -> None:
    raise AssertionError("ran although its requirement is unmet")


@requires(True, "never shown")
def test_met() -> None:
    pass


def test_called() -> None:
    require(0, "needs a called thing")
    raise AssertionError("went on after require")


@pytest.mark.parametrize("x", [pytest.param(1, marks=requires(False, "needs a param")), 2])
def test_param(x: int) -> None:
    assert x == 2


@requires(False, "needs files to parametrize")
@pytest.mark.parametrize("x", [])
def test_empty(x: int) -> None:
    pass
'''


def run_suite(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    for helper in ("conftest.py", "paths.py"):
        shutil.copy(HERE / helper, tmp_path / helper)
    (tmp_path / "test_suite.py").write_text(SUITE)
    environment = {k: v for k, v in os.environ.items() if k != "XDRGEN_REQUIRE_ALL"} | env
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "test_suite.py"],
        cwd=tmp_path, capture_output=True, text=True, env=environment, timeout=120,
    )


@pytest.mark.parametrize("setting", [{}, {"XDRGEN_REQUIRE_ALL": "0"}])
def test_unmet_requirements_skip_with_their_reason(tmp_path: Path, setting: dict[str, str]) -> None:
    result = run_suite(tmp_path, **setting)
    assert result.returncode == 0, result.stdout
    assert re.search(r"^2 passed, 4 skipped", result.stdout, re.M), result.stdout
    skips = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert sorted(s.split(": ", 1)[1] for s in skips) == [
        "needs a called thing", "needs a param", "needs files to parametrize", "needs the moon (apt-get install moon)",
    ]
    # each skip is reported at the test's own file, not at the helper
    assert all(s.split()[2].startswith("test_suite.py") for s in skips), skips


def test_require_all_turns_every_unmet_requirement_into_a_failure(tmp_path: Path) -> None:
    result = run_suite(tmp_path, XDRGEN_REQUIRE_ALL="1")
    assert result.returncode == 1, result.stdout
    assert re.search(r"^1 failed, 2 passed, 3 errors", result.stdout, re.M), result.stdout
    assert "skipped" not in result.stdout.splitlines()[-1]
    for reason in ("needs the moon (apt-get install moon)", "needs a called thing", "needs a param", "needs files to parametrize"):
        assert f"{reason} [XDRGEN_REQUIRE_ALL=1 makes this a failure]" in result.stdout
    assert "ran although" not in result.stdout and "went on after" not in result.stdout


def test_corpus_location_comes_from_xdrgen_corpus(tmp_path: Path) -> None:
    show = [sys.executable, "-c", "import paths; print(paths.CORPUS); print(paths.corpus_present())"]
    environment = {k: v for k, v in os.environ.items() if k != "XDRGEN_CORPUS"} | {"PYTHONPATH": str(HERE)}
    default = subprocess.run(show, capture_output=True, text=True, env=environment, check=True).stdout.split()
    assert default[0] == str((HERE.parent.parent / "shared" / "corpus").resolve())
    (tmp_path / "mine" / "sub").mkdir(parents=True)
    empty = subprocess.run(show, cwd=tmp_path, capture_output=True, text=True, env=environment | {"XDRGEN_CORPUS": "mine"}, check=True)
    assert empty.stdout.split() == [str(tmp_path / "mine"), "False"]  # relative to the current directory; no .x yet
    (tmp_path / "mine" / "sub" / "a.x").write_text("const A = 1;\n")
    found = subprocess.run(show, cwd=tmp_path, capture_output=True, text=True, env=environment | {"XDRGEN_CORPUS": "mine"}, check=True)
    assert found.stdout.split() == [str(tmp_path / "mine"), "True"]


def test_readme_apt_line_and_ci_install_the_same_packages() -> None:
    readme = (HERE.parent / "README.md").read_text()
    apt_lines = re.findall(r"^sudo apt-get install --no-install-recommends (.+)$", readme, re.M)
    assert len(apt_lines) == 1, apt_lines
    ci = (HERE.parent / ".ci" / "run").read_text()
    listed = re.search(r"^PACKAGES=\(([^)]*)\)", ci, re.M)
    assert listed is not None
    assert sorted(apt_lines[0].split()) == sorted(listed.group(1).split())
    assert "pkg-config" in listed.group(1).split() and "XDRGEN_REQUIRE_ALL=1" in ci and "'.[test,fuzz,interop,gss]'" in ci
