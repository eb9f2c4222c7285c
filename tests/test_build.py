"""Packaging: xdrgen installed from a wheel (templates inside), and its hatchling build hook
generating a user project's modules during `pip install` into a fresh venv.

The venv has no access to the running interpreter's packages (whether that is a venv or a
system Python): everything it gets comes from a wheelhouse in a temp folder, installed with
``--no-index``. Only filling the wheelhouse reaches PyPI (or pip's cache): hatchling and
xdrgen's dependencies are downloaded, xdrgen's wheel is built from this checkout. So the
sample project's build requirement can only resolve to the wheel built here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from conftest import module_available, require, requires

ROOT = Path(__file__).parents[1]
SAMPLE = Path(__file__).parent / "sample_project"
DISTRIBUTION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]

pytestmark = [
    requires(module_available("pip"), "needs pip in the running interpreter"),
    requires(module_available("ensurepip"), "needs venv with ensurepip (apt-get install python3-venv)"),
]


def run(*args: str | Path, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH (a worktree run sets it) would put the checkout's xdrgen before the venv's wheel
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=env)
    if check:
        assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def fill_wheelhouse(wheelhouse: Path) -> Path:
    """Hatchling and xdrgen's dependencies downloaded, xdrgen's wheel built from ROOT; returns
    that wheel."""
    outer_pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    fetched = run(*outer_pip, "download", "--quiet", "--dest", wheelhouse, "hatchling", check=False)
    require(fetched.returncode == 0, "needs PyPI or pip's cache to fetch hatchling: " + fetched.stderr.strip()[-200:])
    # an isolated build whose hatchling comes from the wheelhouse: the outer env need not have it
    run(*outer_pip, "wheel", "--quiet", "--no-deps", "--no-index", "--find-links", wheelhouse, "--wheel-dir", wheelhouse, ROOT)
    built = sorted(wheelhouse.glob(DISTRIBUTION.replace("-", "_") + "-*.whl"))
    assert len(built) == 1, built
    run(*outer_pip, "download", "--quiet", "--dest", wheelhouse, built[0])
    return built[0]


def test_sample_project_requires_this_distribution() -> None:
    """The documented build requirement names this project's distribution, not PyPI's
    unrelated ``xdrgen``."""
    requires_ = tomllib.loads((SAMPLE / "pyproject.toml").read_text())["build-system"]["requires"]
    assert DISTRIBUTION != "xdrgen" and DISTRIBUTION in requires_
    assert f'"{DISTRIBUTION} @ git+' in (ROOT / "README.md").read_text()


def test_wheel_install_and_build_hook_in_a_fresh_venv(tmp_path: Path) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    wheel = fill_wheelhouse(wheelhouse)

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    isolated = run(python, "-c", "import sys; print(sys.prefix != sys.base_prefix, end=' '); import lark", check=False)
    assert isolated.stdout.startswith("True") and "ModuleNotFoundError" in isolated.stderr, "the venv sees outer packages"
    pip = [python, "-m", "pip", "--disable-pip-version-check", "install", "--no-index", "--find-links", wheelhouse]
    run(*pip, "--quiet", DISTRIBUTION)
    listed = run(python, "-m", "pip", "--disable-pip-version-check", "list", "--format=freeze").stdout
    assert f"{DISTRIBUTION}==" in listed.replace("_", "-")
    where = run(python, "-c", "import xdrgen.python.render as g; print(g.__file__); print(g._templates_dir())", cwd=tmp_path).stdout
    module_file, templates = where.split()
    assert module_file.startswith(str(venv)) and templates.startswith(str(venv))
    assert (Path(templates) / "python" / "struct" / "class.py.j2").is_file()
    command = run(venv / "bin" / "xdrgen", "--stdout", ROOT / "protocols" / "lxc_monitor_protocol.x").stdout
    assert "class virLXCMonitorInitEventMsg" in command

    project = tmp_path / "sample"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("xdr"))
    # build isolation: pip installs the sample's build requirements from the wheelhouse only
    installing = run(*pip, "--verbose", project)
    built = installing.stdout + installing.stderr  # the build environment's output comes on stderr
    assert f"Processing {wheel}" in built, "the build requirement did not resolve to the wheel built here"
    # one line for the set: its sources, its folder, what changed
    assert "xdrgen: proto/lxc_monitor_log.x, proto/lxc_monitor_protocol.x -> src/sample_lxc/xdr/: wrote 7 file(s), 0 unchanged" in built, built[-3000:]
    code = (
        "from sample_lxc.xdr import lxc_monitor_protocol as m, lxc_monitor_log as log;"
        "v = m.virLXCMonitorInitEventMsg(initpid=4242);"
        "e = log.lxcMonitorLogEntry(7, m.virLXCMonitorExitEventMsg(m.VIR_LXC_MONITOR_EXIT_STATUS_REBOOT));"
        "print(m.encode('virLXCMonitorInitEventMsg', v).hex(), log.encode('lxcMonitorLog', [e]).hex(), m.__file__)"
    )
    encoded, logged, location = run(python, "-c", code, cwd=tmp_path).stdout.split()
    assert encoded == "0000000000001092"
    assert logged == "00000001" "0000000000000007" "00000002"  # the second file's type, the first's inside
    assert location.startswith(str(venv)) and "site-packages/sample_lxc/xdr/" in location


DEBIAN_PYTHON = Path("/usr/bin/python3")


def readme_setup_commands() -> list[str]:
    """The first two lines of README's first shell block (make and activate a venv; install
    and generate), without their comments: what a new user types first."""
    text = (ROOT / "README.md").read_text()
    block = text.split("```sh setup\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines()[:2]]


def fresh_clone(into: Path) -> Path:
    """The files git tracks, as they are in the work tree: a clone with nothing left by earlier
    runs (no .venv, no generated/)."""
    listed = run("git", "ls-files", "-z", cwd=ROOT).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    return into


@requires(DEBIAN_PYTHON.is_file(), "needs the system's /usr/bin/python3 (Debian's python3 package)")
@requires(shutil.which("git") is not None and (ROOT / ".git").exists(), "needs git and a git checkout")
def test_readme_setup_commands_work_from_a_fresh_clone_with_the_system_python(tmp_path: Path) -> None:
    """README's set-up, typed as written into bash in a fresh clone with Debian's own python3
    first on PATH (stock Debian refuses pip outside a venv: the first line makes one)."""
    commands = readme_setup_commands()
    assert commands[0].startswith("python3 -m venv .venv") and commands[1].startswith("pip install")
    clone = fresh_clone(tmp_path / "clone")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION")}
    env["PATH"] = f"{DEBIAN_PYTHON.parent}:/bin"  # no pyenv shim, no outer venv
    done = subprocess.run(["bash", "-euc", "\n".join(commands) + "\ncommand -v python3 pip xdrgen"], cwd=clone, env=env, capture_output=True, text=True)
    if done.returncode != 0 and ("No matching distribution" in done.stderr or "Could not find a version" in done.stderr):
        require(False, "needs PyPI or pip's cache for README's pip install: " + done.stderr.strip()[-200:])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    where = done.stdout.split()[-3:]  # pip's own chatter comes first
    assert where == [str(clone / ".venv" / "bin" / name) for name in ("python3", "pip", "xdrgen")]
    base = run(clone / ".venv" / "bin" / "python3", "-c", "import sys; print(sys.base_prefix)").stdout.strip()
    assert base == "/usr", f"the venv was made by {base}, not Debian's python3"
    assert (clone / "generated" / "lxc_monitor_protocol.py").is_file()
    # the main job writes exactly the committed golden output (tests/test_generated.py checks it)
    changed = [p.name for p in (clone / "generated").iterdir() if p.read_bytes() != (ROOT / "generated" / p.name).read_bytes()]
    assert changed == [], f"README's main job leaves generated/ different from what is committed: {changed}"


def test_readme_and_ci_install_the_same_debian_packages() -> None:
    """README's apt-get line is the list .ci/run installs (CI proves the list README gives)."""
    readme = (ROOT / "README.md").read_text()
    line = next(line for line in readme.splitlines() if line.startswith("sudo apt-get install"))
    ci = (ROOT / ".ci" / "run").read_text()
    listed = ci.split("PACKAGES=(", 1)[1].split(")", 1)[0].split()
    assert line.split("--no-install-recommends", 1)[1].split() == listed
    assert {"python3-venv", "python3-pip"} <= set(listed)


def test_build_hook_line_reaches_the_terminal_when_pip_captures_the_output(tmp_path: Path) -> None:
    """pip hides a backend's output unless -v: the hook's line goes to the terminal too."""
    from xdrgen.hatch_hook import announce, summary

    line = summary([tmp_path / "proto" / "a.x", tmp_path / "proto" / "b.x"], tmp_path / "src" / "xdr", 3, 1, tmp_path)
    assert line == "xdrgen: proto/a.x, proto/b.x -> src/xdr/: wrote 3 file(s), 1 unchanged"
    shown: list[str] = []
    terminal = tmp_path / "tty"
    announce(line, shown.append, str(terminal))  # under pytest stderr is captured, as under pip
    assert shown == [line] and terminal.read_text() == line + "\n"
    announce(line, shown.append, str(tmp_path / "no" / "tty"))  # no terminal: no error
    assert shown == [line, line]
