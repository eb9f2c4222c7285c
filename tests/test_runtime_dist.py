"""One runtime, versioned: the xdrgen-runtime distribution (runtime/pyproject.toml) that modules
generated with ``--runtime installed`` import, and the API version every generated module
checks at import, whichever runtime it uses.

The distribution is built here from runtime/ (hatchling, no build isolation, no network) and
installed with ``pip install --target`` into a temp folder: the real wheel, not a copy of the
source files."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import module_available, requires

ROOT = Path(__file__).parents[1]
SEED = ROOT / "protocols" / "lxc_monitor_protocol.x"
NFS3 = ROOT / "protocols" / "nfs3_readonly.x"

pytestmark = requires(module_available("hatchling") and module_available("pip"), "needs hatchling and pip (pip install -e '.[test]')")


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=env)


def xdrgen(*args: str | Path) -> None:
    done = run(sys.executable, "-m", "xdrgen", *args, "-q", env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def runtime_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = tmp_path_factory.mktemp("wheels")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    done = run(*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", wheels, ROOT / "runtime")
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = wheels.glob("xdrgen_runtime-*.whl")
    return wheel


@pytest.fixture(scope="module")
def site(runtime_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the installed distribution and nothing else."""
    target = tmp_path_factory.mktemp("site")
    done = run(sys.executable, "-m", "pip", "--disable-pip-version-check", "install", "--quiet", "--no-deps", "--no-index", "--target", target, runtime_wheel)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def python(code: str, *path: Path) -> subprocess.CompletedProcess[str]:
    """``code`` run by a fresh interpreter that sees only ``path`` and the standard library."""
    return run(sys.executable, "-I", "-c", f"import sys; sys.path[:0] = {[str(p) for p in path]!r}\n{code}")


def test_the_distribution_is_the_runtime_unchanged_with_no_dependencies(runtime_wheel: Path) -> None:
    from xdrgen.python.render import runtime_api_version

    with zipfile.ZipFile(runtime_wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        packed = {name: wheel.read(f"xdrgen_runtime/{name}").decode() for name in ("xdr_runtime.py", "xdr_rpc.py", "rpcsec_gss.py")}
    assert runtime_wheel.name.startswith(f"xdrgen_runtime-{runtime_api_version()}-")  # its version is the API's
    assert "Requires-Dist" not in metadata and "xdrgen_runtime/py.typed" in names
    for name, text in packed.items():
        assert text == (ROOT / "xdrgen" / "runtime" / name).read_text()
        imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(ast.parse(text)) if isinstance(node, ast.ImportFrom) and node.module and not node.level}
        # gssapi: imported by rpcsec_gss only when RPCSEC_GSS is used (the gss extra)
        assert imported - {"xdr_runtime", "xdr_rpc", "rpcsec_gss", "gssapi"} <= sys.stdlib_module_names, f"{name} imports {imported - sys.stdlib_module_names}"


def test_two_generated_packages_share_the_installed_runtime_and_its_xdr_error(site: Path, tmp_path: Path) -> None:
    xdrgen(SEED, "-o", tmp_path / "first", "--runtime", "installed")
    xdrgen(NFS3, "-o", tmp_path / "second", "--runtime", "installed")
    for package in ("first", "second"):  # no runtime copy beside the modules
        assert not {"xdr_runtime.py", "xdr_rpc.py"} & {p.name for p in (tmp_path / package).iterdir()}
    code = """
from first import lxc_monitor_protocol as lxc
from second import nfs3_readonly as nfs, nfs3_readonly_rpc as nfs_rpc
from xdrgen_runtime import xdr_runtime, xdr_rpc
assert lxc.XdrError is nfs.XdrError is xdr_runtime.XdrError
assert nfs_rpc._rpc is xdr_rpc
try:
    lxc.virLXCMonitorInitEventMsg.from_xdr(b"123")
except nfs.XdrError as error:  # the other package's class catches it
    print("caught", error.offset)
"""
    done = python(code, site, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["caught", "0"]
    env = {"MYPYPATH": str(site), "PATH": "/usr/bin:/bin"}
    typed = run(sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-p", "first", "-p", "second", cwd=tmp_path, env=env)
    assert typed.returncode == 0, typed.stdout + typed.stderr
    beside = python("import first.lxc_monitor_protocol", tmp_path)  # without the distribution
    assert "ModuleNotFoundError: No module named 'xdrgen_runtime'" in beside.stderr


def _set_api(runtime: Path, version: str) -> None:
    text = runtime.read_text()
    runtime.write_text(text.replace("\nAPI_VERSION: Final = ", f"\nAPI_VERSION: Final = {version}  # was ", 1))


@pytest.mark.parametrize("where", ["installed", "beside"])
def test_a_module_refuses_a_runtime_of_another_api_version_in_one_line(site: Path, tmp_path: Path, where: str) -> None:
    from xdrgen.python.render import runtime_api_version

    xdrgen(SEED, "-o", tmp_path / "pkg", "--runtime", where)
    runtime = (site / "xdrgen_runtime" if where == "installed" else tmp_path / "pkg") / "xdr_runtime.py"
    if where == "installed":  # a copy of the installed distribution, to change
        copy = tmp_path / "site"
        (copy / "xdrgen_runtime").mkdir(parents=True)
        for file in (site / "xdrgen_runtime").glob("*.py"):
            (copy / "xdrgen_runtime" / file.name).write_text(file.read_text())
        runtime, site = copy / "xdrgen_runtime" / "xdr_runtime.py", copy
    assert python("import pkg.lxc_monitor_protocol", site, tmp_path).returncode == 0
    _set_api(runtime, "99")
    done = python("import pkg.lxc_monitor_protocol", site, tmp_path)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: pkg.lxc_monitor_protocol was generated for the xdrgen runtime API ")
    assert f"API {runtime_api_version()}, but {runtime} has API 99: " in last
    assert ("install xdrgen-runtime==" in last) == (where == "installed")


def test_codecs_are_registered_in_an_explicit_table(tmp_path: Path) -> None:
    """No name-prefix scan of a module's globals, no lookup of a codec by a function's code."""
    xdrgen(SEED, NFS3, "-o", tmp_path / "pkg")
    runtime = (ROOT / "xdrgen" / "runtime" / "xdr_runtime.py").read_text()
    for gone in ("__code__", "f_code", "tb_frame", "_CODECS_BY_CODE", "namespace"):
        assert gone not in runtime
    module = (tmp_path / "pkg" / "nfs3_readonly.py").read_text()
    call = module.split("CODECS: Final[dict[str, _rt.Codec[Any]]] = _rt.registry(", 1)[1].split("\n)\n", 1)[0]
    assert "globals()" not in call and "_FUNCTIONS: Final[dict[str, _rt.Functions]] = {" in module
    done = python(
        "from pkg import nfs3_readonly as m\n"
        "for name, (encoder, decoder, pack, unpack, cls) in m._FUNCTIONS.items():\n"
        "    c = m.CODECS[name]\n"
        "    assert (c.encoder, c.decoder, c.cls) == (encoder, decoder, cls) and c.encode is (pack or c.encode)\n"
        "assert set(m.CODECS) == set(m._FUNCTIONS) == set(m._SHAPES) and len(m.CODECS) > 40",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
