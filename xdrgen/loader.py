"""Generate a .x file's module and import it in memory, for ``xdrgen decode`` / ``encode``."""

from __future__ import annotations

import importlib
import sys
import types

from . import model as M
from .generator import RUNTIME_MODULE, generate


def load_generated(model: M.Module, source_name: str, source_text: str, module_name: str) -> types.ModuleType:
    """Generate and import the module for ``model`` (no files written)."""
    # the generated module falls back to a top-level "xdr_runtime" outside a package
    sys.modules.setdefault(RUNTIME_MODULE, importlib.import_module(f"xdrgen.runtime.{RUNTIME_MODULE}"))
    code = generate(model, source_name, source_text, module_name, format=False)
    module = types.ModuleType(f"xdrgen_live_{module_name}")
    sys.modules[module.__name__] = module  # dataclasses look their module up while decorating
    exec(compile(code, source_name, "exec"), module.__dict__)
    return module
