"""nfs-ganesha 4.3 (VFS FSAL) as a peer, spoken to with codecs generated from the corpus:
ganesha's own mount.x (with its nfs23.x pre-included, as tests/corpus_options.py says) for
MOUNT v3 and NFSv3, and ganesha's nfs4.x (with the AUTH_SYS shim) for one NFSv4.0 COMPOUND.
Every answer is checked against the exported directory as the test made it (os.stat,
os.listdir, the bytes on disk).

Started as ``ganesha.nfsd -F -L LOG -f CONF -p PIDFILE`` with CONF below: bound to loopback,
ports chosen by the test, NFSv3 and v4, no NLM/RQUOTA, graceless, one VFS export of a temp
dir (VFS uses the kernel's file-handle calls: root). It registers MOUNT v1/v3 and NFS v3/v4
with rpcbind; no dbus or kernel NFS is needed."""

from __future__ import annotations

import asyncio
import glob
import hashlib
import os
import stat
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator, NamedTuple

import pytest
from peers import Daemon, Portmapper, ProgramCalls, free_port, load_corpus_module, missing, registered_daemon, reply_states, require_binary, require_root, rpcbind, tirpc_reply_states  # noqa: F401

MOUNT_PROGRAM, NFS_PROGRAM = 100005, 100003
AUTH_SYS = 1
BIG_SIZE = 100 * 1024
LISTED_FILES = 150  # enough for READDIRPLUS to take several pages at the sizes asked below

CONFIG = """\
NFS_CORE_PARAM {{
    Bind_addr = 127.0.0.1;
    NFS_Port = {nfs_port};
    MNT_Port = {mount_port};
    Protocols = 3, 4;
    Enable_NLM = false;
    Enable_RQUOTA = false;
}}
NFSV4 {{
    Graceless = true;
    RecoveryBackend = fs;
    RecoveryRoot = {workdir}/recovery;
}}
EXPORT {{
    Export_Id = 1;
    Path = {workdir}/export;
    Pseudo = /export;
    Access_Type = RW;
    Squash = No_Root_Squash;
    Protocols = 3, 4;
    Transports = TCP, UDP;
    SecType = sys;
    FSAL {{ Name = VFS; }}
}}
"""


class Ganesha(NamedTuple):
    daemon: Daemon
    export: Path  # the exported directory
    mount_port: int
    nfs_port: int


@pytest.fixture(scope="module")
def ganesha(rpcbind: Portmapper) -> Iterator[Ganesha]:  # noqa: F811
    binary = require_binary("ganesha.nfsd", "nfs-ganesha")
    if not glob.glob("/usr/lib/*/ganesha/libfsalvfs.so") and not glob.glob("/usr/lib*/ganesha/libfsalvfs.so"):
        missing("ganesha's VFS FSAL not installed (Debian package nfs-ganesha-vfs)")
    require_root("ganesha's VFS FSAL opens files by handle")
    nfs_port = free_port()
    mount_port = free_port()
    while mount_port == nfs_port:
        mount_port = free_port()

    def prepare(workdir: Path) -> None:
        export = workdir / "export"
        (export / "sub").mkdir(parents=True)
        (workdir / "recovery").mkdir()
        (export / "hello.txt").write_bytes(b"hello\n")
        (export / "big.bin").write_bytes(os.urandom(BIG_SIZE))
        (export / "sub" / "inner.txt").write_bytes(b"inner\n")
        for n in range(LISTED_FILES):
            (export / f"entry-{n:03d}-with-a-longish-name").write_bytes(b"%d\n" % n)
        (workdir / "ganesha.conf").write_text(CONFIG.format(workdir=workdir, nfs_port=nfs_port, mount_port=mount_port))

    def argv(workdir: Path) -> list[str]:
        return [binary, "-F", "-L", str(workdir / "ganesha.log"), "-f", str(workdir / "ganesha.conf"), "-p", str(workdir / "ganesha.pid")]

    registrations = [(MOUNT_PROGRAM, 3), (NFS_PROGRAM, 3), (NFS_PROGRAM, 4)]
    with registered_daemon(rpcbind, "ganesha", argv, registrations, prepare=prepare, logs=["ganesha.log"]) as (daemon, ports):
        assert ports == {(MOUNT_PROGRAM, 3): mount_port, (NFS_PROGRAM, 3): nfs_port, (NFS_PROGRAM, 4): nfs_port}, daemon.describe()
        assert int((daemon.workdir / "ganesha.pid").read_text()) == daemon.pid  # -F: it did not fork
        yield Ganesha(daemon, daemon.workdir / "export", mount_port, nfs_port)


