"""The pipeline as one call: .x files -> syntax trees -> checked models (one per file), ready
for the generator. Files compile as a set: each keeps its own definitions, and the names it
leaves undefined come from the others (see ``checker.check_set``)."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Sequence

from . import model as M
from . import naming
from . import xdr_ast as A
from .checker import Unit, check_set
from .diagnostics import Diagnostic, Reporter, SourceCache, XdrgenError
from .options import Options, typedef_text
from .parser import parse_file, parse_text

__all__ = ["Compiled", "Options", "RPC_DEFS", "compile_file", "compile_set"]

# RFC 5531's definitions, shipped with xdrgen: consulted (--rpc-defs) for names nothing else defines
RPC_DEFS = "rpc_defs.x"


@dataclass
class Compiled:
    """One file of a compile set: its syntax tree, checked model and Python module name.
    ``units`` are all the files compiled with it (itself among them), in a fixed order."""

    path: Path
    specification: A.Specification
    model: M.Module
    sources: SourceCache
    reporter: Reporter
    is_input: bool = True
    units: list[Compiled] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:
        return self.sources.texts[self.specification.file]

    @property
    def module_name(self) -> str:
        return self.model.name


def rpc_defs_path() -> Path:
    return Path(str(resources.files("xdrgen") / RPC_DEFS))


def compile_set(paths: Sequence[str | Path], options: Options | None = None, sources: SourceCache | None = None) -> list[Compiled]:
    """Parse and check ``paths`` as one set, with every file they include (each file once,
    whichever input includes it). Returns a Compiled per file: the inputs in their order, then
    the included files, then xdrgen's RPC definitions if ``options.rpc_defs`` and some file uses
    them. Raises XdrgenError; warnings are in each ``.reporter`` (one shared reporter)."""
    options = options or Options()
    sources = sources if sources is not None else SourceCache()
    reporter = Reporter()
    files: dict[Path, tuple[A.Specification, bool]] = {}  # by resolved path: tree, is an input

    def add(spec: A.Specification, is_input: bool) -> bool:
        """Enter a file (the first tree read of it); False if it is there already."""
        return files.setdefault(Path(spec.file).resolve(), (spec, is_input))[0] is spec

    # every input's folder is an include root for the whole set (None: --include-anywhere)
    roots = None if options.include_anywhere else [Path(p).parent for p in paths]
    parse = functools.partial(
        parse_file, include_dirs=options.include_dirs, defines=options.defines, target=options.target, sources=sources, include_roots=roots
    )
    pending: list[A.Include] = []
    for index, path in enumerate(paths):
        spec = parse(path, pre_includes=options.pre_includes)
        if index == 0 and options.defined_types:
            spec = _with_defined_types(spec, options.defined_types, sources)
        if add(spec, True):
            pending += spec.includes()
    while pending:
        included = pending.pop(0).specification
        if add(included, False):
            pending += included.includes()
    bundled = rpc_defs_path().resolve()
    if options.rpc_defs and bundled not in files:
        add(parse(bundled), False)
    units = [
        Unit(key, spec, tuple(Path(i.specification.file).resolve() for i in spec.includes()), bundled=options.rpc_defs and key == bundled)
        for key, (spec, _) in files.items()
    ]
    models = check_set(units, reporter)
    compiled = [Compiled(Path(spec.file), spec, model, sources, reporter, is_input) for (spec, is_input), model in zip(files.values(), models)]
    # the bundled definitions are written only where a file uses them
    used = {id(owner) for c in compiled for owner in _imported_modules(c.model)}
    compiled = [c for c in compiled if not c.model.bundled or id(c.model) in used]
    _name_modules(compiled)
    for c in compiled:
        c.units = compiled
    return compiled


def _with_defined_types(spec: A.Specification, types: dict[str, str], sources: SourceCache) -> A.Specification:
    """``spec`` with a typedef for each ``--define-type`` first. Each is parsed as a file of its
    own name (``<--define-type gss_OID=opaque<>>``), so a bad type is an error that quotes it."""
    first: list[A.Item] = []
    for name, xdr_type in types.items():
        file = f"<--define-type {name}={xdr_type}>"
        text = typedef_text(name, xdr_type) + "\n"
        sources.add(file, text)
        first += parse_text(text, file).items
    return dataclasses.replace(spec, items=tuple(first) + spec.items)


def _imported_modules(module: M.Module) -> list[M.Module]:
    return [owner for _, owner in module.foreign.values()] + module.includes


def _name_modules(compiled: list[Compiled]) -> None:
    """Each file's module name: its stem made an identifier, renamed by the naming rule where it
    would be a keyword, a dunder, or a module the generated code imports (``logging.x`` ->
    ``logging_``, with a warning). Two files of one name are an error (a module named like
    another's RPC sibling, ``<module>_rpc``, is one where that sibling is written: project.py)."""
    taken: dict[str, Path] = {}
    problems = []
    for c in compiled:
        name = naming.module_name_for(c.path)
        plain = naming.identifier_for(c.path)
        if name in taken:
            problems.append(Diagnostic("error", f"{c.path} and {taken[name]} would both be module {name}; rename one of them", None))
        elif name != plain:
            why = naming.clash(plain, naming.MODULE_FILE)
            c.reporter.warning(A.Location(c.specification.file, 1, 1), f"the module of this file would be called '{plain}', which {why}; it is written as '{name}.py'", "shadow")
        taken.setdefault(name, c.path)
        c.model.name = name
    if problems:
        raise XdrgenError(problems)


def compile_file(path: str | Path, options: Options | None = None, sources: SourceCache | None = None) -> Compiled:
    """Parse and check ``path`` with the files it includes; its ``.units`` are all of them."""
    return compile_set([path], options, sources)[0]
