"""Packaging: xdrgen installed from a wheel (templates inside), and its hatchling build hook
generating a user project's modules during `pip install` into a fresh venv."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
SAMPLE = Path(__file__).parent / "sample_project"


def run(*args: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def test_wheel_install_and_build_hook_in_a_fresh_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # system site-packages give the venv lark/jinja2/black/hatchling without a download;
    # xdrgen itself is installed into the venv from a freshly built wheel (not editable)
    run(sys.executable, "-m", "venv", "--system-site-packages", venv)
    python = venv / "bin" / "python"
    pip = [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    run(*pip, ROOT)
    where = run(python, "-c", "import xdrgen.generator as g; print(g.__file__); print(g._templates_dir())", cwd=tmp_path)
    module_file, templates = where.split()
    assert module_file.startswith(str(venv)) and templates.startswith(str(venv))
    assert (Path(templates) / "struct.py.j2").is_file()

    project = tmp_path / "sample"
    shutil.copytree(SAMPLE, project)
    run(*pip, project)
    code = (
        "from sample_lxc.xdr import lxc_monitor_protocol as m;"
        "v = m.virLXCMonitorInitEventMsg(initpid=4242);"
        "print(m.encode('virLXCMonitorInitEventMsg', v).hex(), m.__file__)"
    )
    encoded, location = run(python, "-c", code, cwd=tmp_path).split()
    assert encoded == "0000000000001092"
    assert location.startswith(str(venv)) and "site-packages/sample_lxc/xdr/" in location
