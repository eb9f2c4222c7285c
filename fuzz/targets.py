"""The code under fuzzing, shared by the atheris entry points and the bounded CI run."""

from __future__ import annotations

import importlib
import re
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
from xdrgen.generator import generate, runtime_source  # noqa: E402

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


def check_compiler(data: bytes, scratch: Path) -> None:
    """The property: any text yields a module or our diagnostics, never another exception."""
    path = scratch / "fuzz.x"
    path.write_bytes(data)
    try:
        compiled = compile_file(path)
        generate(compiled.model, "fuzz.x", compiled.text, "fuzz", format=False)
    except XdrgenError:
        pass