@pytest.fixture(scope="module")
def nfs3(generated_package: Any) -> tuple[ModuleType, Any]:
    return load_corpus_module(generated_package, "ganesha/mount.x", "ganesha_mount")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def nfs4(generated_package: Any) -> tuple[ModuleType, Any]:
    return load_corpus_module(generated_package, "nfs4/ganesha/nfs4.x", "ganesha_nfs4")  # type: ignore[no-any-return]


def connect(codecs: tuple[ModuleType, Any], port: int, program: Any, version: int, *, udp: bool = False) -> Any:
    """The generated typed client (``<VERSION>_Client``) of ``program`` ``version``."""
    module, rpc = codecs
    client_class = getattr(module, f"{program.version(version).name}_Client")  # NFS's: nfs23.x's, handed on
    return client_class("127.0.0.1", port, udp=udp, credentials=rpc.Credentials.sys("localhost", 0, 0), timeout=30.0)


@pytest.fixture(scope="module")
def mount(nfs3: tuple[ModuleType, Any], ganesha: Ganesha) -> Iterator[Any]:
    module, _ = nfs3
    with connect(nfs3, ganesha.mount_port, module.MOUNTPROG_PROGRAM, 3) as calls:
        yield calls


@pytest.fixture(scope="module")
def nfs(nfs3: tuple[ModuleType, Any], ganesha: Ganesha) -> Iterator[Any]:
    module, _ = nfs3
    with connect(nfs3, ganesha.nfs_port, module.NFS_PROGRAM_PROGRAM, 3) as calls:
        yield calls


@pytest.fixture(scope="module")
def root(nfs3: tuple[ModuleType, Any], mount: Any, ganesha: Ganesha) -> Any:
    """The export's root file handle, from MOUNT3 MNT."""
    module, _ = nfs3
    reply = mount.mountproc3_mnt(str(ganesha.export))
    assert reply.fhs_status == module.mountstat3.MNT3_OK, ganesha.daemon.log()
    return module.nfs_fh3(reply.mountinfo.fhandle)


def lookup(module: ModuleType, nfs: Any, directory: Any, name: str) -> Any:
    reply = nfs.nfsproc3_lookup(module.LOOKUP3args(module.diropargs3(directory, name)))
    assert reply.status == module.nfsstat3.NFS3_OK, reply
    return reply.resok


def test_mount_export_and_mnt(nfs3: tuple[ModuleType, Any], mount: Any, ganesha: Ganesha, tmp_path: Path) -> None:
    module, _ = nfs3
    exported, node = [], mount.mountproc3_export()
    while node is not None:
        exported.append(node.ex_dir)
        node = node.ex_next
    assert exported == [str(ganesha.export)]

    reply = mount.mountproc3_mnt(str(ganesha.export))
    assert reply.fhs_status == module.mountstat3.MNT3_OK
    assert AUTH_SYS in reply.mountinfo.auth_flavors
    assert 0 < len(reply.mountinfo.fhandle) <= 64

    refused = mount.mountproc3_mnt(str(tmp_path))  # a directory that is not exported
    assert refused.fhs_status != module.mountstat3.MNT3_OK and refused.mountinfo is None


