"""The code under fuzzing, shared by the atheris entry points and the bounded CI run."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from corpus_options import CORPUS, options_for  # noqa: E402
from properties import decodes_exactly_or_rejects  # noqa: E402

from xdrgen.compiler import Options, compile_file  # noqa: E402
from xdrgen.diagnostics import XdrgenError  # noqa: E402
from xdrgen.generator import RPC_MODULE, RUNTIME_MODULE, companions, generate, runtime_source  # noqa: E402

# Files whose decoders are fuzzed: every construct (alltypes), and real protocols with deep
# unions, linked lists, fixed arrays and big enums.
DECODER_SOURCES = [
    ROOT / "tests" / "xdr" / "alltypes.x",
    ROOT / "protocols" / "lxc_monitor_protocol.x",
    CORPUS / "rpcsvc" / "nfs_prot.x",
    CORPUS / "nfs4" / "pynfs" / "nfs4.x",
    CORPUS / "stellar" / "Stellar-transaction.x",
    CORPUS / "libvirt" / "remote_protocol.x",
]


# Where the parser fuzzer's seeds come from: real .x files (the shared corpus when it is
# there) and fuzz/seeds, small files near the edges of the preprocessor and of literals.
PARSER_SEED_SOURCES = [CORPUS, ROOT / "tests" / "xdr", ROOT / "protocols", ROOT / "fuzz" / "seeds"]


def parser_seeds(directory: Path, sources: list[Path] = PARSER_SEED_SOURCES) -> int:
    """Copy every .x file under ``sources`` (missing ones skipped) into ``directory``, one
    flat libFuzzer corpus; returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for source in sources:
        for path in sorted(source.rglob("*.x")) if source.is_dir() else []:
            count += 1
            (directory / f"{count:04d}-{path.name}").write_bytes(path.read_bytes())
    return count


def build_package(sources: list[Path] = DECODER_SOURCES) -> str:
    """Generate one importable package with the modules of ``sources`` (those that exist: the
    corpus may be absent); returns the module names, comma-separated."""
    root = Path(tempfile.mkdtemp(prefix="xdrgen-fuzz-"))
    package = root / "fuzzed"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "xdr_runtime.py").write_text(runtime_source())
    names = []
    for source in (s for s in sources if s.exists()):
        relative = source.relative_to(CORPUS).as_posix() if source.is_relative_to(CORPUS) else ""
        defines, pre = options_for(relative) if relative else ({}, [])
        compiled = compile_file(source, Options(defines=defines, pre_includes=pre))
        name = re.sub(r"\W", "_", source.stem)
        (package / f"{name}.py").write_text(generate(compiled.model, source.name, compiled.text, name, format=False))
        names.append(name)
        for unit in compiled.units:  # the modules of the files it uses
            if unit is not compiled and not (package / f"{unit.module_name}.py").exists():
                (package / f"{unit.module_name}.py").write_text(generate(unit.model, unit.path.name, unit.text, unit.module_name, format=False))
    sys.path.insert(0, str(root))
    return ",".join(names)


def load_codecs(names: str) -> list[tuple[Any, Any]]:
    """(module, codec) for every named type of the generated modules, in a stable order."""
    codecs = []
    for name in names.split(","):
        module = importlib.import_module(f"fuzzed.{name}")
        codecs += [(module, module.CODECS[t]) for t in sorted(module.CODECS)]
    return codecs


def check_decoder(codecs: list[tuple[Any, Any]], data: bytes) -> None:
    """The first two bytes choose a codec; the rest is decoded (tests/properties.py)."""
    if len(data) < 2:
        return
    module, codec = codecs[int.from_bytes(data[:2], "big") % len(codecs)]
    decodes_exactly_or_rejects(codec, module.XdrError, data[2:])


# The child that imports what the compiler target generates: one process for a whole run (a
# process per input would make the run a hundred times slower), each module under a name of
# its own, forgotten after its import. It answers one line per request: "ok" or the error.
IMPORTER = r"""
import importlib, sys, traceback
sys.path.insert(0, sys.argv[1])
for request in sys.stdin:
    names = request.split()
    try:
        for name in names:
            importlib.import_module(name)
        print("ok", flush=True)
    except BaseException:
        print(traceback.format_exc().replace("\n", " | "), flush=True)
    for name in names:
        sys.modules.pop(name, None)
"""


class Importer:
    """Generated modules imported in a child process, in a package beside the runtime."""

    def __init__(self, scratch: Path) -> None:
        self.package = scratch / "imported"
        self.package.mkdir(parents=True, exist_ok=True)
        (self.package / "__init__.py").write_text("")
        for runtime in (RUNTIME_MODULE, RPC_MODULE):
            (self.package / f"{runtime}.py").write_text(runtime_source(runtime))
        self.child = subprocess.Popen([sys.executable, "-c", IMPORTER, str(scratch)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.count = 0

    def check(self, modules: dict[str, str]) -> None:
        """Write ``modules`` (name -> source) and import them; AssertionError if one fails."""
        for name, code in modules.items():
            (self.package / f"{name}.py").write_text(code)
        assert self.child.stdin is not None and self.child.stdout is not None
        self.child.stdin.write(" ".join(f"imported.{name}" for name in modules) + "\n")
        self.child.stdin.flush()
        answer = self.child.stdout.readline().strip()
        for name in modules:
            (self.package / f"{name}.py").unlink()
        assert answer == "ok", f"a generated module does not import: {answer or 'the importer died'}"


_importers: dict[Path, Importer] = {}


def check_compiler(data: bytes, scratch: Path) -> None:
    """The property: any text yields our diagnostics, or modules that compile and import (in a
    child process), never another exception."""
    path = scratch / "fuzz.x"
    path.write_bytes(data)
    try:
        compiled = compile_file(path)
    except XdrgenError:
        return
    importer = _importers.get(scratch) or _importers.setdefault(scratch, Importer(scratch))
    importer.count += 1
    name = f"fuzz{importer.count}"
    modules = {name: generate(compiled.model, "fuzz.x", compiled.text, name, format=False)}
    modules.update(companions(compiled.model, "fuzz.x", compiled.text, name, format=False))
    for module, code in modules.items():
        compile(code, f"{module}.py", "exec")  # a SyntaxError (a NUL, a broken string) is a finding
    importer.check(modules)
