"""Following the hints: every corpus file compiled alone, then with exactly what the first
error's hint names (``--rpc-defs``, ``-D NAME=VALUE``, ``--define-type NAME=XDR-TYPE``, or the
file beside it that defines the name), step by step, as a new user would. A hint that names
nothing exact (a placeholder such as XDR-TYPE) ends the walk; a hint that names a file already
passed, or repeats itself, is a circle and fails."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import requires_corpus
from corpus_options import CORPUS, corpus_files

from xdrgen.compiler import compile_set
from xdrgen.diagnostics import XdrgenError
from xdrgen.options import Options, parse_define_type

MAX_STEPS = 12
# at least this many of the corpus's 102 files compile with no option or by following hints
FOLLOWED_AT_LEAST = 84  # the issue asks for 80; 84 is what the hints reach now


@dataclass
class Walk:
    """One file's walk: the options gathered so far and how it ended."""

    files: list[Path]
    options: Options = field(default_factory=Options)
    steps: list[str] = field(default_factory=list)
    end: str = ""  # "" while walking; "compiles", or the first error the walk stopped at

    def step(self) -> bool:
        """Compile once; follow the first error's hint. False when the walk is over."""
        try:
            compile_set(self.files, self.options)
        except XdrgenError as error:
            first = error.diagnostics[0]
            return self.follow(first.message, Path(first.location.file) if first.location else None)
        self.end = "compiles"
        return False

    def follow(self, message: str, where: Path | None) -> bool:
        if "pass --rpc-defs" in message and not self.options.rpc_defs:
            self.options.rpc_defs = True
            return self.took("--rpc-defs")
        beside = re.search(r"; (\S+\.x) beside it defines it: pass that file too", message)
        if beside and where is not None:
            path = where.parent / beside[1]
            assert path.resolve() not in {f.resolve() for f in self.files}, f"circular hint: {message}"
            self.files.append(path)
            return self.took(beside[1])
        define = re.search(r"pass -D (\w+)=(\S+)", message)
        if define and define[1] not in self.options.defines:
            self.options.defines[define[1]] = define[2]
            return self.took(f"-D {define[1]}={define[2]}")
        typed = re.search(r"pass --define-type ('[^']*'|\S+)", message)
        if typed:
            name, xdr_type = parse_define_type(shlex.split(typed[1])[0])
            assert name not in self.options.defined_types, f"a hint repeats itself: {message}"
            self.options.defined_types[name] = xdr_type
            return self.took(f"--define-type {name}={xdr_type}")
        self.end = message
        return False

    def took(self, what: str) -> bool:
        self.steps.append(what)
        return len(self.steps) < MAX_STEPS


def walk(relative: str) -> Walk:
    state = Walk([CORPUS / relative])
    while state.step():
        pass
    return state


@requires_corpus
def test_following_only_the_hints_compiles_most_corpus_files() -> None:
    walks = {relative: walk(relative) for relative in corpus_files()}
    alone = [r for r, w in walks.items() if w.end == "compiles" and not w.steps]
    one = [r for r, w in walks.items() if w.end == "compiles" and len(w.steps) == 1]
    followed = [r for r, w in walks.items() if w.end == "compiles"]
    report = "\n".join(f"{r}: {' '.join(w.steps)} -> {w.end[:160]}" for r, w in walks.items() if w.end != "compiles")
    print(f"{len(walks)} files: {len(alone)} alone, {len(one)} with one hint, {len(followed)} following the hints\n{report}")
    assert len(walks) == 102
    assert len(followed) >= FOLLOWED_AT_LEAST, report


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        ("const A = AUTH_SYS;\n", "undefined constant 'AUTH_SYS'; RFC 5531 defines it: pass --rpc-defs"),
        ("%#define WIDTH 0x40\ntypedef opaque t[WIDTH];\n", "undefined constant 'WIDTH'; pass -D WIDTH=0x40 (line 1 of the file's % lines defines it for C)"),
        ("%typedef long time_stamp;\nstruct s { time_stamp t; };\n", "undefined type 'time_stamp'; pass --define-type time_stamp=int (line 1"),
        ("%#define big unsigned long long\nstruct s { big b; };\n", "undefined type 'big'; pass --define-type 'big=unsigned hyper' (line 1"),
        ("struct s { uint64 b; };\n", "undefined type 'uint64'; it is a C header's type: pass --define-type 'uint64=unsigned hyper'"),
        ("%extern bool_t xdr_oid(XDR *, oid *);\nstruct s { oid o; };\n", "undefined type 'oid'; it comes from C code in the file's % lines (line 1): give it with --define-type oid=XDR-TYPE"),
        ("struct s { mystery m; };\n", "undefined type 'mystery' (a type from C headers: give it with --define-type NAME=XDR-TYPE"),
    ],
)
def test_each_kind_of_hint_names_the_next_step(tmp_path: Path, source: str, hint: str) -> None:
    path = tmp_path / "f.x"
    path.write_text(source)
    with pytest.raises(XdrgenError) as raised:
        compile_set([path])
    assert hint in raised.value.diagnostics[0].message


def test_a_file_beside_is_named_only_for_its_xdr_not_its_percent_lines(tmp_path: Path) -> None:
    (tmp_path / "c_only.x").write_text("%typedef int handle;\n%#define handle_t int\n")
    (tmp_path / "defines.x").write_text("typedef int handle2;\n")
    user = tmp_path / "user.x"
    user.write_text("struct s { handle a; };\n")
    with pytest.raises(XdrgenError) as raised:
        compile_set([user])
    assert "c_only.x" not in raised.value.diagnostics[0].message
    user.write_text("struct s { handle2 a; };\n")
    with pytest.raises(XdrgenError) as raised:
        compile_set([user])
    assert "defines.x beside it defines it: pass that file too" in raised.value.diagnostics[0].message


def test_define_type_gives_a_c_header_type_in_xdr_terms(tmp_path: Path) -> None:
    path = tmp_path / "gss.x"
    path.write_text("struct call { gss_OID mech; handle h; };\n")
    (unit,) = compile_set([path], Options(defined_types={"gss_OID": "opaque<>", "handle": "unsigned hyper"}))
    aliases = {t.name: t for t in unit.model.types}
    assert {"gss_OID", "handle", "call"} <= set(aliases)
    with pytest.raises(XdrgenError) as raised:
        compile_set([path], Options(defined_types={"gss_OID": "opaque<", "handle": "int"}))
    assert str(raised.value.diagnostics[0].location).startswith("<--define-type gss_OID=opaque<>:1:")
