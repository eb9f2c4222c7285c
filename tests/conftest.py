from __future__ import annotations

import importlib
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from xdrgen.compiler import Compiled, compile_file  # noqa: E402
from xdrgen.generator import RPC_MODULE, RUNTIME_MODULE, generate, runtime_source  # noqa: E402


class GeneratedPackage:
    """A throw-away package holding the runtime and generated modules, importable by name."""

    def __init__(self, root: Path):
        self.name = f"gen_{uuid.uuid4().hex[:8]}"
        self.dir = root / self.name
        self.dir.mkdir()
        (self.dir / "__init__.py").write_text("")
        for runtime in (RUNTIME_MODULE, RPC_MODULE):
            (self.dir / f"{runtime}.py").write_text(runtime_source(runtime))
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))

    def load(self, compiled: Compiled, module_name: str, *, format: bool = False) -> ModuleType:
        code = generate(compiled.model, str(compiled.path), compiled.text, module_name, format=format)
        (self.dir / f"{module_name}.py").write_text(code)
        importlib.invalidate_caches()
        return importlib.import_module(f"{self.name}.{module_name}")

    def load_source(self, source: str, module_name: str) -> ModuleType:
        """The module generated from ``source``, the text of a .x file called ``module_name``.x."""
        path = self.dir / f"{module_name}.x"
        path.write_text(source)
        return self.load(compile_file(path), module_name)


@pytest.fixture(scope="session")
def generated_package(tmp_path_factory: pytest.TempPathFactory) -> GeneratedPackage:
    return GeneratedPackage(tmp_path_factory.mktemp("generated"))
