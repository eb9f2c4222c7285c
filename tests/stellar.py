"""The corpus's 12 Stellar .x files compiled for the tests, behind one place.

The files compile as one set, a module each; an umbrella file that ``#include``s all twelve
gives the one module the tests reach every type through (it hands on every name, and its
``codec()`` knows every type). ``stellar_codecs`` and ``stellar_model`` are the tests' only ways in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from conftest import GeneratedPackage
from corpus_options import _STELLAR_ORDER
from paths import CORPUS

from xdrgen import model as M
from xdrgen.compiler import Options, compile_file

STELLAR_DIR = CORPUS / "stellar"
MODULE_NAME = "stellar_all"

_built: dict[Path, tuple[M.Module, ModuleType]] = {}


def stellar_files() -> list[Path]:
    """The Stellar files in dependency order: _STELLAR_ORDER, then the rest by name."""
    rest = sorted(p.name for p in STELLAR_DIR.glob("*.x") if p.name not in _STELLAR_ORDER)
    return [STELLAR_DIR / name for name in [*_STELLAR_ORDER, *rest]]


def _build(tmp_dir: Path) -> tuple[M.Module, ModuleType]:
    tmp_dir = Path(tmp_dir)
    if tmp_dir not in _built:
        package = GeneratedPackage(tmp_dir)
        umbrella = package.dir / f"{MODULE_NAME}.x"
        umbrella.write_text("".join(f'#include "{path.name}"\n' for path in stellar_files()))
        compiled = compile_file(umbrella, Options(include_dirs=[STELLAR_DIR]))
        _built[tmp_dir] = (compiled.model, package.load(compiled, MODULE_NAME))
    return _built[tmp_dir]


def stellar_model(tmp_dir: Path) -> tuple[M.Module, ModuleType]:
    """The checked model of all Stellar types and the generated module holding their classes
    (what ``tests/strategies.Strategies`` takes). Built once per ``tmp_dir``."""
    return _build(tmp_dir)


def stellar_types(model: M.Module) -> list[M.TypeDefinition]:
    """Every definition of the twelve files (the umbrella ``model`` has none of its own)."""
    return [definition for included in M.included_modules(model) for definition in included.types]


def stellar_type_names(tmp_dir: Path) -> list[str]:
    """The XDR names of every type the Stellar files define, in definition order."""
    model, _ = _build(tmp_dir)
    return [definition.name for definition in stellar_types(model)]


def stellar_codecs(tmp_dir: Path) -> Callable[[str], Any]:
    """XDR type name -> the codec (``encode``/``decode``) of that Stellar type."""
    _, module = _build(tmp_dir)
    codec: Callable[[str], Any] = module.codec
    return codec
