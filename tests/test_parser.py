"""The grammar, comment/annotation attachment and the preprocessor, from .x text to AST."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import program, requires

from xdrgen import xdr_ast as A
from xdrgen.compiler import Options, compile_file
from xdrgen.diagnostics import XdrgenError
from xdrgen.parser import parse_file
from xdrgen.preprocess import MacroTable, preprocess

SEED = Path(__file__).parent.parent / "protocols" / "lxc_monitor_protocol.x"


def parse(tmp_path: Path, text: str, name: str = "t.x", **options) -> A.Specification:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text)
    return parse_file(path, **options)


def by_name(spec: A.Specification) -> dict[str, A.Definition | A.MacroConstant]:
    return {d.name: d for d in spec.definitions()}  # type: ignore[union-attr]


def annotations(node: object) -> dict[str, str]:
    return {a.key: a.value for a in node.annotations}  # type: ignore[attr-defined]


# ---- grammar ------------------------------------------------------------------------------


def test_numbers_hex_octal_negative(tmp_path: Path) -> None:
    spec = parse(tmp_path, "const A = 0x12341234;\nconst B = 0755;\nconst C = -2147483648;\nconst D = 0;\n")
    values = {name: d.value.value for name, d in by_name(spec).items()}  # type: ignore[union-attr]
    assert values == {"A": 0x12341234, "B": 0o755, "C": -(2**31), "D": 0}


def test_c_isms_and_type_references(tmp_path: Path) -> None:
    spec = parse(
        tmp_path,
        """
        struct s { unsigned u; char c; short h; long l; u_int ui; int32_t i32; uint64_t u64;
                   struct other o; enum colour k; };
        """,
    )
    fields = {f.name: f.type for f in by_name(spec)["s"].body.fields}  # type: ignore[union-attr]
    assert isinstance(fields["u"], A.BuiltinType) and fields["u"].name == "unsigned"
    assert [fields[n].name for n in ("c", "h", "l")] == ["char", "short", "long"]  # type: ignore[union-attr]
    assert isinstance(fields["ui"], A.TypeRef) and fields["ui"].name == "u_int"
    assert fields["o"] == A.TypeRef("other", fields["o"].location, keyword="struct")  # type: ignore[union-attr]
    assert fields["k"].keyword == "enum"  # type: ignore[union-attr]


def test_declaration_shapes(tmp_path: Path) -> None:
    spec = parse(
        tmp_path,
        "struct s { int a[3]; int b<>; int c<N>; int *d; opaque e[4]; opaque f<>; string g<8>; };\nconst N = 2;\n",
    )
    shapes = {f.name: f.shape for f in by_name(spec)["s"].body.fields}  # type: ignore[union-attr]
    assert isinstance(shapes["a"], A.FixedArray) and shapes["a"].size.value == 3  # type: ignore[union-attr]
    assert isinstance(shapes["b"], A.VarArray) and shapes["b"].max is None
    assert isinstance(shapes["c"], A.VarArray) and shapes["c"].max.name == "N"  # type: ignore[union-attr]
    assert isinstance(shapes["d"], A.Optional)
    assert isinstance(shapes["g"], A.VarArray)


def test_program_with_several_arguments_and_void(tmp_path: Path) -> None:
    spec = parse(
        tmp_path,
        "program P { version V { void NUL(void) = 0; int ADD(int, hyper, name) = 1; } = 2; } = 0x20000001;\n",
    )
    program = by_name(spec)["P"]
    assert isinstance(program, A.ProgramDef)
    (version,) = program.versions
    null, add = version.procedures
    assert isinstance(null.arguments[0], A.VoidType) and isinstance(null.result, A.VoidType)
    assert [type(a).__name__ for a in add.arguments] == ["BuiltinType", "BuiltinType", "TypeRef"]
    assert program.number.value == 0x20000001  # type: ignore[union-attr]


def test_inline_anonymous_types(tmp_path: Path) -> None:
    spec = parse(
        tmp_path,
        """
        struct s {
            union switch (int v) { case 0: void; case 1: struct { int x; } one; } ext;
            enum { RED = 1, BLUE = 2 } colour;
        };
        """,
    )
    ext, colour = by_name(spec)["s"].body.fields  # type: ignore[union-attr]
    assert isinstance(ext.type, A.InlineUnion)
    assert isinstance(ext.type.body.arms[1].declaration.type, A.InlineStruct)
    assert isinstance(colour.type, A.InlineEnum)


def test_namespace_pragma_and_quadruple_parse(tmp_path: Path) -> None:
    spec = parse(tmp_path, "namespace stellar {\ntypedef int a;\n}\npragma header nfs;\ntypedef quadruple q;\n")
    kinds = [type(i).__name__ for i in spec.items]
    assert kinds == ["Namespace", "Pragma", "TypedefDef"]
    assert spec.items[1].words == ("header", "nfs")  # type: ignore[union-attr]
    assert [d.name for d in spec.definitions()] == ["a", "q"]  # type: ignore[union-attr]


def test_passthrough_lines_kept_in_order_with_positions(tmp_path: Path) -> None:
    spec = parse(tmp_path, "%#include <a.h>\ntypedef int t;\n   %extern int x; \\\n  continued\n")
    passthroughs = [i for i in spec.items if isinstance(i, A.Passthrough)]
    assert [p.text for p in passthroughs][0] == "#include <a.h>"
    assert [(p.location.line, p.location.column) for p in passthroughs] == [(1, 1), (3, 4)]
    assert "continued" in passthroughs[1].text
    assert [type(i).__name__ for i in spec.items] == ["Passthrough", "TypedefDef", "Passthrough"]


# ---- comments and annotations -------------------------------------------------------------


def test_lxc_seed_skipgen_annotations_attach_to_procedures() -> None:
    spec = parse_file(SEED)
    # libvirt's convention: the procedures are the values of an enum, not an RPC program block.
    procedures = {m.name: m for m in by_name(spec)["virLXCMonitorProcedure"].body.members}  # type: ignore[union-attr]
    for name in ("VIR_LXC_MONITOR_PROC_EXIT_EVENT", "VIR_LXC_MONITOR_PROC_INIT_EVENT"):
        assert annotations(procedures[name]) == {"gendispatch": "skipgen skipgen"}


def test_libvirt_style_annotations_on_enum_values(tmp_path: Path) -> None:
    spec = parse(
        tmp_path,
        """
        enum remote_procedure {
            /**
             * @generate: both
             * @acl: connect:getattr
             */
            REMOTE_PROC_CONNECT_OPEN = 1,

            /* @readstream: 1
             * @generate: none */
            REMOTE_PROC_DOMAIN_OPEN = 2, /* trailing note */
            REMOTE_PROC_PLAIN = 3
        };
        """,
    )
    members = {m.name: m for m in by_name(spec)["remote_procedure"].body.members}  # type: ignore[union-attr]
    assert annotations(members["REMOTE_PROC_CONNECT_OPEN"]) == {"generate": "both", "acl": "connect:getattr"}
    assert annotations(members["REMOTE_PROC_DOMAIN_OPEN"]) == {"readstream": "1", "generate": "none"}
    assert "trailing note" in (members["REMOTE_PROC_DOMAIN_OPEN"].comment or "")
    assert members["REMOTE_PROC_PLAIN"].annotations == ()


def test_field_comments_attach_to_their_field(tmp_path: Path) -> None:
    spec = parse(tmp_path, "struct s {\n  int a; /* first */\n  /* about b */\n  int b;\n  int c;\n};\n")
    a, b, c = by_name(spec)["s"].body.fields  # type: ignore[union-attr]
    assert a.comment == "first" and b.comment == "about b" and c.comment is None


def test_multi_repeated_annotation_keys_are_kept(tmp_path: Path) -> None:
    spec = parse(tmp_path, "enum e {\n/* @acl: a:b\n * @acl: c:d */\nX = 1\n};\n")
    (member,) = by_name(spec)["e"].body.members  # type: ignore[union-attr]
    assert [(a.key, a.value) for a in member.annotations] == [("acl", "a:b"), ("acl", "c:d")]


# ---- preprocessor -------------------------------------------------------------------------


def test_define_becomes_constant_and_is_usable_as_size(tmp_path: Path) -> None:
    compiled = compile_file(_write(tmp_path, "#define LEN 16\n#define TEXT hello\ntypedef opaque id[LEN];\n"))
    assert [(c.name, c.value) for c in compiled.model.constants] == [("LEN", 16)]
    assert compiled.model.type_named("id").type.size == 16  # type: ignore[union-attr]


def test_conditionals_and_rpc_targets(tmp_path: Path) -> None:
    text = """
    #define FEATURE 1
    #if defined(FEATURE) && FEATURE > 0
    typedef int with_feature;
    #else
    typedef int without_feature;
    #endif
    #ifndef MISSING
    typedef int not_missing;
    #endif
    #ifdef RPC_HDR
    typedef int header_only;
    #elif defined RPC_XDR
    typedef int xdr_only;
    #endif
    """
    path = _write(tmp_path, text)
    default = {d.name for d in compile_file(path).model.types}
    assert {"with_feature", "not_missing"} <= default and "without_feature" not in default
    assert "header_only" in {d.name for d in compile_file(path, Options(target="RPC_HDR")).model.types}
    xdr = {d.name for d in compile_file(path, Options(target="RPC_XDR")).model.types}
    assert "xdr_only" in xdr and "header_only" not in xdr


def test_dash_d_supplies_c_macros(tmp_path: Path) -> None:
    path = _write(tmp_path, "typedef opaque uuid[VIR_UUID_BUFLEN];\n")
    with pytest.raises(XdrgenError, match="VIR_UUID_BUFLEN"):
        compile_file(path)
    model = compile_file(path, Options(defines={"VIR_UUID_BUFLEN": "16"})).model
    assert model.type_named("uuid").type.size == 16  # type: ignore[union-attr]


def test_include_relative_then_dash_i(tmp_path: Path) -> None:
    (tmp_path / "inc").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "near.x").write_text("typedef int near_t;\n")
    (tmp_path / "inc" / "far.x").write_text("const FAR = 3;\n")
    main = _write(tmp_path, '#include "sub/near.x"\n#include <far.x>\ntypedef near_t arr[FAR];\n')
    with pytest.raises(XdrgenError, match="cannot find include file 'far.x'"):
        compile_file(main)
    model = compile_file(main, Options(include_dirs=[tmp_path / "inc"])).model
    assert model.type_named("arr").type.size == 3  # type: ignore[union-attr]


def test_include_guard_style_double_include_reads_once(tmp_path: Path) -> None:
    """An included file is its own module, once, however often it is included."""
    (tmp_path / "common.x").write_text("typedef int common_t;\n")
    main = _write(tmp_path, '#include "common.x"\n#include "common.x"\ntypedef common_t c2;\n')
    units = compile_file(main).units
    assert [(u.module_name, [t.name for t in u.model.types]) for u in units] == [(main.stem, ["c2"]), ("common", ["common_t"])]
    assert units[0].model.imports == {"common_t": units[1].model}


def test_nis_style_continued_passthrough_define(tmp_path: Path) -> None:
    spec = parse(tmp_path, "%#define YPMAXRECORD \\\n%  1024\ntypedef int x;\n")
    (first, *_rest) = [i for i in spec.items if isinstance(i, A.Passthrough)]
    assert first.text.startswith("#define YPMAXRECORD")


def test_line_numbers_survive_preprocessing(tmp_path: Path) -> None:
    path = _write(tmp_path, "#ifdef NOPE\nline2\nline3\n#endif\n\ntypedef missing_t x;\n")
    with pytest.raises(XdrgenError) as error:
        compile_file(path)
    location = error.value.diagnostics[0].location
    assert (location.line, location.column) == (6, 9)  # type: ignore[union-attr]


def _write(tmp_path: Path, text: str, name: str = "main.x") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ---- #if arithmetic: cpp's, bounded ----------------------------------------------------------


def _if_keeps(tmp_path: Path, condition: str, before: str = "") -> bool:
    """Whether ``#if condition`` keeps its line (``before``: lines ahead of it, e.g. #defines)."""
    path = _write(tmp_path, f"{before}#if {condition}\ntypedef int kept;\n#endif\ntypedef int always;\n")
    return "kept" in {d.name for d in compile_file(path).model.types}