def test_getattr_and_lookup_match_os_stat(nfs3: tuple[ModuleType, Any], nfs: Any, root: Any, ganesha: Ganesha) -> None:
    module, _ = nfs3
    reply = nfs.nfsproc3_getattr(module.GETATTR3args(root))
    assert reply.status == module.nfsstat3.NFS3_OK
    attributes, on_disk = reply.resok.obj_attributes, os.stat(ganesha.export)
    assert attributes.type == module.ftype3.NF3DIR
    assert attributes.fileid == on_disk.st_ino
    assert attributes.mode == stat.S_IMODE(on_disk.st_mode)
    assert (attributes.nlink, attributes.uid, attributes.gid) == (on_disk.st_nlink, on_disk.st_uid, on_disk.st_gid)

    found = lookup(module, nfs, root, "hello.txt")
    file_attributes, file_on_disk = found.obj_attributes.attributes, os.stat(ganesha.export / "hello.txt")
    assert found.obj_attributes.attributes_follow
    assert file_attributes.type == module.ftype3.NF3REG
    assert (file_attributes.fileid, file_attributes.size) == (file_on_disk.st_ino, 6)
    assert found.dir_attributes.attributes.fileid == on_disk.st_ino
    assert nfs.nfsproc3_getattr(module.GETATTR3args(found.object)).resok.obj_attributes.fileid == file_on_disk.st_ino

    inner = lookup(module, nfs, lookup(module, nfs, root, "sub").object, "inner.txt")
    assert inner.obj_attributes.attributes.fileid == os.stat(ganesha.export / "sub" / "inner.txt").st_ino

    absent = nfs.nfsproc3_lookup(module.LOOKUP3args(module.diropargs3(root, "no-such-file")))
    assert absent.status == module.nfsstat3.NFS3ERR_NOENT and absent.resok is None


def test_readdirplus_paged_by_cookie_lists_the_directory(nfs3: tuple[ModuleType, Any], nfs: Any, root: Any, ganesha: Ganesha) -> None:
    module, _ = nfs3
    entries: list[Any] = []
    cookie, verifier, pages = 0, bytes(8), 0
    while True:
        reply = nfs.nfsproc3_readdirplus(module.READDIRPLUS3args(root, cookie, verifier, 1024, 4096))
        assert reply.status == module.nfsstat3.NFS3_OK, reply.status
        pages += 1
        assert pages < 100, "READDIRPLUS did not reach eof"
        node = reply.resok.reply.entries
        while node is not None:
            entries.append(node)
            cookie = node.cookie
            node = node.nextentry
        verifier = reply.resok.cookieverf
        if reply.resok.reply.eof:
            break
    assert pages > 1  # the sizes asked for force paging
    names = [entry.name for entry in entries]  # (nfs23.x has no type "name": the field keeps its name)
    assert sorted(names) == sorted(os.listdir(ganesha.export) + [".", ".."])
    assert len(set(entry.cookie for entry in entries)) == len(entries)
    for entry in entries:
        if entry.name in (".", ".."):
            continue
        inode = os.lstat(ganesha.export / entry.name).st_ino
        assert entry.fileid == inode
        assert entry.name_attributes.attributes_follow and entry.name_attributes.attributes.fileid == inode
        assert entry.name_handle.handle_follows


def test_read_100_kb_matches_sha256(nfs3: tuple[ModuleType, Any], nfs: Any, root: Any, ganesha: Ganesha) -> None:
    module, _ = nfs3
    handle = lookup(module, nfs, root, "big.bin").object
    data = b""
    while True:
        reply = nfs.nfsproc3_read(module.READ3args(handle, len(data), 32768))
        assert reply.status == module.nfsstat3.NFS3_OK
        assert reply.resok.count == len(reply.resok.data)
        data += reply.resok.data
        if reply.resok.eof:
            break
        assert reply.resok.count > 0
    assert len(data) == BIG_SIZE
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256((ganesha.export / "big.bin").read_bytes()).hexdigest()


