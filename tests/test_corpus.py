"""Every real .x file of ../shared/corpus: parsed, checked, generated, imported, round-tripped."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import requires_corpus
from corpus_options import CORPUS, REJECTED, corpus_files, options_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from properties import decodes_exactly_or_rejects
from strategies import Strategies

from xdrgen.compiler import Compiled, Options, compile_file
from xdrgen.diagnostics import XdrgenError
from xdrgen.generator import GSS_MODULE, RPC_MODULE, companions, generate, runtime_source

FILES = corpus_files()
CHUNK = 16

pytestmark = requires_corpus


def _compile(relative: str):  # type: ignore[no-untyped-def]
    defines, pre = options_for(relative)
    return compile_file(CORPUS / relative, Options(defines=defines, pre_includes=pre))


def test_corpus_is_there() -> None:
    assert len(FILES) >= 100


@pytest.mark.parametrize("relative", FILES)
def test_parses_and_checks(relative: str) -> None:
    if relative in REJECTED:
        with pytest.raises(XdrgenError) as error:
            _compile(relative)
        assert REJECTED[relative] in error.value.diagnostics[0].message
        return
    compiled = _compile(relative)
    assert compiled.model.types or compiled.model.constants


def mutated(encoded: bytes) -> st.SearchStrategy[bytes]:
    """Hostile variants of a valid encoding: a flipped bit (bad bool, enum, discriminant,
    padding, length), a cut, a word replaced by an extreme value (huge length prefixes,
    out-of-range values), or bytes appended."""
    size = len(encoded)
    flip = st.tuples(st.integers(0, max(size * 8 - 1, 0))).map(
        lambda t: encoded[: t[0] // 8] + bytes([encoded[t[0] // 8] ^ (1 << (t[0] % 8))]) + encoded[t[0] // 8 + 1 :] if size else b"\x80"
    )
    cut = st.integers(0, max(size - 1, 0)).map(lambda n: encoded[:n])
    words = st.sampled_from([b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x00\x00\x02", b"\x80\x00\x00\x00", b"\x00\x01\x00\x00"])
    replace = st.tuples(st.integers(0, max(size // 4 - 1, 0)), words).map(lambda t: encoded[: 4 * t[0]] + t[1] + encoded[4 * t[0] + 4 :])
    extend = st.binary(min_size=1, max_size=8).map(lambda tail: encoded + tail)
    return st.one_of(flip, cut, replace, extend)


@pytest.mark.parametrize("relative", [f for f in FILES if f not in REJECTED])
def test_generates_imports_and_round_trips(relative: str, generated_package) -> None:  # type: ignore[no-untyped-def]
    compiled = _compile(relative)
    name = re.sub(r"\W", "_", relative.removesuffix(".x"))
    module = generated_package.load(compiled, name)
    assert {t.name for t in compiled.model.types} <= set(module.CODECS)
    strategies = Strategies(compiled.model, module)
    names = sorted(module.CODECS)

    @settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def round_trip(chunk: list[str], data: st.DataObject) -> None:
        for type_name in chunk:
            value = data.draw(strategies.for_name(type_name), label=type_name)
            encoded = module.encode(type_name, value)
            assert len(encoded) % 4 == 0
            assert module.decode(type_name, encoded) == value
            decodes_exactly_or_rejects(module.codec(type_name), module.XdrError, data.draw(mutated(encoded)))

    # One example per type; types are drawn in small groups so that no single example
    # outgrows hypothesis's per-example budget on files with hundreds of deep types.
    for start in range(0, len(names), CHUNK):
        round_trip(chunk=names[start : start + CHUNK])


def test_every_generated_module_passes_mypy_strict(tmp_path: Path) -> None:
    """One package holding the module of every corpus file, checked in one mypy run (black
    only changes layout, so the unformatted text is what is checked here, to save time)."""
    package = tmp_path / "corpus_modules"
    written = _write_modules(package, [])
    for relative in FILES:
        compiled = _compile(relative)
        name = re.sub(r"\W", "_", relative.removesuffix(".x"))
        folder = package
        if len(compiled.units) > 1:  # it uses other files' types: a package of its own, with theirs
            folder = package / f"{name}_set"
        written += _write_modules(folder, [(name, compiled)] + [(u.module_name, u) for u in compiled.units if u is not compiled])
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), package.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-5000:]
    assert f"no issues found in {written} source files" in result.stdout


def _write_modules(folder: Path, modules: list[tuple[str, Compiled]]) -> int:
    """Write each module (and its RPC companion) into the package ``folder``, with the runtime;
    returns how many files it wrote."""
    if not folder.exists():
        folder.mkdir()
        (folder / "__init__.py").write_text("")
        (folder / "xdr_runtime.py").write_text(runtime_source())
        (folder / f"{RPC_MODULE}.py").write_text(runtime_source(RPC_MODULE))
        (folder / f"{GSS_MODULE}.py").write_text(runtime_source(GSS_MODULE))
        written = 4
    else:
        written = 0
    for name, compiled in modules:
        (folder / f"{name}.py").write_text(generate(compiled.model, str(compiled.path), compiled.text, name, format=False))
        # the typed RPC classes (of programs, or of libvirt's protocols), in <module>_rpc.py
        for companion, text in companions(compiled.model, str(compiled.path), compiled.text, name, format=False).items():
            (folder / f"{companion}.py").write_text(text)
            written += 1
        written += 1
    return written