@pytest.mark.parametrize(
    "condition, message, offset",
    [
        ("08", "invalid digit '8' in octal constant '08'", 0),
        ("1 + 0779", "invalid digit '9' in octal constant '0779'", 4),
        ("1 / 0", "division by zero", 2),
        ("5 % (2 - 2)", "division by zero", 2),
        ("123456789012345678901234567890", "is too large for 64 bits", 0),
        ("0x1ffffffffffffffff", "is too large for 64 bits", 0),
        ("1" * 5000, "is too large for 64 bits", 0),  # int() of > 4,300 digits raises ValueError
        ("12abc", "invalid integer constant '12abc'", 0),
        ("1 + ++1", "token '++' is not valid", 4),
        ("1 +", "ends too early", 3),  # just after the end
        ("(1", "expected ')' for this '('", 0),
        ("1)", "')' without '('", 1),
        ("1 ? 2", "expected ':' for this '?'", 2),
        ("(0 ? 2)", "expected ':'", 6),  # found by fuzz_parser.py
        ("0 ? 2 ))", "expected ':'", 6),
        ("1 : 2", "':' without '?'", 2),
        ("1 2", "missing an operator before '2'", 2),
        ("1 + defined", "defined expects a macro name", 4),
        ("1 + BAD", "(the value of macro 'BAD')", 4),  # an error inside a macro: at its name
        ("1 /* comment */ + 08", "invalid digit", 18),  # comments keep their width
    ],
)
def test_if_errors_are_diagnostics_at_the_token(tmp_path: Path, condition: str, message: str, offset: int) -> None:
    with pytest.raises(XdrgenError, match=re.escape(message)) as error:
        _if_keeps(tmp_path, condition, before="typedef int first;\n#define BAD 1 ++ 2\n")
    location = error.value.diagnostics[0].location
    assert (location.file.endswith("main.x"), location.line, location.column) == (True, 3, 5 + offset)  # type: ignore[union-attr]


