"""Several .x files as one set: each file its own module, names resolved across files,
modules that import each other, includes, the project table, and the corpus's real sets."""

from __future__ import annotations

import importlib
import itertools
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import requires_corpus
from corpus_options import LIBVIRT_DEFINES
from paths import CORPUS
from test_cli import xdrgen

from xdrgen.compiler import Options, compile_set
from xdrgen.diagnostics import XdrgenError

BASE = "typedef unsigned int uint32;\ntypedef opaque Hash[32];\nenum Colour { RED = 1, GREEN = 2 };\nstruct Point { uint32 x; uint32 y; Colour c; };\n"
SHAPES = "struct Shape { Point corners<MAXS>; Hash id; uint32 n; };\nunion Pick switch (Colour c) { case RED: Point p; case GREEN: void; };\n"
TOP = "const MAXS = 4;\nstruct Drawing { Shape shapes<>; Pick pick; };\nstruct Segment { Point a; Point b; };\n"


def write(folder: Path, **files: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in files.items():
        path = folder / f"{name}.x"
        path.write_text(text)
        paths.append(path)
    return paths


def load(out: Path, module: str) -> ModuleType:
    """Import ``module`` of the generated package ``out`` (a fresh package name each time)."""
    if str(out.parent) not in sys.path:
        sys.path.insert(0, str(out.parent))
    loaded = sys.modules.get(out.name)
    if loaded is not None and list(getattr(loaded, "__path__", [])) != [str(out)]:  # another test's package
        for name in [n for n in sys.modules if n == out.name or n.startswith(out.name + ".")]:
            del sys.modules[name]
    importlib.invalidate_caches()
    return importlib.import_module(f"{out.name}.{module}")


def mypy(folder: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", folder.name], cwd=folder.parent, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def classes(folder: Path) -> dict[str, list[str]]:
    """Each class the modules of ``folder`` define, with the modules defining it."""
    found: dict[str, list[str]] = {}
    for module in sorted(folder.glob("*.py")):
        if module.stem in ("xdr_runtime", "xdr_rpc") or module.stem.endswith("_rpc"):
            continue
        for name in re.findall(r"^class (\w+)\b", module.read_text(), re.M):
            found.setdefault(name, []).append(module.stem)
    return found


# ---- the set ----------------------------------------------------------------------------


def test_files_compile_as_one_set_in_any_order(tmp_path: Path) -> None:
    paths = write(tmp_path / "proto", base=BASE, shapes=SHAPES, top=TOP)
    outputs = []
    for n, order in enumerate(itertools.permutations(paths)):
        out = tmp_path / f"out{n}"
        result = xdrgen(*order, "-o", out)
        assert result.returncode == 0, result.stderr
        outputs.append({p.name: p.read_text() for p in sorted(out.glob("*.py"))})
    assert all(o == outputs[0] for o in outputs)  # the order of the inputs changes nothing
    out = tmp_path / "out0"
    # every class once, in the module of its file; the others import it
    assert classes(out) == {"Colour": ["base"], "Point": ["base"], "Shape": ["shapes"], "Pick": ["shapes"], "Drawing": ["top"], "Segment": ["top"]}
    assert "from .base import" in (out / "shapes.py").read_text() and "from .shapes import" in (out / "top.py").read_text()
    mypy(out)
    base, shapes, top = load(out, "base"), load(out, "shapes"), load(out, "top")
    assert shapes.Point is base.Point and top.Shape is shapes.Shape
    point = base.Point(1, 2, base.Colour.RED)
    drawing = top.Drawing([shapes.Shape([point], b"h" * 32, 7)], shapes.Pick(base.RED, p=point))
    data = top.encode("Drawing", drawing)
    # the bytes are XDR's: count, the point, the hash, n, then the union (RED, the point)
    assert data == bytes.fromhex("00000001" + "00000001" + "000000010000000200000001" + "68" * 32 + "00000007" + "00000001" + "000000010000000200000001")
    assert top.decode("Drawing", data) == drawing
    assert top.encode("Point", point) == base.encode("Point", point)  # codec() of a type it reaches
    # a fixed struct of fixed structs of another file: written out, decoded from whole bytes too
    segment = top.Segment(point, base.Point(3, 4, base.GREEN))
    assert top.Segment.from_xdr(top.encode("Segment", segment)) == segment == top.decode("Segment", bytes.fromhex("00000001 00000002 00000001 00000003 00000004 00000002"))
    # the checked path crosses modules: the wrong field is named in the module that has it
    with pytest.raises(top.XdrError, match=r"7 is not a value of enum Colour in top\.Drawing\.shapes.*\.c"):
        top.encode("Drawing", top.Drawing([shapes.Shape([base.Point(1, 2, 7)], b"h" * 32, 7)], shapes.Pick(base.GREEN)))
    with pytest.raises(top.XdrError, match=r"2 left in top\.Drawing\.pick\.c at offset 56"):
        top.decode("Drawing", data[:-14])


def test_a_files_own_definition_wins_and_two_others_are_ambiguous(tmp_path: Path) -> None:
    a, b = write(tmp_path, a="typedef int id;\ntypedef opaque tag[4];\n", b="typedef hyper id;\ntypedef opaque tag[8];\n")
    own, = write(tmp_path, own="typedef string id<>;\nstruct user { id name; };\n")
    units = compile_set([a, b, own])
    model = units[2].model
    assert model.imports == {} and model.type_named("id").py_name == "id"
    (uses,) = write(tmp_path, uses="struct user { tag t; };\n")
    result = xdrgen(a, b, uses, "-o", tmp_path / "out")
    assert result.returncode == 1
    message = result.stderr.decode()
    assert "uses.x:1:15: error: 'tag' is defined in" in message and "a.x" in message and "b.x" in message
    assert "struct user { tag t; };\n              ^" in message  # the source line and a caret
    assert "Traceback" not in message


def test_modules_that_import_each_other(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        tree="typedef unsigned int count;\nstruct Node { count n; Leaf *next; };\ntypedef Leaf Leaves<>;\n",
        leaf="struct Leaf { count weight; Node *down; };\ntypedef Node NodeAlias;\n",
    )
    out = tmp_path / "cycle"
    assert xdrgen(*paths, "-o", out).returncode == 0
    assert "imported last" in (out / "tree.py").read_text() and "imported last" in (out / "leaf.py").read_text()
    mypy(out)
    leaf = load(out, "leaf")  # either module first
    tree = load(out, "tree")
    value = tree.Node(1, leaf.Leaf(2, tree.Node(3, None)))
    data = tree.encode("Node", value)
    assert data == bytes.fromhex("00000001 00000001 00000002 00000001 00000003 00000000")
    assert leaf.decode("NodeAlias", data) == value
    assert tree.encode("Leaves", [leaf.Leaf(5, None)]) == bytes.fromhex("00000001 00000005 00000000")


# ---- includes ---------------------------------------------------------------------------


def test_included_files_are_modules_of_their_own_and_handed_on(tmp_path: Path) -> None:
    write(tmp_path, base=BASE, shapes='#include "base.x"\n' + SHAPES)
    (umbrella,) = write(tmp_path, umbrella='#include "base.x"\n#include "shapes.x"\nconst MAXS = 4;\n')
    out = tmp_path / "inc"
    result = xdrgen(umbrella, "-o", out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.glob("*.py")) == ["__init__.py", "base.py", "shapes.py", "umbrella.py", "xdr_runtime.py"]
    assert classes(out) == {"Colour": ["base"], "Point": ["base"], "Shape": ["shapes"], "Pick": ["shapes"]}
    mypy(out)
    umbrella_module, base = load(out, "umbrella"), load(out, "base")
    assert umbrella_module.Point is base.Point and {"Point", "Shape", "RED", "uint32"} <= set(umbrella_module.__all__)
    shape = umbrella_module.Shape([umbrella_module.Point(1, 1, umbrella_module.GREEN)], bytes(32), 0)
    assert umbrella_module.decode("Shape", umbrella_module.encode("Shape", shape)) == shape
    # --include: the same, from the command line
    (plain,) = write(tmp_path / "cmd", plain="struct Box { Point corner; };\n")
    out2 = tmp_path / "inc2"
    assert xdrgen("--include", tmp_path / "base.x", plain, "-o", out2).returncode == 0
    assert classes(out2) == {"Colour": ["base"], "Point": ["base"], "Box": ["plain"]}


def test_an_umbrella_hands_on_the_rpc_classes_of_what_it_includes(tmp_path: Path) -> None:
    write(tmp_path, service="struct ping { int n; };\nprogram PING_PROG { version PING_V1 { ping ECHO(ping) = 1; } = 1; } = 0x20000099;\n")
    (umbrella,) = write(tmp_path, all='#include "service.x"\n')
    out = tmp_path / "rpcinc"
    assert xdrgen(umbrella, "-o", out).returncode == 0
    mypy(out)
    everything, rpc = load(out, "all"), load(out, "service_rpc")
    assert everything.PING_V1_Client is rpc.PING_V1_Client and everything.PING_V1_Server is rpc.PING_V1_Server
    assert {"PING_V1_Client", "PING_PROG_PROGRAM", "ping"} <= set(everything.__all__)
    lazy = "import sys, rpcinc.all as a; assert 'rpcinc.service_rpc' not in sys.modules; a.PING_V1_Client; assert 'rpcinc.service_rpc' in sys.modules"
    assert subprocess.run([sys.executable, "-c", lazy], cwd=tmp_path).returncode == 0  # imported on first use only


def test_a_repeated_included_definition_is_the_included_one(tmp_path: Path) -> None:
    write(tmp_path, base=BASE)
    (again,) = write(tmp_path, again='#include "base.x"\nstruct Point { uint32 x; uint32 y; Colour c; };\nstruct Line { Point a; Point b; };\n')
    units = compile_set([again])
    assert [t.name for t in units[0].model.types] == ["Line"] and units[0].model.owner_of("Point") is units[1].model
    assert any("defined again, identically" in w.message for w in units[0].reporter.warnings)


# ---- errors -----------------------------------------------------------------------------


def test_an_undefined_name_names_the_file_beside_that_defines_it(tmp_path: Path) -> None:
    _, shapes = write(tmp_path, base=BASE, shapes=SHAPES)
    result = xdrgen(shapes, "-o", tmp_path / "out")
    assert result.returncode == 1
    assert b"shapes.x:1:16: error: undefined type 'Point'; base.x beside it defines it: pass that file too" in result.stderr
    (alone,) = write(tmp_path / "alone", alone="typedef uint32 n;\n")
    lone = xdrgen(alone, "-o", tmp_path / "out").stderr
    assert b"undefined type 'uint32'" in lone and b"beside it" not in lone


def test_two_files_of_one_module_name_are_errors_and_reserved_names_are_renamed(tmp_path: Path) -> None:
    first = write(tmp_path / "rpcsvc", mount="typedef int a;\n")[0]
    second = write(tmp_path / "libnfs", mount="typedef int b;\n")[0]
    result = xdrgen(first, second, "-o", tmp_path / "out")
    assert result.returncode == 1 and b"would both be module mount" in result.stderr
    assert not (tmp_path / "out").exists()
    for name in ("enum", "xdr_runtime", "xdr_rpc", "typing"):
        (path,) = write(tmp_path / name, **{name: "typedef int a;\n"})
        result = xdrgen(path, "-o", tmp_path / name / "out")
        assert result.returncode == 0, result.stderr
        assert f"would be called '{name}', which is the name of a module the generated code imports; it is written as '{name}_.py'".encode() in result.stderr
        out = tmp_path / name / "out"
        assert f"from {name}.x" in (out / f"{name}_.py").read_text()
        assert not (out / f"{name}.py").exists() or f"from {name}.x" not in (out / f"{name}.py").read_text()  # the runtime's own


# ---- the project table and the conversion commands ----------------------------------------


def test_project_table_check_and_conversions_with_several_files(tmp_path: Path) -> None:
    write(tmp_path / "proto", base=BASE, shapes=SHAPES, top=TOP)
    (tmp_path / "pyproject.toml").write_text('[tool.xdrgen]\ninputs = ["proto/*.x"]\noutput = "gen"\n')
    assert xdrgen(cwd=tmp_path).returncode == 0
    assert classes(tmp_path / "gen") == {"Colour": ["base"], "Point": ["base"], "Shape": ["shapes"], "Pick": ["shapes"], "Drawing": ["top"], "Segment": ["top"]}
    assert "regenerate with `xdrgen`" in (tmp_path / "gen" / "top.py").read_text()
    assert xdrgen("--check", cwd=tmp_path).returncode == 0
    (tmp_path / "proto" / "base.x").write_text(BASE.replace("GREEN = 2", "GREEN = 3"))
    stale = xdrgen("--check", cwd=tmp_path)
    assert stale.returncode == 1 and b"base.py" in stale.stdout
    # encode / decode: the project's set, or several files named
    point = b'{"x": 1, "y": 2, "c": "GREEN"}'
    assert xdrgen("encode", "Point", "--hex", cwd=tmp_path, stdin=point).stdout.strip() == b"000000010000000200000003"
    proto = tmp_path / "proto"
    shape = b'{"corners": [{"x": 1, "y": 2, "c": "RED"}], "id": "' + b"ab" * 32 + b'", "n": 3}'
    encoded = xdrgen("encode", proto / "base.x", proto / "shapes.x", proto / "top.x", "Shape", stdin=shape)
    assert encoded.returncode == 0, encoded.stderr
    assert encoded.stdout == bytes.fromhex("00000001 00000001 00000002 00000001" + "ab" * 32 + "00000003")
    decoded = xdrgen("decode", proto / "base.x", proto / "shapes.x", proto / "top.x", "Shape", stdin=encoded.stdout)
    assert decoded.returncode == 0 and decoded.stdout.startswith(b'{"corners": [{"x": 1, "y": 2, "c": "RED"}]')


# ---- xdrgen's RPC definitions -------------------------------------------------------------

USES_AUTH = "union cred switch (unsigned int flavor) { case AUTH_SYS: authsys_parms sys; case AUTH_NONE: void; };\n"


def test_rpc_defs_resolve_only_what_the_files_leave_undefined(tmp_path: Path) -> None:
    (uses,) = write(tmp_path, uses=USES_AUTH)
    with pytest.raises(XdrgenError, match="undefined type 'authsys_parms'"):
        compile_set([uses])
    units = compile_set([uses], Options(rpc_defs=True))
    assert [u.module_name for u in units] == ["uses", "rpc_defs"]
    assert units[0].model.owner_of("authsys_parms") is units[1].model
    out = tmp_path / "out"
    assert xdrgen("--rpc-defs", uses, "-o", out).returncode == 0
    module = load(out, "uses")
    value = module.cred(1, sys=load(out, "rpc_defs").authsys_parms(7, "host", 0, 0, [1, 2]))
    assert module.encode("cred", value) == bytes.fromhex("00000001 00000007 00000004 686f7374 00000000 00000000 00000002 00000001 00000002")
    # a file that defines the names itself keeps its own, and the bundled module is not written
    (own,) = write(tmp_path / "own", own="const AUTH_SYS = 1;\nconst AUTH_NONE = 0;\nstruct authsys_parms { unsigned int stamp; };\n" + USES_AUTH)
    units = compile_set([own], Options(rpc_defs=True))
    assert [u.module_name for u in units] == ["own"] and units[0].model.imports == {}


# ---- the corpus's sets ------------------------------------------------------------------


@requires_corpus
def test_the_twelve_stellar_files_in_one_call(tmp_path: Path) -> None:
    files = sorted((CORPUS / "stellar").glob("*.x"))
    assert len(files) == 12
    out = tmp_path / "stellar"
    result = xdrgen(*files, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert not result.stderr
    assert {name: where for name, where in classes(out).items() if len(where) > 1} == {}  # no class twice
    # the same types in one module (the files concatenated) for comparison
    order = ["Stellar-types.x", "Stellar-SCP.x", "Stellar-contract.x", "Stellar-contract-config-setting.x", "Stellar-ledger-entries.x", "Stellar-transaction.x", "Stellar-ledger.x"]
    ordered = [CORPUS / "stellar" / n for n in order] + [f for f in files if f.name not in order]
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "all.x").write_text("\n".join(f.read_text(encoding="utf-8") for f in ordered))
    assert xdrgen(tmp_path / "one" / "all.x", "-o", tmp_path / "one" / "out", "-q").returncode == 0
    total = sum(p.stat().st_size for p in out.glob("Stellar*.py"))
    single = (tmp_path / "one" / "out" / "all.py").stat().st_size
    assert total <= 1.25 * single, (total, single)
    mypy(out)
    transaction, types = load(out, "Stellar_transaction"), load(out, "Stellar_types")
    key = types.PublicKey(types.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, ed25519=b"k" * 32)
    assert transaction.encode("PublicKey", key) == bytes(4) + b"k" * 32  # the one PublicKey class
    assert transaction.MuxedAccount is not None and "PublicKey" not in vars(transaction).get("__all__", [])


@requires_corpus
def test_the_libvirt_trio_in_one_call(tmp_path: Path) -> None:
    defines = [word for name, value in LIBVIRT_DEFINES.items() for word in ("-D", f"{name}={value}")]
    files = [CORPUS / "libvirt" / n for n in ("virnetprotocol.x", "remote_protocol.x", "lxc_protocol.x")]
    out = tmp_path / "libvirt"
    result = xdrgen(*files, *defines, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert (out / "lxc_protocol.py").stat().st_size <= 50_000
    assert {name: where for name, where in classes(out).items() if len(where) > 1} == {}
    lxc, remote = load(out, "lxc_protocol"), load(out, "remote_protocol")
    assert lxc.remote_nonnull_domain is remote.remote_nonnull_domain
    args = lxc.lxc_domain_open_namespace_args(remote.remote_nonnull_domain("vm", b"u" * 16, 3), 0)
    assert lxc.decode("lxc_domain_open_namespace_args", lxc.encode("lxc_domain_open_namespace_args", args)) == args


@requires_corpus
def test_ganesha_nfs23_mount_and_nfsacl_in_one_call(tmp_path: Path) -> None:
    files = [CORPUS / "ganesha" / n for n in ("nfs23.x", "mount.x", "nfsacl.x")]
    out = tmp_path / "ganesha"
    result = xdrgen(*files, "-D", "FHSIZE3=64", "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert {name: where for name, where in classes(out).items() if len(where) > 1} == {}
    mypy(out)
    assert "from .nfs23 import" in (out / "nfsacl.py").read_text()


NFS4 = ["nfs4/libnfs/nfs4.x", "nfs4/ganesha/nfs4.x", "nfs4/ganesha/nfsv41.x", "nfs4/filesys/nfs42_prot.x"]


@requires_corpus
@pytest.mark.parametrize("relative", NFS4)
def test_nfsv4_files_compile_with_the_rpc_definitions_and_no_shim(relative: str, tmp_path: Path) -> None:
    out = tmp_path / "nfs4"
    assert xdrgen(CORPUS / relative, "-o", out, "-q").returncode == 1  # names from RFC 5531 are missing
    result = xdrgen("--rpc-defs", CORPUS / relative, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    stem = Path(relative).stem
    module = load(out, stem)
    assert len(module.CODECS) > 100
