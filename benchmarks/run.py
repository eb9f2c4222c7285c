"""Codec and generator benchmarks (issue 6): `python3 benchmarks/run.py`.

`python3 benchmarks/run.py TEXT` runs only the cases whose title contains TEXT.

For each case it times encode and decode of the generated codec against two baselines
measured in the same run: (A) hand-written xdrlib Packer/Unpacker code, as pynfs-style
generators emit, and (C) hand-written code with precompiled struct.Struct objects and
unpack_from, about the pure-Python limit. The contenders are timed in 9 interleaved rounds;
it prints the median ns/op of each and the median of the ratios taken within a round.
Then it times xdrgen itself on libvirt's remote_protocol.x, split into its phases.
"""

from __future__ import annotations

import atexit
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import timeit
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import xdrlib  # removed in Python 3.13: baseline (A) needs 3.11/3.12 or mda-xdrlib

from xdrgen.compiler import Options, compile_file  # noqa: E402
from xdrgen.generator import RPC_RUNTIME_MODULES, generate, runtime_source  # noqa: E402


def load_generated() -> tuple[Any, Any, Any]:
    import importlib

    from corpus_options import CORPUS

    folder = tempfile.mkdtemp(prefix="xdrgen-bench-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # imported from it until the end
    out = Path(folder) / "benchgen"
    out.mkdir()
    (out / "__init__.py").write_text("")
    for runtime in RPC_RUNTIME_MODULES:
        (out / f"{runtime}.py").write_text(runtime_source(runtime))
    from corpus_options import options_for

    sources = (
        ROOT / "benchmarks" / "bench.x",
        ROOT / "protocols" / "lxc_monitor_protocol.x",
        CORPUS / "ganesha" / "nfs23.x",
        CORPUS / "stellar" / "Stellar-contract.x",  # SCVal: a union of 22 arms
    )
    names = []
    for source in sources:
        defines, pre = options_for(str(source.relative_to(CORPUS))) if source.is_relative_to(CORPUS) else ({}, [])
        compiled = compile_file(source, Options(defines=defines, pre_includes=pre))
        for unit in compiled.units:  # the file's module, and those of the files it uses
            (out / f"{unit.module_name}.py").write_text(generate(unit.model, unit.path.name, unit.text, unit.module_name))
        names.append(compiled.module_name)
    sys.path.insert(0, str(out.parent))
    return tuple(importlib.import_module(f"benchgen.{name}") for name in names)  # type: ignore[return-value]


B, LXC, NFS, STELLAR = load_generated()
# hand-written code maps enum values to members with a dict, as the fastest hand-written code would
EXIT_STATUS = {int(m): m for m in LXC.virLXCMonitorExitStatus}
FTYPE3 = {int(m): m for m in NFS.ftype3}
NFSSTAT3 = {int(m): m for m in NFS.nfsstat3}


# ---- the baselines' own union classes --------------------------------------------------------
# A generated union keeps its arm in one slot behind properties (_rt.Union), which costs a
# property call per arm read. Code written by hand would have its own classes with a slot per
# field, the fastest Python has: the baselines read and build these (P.shape, P.SCVal, ...), and
# each case hands them its value rebuilt in them (to_plain), so the ratios do not count the
# generated classes' properties against the baselines.


def plain_union(generated: type) -> type:
    """A class with a slot per field of the generated union ``generated``, and an ``__init__``
    taking the discriminant and then the arms, as a person would write it."""
    fields = generated.__match_args__
    arguments = ", ".join([fields[0], *(f"{name}=None" for name in fields[1:])])
    body = "".join(f"\n        self.{name} = {name}" for name in fields)
    namespace: dict[str, Any] = {}
    exec(f"class {generated.__name__}:\n    __match_args__ = __slots__ = {fields!r}\n    def __init__(self, {arguments}):{body}\n", namespace)
    return namespace[generated.__name__]  # type: ignore[no-any-return]


UNIONS = (B.shape, NFS.post_op_attr, NFS.post_op_fh3, NFS.READDIRPLUS3res, STELLAR.SCVal)
PLAIN = {generated: plain_union(generated) for generated in UNIONS}
GENERATED = {plain: generated for generated, plain in PLAIN.items()}
P = SimpleNamespace(**{generated.__name__: plain for generated, plain in PLAIN.items()})


def converted(value: Any, classes: dict[type, type]) -> Any:
    """``value`` rebuilt with the union classes mapped by ``classes``; structs and lists are
    rebuilt around them, anything else is kept."""
    cls = value.__class__
    if cls is list:
        return [converted(item, classes) for item in value]
    fields = getattr(cls, "__match_args__", None)
    if fields is None or isinstance(value, int):
        return value
    return classes.get(cls, cls)(*(converted(getattr(value, name), classes) for name in fields))


def to_plain(value: Any) -> Any:
    return converted(value, PLAIN)


def from_plain(value: Any) -> Any:
    return converted(value, GENERATED)

# ---- (A) xdrlib, the pynfs style ------------------------------------------------------------


def a_pack_medium(p: xdrlib.Packer, v: Any) -> None:
    p.pack_int(v.a); p.pack_uint(v.b); p.pack_hyper(v.c); p.pack_uhyper(v.d); p.pack_bool(v.e)  # noqa: E702
    p.pack_double(v.f); p.pack_fopaque(16, v.id); p.pack_string(v.name.encode())  # noqa: E702
    if v.opt is None:
        p.pack_bool(False)
    else:
        p.pack_bool(True); p.pack_int(v.opt.x)  # noqa: E702
    p.pack_array(v.values, p.pack_int); p.pack_float(v.g); p.pack_int(v.h)  # noqa: E702


def a_unpack_medium(u: xdrlib.Unpacker) -> Any:
    a, b, c, d, e, f = u.unpack_int(), u.unpack_uint(), u.unpack_hyper(), u.unpack_uhyper(), u.unpack_bool(), u.unpack_double()
    id_, name = u.unpack_fopaque(16), u.unpack_string().decode()
    opt = B.small_opt(u.unpack_int()) if u.unpack_bool() else None
    return B.medium(a, b, c, d, e, f, id_, name, opt, u.unpack_array(u.unpack_int), u.unpack_float(), u.unpack_int())


def a_pack_shape(p: xdrlib.Packer, v: Any) -> None:
    p.pack_int(v.kind)
    if v.kind == 1:
        p.pack_int(v.radius)
    elif v.kind == 2:
        p.pack_double(v.area)
    elif v.kind == 3:
        p.pack_string(v.label.encode())
    elif v.kind != 0:
        p.pack_hyper(v.other)


def a_unpack_shape(u: xdrlib.Unpacker) -> Any:
    kind = u.unpack_int()
    if kind == 0:
        return P.shape(kind)
    if kind == 1:
        return P.shape(kind, radius=u.unpack_int())
    if kind == 2:
        return P.shape(kind, area=u.unpack_double())
    if kind == 3:
        return P.shape(kind, label=u.unpack_string().decode())
    return P.shape(kind, other=u.unpack_hyper())


def a_pack_entry(p: xdrlib.Packer, e: Any) -> None:
    p.pack_uhyper(e.fileid); p.pack_string(e.name.encode()); p.pack_uhyper(e.cookie)  # noqa: E702


def a_unpack_entry(u: xdrlib.Unpacker) -> Any:
    return B.entry(u.unpack_uhyper(), u.unpack_string().decode(), u.unpack_uhyper())


def a_pack_chain(p: xdrlib.Packer, v: Any) -> None:
    node = v.entries
    while node is not None:
        p.pack_bool(True); p.pack_uhyper(node.fileid); p.pack_string(node.name.encode()); p.pack_uhyper(node.cookie)  # noqa: E702
        node = node.next
    p.pack_bool(False); p.pack_bool(v.eof)  # noqa: E702


def a_unpack_chain(u: xdrlib.Unpacker) -> Any:
    nodes = []
    while u.unpack_bool():
        nodes.append(B.entry_node(u.unpack_uhyper(), u.unpack_string().decode(), u.unpack_uhyper(), None))
    for first, second in zip(nodes, nodes[1:]):
        first.next = second
    return B.dirlist(nodes[0] if nodes else None, u.unpack_bool())


FATTR3_FIELDS = ("type", "mode", "nlink", "uid", "gid", "size", "used", "rdev", "fsid", "fileid", "atime", "mtime", "ctime")


def a_pack_fattr3(p: xdrlib.Packer, a: Any) -> None:
    p.pack_int(a.type); p.pack_uint(a.mode); p.pack_uint(a.nlink); p.pack_uint(a.uid); p.pack_uint(a.gid)  # noqa: E702
    p.pack_uhyper(a.size); p.pack_uhyper(a.used); p.pack_uint(a.rdev.specdata1); p.pack_uint(a.rdev.specdata2)  # noqa: E702
    p.pack_uhyper(a.fsid); p.pack_uhyper(a.fileid)  # noqa: E702
    for t in (a.atime, a.mtime, a.ctime):
        p.pack_uint(t.seconds); p.pack_uint(t.nseconds)  # noqa: E702


def a_unpack_fattr3(u: xdrlib.Unpacker) -> Any:
    ui = u.unpack_uint
    head = (FTYPE3[u.unpack_int()], ui(), ui(), ui(), ui(), u.unpack_uhyper(), u.unpack_uhyper(), NFS.specdata3(ui(), ui()))
    return NFS.fattr3(*head, u.unpack_uhyper(), u.unpack_uhyper(), NFS.nfstime3(ui(), ui()), NFS.nfstime3(ui(), ui()), NFS.nfstime3(ui(), ui()))


def a_pack_post_op_attr(p: xdrlib.Packer, v: Any) -> None:
    p.pack_bool(v.attributes_follow)
    if v.attributes_follow:
        a_pack_fattr3(p, v.attributes)


def a_unpack_post_op_attr(u: xdrlib.Unpacker) -> Any:
    return P.post_op_attr(True, a_unpack_fattr3(u)) if u.unpack_bool() else P.post_op_attr(False)


def a_pack_readdirplus(p: xdrlib.Packer, v: Any) -> None:
    p.pack_int(v.status)
    if v.status != NFS.NFS3_OK:
        a_pack_post_op_attr(p, v.resfail.dir_attributes)
        return
    a_pack_post_op_attr(p, v.resok.dir_attributes)
    p.pack_fopaque(8, v.resok.cookieverf)
    node = v.resok.reply.entries
    while node is not None:
        p.pack_bool(True); p.pack_uhyper(node.fileid); p.pack_string(node.name.encode()); p.pack_uhyper(node.cookie)  # noqa: E702
        a_pack_post_op_attr(p, node.name_attributes)
        p.pack_bool(node.name_handle.handle_follows)
        if node.name_handle.handle_follows:
            p.pack_opaque(node.name_handle.handle.data)
        node = node.nextentry
    p.pack_bool(False); p.pack_bool(v.resok.reply.eof)  # noqa: E702


def a_unpack_readdirplus(u: xdrlib.Unpacker) -> Any:
    status = NFSSTAT3[u.unpack_int()]
    if status != NFS.NFS3_OK:
        return P.READDIRPLUS3res(status, resfail=NFS.READDIRPLUS3resfail(a_unpack_post_op_attr(u)))
    dir_attributes, verifier, nodes = a_unpack_post_op_attr(u), u.unpack_fopaque(8), []
    while u.unpack_bool():
        fileid, name, cookie, attributes = u.unpack_uhyper(), u.unpack_string().decode(), u.unpack_uhyper(), a_unpack_post_op_attr(u)
        handle = P.post_op_fh3(True, NFS.nfs_fh3(u.unpack_opaque())) if u.unpack_bool() else P.post_op_fh3(False)
        nodes.append(NFS.entryplus3(fileid, name, cookie, attributes, handle, None))
    for first, second in zip(nodes, nodes[1:]):
        first.nextentry = second
    reply = NFS.dirlistplus3(nodes[0] if nodes else None, u.unpack_bool())
    return P.READDIRPLUS3res(status, NFS.READDIRPLUS3resok(dir_attributes, verifier, reply))


def a_codec(pack: Callable[[xdrlib.Packer, Any], None], unpack: Callable[[xdrlib.Unpacker], Any], lib: Any = xdrlib) -> tuple[Callable[[Any], bytes], Callable[[bytes], Any]]:
    def encode(value: Any) -> bytes:
        p = lib.Packer()
        pack(p, value)
        return p.get_buffer()

    def decode(data: bytes) -> Any:
        u = lib.Unpacker(data)
        value = unpack(u)
        u.done()
        return value

    return encode, decode


def load_py_xdrlib() -> Any:
    """(B) py-xdrlib, the maintained copy of xdrlib on PyPI; its module is also called
    ``xdrlib``, so it is loaded from its file under another name. None if not installed."""
    import importlib.util
    import site

    for directory in site.getsitepackages():
        path = Path(directory) / "xdrlib.py"
        if path.exists():
            spec = importlib.util.spec_from_file_location("py_xdrlib", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    return None


PY_XDRLIB = load_py_xdrlib()


# ---- (C) precompiled struct.Struct, unpack_from on offsets ---------------------------------

I, Q, BOOL_ = struct.Struct(">i"), struct.Struct(">Q"), struct.Struct(">I")
MEDIUM_HEAD = struct.Struct(">iIqQId16s")
PAD = (b"", b"\0\0\0", b"\0\0", b"\0")


def c_string_out(out: list[bytes], text: str) -> None:
    data = text.encode()
    out += (BOOL_.pack(len(data)), data, PAD[len(data) % 4])


def c_string_in(buf: bytes, pos: int) -> tuple[str, int]:
    (n,) = BOOL_.unpack_from(buf, pos)
    pos += 4
    return buf[pos : pos + n].decode(), pos + n + (-n % 4)


def c_encode_medium(v: Any) -> bytes:
    out = [MEDIUM_HEAD.pack(v.a, v.b, v.c, v.d, v.e, v.f, v.id)]
    c_string_out(out, v.name)
    out.append(b"\0\0\0\0" if v.opt is None else b"\0\0\0\1" + I.pack(v.opt.x))
    out.append(struct.pack(f">I{len(v.values)}i", len(v.values), *v.values))
    out.append(struct.pack(">fi", v.g, v.h))
    return b"".join(out)


def c_decode_medium(buf: bytes) -> Any:
    a, b, c, d, e, f, id_ = MEDIUM_HEAD.unpack_from(buf, 0)
    name, pos = c_string_in(buf, MEDIUM_HEAD.size)
    (present,) = BOOL_.unpack_from(buf, pos)
    opt = None
    if present:
        opt = B.small_opt(I.unpack_from(buf, pos + 4)[0])
        pos += 4
    (n,) = BOOL_.unpack_from(buf, pos + 4)
    values = list(struct.unpack_from(f">{n}i", buf, pos + 8))
    g, h = struct.unpack_from(">fi", buf, pos + 8 + 4 * n)
    return B.medium(a, b, c, d, bool(e), f, id_, name, opt, values, g, h)


def c_encode_shape(v: Any) -> bytes:
    k = v.kind
    if k == 1:
        return struct.pack(">ii", k, v.radius)
    if k == 2:
        return struct.pack(">id", k, v.area)
    if k == 3:
        out = [I.pack(k)]
        c_string_out(out, v.label)
        return b"".join(out)
    return I.pack(k) if k == 0 else struct.pack(">iq", k, v.other)


def c_decode_shape(buf: bytes) -> Any:
    (k,) = I.unpack_from(buf, 0)
    if k == 0:
        return P.shape(k)
    if k == 1:
        return P.shape(k, radius=I.unpack_from(buf, 4)[0])
    if k == 2:
        return P.shape(k, area=struct.unpack_from(">d", buf, 4)[0])
    if k == 3:
        return P.shape(k, label=c_string_in(buf, 4)[0])
    return P.shape(k, other=struct.unpack_from(">q", buf, 4)[0])


def c_encode_entries(entries: list[Any]) -> bytes:
    out = [BOOL_.pack(len(entries))]
    for e in entries:
        out.append(Q.pack(e.fileid))
        c_string_out(out, e.name)
        out.append(Q.pack(e.cookie))
    return b"".join(out)


def c_decode_entries(buf: bytes) -> list[Any]:
    (n,) = BOOL_.unpack_from(buf, 0)
    pos, result = 4, []
    for _ in range(n):
        (fileid,) = Q.unpack_from(buf, pos)
        name, pos = c_string_in(buf, pos + 8)
        (cookie,) = Q.unpack_from(buf, pos)
        pos += 8
        result.append(B.entry(fileid, name, cookie))
    return result


def c_encode_chain(v: Any) -> bytes:
    out = []
    node = v.entries
    while node is not None:
        out.append(b"\0\0\0\1" + Q.pack(node.fileid))
        c_string_out(out, node.name)
        out.append(Q.pack(node.cookie))
        node = node.next
    out.append(b"\0\0\0\0" + BOOL_.pack(v.eof))
    return b"".join(out)


def c_decode_chain(buf: bytes) -> Any:
    nodes, pos = [], 0
    while BOOL_.unpack_from(buf, pos)[0]:
        (fileid,) = Q.unpack_from(buf, pos + 4)
        name, pos = c_string_in(buf, pos + 12)
        (cookie,) = Q.unpack_from(buf, pos)
        pos += 8
        nodes.append(B.entry_node(fileid, name, cookie, None))
    for first, second in zip(nodes, nodes[1:]):
        first.next = second
    return B.dirlist(nodes[0] if nodes else None, bool(BOOL_.unpack_from(buf, pos + 4)[0]))


def c_encode_exit(v: Any) -> bytes:
    return I.pack(v.status)


def c_decode_exit(buf: bytes) -> Any:
    return LXC.virLXCMonitorExitEventMsg(EXIT_STATUS[I.unpack_from(buf, 0)[0]])


ATTRS = struct.Struct(">IiIIIIQQIIQQIIIIII")  # post_op_attr with attributes: TRUE, then fattr3
PLUS_ENTRY_HEAD = struct.Struct(">IQI")  # TRUE (one more entry), fileid, the name's length


def c_attrs_out(out: list[bytes], v: Any) -> None:
    if not v.attributes_follow:
        out.append(b"\0\0\0\0")
        return
    a = v.attributes
    out.append(ATTRS.pack(1, a.type, a.mode, a.nlink, a.uid, a.gid, a.size, a.used, a.rdev.specdata1, a.rdev.specdata2, a.fsid, a.fileid,
                          a.atime.seconds, a.atime.nseconds, a.mtime.seconds, a.mtime.nseconds, a.ctime.seconds, a.ctime.nseconds))


def c_attrs_in(buf: bytes, pos: int) -> tuple[Any, int]:
    if not BOOL_.unpack_from(buf, pos)[0]:
        return P.post_op_attr(False), pos + 4
    (_, kind, mode, nlink, uid, gid, size, used, r1, r2, fsid, fileid, a1, a2, m1, m2, c1, c2) = ATTRS.unpack_from(buf, pos)
    spec, nfstime = NFS.specdata3, NFS.nfstime3
    attributes = NFS.fattr3(FTYPE3[kind], mode, nlink, uid, gid, size, used, spec(r1, r2), fsid, fileid, nfstime(a1, a2), nfstime(m1, m2), nfstime(c1, c2))
    return P.post_op_attr(True, attributes), pos + ATTRS.size


def c_encode_readdirplus(v: Any) -> bytes:
    out = [I.pack(v.status)]
    if v.status != NFS.NFS3_OK:
        c_attrs_out(out, v.resfail.dir_attributes)
        return b"".join(out)
    c_attrs_out(out, v.resok.dir_attributes)
    out.append(v.resok.cookieverf)
    node = v.resok.reply.entries
    while node is not None:
        name = node.name.encode()
        out += (PLUS_ENTRY_HEAD.pack(1, node.fileid, len(name)), name, PAD[len(name) % 4], Q.pack(node.cookie))
        c_attrs_out(out, node.name_attributes)
        if node.name_handle.handle_follows:
            handle = node.name_handle.handle.data
            out += (struct.pack(">II", 1, len(handle)), handle, PAD[len(handle) % 4])
        else:
            out.append(b"\0\0\0\0")
        node = node.nextentry
    out.append(b"\0\0\0\0" + BOOL_.pack(v.resok.reply.eof))
    return b"".join(out)


def c_decode_readdirplus(buf: bytes) -> Any:
    status = NFSSTAT3[I.unpack_from(buf, 0)[0]]
    if status != NFS.NFS3_OK:
        return P.READDIRPLUS3res(status, resfail=NFS.READDIRPLUS3resfail(c_attrs_in(buf, 4)[0]))
    dir_attributes, pos = c_attrs_in(buf, 4)
    verifier, pos, nodes = buf[pos : pos + 8], pos + 8, []
    while BOOL_.unpack_from(buf, pos)[0]:
        (fileid,) = Q.unpack_from(buf, pos + 4)
        name, pos = c_string_in(buf, pos + 12)
        (cookie,) = Q.unpack_from(buf, pos)
        attributes, pos = c_attrs_in(buf, pos + 8)
        if BOOL_.unpack_from(buf, pos)[0]:
            (n,) = BOOL_.unpack_from(buf, pos + 4)
            handle = P.post_op_fh3(True, NFS.nfs_fh3(buf[pos + 8 : pos + 8 + n]))
            pos += 8 + n + (-n % 4)
        else:
            handle, pos = P.post_op_fh3(False), pos + 4
        nodes.append(NFS.entryplus3(fileid, name, cookie, attributes, handle, None))
    for first, second in zip(nodes, nodes[1:]):
        first.nextentry = second
    reply = NFS.dirlistplus3(nodes[0] if nodes else None, bool(BOOL_.unpack_from(buf, pos + 4)[0]))
    return P.READDIRPLUS3res(status, NFS.READDIRPLUS3resok(dir_attributes, verifier, reply))


# ---- the cases ---------------------------------------------------------------------------


def chain_of(entries: list[Any]) -> Any:
    head = None
    for e in reversed(entries):
        head = B.entry_node(e.fileid, e.name, e.cookie, head)
    return B.dirlist(head, True)


def readdirplus_reply(count: int) -> Any:
    """A READDIRPLUS3 reply as a Linux server sends one: every entry with attributes and a
    28-byte file handle."""

    def attributes(i: int) -> Any:
        when = NFS.nfstime3(1_700_000_000 + i, 123_456_789)
        return NFS.post_op_attr(True, NFS.fattr3(NFS.NF3REG, 0o100644, 1, 1000, 1000, 4096 * i, 4096 * i, NFS.specdata3(0, 0),
                                                 0x1234_5678_9ABC, 5_000_000 + i, when, when, when))

    head = None
    for i in reversed(range(count)):
        handle = NFS.post_op_fh3(True, NFS.nfs_fh3(bytes([1, 0, 7, 1]) + (i + 5_000_000).to_bytes(24, "big")))
        head = NFS.entryplus3(5_000_000 + i, f"file-{i:05d}.dat", i + 1, attributes(i), handle, head)
    reply = NFS.dirlistplus3(head, True)
    return NFS.READDIRPLUS3res(NFS.NFS3_OK, NFS.READDIRPLUS3resok(attributes(0), b"verifier", reply))


ENTRIES = [B.entry(1_000_000 + i, f"file-{i:05d}.txt", i * 7919) for i in range(1000)]
MEDIUM = B.medium(-5, 7, -(2**40), 2**63, True, 3.25, bytes(range(16)), "medium-name", B.small_opt(9), list(range(10)), 1.5, 42)
# ---- Stellar SCVal: a vector of 64 values of three arms of a 22-arm union ----------------------

SCV = STELLAR.SCValType
SCV_BY_NUMBER = {int(m): m for m in SCV}


def scval_vector(count: int) -> Any:
    items = []
    for i in range(count):
        if i % 3 == 0:
            items.append(STELLAR.SCVal(SCV.SCV_U32, u32=i))
        elif i % 3 == 1:
            items.append(STELLAR.SCVal(SCV.SCV_SYMBOL, sym=f"symbol_{i}"))
        else:
            items.append(STELLAR.SCVal(SCV.SCV_I64, i64=-i))
    return STELLAR.SCVal(SCV.SCV_VEC, vec=items)


def a_pack_scval(p: Any, v: Any) -> None:
    p.pack_int(v.type)
    if v.type == SCV.SCV_VEC:
        p.pack_bool(True)
        p.pack_array(v.vec, lambda item: a_pack_scval(p, item))
    elif v.type == SCV.SCV_U32:
        p.pack_uint(v.u32)
    elif v.type == SCV.SCV_I64:
        p.pack_hyper(v.i64)
    else:
        p.pack_string(v.sym.encode())


def a_unpack_scval(u: Any) -> Any:
    kind = SCV_BY_NUMBER[u.unpack_int()]
    if kind == SCV.SCV_VEC:
        assert u.unpack_bool()
        return P.SCVal(kind, vec=u.unpack_array(lambda: a_unpack_scval(u)))
    if kind == SCV.SCV_U32:
        return P.SCVal(kind, u32=u.unpack_uint())
    if kind == SCV.SCV_I64:
        return P.SCVal(kind, i64=u.unpack_hyper())
    return P.SCVal(kind, sym=u.unpack_string().decode())


_SCV_VEC_HEAD, _SCV_U32, _SCV_I64 = struct.Struct(">iII"), struct.Struct(">iI"), struct.Struct(">iq")


def c_encode_scval(v: Any) -> bytes:
    out = [_SCV_VEC_HEAD.pack(SCV.SCV_VEC, 1, len(v.vec))]
    for item in v.vec:
        if item.type == SCV.SCV_U32:
            out.append(_SCV_U32.pack(SCV.SCV_U32, item.u32))
        elif item.type == SCV.SCV_I64:
            out.append(_SCV_I64.pack(SCV.SCV_I64, item.i64))
        else:
            out.append(_SCV_U32.pack(SCV.SCV_SYMBOL, len(item.sym)) + c_pad(item.sym))
    return b"".join(out)


def c_pad(text: str) -> bytes:
    data = text.encode()
    return data + bytes(-len(data) % 4)


def c_decode_scval(buf: bytes) -> Any:
    _, _, count = _SCV_VEC_HEAD.unpack_from(buf, 0)
    pos, items = 12, []
    for _ in range(count):
        kind = SCV_BY_NUMBER[struct.unpack_from(">i", buf, pos)[0]]
        if kind == SCV.SCV_U32:
            items.append(P.SCVal(kind, u32=_SCV_U32.unpack_from(buf, pos)[1]))
            pos += 8
        elif kind == SCV.SCV_I64:
            items.append(P.SCVal(kind, i64=_SCV_I64.unpack_from(buf, pos)[1]))
            pos += 12
        else:
            size = _SCV_U32.unpack_from(buf, pos)[1]
            items.append(P.SCVal(kind, sym=buf[pos + 8 : pos + 8 + size].decode()))
            pos += 8 + size + (-size & 3)
    return P.SCVal(SCV.SCV_VEC, vec=items)


# the last field: the value holds unions, which the baselines get in their own classes (to_plain)
CASES: list[tuple[str, Any, str, Any, tuple[Any, Any], tuple[Any, Any], bool]] = [
    ("LXC EXIT event", LXC, "virLXCMonitorExitEventMsg", LXC.virLXCMonitorExitEventMsg(LXC.virLXCMonitorExitStatus.VIR_LXC_MONITOR_EXIT_STATUS_SHUTDOWN),
     (lambda p, v: p.pack_int(v.status), lambda u: LXC.virLXCMonitorExitEventMsg(EXIT_STATUS[u.unpack_int()])), (c_encode_exit, c_decode_exit), False),
    ("medium struct (12 fields)", B, "medium", MEDIUM, (a_pack_medium, a_unpack_medium), (c_encode_medium, c_decode_medium), False),
    ("union, string arm", B, "shape", B.shape(3, label="a label"), (a_pack_shape, a_unpack_shape), (c_encode_shape, c_decode_shape), True),
    ("1000 entries, array", B, "entry_list", ENTRIES, (lambda p, v: p.pack_array(v, lambda e: a_pack_entry(p, e)), lambda u: u.unpack_array(lambda: a_unpack_entry(u))), (c_encode_entries, c_decode_entries), False),
    ("1000 entries, *next chain", B, "dirlist", chain_of(ENTRIES), (a_pack_chain, a_unpack_chain), (c_encode_chain, c_decode_chain), False),
    ("NFSv3 READDIRPLUS3res, 64", NFS, "READDIRPLUS3res", readdirplus_reply(64), (a_pack_readdirplus, a_unpack_readdirplus),
     (c_encode_readdirplus, c_decode_readdirplus), True),
    ("Stellar SCVal vec of 64", STELLAR, "SCVal", scval_vector(64), (a_pack_scval, a_unpack_scval), (c_encode_scval, c_decode_scval), True),
]


ROUNDS = 9
BATCH_SECONDS = 0.04


def loops_for(function: Callable[[], Any]) -> int:
    """How many calls make one timed batch of about BATCH_SECONDS."""
    number = 1
    while True:
        elapsed = timeit.Timer(function).timeit(number)
        if elapsed >= BATCH_SECONDS / 4:
            return max(1, int(number * BATCH_SECONDS / elapsed))
        number *= 4


def interleaved(functions: list[Callable[[], Any]]) -> list[list[float]]:
    """ns/op of each function in each of ROUNDS rounds. Each round times every function once,
    so a slow spell of a shared machine slows the whole round rather than one contender, and
    the ratios taken within a round cancel it."""
    loops = [loops_for(function) for function in functions]
    samples: list[list[float]] = [[] for _ in functions]
    for _ in range(ROUNDS):
        for function, number, times in zip(functions, loops, samples):
            times.append(timeit.Timer(function).timeit(number) / number * 1e9)
    return samples


def median_ratio(over: list[float], under: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(over, under))


def codec_table(only: str = "") -> None:
    b_title = "(B) py-xdrlib" if PY_XDRLIB else "(B) absent"
    print(f"{'case':28} {'op':6} {'xdrgen ns':>10} {'(A) xdrlib':>11} {b_title:>14} {'(C) struct':>11} {'A/xdrgen':>9} {'xdrgen/C':>9}")
    for title, module, type_name, value, (pack, unpack), (c_enc, c_dec), unions in CASES:
        if only.lower() not in title.lower():
            continue
        codec = module.codec(type_name)
        a_enc, a_dec = a_codec(pack, unpack)
        data = codec.encode(value)
        base, back = (to_plain(value), from_plain) if unions else (value, lambda v: v)
        for check in (a_enc(base), c_enc(base)):
            assert check == data, f"{title}: a baseline encodes differently"
        # compared through their encoding: == on a 1000-node chain would recurse 1000 deep
        assert codec.encode(back(a_dec(data))) == data and codec.encode(back(c_dec(data))) == data, f"{title}: a baseline decodes differently"
        b_enc = b_dec = None
        if PY_XDRLIB:  # the same hand-written (A) code, run on py-xdrlib's Packer/Unpacker
            b_enc, b_dec = a_codec(pack, unpack, PY_XDRLIB)
        for op, ours, a, b, c in (("encode", lambda: codec.encode(value), lambda: a_enc(base), b_enc and (lambda: b_enc(base)), lambda: c_enc(base)),
                                  ("decode", lambda: codec.decode(data), lambda: a_dec(data), b_dec and (lambda: b_dec(data)), lambda: c_dec(data))):
            t, ta, tc, *tb = interleaved([ours, a, c] + ([b] if b else []))
            b_text = f"{statistics.median(tb[0]):14.0f}" if tb else f"{'-':>14}"
            print(f"{title:28} {op:6} {statistics.median(t):10.0f} {statistics.median(ta):11.0f} {b_text} "
                  f"{statistics.median(tc):11.0f} {median_ratio(ta, t):8.2f}x {median_ratio(t, tc):8.2f}x")


def allocation() -> None:
    """Peak memory while decoding 1000 entries, against the size of the objects decoded."""
    import gc
    import tracemalloc

    codec = B.codec("entry_list")
    data = codec.encode(ENTRIES)
    gc.collect()
    tracemalloc.start()
    value = codec.decode(data)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\ndecoding 1000 entries ({len(data)} bytes): {current} bytes held by the result, peak {peak} bytes "
          f"({peak / current:.2f}x the result)")
    del value


def generator_split() -> None:
    from corpus_options import CORPUS, options_for

    from xdrgen.layout import format_like_black

    source = CORPUS / "libvirt" / "remote_protocol.x"
    defines, pre = options_for("libvirt/remote_protocol.x")
    t0 = time.perf_counter()
    compiled = compile_file(source, Options(defines=defines, pre_includes=pre))
    t1 = time.perf_counter()
    code = generate(compiled.model, source.name, compiled.text, "remote_protocol", format=False)
    t2 = time.perf_counter()
    laid_out = format_like_black(code)
    t3 = time.perf_counter()
    print(f"\nxdrgen on {source.name} ({compiled.text.count(chr(10))} lines, {laid_out.count(chr(10))} generated lines):")
    print(f"  parse+check {t1 - t0:.2f} s, render {t2 - t1:.2f} s, layout (black-identical) {t3 - t2:.2f} s, total {t3 - t0:.2f} s")
    from corpus_options import REJECTED, corpus_files

    t4 = time.perf_counter()
    for relative in corpus_files():
        if relative in REJECTED:
            continue
        defines, pre = options_for(relative)
        compiled = compile_file(CORPUS / relative, Options(defines=defines, pre_includes=pre))
        generate(compiled.model, relative, compiled.text, "m")
    print(f"  the whole corpus ({len(corpus_files()) - len(REJECTED)} files): {time.perf_counter() - t4:.1f} s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["load"]:  # `run.py load [options]`: the RPC servers under load (load.py)
        from load import main

        sys.exit(main(sys.argv[2:]))
    if sys.argv[1:2] == ["stream"]:  # `run.py stream`: a 64 MiB libvirt stream each way, next to virsh
        import libvirt_stream

        libvirt_stream.main()
        sys.exit()
    if sys.argv[1:2] == ["checker"]:  # `run.py checker`: the front end on hostile-size inputs
        import checker

        checker.main()
        sys.exit()
    if sys.argv[1:2] == ["gss"]:  # `run.py gss`: RPCSEC_GSS krb5i/krb5p against AUTH_SYS, Python and libtirpc
        # a process of its own: its generated "benchgen" package is not the one loaded above
        sys.exit(subprocess.run([sys.executable, str(Path(__file__).with_name("rpc_gss.py"))]).returncode)
    if sys.argv[1:2] == ["rpc"]:  # `run.py rpc`: typed client/server round trips against rpcgen's C pair
        import rpc_pair

        rpc_pair.main()
        sys.exit()
    print(f"Python {sys.version.split()[0]}; ratios: A/xdrgen > 1 means xdrgen is faster than xdrlib code; "
          "xdrgen/C is how far from hand-written struct code\n")
    if len(sys.argv) > 1:  # `run.py EXIT`: only the cases whose title contains EXIT
        codec_table(sys.argv[1])
        sys.exit()
    codec_table()
    allocation()
    generator_split()
    import checker

    checker.main()
    print()
    import output

    output.main()
