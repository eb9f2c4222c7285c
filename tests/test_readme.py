"""README's code blocks: each one runs as written, or says it is not meant to.

A block's info string is its language and, optionally, ``fragment`` (a piece shown for
reading: a config excerpt, output, a command needing root or a daemon), ``setup`` (the install
lines, which test_build.py types into a fresh clone) or ``file=NAME`` (a file the blocks after
it use, written as is). Every ``sh`` and ``python`` block without those runs, in README's order,
in one folder holding a fresh copy of the clone: ``sh`` with bash -e, ``python`` as a script,
with ``python3``, ``xdrgen`` and ``mypy`` those of this interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import module_available, requires
from test_build import fresh_clone

ROOT = Path(__file__).parents[1]
BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
RUNNABLE = ("sh", "python")


def blocks(text: str) -> list[tuple[str, set[str], dict[str, str], str]]:
    """(language, flags, key=value options, body) of each fenced block."""
    found = []
    for match in BLOCK.finditer(text):
        words = match[1].split()
        language = words[0] if words else ""
        options = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        flags = {w for w in words[1:] if "=" not in w}
        found.append((language, flags, options, match[2]))
    return found


def test_every_block_runs_or_says_why_not() -> None:
    found = blocks((ROOT / "README.md").read_text())
    assert len(found) > 20
    for language, flags, options, body in found:
        assert language, f"a block without a language:\n{body[:200]}"
        assert flags <= {"fragment", "setup"} and set(options) <= {"file"}, (language, flags, options)
        if language not in RUNNABLE:
            assert flags or options, f"a {language} block neither runs nor is marked fragment or file=:\n{body[:200]}"
    assert sum(1 for f in found if f[0] in RUNNABLE and not f[1] and not f[2]) >= 5


def _bin(folder: Path) -> Path:
    """python3, xdrgen and mypy of the running interpreter, first on PATH."""
    folder.mkdir()
    for name, command in (("python3", ""), ("xdrgen", "-m xdrgen"), ("mypy", "-m mypy")):
        (folder / name).write_text(f'#!/bin/sh\nexec "{sys.executable}" {command} "$@"\n')
        (folder / name).chmod(0o755)
    return folder


@requires(module_available("mypy"), "needs mypy (pip install -e '.[test]')")
def test_readme_blocks_run_as_written_in_a_fresh_clone(tmp_path: Path) -> None:
    clone = fresh_clone(tmp_path / "clone")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"PATH": f"{_bin(tmp_path / 'bin')}:/usr/bin:/bin", "PYTHONPATH": str(clone), "MYPY_CACHE_DIR": str(tmp_path / "mypy")}
    ran = 0
    for index, (language, flags, options, body) in enumerate(blocks((ROOT / "README.md").read_text())):
        if "file" in options:
            (clone / options["file"]).write_text(body)
            continue
        if flags or language not in RUNNABLE:
            continue
        if language == "sh":
            command = ["bash", "-euo", "pipefail", "-c", body]
        else:
            script = clone / f"readme_block_{index}.py"
            script.write_text(body)
            command = [sys.executable, str(script)]
        done = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"README block {index} ({language}):\n{body}\n--- output:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        ran += 1
    assert ran >= 5
    assert (clone / "generated" / "calc_rpc.py").is_file()  # the RPC example's layout, checked by mypy above


@pytest.mark.parametrize("name", ["tests/README.md", "docs/performance.md"])
def test_moved_notes_exist_and_readme_links_them(name: str) -> None:
    assert (ROOT / name).is_file()
    assert f"]({name})" in (ROOT / "README.md").read_text()