def test_an_if_error_on_a_continuation_line_is_at_the_directive(tmp_path: Path) -> None:
    with pytest.raises(XdrgenError, match="invalid digit") as error:
        _if_keeps(tmp_path, "1 + \\\n 09")
    location = error.value.diagnostics[0].location
    assert (location.line, location.column) == (1, 1)  # type: ignore[union-attr]
    with pytest.raises(XdrgenError, match="invalid digit") as error:
        _if_keeps(tmp_path, "  09 + \\\n 1")
    assert error.value.diagnostics[0].location.column == 7  # type: ignore[union-attr]


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_if_expressions_evaluate_without_recursion(tmp_path: Path, depth: int) -> None:
    assert _if_keeps(tmp_path, "(" * depth + "1" + ")" * depth)
    assert not _if_keeps(tmp_path, "- " * depth + "0")
    assert _if_keeps(tmp_path, "! " * depth + "1") == (depth % 2 == 0)
    assert _if_keeps(tmp_path, "1 ? " * depth + "1" + " : 0" * depth)


def test_a_chain_of_macros_costs_no_stack(tmp_path: Path) -> None:
    forward = "#define A0 7\n" + "".join(f"#define A{k} A{k - 1}\n" for k in range(1, 2000))
    assert _if_keeps(tmp_path, "A1999 == 7", before=forward)
    backward = "".join(f"#define B{k} B{k + 1}\n" for k in range(2000)) + "#define B2000 7\n"
    assert _if_keeps(tmp_path, "B0 == 7", before=backward)
    assert _if_keeps(tmp_path, "SELF == 0", before="#define SELF SELF\n")  # not expanded in itself: 0


