"""The grammar, comment/annotation attachment and the preprocessor, from .x text to AST."""

from __future__ import annotations

from pathlib import Path

import pytest

from xdrgen import xdr_ast as A
from xdrgen.compiler import Options, compile_file
from xdrgen.diagnostics import XdrgenError
from xdrgen.parser import parse_file

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
    (tmp_path / "common.x").write_text("typedef int common_t;\n")
    main = _write(tmp_path, '#include "common.x"\n#include "common.x"\ntypedef common_t c2;\n')
    assert [t.name for t in compile_file(main).model.types] == ["common_t", "c2"]


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
