"""Shared test machinery: the requirement helper (skip, or fail under CI) and the generated-package fixture.

Requirements on things outside the clone
----------------------------------------
A test that needs something the clone does not bring (a program such as ``rpcgen`` or a
peer daemon, the real-world corpus, an optional extra such as ``atheris``) states it with
``requires`` or ``require``; never with ``pytest.skip``/``skipif``/``importorskip``::

    from conftest import module_available, program, require, requires, requires_corpus

    GANESHA = program("ganesha.nfsd")            # PATH, then /usr/sbin and /sbin

    pytestmark = requires(GANESHA, "needs ganesha.nfsd (apt-get install nfs-ganesha)")

    @requires(module_available("atheris"), "needs atheris (pip install -e '.[fuzz]')")
    def test_fuzz() -> None: ...

    pytest.param("nfs_prot", marks=requires_corpus)      # = requires(corpus_present(), CORPUS_MISSING)

    def test_late(tmp_path) -> None:
        require(download_worked, "needs PyPI or pip's cache")   # inside a test or fixture

Unmet, the test is skipped with ``reason`` as its one line. With ``XDRGEN_REQUIRE_ALL=1`` in
the environment (``.ci/run`` sets it) an unmet requirement is a failure instead, so CI runs
everything or says what is missing. ``reason`` should name what is needed and how to get it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from paths import CORPUS, CORPUS_MISSING, corpus_present  # noqa: E402,F401  (re-exported for tests)

from xdrgen.compiler import Compiled, compile_file  # noqa: E402
from xdrgen.generator import RPC_RUNTIME_MODULES, companions, generate, runtime_source  # noqa: E402

REQUIRE_ALL_VARIABLE = "XDRGEN_REQUIRE_ALL"
SYSTEM_PROGRAM_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def require_all() -> bool:
    """True when unmet requirements are failures (``XDRGEN_REQUIRE_ALL`` set, and not to 0)."""
    return os.environ.get(REQUIRE_ALL_VARIABLE, "") not in ("", "0")


def require(condition: object, reason: str) -> None:
    """Skip the running test or fixture with ``reason`` unless ``condition`` is true; under
    ``XDRGEN_REQUIRE_ALL=1`` fail with it instead."""
    __tracebackhide__ = True  # the report names the caller's line, not this one
    if condition:
        return
    if require_all():
        pytest.fail(f"{reason} [{REQUIRE_ALL_VARIABLE}=1 makes this a failure]", pytrace=False)
    pytest.skip(reason)


def requires(condition: object, reason: str) -> pytest.MarkDecorator:
    """``require`` as a marker: decorate a test or class, assign to ``pytestmark``, or pass in
    ``pytest.param(..., marks=...)``. The condition is evaluated once, where it is written."""
    return pytest.mark.requires(bool(condition), reason=reason)


requires_corpus = requires(corpus_present(), CORPUS_MISSING)
"""The marker for tests that read ``CORPUS``."""


def program(name: str) -> str | None:
    """The path of the executable ``name``: on PATH, else in the sbin folders (daemons live
    there and a non-root PATH often lacks them); None if it is nowhere."""
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SYSTEM_PROGRAM_DIRS))


def _libtirpc_flags() -> list[str] | None:
    """pkg-config's compile and link flags for libtirpc; None without pkg-config or libtirpc-dev."""
    if program("pkg-config") is None:
        return None
    found = subprocess.run(["pkg-config", "--cflags", "--libs", "libtirpc"], capture_output=True, text=True)
    return found.stdout.split() if found.returncode == 0 else None


LIBTIRPC_FLAGS = _libtirpc_flags()
# what a test that builds rpcgen's C output against libtirpc needs (the C reference)
requires_c_reference = [
    requires(program("rpcgen"), "needs rpcgen (apt-get install rpcsvc-proto)"),
    requires(program("gcc"), "needs gcc (apt-get install gcc)"),
    requires(LIBTIRPC_FLAGS, "needs pkg-config and libtirpc (apt-get install pkg-config libtirpc-dev)"),
]


