"""Generate the modules of a compile set and import them in memory, as one package, for
``xdrgen decode`` / ``encode`` (no files written)."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import itertools
import sys
import types
from importlib.machinery import ModuleSpec
from typing import Sequence

from .compiler import Compiled
from .generator import RUNTIME_MODULE, generate, runtime_source

_packages = itertools.count()


class _Sources(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the modules of one in-memory package, from their source text."""

    def __init__(self, package: str, sources: dict[str, tuple[str, str]]) -> None:
        self.package = package
        self.sources = sources  # module name -> (file name for tracebacks, source)

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None) -> ModuleSpec | None:
        prefix, _, name = fullname.rpartition(".")
        if prefix != self.package or name not in self.sources:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        filename, source = self.sources[module.__name__.rpartition(".")[2]]
        exec(compile(source, filename, "exec"), module.__dict__)


def load_generated(units: Sequence[Compiled]) -> dict[str, types.ModuleType]:
    """Generate the module of every file of ``units`` and import them; by module name."""
    package = f"xdrgen_live_{next(_packages)}"
    sources = {RUNTIME_MODULE: (f"{RUNTIME_MODULE}.py", runtime_source(RUNTIME_MODULE))}
    for unit in units:
        sources[unit.module_name] = (str(unit.path), generate(unit.model, str(unit.path), unit.text, unit.module_name, format=False))
    root = types.ModuleType(package)
    root.__path__ = []
    sys.modules[package] = root
    sys.meta_path.append(_Sources(package, sources))
    return {unit.module_name: importlib.import_module(f"{package}.{unit.module_name}") for unit in units}