def test_create_and_write_land_on_disk(nfs3: tuple[ModuleType, Any], nfs: Any, root: Any, ganesha: Ganesha) -> None:
    module, _ = nfs3
    attributes = module.sattr3(
        module.set_mode3(True, 0o640),
        module.set_uid3(False),
        module.set_gid3(False),
        module.set_size3(False),
        module.set_atime(module.time_how.DONT_CHANGE),
        module.set_mtime(module.time_how.DONT_CHANGE),
    )
    how = module.createhow3(module.createmode3.GUARDED, obj_attributes=attributes)
    created = nfs.nfsproc3_create(module.CREATE3args(module.diropargs3(root, "written.bin"), how))
    assert created.status == module.nfsstat3.NFS3_OK and created.resok.obj.handle_follows
    path = ganesha.export / "written.bin"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o640
    handle = created.resok.obj.handle

    payload = bytes(range(256)) * 64  # 16 KiB
    written = nfs.nfsproc3_write(module.WRITE3args(handle, 0, len(payload), module.stable_how.FILE_SYNC, payload))
    assert written.status == module.nfsstat3.NFS3_OK
    assert (written.resok.count, written.resok.committed) == (len(payload), module.stable_how.FILE_SYNC)
    assert written.resok.file_wcc.after.attributes.size == len(payload)
    assert path.read_bytes() == payload

    patch = b"written over NFSv3"
    nfs.nfsproc3_write(module.WRITE3args(handle, 1000, len(patch), module.stable_how.FILE_SYNC, patch))
    assert path.read_bytes() == payload[:1000] + patch + payload[1000 + len(patch) :]

    again = nfs.nfsproc3_create(module.CREATE3args(module.diropargs3(root, "written.bin"), how))
    assert again.status == module.nfsstat3.NFS3ERR_EXIST  # GUARDED refuses an existing name


def test_mount_and_getattr_over_udp(nfs3: tuple[ModuleType, Any], root: Any, ganesha: Ganesha) -> None:
    module, _ = nfs3
    with connect(nfs3, ganesha.mount_port, module.MOUNTPROG_PROGRAM, 3, udp=True) as mount_udp:
        assert mount_udp.mountproc3_mnt(str(ganesha.export)).mountinfo.fhandle == root.data
    with connect(nfs3, ganesha.nfs_port, module.NFS_PROGRAM_PROGRAM, 3, udp=True) as nfs_udp:
        reply = nfs_udp.nfsproc3_getattr(module.GETATTR3args(root))
    assert reply.resok.obj_attributes.fileid == os.stat(ganesha.export).st_ino