def test_macros_expand_as_tokens_and_exponential_ones_are_refused(tmp_path: Path) -> None:
    assert _if_keeps(tmp_path, "TWO * 2 == 3", before="#define TWO 1 + 1\n")  # as cpp: 1 + 1 * 2
    doubling = "#define M0 1\n" + "".join(f"#define M{k} M{k - 1} + M{k - 1}\n" for k in range(1, 40))
    with pytest.raises(XdrgenError, match="macros expand to more than 10,000 tokens"):
        _if_keeps(tmp_path, "M39", before=doubling)


@pytest.mark.parametrize(
    "condition",
    [
        "(1 << 99999999999) == 0",  # a shift by the width or more: 0 (GCC), not 2**99999999999
        "(-1 >> 99999999999) == -1",
        "(1 << -1) == 0 && (4 << -1) == 2",  # a negative count shifts the other way
        "(1 << 63) < 0",  # intmax_t wraps
        "0x7fffffffffffffff + 1 < 0",
        "-1 > 0u",  # an unsigned operand makes the comparison unsigned
        "0xffffffffffffffff > 0",  # too large for intmax_t: unsigned
        "0xffffffffffffffff + 1 == 0",
        "-7 / 2 == -3 && -7 % 2 == -1",  # C truncates toward zero
        "9223372036854775807 / 3 == 3074457345618258602",  # exact, not through a float
        "0 && 1 / 0 || 1",  # an operand && does not evaluate may divide by zero
        "1 ? 2 : 1 / 0",
        "(-9223372036854775807 - 1) / -1 < 0",
    ],
)
def test_if_arithmetic_is_cpps_64_bit_arithmetic(tmp_path: Path, condition: str) -> None:
    assert _if_keeps(tmp_path, condition)