def module_available(name: str) -> bool:
    """True if ``import name`` would find the module (without importing it)."""
    return importlib.util.find_spec(name) is not None


# the second XDR implementation tests/test_interop_stellar.py checks our bytes against
requires_stellar_sdk = requires(module_available("stellar_sdk"), "needs stellar-sdk (pip install -e '.[interop]')")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requires(condition, reason): skip unless condition (fail under XDRGEN_REQUIRE_ALL=1)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # an unmet marker becomes pytest's own skip, so the report names the test's line; put
    # first, its reason wins over "got empty parameter set" (a missing corpus parametrizes
    # nothing)
    if require_all():
        return
    for item in items:
        unmet = [mark.kwargs["reason"] for mark in item.iter_markers("requires") if not mark.args[0]]
        if unmet:
            item.add_marker(pytest.mark.skip(reason=unmet[0]), append=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # under XDRGEN_REQUIRE_ALL=1 an unmet marker fails here, before pytest's own skips run
    if not require_all():
        return
    for mark in item.iter_markers("requires"):
        require(mark.args[0], mark.kwargs["reason"])


class GeneratedPackage:
    """A throw-away package holding the runtime and generated modules, importable by name."""

    def __init__(self, root: Path):
        self.name = f"gen_{uuid.uuid4().hex[:8]}"
        self.dir = root / self.name
        self.dir.mkdir()
        self.sets = 0  # sub-packages made for files that use other files' types
        (self.dir / "__init__.py").write_text("")
        for runtime in RPC_RUNTIME_MODULES:
            (self.dir / f"{runtime}.py").write_text(runtime_source(runtime))
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))

    def load(self, compiled: Compiled, module_name: str, *, format: bool = False) -> ModuleType:
        """The module of ``compiled``, called ``module_name``. A file that uses other files'
        types goes into a package of its own with their modules (under their own names)."""
        folder, package = self.dir, self.name
        others = [u for u in compiled.units if u is not compiled]
        if others:
            self.sets += 1
            package = f"set{self.sets}"
            folder = self.dir / package
            folder.mkdir()
            (folder / "__init__.py").write_text("")
            package = f"{self.name}.{package}"
            for runtime in RPC_RUNTIME_MODULES:
                (folder / f"{runtime}.py").write_text(runtime_source(runtime))
        for unit in [compiled, *others]:
            name = module_name if unit is compiled else unit.module_name
            code = generate(unit.model, str(unit.path), unit.text, name, format=format)
            (folder / f"{name}.py").write_text(code)
            for companion, text in companions(unit.model, str(unit.path), unit.text, name, format=format).items():
                (folder / f"{companion}.py").write_text(text)  # <module>_rpc.py, imported when its classes are used
        importlib.invalidate_caches()
        return importlib.import_module(f"{package}.{module_name}")

    @staticmethod
    def modules(compiled: Compiled, module: ModuleType) -> dict[str, ModuleType]:
        """The modules of ``compiled``'s set by their model's name, ``module`` (as ``load`` gave
        it) for ``compiled`` itself: what JsonMapping wants."""
        others = {u.module_name: importlib.import_module(f"{module.__package__}.{u.module_name}") for u in compiled.units if u is not compiled}
        return others | {compiled.module_name: module}

    def load_source(self, source: str, module_name: str) -> ModuleType:
        """The module generated from ``source``, the text of a .x file called ``module_name``.x."""
        path = self.dir / f"{module_name}.x"
        path.write_text(source)
        return self.load(compile_file(path), module_name)


def sibling_module(module: ModuleType, name: str) -> ModuleType:
    """The module ``name`` (``xdr_rpc``, ``rpcsec_gss``) written beside the generated ``module``:
    the runtime its classes use (each generated package has its own copy)."""
    return importlib.import_module(f"{module.__package__}.{name}")


@pytest.fixture(scope="session")
def generated_package(tmp_path_factory: pytest.TempPathFactory) -> GeneratedPackage:
    return GeneratedPackage(tmp_path_factory.mktemp("generated"))