def test_nfs4_compound_putrootfh_lookup_getattr(nfs4: tuple[ModuleType, Any], ganesha: Ganesha) -> None:
    v4, _ = nfs4
    op = v4.nfs_opnum4
    wanted = [(1 << v4.FATTR4_TYPE) | (1 << v4.FATTR4_SIZE) | (1 << v4.FATTR4_FILEID)]
    operations = [
        v4.nfs_argop4(op.OP_PUTROOTFH),
        v4.nfs_argop4(op.OP_LOOKUP, oplookup=v4.LOOKUP4args(b"export")),  # the export's Pseudo path
        v4.nfs_argop4(op.OP_GETATTR, opgetattr=v4.GETATTR4args(wanted)),
        v4.nfs_argop4(op.OP_LOOKUP, oplookup=v4.LOOKUP4args(b"hello.txt")),
        v4.nfs_argop4(op.OP_GETFH),
        v4.nfs_argop4(op.OP_GETATTR, opgetattr=v4.GETATTR4args(wanted)),
    ]
    with connect(nfs4, ganesha.nfs_port, v4.NFS4_PROGRAM_PROGRAM, 4) as calls:
        reply = calls.nfsproc4_compound(v4.COMPOUND4args(b"xdrgen", 0, operations))
    assert reply.status == v4.nfsstat4.NFS4_OK and reply.tag == b"xdrgen"
    assert [result.resop for result in reply.resarray] == [operation.argop for operation in operations]

    def attributes(result: Any) -> tuple[Any, int, int]:
        """type, size and fileid, decoded from attr_vals in attribute-number order."""
        found = result.opgetattr.resok4.obj_attributes
        assert found.attrmask == wanted
        kind, offset = v4.codec("fattr4_type").decode_from(found.attr_vals)
        size, offset = v4.codec("fattr4_size").decode_from(found.attr_vals, offset)
        fileid, offset = v4.codec("fattr4_fileid").decode_from(found.attr_vals, offset)
        assert offset == len(found.attr_vals)
        return kind, size, fileid

    assert attributes(reply.resarray[2]) == (v4.nfs_ftype4.NF4DIR, os.stat(ganesha.export).st_size, os.stat(ganesha.export).st_ino)
    assert attributes(reply.resarray[5]) == (v4.nfs_ftype4.NF4REG, 6, os.stat(ganesha.export / "hello.txt").st_ino)
    # the handle GETFH gave leads back to the same file
    handle = reply.resarray[4].opgetfh.resok4.object
    again = [v4.nfs_argop4(op.OP_PUTFH, opputfh=v4.PUTFH4args(handle)), v4.nfs_argop4(op.OP_GETATTR, opgetattr=v4.GETATTR4args(wanted))]
    with connect(nfs4, ganesha.nfs_port, v4.NFS4_PROGRAM_PROGRAM, 4) as calls:
        second = calls.nfsproc4_compound(v4.COMPOUND4args(b"", 0, again))
    assert second.status == v4.nfsstat4.NFS4_OK
    assert attributes(second.resarray[1]) == attributes(reply.resarray[5])


def test_pipelined_reads_with_the_asyncio_client(nfs3: tuple[ModuleType, Any], nfs: Any, root: Any, ganesha: Ganesha) -> None:
    """25 READs in flight on one TCP connection; ganesha answers them from several worker
    threads, so replies are matched by xid, not by order."""
    module, rpc = nfs3
    handle = lookup(module, nfs, root, "big.bin").object
    read = module.NFS_PROGRAM_PROGRAM.version(3).procedure("NFSPROC3_READ")
    chunk = 4096

    async def scenario() -> list[bytes]:
        client = await rpc.OncClient.connect("127.0.0.1", ganesha.nfs_port, NFS_PROGRAM, 3, credentials=rpc.Credentials.sys("localhost", 0, 0))
        try:
            return await asyncio.gather(*(client.call(read.number, read.arguments[0].encode(module.READ3args(handle, offset, chunk))) for offset in range(0, BIG_SIZE, chunk)))
        finally:
            await client.close()

    replies = [read.result.decode(raw) for raw in asyncio.run(asyncio.wait_for(scenario(), 60))]
    assert all(reply.status == module.nfsstat3.NFS3_OK for reply in replies)
    data = b"".join(reply.resok.data for reply in replies)
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256((ganesha.export / "big.bin").read_bytes()).hexdigest()
    assert [reply.resok.eof for reply in replies] == [False] * (len(replies) - 1) + [True]


@pytest.fixture(scope="module")
def libnfs(generated_package: Any) -> tuple[ModuleType, ModuleType, ModuleType, Any]:
    """libnfs's own transcriptions: mount/mount.x, nfs/nfs.x and its nfs4.x."""
    mount_module, rpc = load_corpus_module(generated_package, "libnfs/mount.x", "libnfs_mount")
    nfs_module, _ = load_corpus_module(generated_package, "libnfs/nfs.x", "libnfs_nfs")
    nfs4_module, _ = load_corpus_module(generated_package, "nfs4/libnfs/nfs4.x", "libnfs_nfs4")
    return mount_module, nfs_module, nfs4_module, rpc