def test_huge_numbers_in_definitions_are_diagnostics(tmp_path: Path) -> None:
    for text in ("const BIG = 1" + "0" * 5000 + ";\n", "#define BIG 1" + "0" * 5000 + "\ntypedef int x[BIG];\n"):
        with pytest.raises(XdrgenError, match="is too large") as error:
            compile_file(_write(tmp_path, text))
        assert error.value.diagnostics[0].location is not None


_CPP_MACROS = {"TWO": "1 + 1", "FOUR": "TWO * 2", "NEG": "(-1)", "ALL": "0xffffffffffffffffu", "SELF": "SELF + 1", "HAS": "defined(TWO)"}
_CPP_OPERATORS = ["||", "&&", "|", "^", "&", "==", "!=", "<", "<=", ">", ">=", "<<", ">>", "+", "-", "*", "/", "%"]


def _random_condition(rng: random.Random, depth: int) -> str:
    choice = rng.random()
    if depth <= 0 or choice < 0.25:
        return rng.choice(
            [
                str(rng.randint(0, 9)),
                hex(rng.choice([0, 1, 2**31, 2**63 - 1, 2**63, 2**64 - 1, rng.getrandbits(64)])),
                "0" + oct(rng.randint(0, 4000))[2:],
                str(rng.choice([63, 64, 65, 2**63 - 1, 2**63, 2**64 - 1])),
                str(rng.randint(0, 100)) + rng.choice(["u", "U", "l", "ul", "LL", "ull"]),
                rng.choice([*_CPP_MACROS, "UNDEFINED", "defined TWO", "defined(UNDEFINED)"]),
            ]
        )
    if choice < 0.4:
        return rng.choice(["-", "!", "~", "+"]) + " " + _random_condition(rng, depth - 1)
    if choice < 0.5:
        return f"({_random_condition(rng, depth - 1)})"
    if choice < 0.58:
        return " ? ".join([_random_condition(rng, depth - 1), _random_condition(rng, depth - 1) + " : " + _random_condition(rng, depth - 1)])
    return f"{_random_condition(rng, depth - 1)} {rng.choice(_CPP_OPERATORS)} {_random_condition(rng, depth - 1)}"


@requires(program("cpp"), "needs cpp, the C preprocessor (apt-get install gcc)")
def test_if_agrees_with_cpp_on_random_expressions(tmp_path: Path) -> None:
    """1,500 random #if conditions: kept or not, the value, or an error, as GCC's cpp says."""
    rng = random.Random(18)
    conditions = [_random_condition(rng, rng.randint(1, 5)) for _ in range(1500)]
    defines = "".join(f"#define {name} {text}\n" for name, text in _CPP_MACROS.items())
    lines = defines.splitlines()
    starts = []
    for n, condition in enumerate(conditions):
        starts.append(len(lines) + 1)
        lines += [f"#if {condition}", f"kept{n}", "#endif"]
    result = subprocess.run(["cpp", "-P"], input="\n".join(lines) + "\n", capture_output=True, text=True, check=False)
    kept_by_cpp = set(result.stdout.split())
    # an error inside a macro is reported at its #define, then "in expansion" at the use
    error_lines = {int(m.group(2) or m.group(1)) for m in re.finditer(r"<stdin>:(\d+):\d+: error: .*(?:\n<stdin>:(\d+):\d+: note: in expansion.*)*", result.stderr)}
    cpp_errors = {n for n, start in enumerate(starts) if start in error_lines}
    assert 20 < len(cpp_errors) < 300  # the sample exercises both outcomes

    ours_kept, ours_errors = set(), set()
    for n, condition in enumerate(conditions):
        try:
            text = preprocess(f"{defines}#if {condition}\nkept{n}\n#endif\n", "t.x", MacroTable.initial({})).text
        except XdrgenError:
            ours_errors.add(n)
        else:
            ours_kept.update(w for w in text.split() if w.startswith("kept"))
    assert ours_errors == cpp_errors
    assert ours_kept == kept_by_cpp - {f"kept{n}" for n in cpp_errors}  # cpp goes on after an error


