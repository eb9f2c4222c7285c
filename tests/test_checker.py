"""The semantic pass: names, constants, recursion, naming of hoisted types, escapes, warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from xdrgen import model as M
from xdrgen.compiler import Compiled, compile_file
from xdrgen.diagnostics import XdrgenError


def check(tmp_path: Path, text: str) -> Compiled:
    path = tmp_path / "t.x"
    path.write_text(text)
    return compile_file(path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(XdrgenError) as raised:
        check(tmp_path, text)
    return raised.value.diagnostics[0].message


def test_forward_references_and_constant_expressions(tmp_path: Path) -> None:
    model = check(tmp_path, "typedef later arr<MAX>;\nconst MAX = BASE;\nconst BASE = 0x10;\nstruct later { int x; };\n").model
    arr = model.type_named("arr").type  # type: ignore[union-attr]
    assert isinstance(arr, M.ArrayType) and arr.size == 16 and arr.element == M.NamedType("later")


def test_builtin_and_c_names_resolve_to_sized_integers(tmp_path: Path) -> None:
    model = check(tmp_path, "struct s { unsigned a; u_int b; int64_t c; unsigned hyper d; char e; u_short f; };\n").model
    types = [f.type for f in model.type_named("s").fields]  # type: ignore[union-attr]
    assert [(t.bits, t.signed) for t in types] == [(32, False), (32, False), (64, True), (64, False), (32, True), (32, False)]  # type: ignore[union-attr]
    assert types[4].min == -128 and types[5].max == 2**16 - 1  # C ranges, encoded as 4 bytes  # type: ignore[union-attr]


def test_enum_implicit_values_follow_rpcgen(tmp_path: Path) -> None:
    model = check(tmp_path, "enum e { A, B = 5, C, D = -1, E };\n").model
    assert [(v.name, v.value) for v in model.type_named("e").values] == [  # type: ignore[union-attr]
        ("A", 0), ("B", 5), ("C", 6), ("D", -1), ("E", 0)
    ]


def test_duplicate_enum_value_is_an_alias_with_a_warning(tmp_path: Path) -> None:
    compiled = check(tmp_path, "enum e { A = 1, B = 1 };\n")
    (warning,) = compiled.reporter.warnings
    assert "'B' repeats the value 1 of 'A'" in warning.message


def test_undefined_name_suggests_the_closest(tmp_path: Path) -> None:
    assert "did you mean 'entry3'" in error_of(tmp_path, "struct entry3 { int x; };\ntypedef entyr3 list<>;\n")


def test_duplicate_definitions_and_union_cases(tmp_path: Path) -> None:
    assert "duplicate definition" in error_of(tmp_path, "struct a { int x; };\nstruct a { hyper y; };\n")
    assert "duplicate case value 1" in error_of(tmp_path, "union u switch (int d) { case 1: int a; case 1: int b; };\n")


def test_case_values_must_fit_the_discriminant(tmp_path: Path) -> None:
    assert "unsigned" in error_of(tmp_path, "union u switch (unsigned d) { case -1: void; };\n")
    assert "enum 'e'" in error_of(tmp_path, "enum e { A = 1 };\nunion u switch (e d) { case 2: void; };\n")


@pytest.mark.parametrize(
    "text",
    [
        "struct node { int v; node *next; };\n",  # optional
        "struct tree { int v; tree children<>; };\n",  # variable array
        "union u switch (int d) { case 0: void; case 1: u2 more; };\nstruct u2 { u inner; };\n",  # a void arm
    ],
)
def test_recursion_broken_by_a_finite_value_is_accepted(tmp_path: Path, text: str) -> None:
    check(tmp_path, text)


@pytest.mark.parametrize(
    "text",
    [
        "struct node { int v; wrap next; };\ntypedef node wrap;\n",
        "struct a { b x; };\nstruct b { a y[2]; };\n",
        "union u switch (int d) { case 1: u again; };\n",
    ],
)
def test_recursion_without_a_finite_value_is_rejected(tmp_path: Path, text: str) -> None:
    assert "recursive" in error_of(tmp_path, text)


@pytest.mark.parametrize(
    "text, chain, line",
    [
        # rpcsvc mount.x with one word changed (found by fuzz_parser.py): C's "struct mountlist"
        # names a struct, here the typedef itself; generating it recursed without end
        ("typedef struct mountlist *mountlist;\n", "mountlist -> mountlist", 1),
        ("typedef int ok;\ntypedef b *a;\ntypedef a b<>;\n", "a -> b -> a", 2),
    ],
)
def test_a_typedef_that_reaches_itself_without_a_struct_is_rejected(tmp_path: Path, text: str, chain: str, line: int) -> None:
    with pytest.raises(XdrgenError) as raised:
        check(tmp_path, text)
    (error,) = raised.value.diagnostics  # one error for one loop, at its first typedef
    assert error.message.startswith(f"typedef '{chain.split()[0]}' is defined in terms of itself ({chain})")
    assert error.location is not None and error.location.line == line


def test_inline_types_are_hoisted_with_owner_and_field_names(tmp_path: Path) -> None:
    model = check(tmp_path, "struct s { enum { RED = 1 } colour; struct { int x; } point<2>; };\n").model
    names = [t.name for t in model.types]
    assert names == ["s_colour", "s_point", "s"]
    assert all(model.type_named(n).synthetic for n in names[:2])  # type: ignore[union-attr]
    point = model.type_named("s").fields[1].type  # type: ignore[union-attr]
    assert point == M.ArrayType(M.NamedType("s_point"), fixed=False, size=2)


def test_python_keywords_are_escaped_with_a_warning(tmp_path: Path) -> None:
    compiled = check(tmp_path, "struct class { int from; int lambda_; };\n")
    struct = compiled.model.type_named("class")
    assert struct.py_name == "class_"
    assert [f.py_name for f in struct.fields] == ["from_", "lambda_"]  # type: ignore[union-attr]
    assert len(compiled.reporter.warnings) == 2


def test_procedure_argument_types_get_synthetic_names(tmp_path: Path) -> None:
    model = check(
        tmp_path,
        "program P { version V { string GREET(string<>, unsigned) = 1; } = 1; } = 0x20000099;\n",
    ).model
    (procedure,) = model.programs[0].versions[0].procedures
    assert procedure.number == 1 and len(procedure.arguments) == 2
    assert [c.name for c in model.constants] == ["P", "V", "GREET"]


def test_struct_containing_itself_is_read_as_rfc1057_list(tmp_path: Path) -> None:
    compiled = check(tmp_path, "struct mapping { int prog; };\nstruct pmaplist { mapping map; pmaplist next; };\n")
    (warning,) = compiled.reporter.warnings
    assert "read as an optional ('pmaplist *next')" in warning.message
    assert compiled.model.type_named("pmaplist").fields[1].type == M.OptionalType(M.NamedType("pmaplist"))  # type: ignore[union-attr]


def test_quadruple_is_refused_where_it_is_written(tmp_path: Path) -> None:
    """Every use, with its line and column; no model is built (the emitter never sees it)."""
    text = "typedef quadruple q;\nstruct s { int a; quadruple b; };\nprogram P { version V { quadruple F(int) = 1; } = 1; } = 9;\n"
    path = tmp_path / "t.x"
    path.write_text(text)
    with pytest.raises(XdrgenError) as error:
        compile_file(path)
    found = [(d.message, d.location.line, d.location.column) for d in error.value.diagnostics]  # type: ignore[union-attr]
    message = "quadruple (a 128-bit float) has no Python type; xdrgen cannot generate it"
    assert found == [(message, 1, 9), (message, 2, 19), (message, 3, 25)]


def test_long_chains_of_constants_check_and_deeper_ones_are_refused_cleanly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    chain = "".join(f"const A{i} = A{i + 1};\n" for i in range(1000)) + "const A1000 = 7;\n"
    # an enumerator defined by an earlier one, as C allows (each refers back, 300 deep)
    enum = "enum e { E0 = 3, " + ", ".join(f"E{i} = E{i - 1}" for i in range(1, 300)) + " };\n"
    path = tmp_path / "chain.x"
    path.write_text(chain + enum)
    module = compile_file(path).model
    assert {c.name: c.value for c in module.constants}["A0"] == 7
    assert {v.name: v.value for v in module.types[0].values} == {f"E{i}": 3 for i in range(300)}
    deep = tmp_path / "deep.x"
    deep.write_text("".join(f"const B{i} = B{i + 1};\n" for i in range(20_000)) + "const B20000 = 1;\n")
    with pytest.raises(XdrgenError, match="refer to each other more than"):
        compile_file(deep)