def test_libnfs_transcriptions_talk_to_ganesha_too(libnfs: tuple[ModuleType, ModuleType, ModuleType, Any], ganesha: Ganesha) -> None:
    """The same server through libnfs's .x files (other names: MOUNT3_MNT, NFS3_READ, ...):
    a second, independent transcription of RFC 1813 and RFC 7531 agrees with the disk."""
    mount_module, nfs_module, nfs4_module, rpc = libnfs
    with connect((mount_module, rpc), ganesha.mount_port, mount_module.MOUNT_PROGRAM_PROGRAM, 3) as mount_v3:
        mounted = mount_v3.mount3_mnt(str(ganesha.export))
    assert mounted.fhs_status == mount_module.mountstat3.MNT3_OK
    root = nfs_module.nfs_fh3(mounted.mountinfo.fhandle)
    with connect((nfs_module, rpc), ganesha.nfs_port, nfs_module.NFS_PROGRAM_PROGRAM, 3) as nfs_v3:
        assert nfs_v3.nfs3_getattr(nfs_module.GETATTR3args(root)).resok.obj_attributes.fileid == os.stat(ganesha.export).st_ino
        big = nfs_v3.nfs3_lookup(nfs_module.LOOKUP3args(nfs_module.diropargs3(root, "big.bin"))).resok.object
        data = b""
        while True:
            read = nfs_v3.nfs3_read(nfs_module.READ3args(big, len(data), 65536)).resok
            data += read.data
            if read.eof:
                break
        assert data == (ganesha.export / "big.bin").read_bytes()
        listing = nfs_v3.nfs3_readdirplus(nfs_module.READDIRPLUS3args(root, 0, bytes(8), 65536, 1 << 20)).resok.reply
        names, node = [], listing.entries
        while node is not None:
            names.append(node.name)
            node = node.nextentry
        assert listing.eof and sorted(names) == sorted(os.listdir(ganesha.export) + [".", ".."])

    v4 = nfs4_module
    wanted = [1 << v4.FATTR4_FILEID]
    operations = [
        v4.nfs_argop4(v4.nfs_opnum4.OP_PUTROOTFH),
        v4.nfs_argop4(v4.nfs_opnum4.OP_LOOKUP, oplookup=v4.LOOKUP4args(b"export")),
        v4.nfs_argop4(v4.nfs_opnum4.OP_GETATTR, opgetattr=v4.GETATTR4args(wanted)),
    ]
    with connect((v4, rpc), ganesha.nfs_port, v4.NFS4_PROGRAM_PROGRAM, 4) as nfs_v4:
        reply = nfs_v4.nfsproc4_compound(v4.COMPOUND4args(b"", 0, operations))
    assert reply.status == v4.nfsstat4.NFS4_OK
    found = reply.resarray[2].opgetattr.resok4.obj_attributes
    assert found.attrmask == wanted
    assert v4.codec("fattr4_fileid").decode(found.attr_vals) == os.stat(ganesha.export).st_ino


def test_reply_states(nfs3: tuple[ModuleType, Any], root: Any, ganesha: Ganesha) -> None:
    """Broken calls get the answers libtirpc servers give; NFS refuses AUTH_NONE as too weak
    (the export says SecType = sys) while MOUNT takes it."""
    module, rpc = nfs3
    credentials = rpc.Credentials.sys("localhost", 0, 0)
    getattr_arguments = module.encode("GETATTR3args", module.GETATTR3args(root))
    nfs_states = reply_states(rpc, ganesha.nfs_port, NFS_PROGRAM, 3, 1, getattr_arguments, credentials)
    assert nfs_states == tirpc_reply_states(3, 4, auth_none="AUTH_ERROR (auth_stat 5)")  # AUTH_TOOWEAK
    mount_states = reply_states(rpc, ganesha.mount_port, MOUNT_PROGRAM, 3, 1, module.encode("dirpath", str(ganesha.export)), credentials)
    assert mount_states == tirpc_reply_states(1, 3)
    assert ganesha.daemon.alive(), ganesha.daemon.describe()
