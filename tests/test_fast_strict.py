"""Strict fast-path mode: a fast function that refuses a valid value must fail the tests.

Outside strict mode a refusal only costs time (the checked codec, 10-65x slower, takes over),
so a fast path that stopped working would pass every test. With ``XDRGEN_STRICT_FAST=1`` (CI
runs the codec, corpus and interop tests so) the runtime raises ``FastPathError`` instead.
Here every fast function of a union-heavy module is made to refuse at its first line: without
strict mode nothing visible changes; with it, every encode and decode fails."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import Strategies

from xdrgen.compiler import compile_file
from xdrgen.generator import generate

ALLTYPES = Path(__file__).parent / "xdr" / "alltypes.x"
FAST_FUNCTION = re.compile(r"def (_enc_|_dec_|_pack_|_unpack_)\w+\(")


def refusing(code: str) -> str:
    """``code`` with every fast function refusing at its first line: inside the ``try`` of a
    ``_pack_``/``_unpack_`` (which catch their own refusals), else before anything else."""
    out: list[str] = []
    pending: str | None = None  # the kind of fast function whose first line comes next
    for line in code.split("\n"):
        out.append(line)
        found = FAST_FUNCTION.match(line)
        if found:
            pending = found[1]
            if pending in ("_enc_", "_dec_"):
                out.append("    raise _rt.Reject")
                pending = None
        elif pending and line.strip() == "try:":
            out.append(line[: len(line) - len(line.lstrip())] + "    raise _rt.Reject")
            pending = None
    return "\n".join(out)


def load(generated_package: Any, name: str, sabotage: bool) -> ModuleType:
    compiled = compile_file(ALLTYPES)
    code = generate(compiled.model, str(ALLTYPES), compiled.text, name, format=False)
    if sabotage:
        code = refusing(code)
        assert code.count("raise _rt.Reject\n") > 20
    (generated_package.dir / f"{name}.py").write_text(code)
    importlib.invalidate_caches()
    return importlib.import_module(f"{generated_package.name}.{name}")


def every_value(module: ModuleType, check: Any) -> None:
    """``check(type_name, value)`` for a few values of every type of alltypes.x."""
    strategies = Strategies(compile_file(ALLTYPES).model, module)

    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def each(data: st.DataObject) -> None:
        for name in sorted(module.CODECS):
            check(name, data.draw(strategies.for_name(name), label=name))

    each()


def test_without_strict_mode_a_refusing_fast_path_goes_unnoticed(generated_package: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    clean, refused = load(generated_package, "alltypes_clean", False), load(generated_package, "alltypes_refusing", True)
    monkeypatch.setattr(refused._rt, "STRICT_FAST", False)

    def same(name: str, value: Any) -> None:
        encoded = refused.encode(name, value)
        assert encoded == clean.encode(name, clean.decode(name, encoded))
        assert refused.decode(name, encoded) == value

    every_value(refused, same)


def test_strict_mode_fails_every_encode_and_decode_of_a_refusing_fast_path(generated_package: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    refused = load(generated_package, "alltypes_refusing2", True)
    monkeypatch.setattr(refused._rt, "STRICT_FAST", True)
    failures: list[str] = []

    def fails(name: str, value: Any) -> None:
        with pytest.raises(refused._rt.FastPathError, match=r"the fast path refused a valid value \(Reject"):
            refused.encode(name, value)
        good = refused.CODECS[name].encode_checked(value)  # the bytes, without any fast function
        with pytest.raises(refused._rt.FastPathError):
            refused.decode(name, good)
        failures.append(name)

    every_value(refused, fails)
    assert set(failures) == set(refused.CODECS)


def test_strict_mode_passes_a_working_fast_path_and_still_reports_bad_values(generated_package: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    clean = load(generated_package, "alltypes_strict", False)
    monkeypatch.setattr(clean._rt, "STRICT_FAST", True)
    every_value(clean, lambda name, value: clean.decode(name, clean.encode(name, value)) == value or pytest.fail(name))
    with pytest.raises(clean.XdrError, match="bool must be 0 or 1, not 2"):  # a wrong input is still the caller's error
        clean.decode("maybe", b"\x00\x00\x00\x02")
    with pytest.raises(clean.XdrError):
        clean.encode("point", clean.point(1, -1, 0, 0))  # y is unsigned