def test_a_macro_asking_defined_follows_later_definitions(tmp_path: Path) -> None:
    before = "#define HAS_X defined(X)\n#if HAS_X\n#error too early\n#endif\n#define X 1\n"
    assert _if_keeps(tmp_path, "HAS_X", before=before)


def test_any_token_soup_in_if_is_a_value_or_a_diagnostic(tmp_path: Path) -> None:
    """20,000 random token sequences, mostly well-formed up to a random slip: the evaluator's
    stacks never break (a ')' after an unfinished '?' once raised KeyError)."""
    rng = random.Random(1)
    values = ["(", "!", "~", "-", "0", "1", "7", "08", "0xffffffffffffffff", "9u", "TWO", "SELF", "UNDEFINED", "defined(TWO)"]
    operators = [")", "?", ":", "*", "/", "%", "<<", ">>", "&&", "||", "==", "<", "&", "^", "|", "+", "-"]
    defines = "#define TWO 1 + 1\n#define SELF SELF\n"
    outcomes = {"kept": 0, "dropped": 0, "error": 0}
    for _ in range(20_000):
        tokens: list[str] = []
        want_value = True
        for _ in range(rng.randint(1, 14)):
            expected = values if want_value else operators
            token = rng.choice(expected if rng.random() < 0.9 else values + operators)
            tokens.append(token)
            want_value = token in operators[1:] or token in ("(", "!", "~", "-") and want_value
        try:
            text = preprocess(f"{defines}#if {' '.join(tokens)}\nkept\n#endif\n", "t.x", MacroTable.initial({})).text
        except XdrgenError:
            outcomes["error"] += 1
        else:
            outcomes["kept" if "kept" in text else "dropped"] += 1
    assert min(outcomes.values()) > 1000, outcomes


def test_an_include_name_too_long_for_the_file_system_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(XdrgenError, match="cannot find include file") as error:  # found by fuzz_parser.py
        compile_file(_write(tmp_path, f'#include "{"n" * 300}.x"\n'))
    assert error.value.diagnostics[0].location.line == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("opening, closing", [("struct { ", "} a; "), ("union switch (int k) { case 1: ", "} a; ")])
def test_inline_definitions_nested_too_deep_are_a_diagnostic(tmp_path: Path, opening: str, closing: str) -> None:
    deepest = "typedef struct { " + opening * 63 + "int x; " + closing * 63 + "} fine;\n"
    assert compile_file(_write(tmp_path, deepest)).model.type_named("fine")
    for levels in (65, 200, 5_000):  # 200 overflowed the Python stack in the tree builder
        text = "struct s {\n" + opening * levels + "int x; " + closing * levels + "};\n"
        with pytest.raises(XdrgenError, match="inline definitions nested more than 64 deep") as error:
            compile_file(_write(tmp_path, text))
        location = error.value.diagnostics[0].location
        assert (location.line, location.column) == (2, 1 + 64 * len(opening))  # type: ignore[union-attr]


def test_a_directive_continued_over_many_lines_is_read_in_linear_time(tmp_path: Path) -> None:
    text = "#if 1 \\\n" + "+ 1 \\\n" * 200_000 + "\ntypedef int kept;\n#endif\ntypedef int after;\n"
    started = time.perf_counter()
    model = compile_file(_write(tmp_path, text)).model
    assert time.perf_counter() - started < 5  # joined one line at a time: 27 s
    assert [t.name for t in model.types] == ["kept", "after"]
    assert model.type_named("after").location.line == 200_005  # type: ignore[union-attr]
