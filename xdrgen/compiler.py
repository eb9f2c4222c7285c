"""The pipeline as one call: .x file -> syntax tree -> checked model -> Python source."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import model as M
from . import xdr_ast as A
from .checker import check
from .diagnostics import Reporter, SourceCache
from .options import Options
from .parser import parse_file

__all__ = ["Compiled", "Options", "compile_file"]


@dataclass
class Compiled:
    path: Path
    specification: A.Specification
    model: M.Module
    sources: SourceCache
    reporter: Reporter

    @property
    def text(self) -> str:
        return self.sources.texts[str(self.path)]


def compile_file(path: str | Path, options: Options | None = None, sources: SourceCache | None = None) -> Compiled:
    """Parse and check ``path``. Raises XdrgenError; warnings are in ``.reporter``."""
    options = options or Options()
    sources = sources if sources is not None else SourceCache()
    reporter = Reporter()
    spec = parse_file(
        path,
        include_dirs=options.include_dirs,
        defines=options.defines,
        target=options.target,
        sources=sources,
        pre_includes=options.pre_includes,
    )
    model = check(spec, reporter)
    return Compiled(Path(path), spec, model, sources, reporter)
