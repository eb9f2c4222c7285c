"""A read-only NFSv3 + MOUNT v3 server for one directory, written with the server classes
xdrgen generates from protocols/nfs3_readonly.x (RFC 1813's definitions), as committed in
generated/ (XDRGEN_UPDATE_GOLDEN=1 python3 -m pytest tests/test_generated.py writes them again).
Real NFS clients can list and read it, e.g. libnfs's tools:

    python3 examples/nfs3_server.py DIR --port 20490 &
    nfs-ls 'nfs://127.0.0.1/export?nfsport=20490&mountport=20490'
    nfs-cat 'nfs://127.0.0.1/export/hello.txt?nfsport=20490&mountport=20490'

``--register`` registers both programs with the local rpcbind instead (then plain
``nfs://127.0.0.1/export`` URLs work). The export is called ``/export``; every path under it
mounts too. File handles are the file's device and inode; a name that would leave the
directory (``..`` at the top, a symlink pointing outside) is refused. SIGTERM or SIGINT
(Ctrl-C) stops it cleanly: it answers the calls already received, unregisters from rpcbind and
closes. It writes nothing to disk.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import stat
import struct
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXPORT = "/export"
READ_MAX = 64 * 1024
TYPES = {stat.S_IFREG: 1, stat.S_IFDIR: 2, stat.S_IFBLK: 3, stat.S_IFCHR: 4, stat.S_IFLNK: 5, stat.S_IFSOCK: 6, stat.S_IFIFO: 7}


# the generated modules, committed in generated/: the checkout's root is the import root
from generated import nfs3_readonly as nfs3, xdr_rpc  # noqa: E402

OK = nfs3.nfsstat3.NFS3_OK
NO_ATTRIBUTES = nfs3.post_op_attr(False)


class Tree:
    """The served directory: file handles to paths, and attributes."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        self.paths: dict[bytes, str] = {}
        self.root_handle = self.handle(self.root)

    def handle(self, path: str) -> bytes:
        info = os.lstat(path)
        handle = struct.pack(">QQ", info.st_dev, info.st_ino)
        self.paths[handle] = path
        return handle

    def path(self, fh: Any) -> str | None:
        return self.paths.get(bytes(fh.data))

    def inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self.root or real.startswith(self.root + os.sep)

    def attributes(self, path: str) -> Any:
        info = os.lstat(path)

        def time(ns: int) -> Any:
            return nfs3.nfstime3(ns // 10**9, ns % 10**9)

        kind = nfs3.ftype3(TYPES.get(stat.S_IFMT(info.st_mode), 1))
        rdev = nfs3.specdata3(os.major(info.st_rdev), os.minor(info.st_rdev))
        return nfs3.fattr3(kind, stat.S_IMODE(info.st_mode), info.st_nlink, info.st_uid, info.st_gid, info.st_size,
                           info.st_blocks * 512, rdev, info.st_dev, info.st_ino, time(info.st_atime_ns), time(info.st_mtime_ns), time(info.st_ctime_ns))

    def post_op(self, path: str | None) -> Any:
        try:
            return nfs3.post_op_attr(True, self.attributes(path)) if path else NO_ATTRIBUTES
        except OSError:
            return NO_ATTRIBUTES


def status_of(error: OSError) -> Any:
    codes = {2: "NFS3ERR_NOENT", 13: "NFS3ERR_ACCES", 20: "NFS3ERR_NOTDIR", 21: "NFS3ERR_ISDIR", 63: "NFS3ERR_NAMETOOLONG"}
    return nfs3.nfsstat3[codes.get(error.errno or 0, "NFS3ERR_IO")]


class Mount(nfs3.MOUNT_V3_Server):  # type: ignore[misc,name-defined]
    def __init__(self, tree: Tree) -> None:
        super().__init__()
        self.tree = tree

    def mountproc3_mnt(self, path: str) -> Any:
        if path != EXPORT and not path.startswith(EXPORT + "/"):
            return nfs3.mountres3(nfs3.mountstat3.MNT3ERR_NOENT)
        local = os.path.join(self.tree.root, path[len(EXPORT):].lstrip("/"))
        if not self.tree.inside(local) or not os.path.isdir(local):
            return nfs3.mountres3(nfs3.mountstat3.MNT3ERR_NOENT)
        return nfs3.mountres3(nfs3.mountstat3.MNT3_OK, nfs3.mountres3_ok(self.tree.handle(local), [0, 1]))  # AUTH_NONE, AUTH_SYS

    def mountproc3_umnt(self, path: str) -> None:
        return None

    def mountproc3_umntall(self) -> None:
        return None

    def mountproc3_export(self) -> Any:
        return nfs3.exportnode(EXPORT, None, None)


class Nfs(nfs3.NFS_V3_Server):  # type: ignore[misc,name-defined]
    def __init__(self, tree: Tree) -> None:
        super().__init__()
        self.tree = tree

    def nfsproc3_getattr(self, args: Any) -> Any:
        path = self.tree.path(args.object)
        if path is None:
            return nfs3.GETATTR3res(nfs3.nfsstat3.NFS3ERR_STALE)
        try:
            return nfs3.GETATTR3res(OK, nfs3.GETATTR3resok(self.tree.attributes(path)))
        except OSError as error:
            return nfs3.GETATTR3res(status_of(error))

    def nfsproc3_lookup(self, args: Any) -> Any:
        # the field is ``name_``: MOUNT's typedef ``name`` takes the plain word in the module
        directory, name = self.tree.path(args.what.dir), args.what.name_
        fail = nfs3.LOOKUP3res
        if directory is None:
            return fail(nfs3.nfsstat3.NFS3ERR_STALE, resfail=nfs3.LOOKUP3resfail(NO_ATTRIBUTES))
        path = os.path.normpath(os.path.join(directory, name))
        if "/" in name or not self.tree.inside(path):
            path = directory if name == ".." and directory == self.tree.root else ""
        try:
            if not path:
                raise PermissionError(13, "outside the export")
            handle = self.tree.handle(path)
        except OSError as error:
            return fail(status_of(error), resfail=nfs3.LOOKUP3resfail(self.tree.post_op(directory)))
        return fail(OK, nfs3.LOOKUP3resok(nfs3.nfs_fh3(handle), self.tree.post_op(path), self.tree.post_op(directory)))

    def nfsproc3_access(self, args: Any) -> Any:
        path = self.tree.path(args.object)
        if path is None:
            return nfs3.ACCESS3res(nfs3.nfsstat3.NFS3ERR_STALE, resfail=nfs3.ACCESS3resfail(NO_ATTRIBUTES))
        allowed = nfs3.ACCESS3_READ | nfs3.ACCESS3_LOOKUP | nfs3.ACCESS3_EXECUTE  # read-only
        return nfs3.ACCESS3res(OK, nfs3.ACCESS3resok(self.tree.post_op(path), args.access & allowed))

    def nfsproc3_read(self, args: Any) -> Any:
        path = self.tree.path(args.file)
        if path is None:
            return nfs3.READ3res(nfs3.nfsstat3.NFS3ERR_STALE, resfail=nfs3.READ3resfail(NO_ATTRIBUTES))
        try:
            with open(path, "rb") as handle:
                handle.seek(args.offset)
                data = handle.read(min(args.count, READ_MAX))
                eof = handle.tell() >= os.fstat(handle.fileno()).st_size
        except OSError as error:
            return nfs3.READ3res(status_of(error), resfail=nfs3.READ3resfail(self.tree.post_op(path)))
        return nfs3.READ3res(OK, nfs3.READ3resok(self.tree.post_op(path), len(data), eof, data))

    def listing(self, fh: Any, cookie: int) -> tuple[str | None, list[str]]:
        """The directory's path and its names after ``cookie`` (a cookie is a position + 1)."""
        path = self.tree.path(fh)
        if path is None:
            return None, []
        return path, sorted(os.listdir(path))[cookie:]

    def nfsproc3_readdir(self, args: Any) -> Any:
        try:
            path, names = self.listing(args.dir, args.cookie)
        except OSError as error:
            return nfs3.READDIR3res(status_of(error), resfail=nfs3.READDIR3resfail(NO_ATTRIBUTES))
        if path is None:
            return nfs3.READDIR3res(nfs3.nfsstat3.NFS3ERR_STALE, resfail=nfs3.READDIR3resfail(NO_ATTRIBUTES))
        room = max(args.count // 64, 1)  # about 64 bytes an entry, with headroom
        entries = None
        for offset in reversed(range(min(room, len(names)))):
            inode = os.lstat(os.path.join(path, names[offset])).st_ino
            entries = nfs3.entry3(inode, names[offset], args.cookie + offset + 1, entries)
        reply = nfs3.dirlist3(entries, room >= len(names))
        return nfs3.READDIR3res(OK, nfs3.READDIR3resok(self.tree.post_op(path), b"\0" * 8, reply))

    def nfsproc3_readdirplus(self, args: Any) -> Any:
        try:
            path, names = self.listing(args.dir, args.cookie)
        except OSError as error:
            return nfs3.READDIRPLUS3res(status_of(error), resfail=nfs3.READDIRPLUS3resfail(NO_ATTRIBUTES))
        if path is None:
            return nfs3.READDIRPLUS3res(nfs3.nfsstat3.NFS3ERR_STALE, resfail=nfs3.READDIRPLUS3resfail(NO_ATTRIBUTES))
        room = max(min(args.dircount // 32, args.maxcount // 200), 1)  # an entry plus its attributes and handle
        entries = None
        for offset in reversed(range(min(room, len(names)))):
            child = os.path.join(path, names[offset])
            handle = nfs3.post_op_fh3(True, nfs3.nfs_fh3(self.tree.handle(child)))
            entries = nfs3.entryplus3(os.lstat(child).st_ino, names[offset], args.cookie + offset + 1, self.tree.post_op(child), handle, entries)
        reply = nfs3.dirlistplus3(entries, room >= len(names))
        return nfs3.READDIRPLUS3res(OK, nfs3.READDIRPLUS3resok(self.tree.post_op(path), b"\0" * 8, reply))

    def nfsproc3_fsstat(self, args: Any) -> Any:
        path = self.tree.path(args.fsroot)
        if path is None:
            return nfs3.FSSTAT3res(nfs3.nfsstat3.NFS3ERR_STALE, resfail=nfs3.FSSTAT3resfail(NO_ATTRIBUTES))
        fs = os.statvfs(path)
        free = fs.f_bavail * fs.f_frsize
        ok = nfs3.FSSTAT3resok(self.tree.post_op(path), fs.f_blocks * fs.f_frsize, free, free, fs.f_files, fs.f_ffree, fs.f_favail, 0)
        return nfs3.FSSTAT3res(OK, ok)

    def nfsproc3_fsinfo(self, args: Any) -> Any:
        path = self.tree.path(args.fsroot)
        if path is None:
            return nfs3.FSINFO3res(nfs3.nfsstat3.NFS3ERR_STALE, resfail=nfs3.FSINFO3resfail(NO_ATTRIBUTES))
        properties = nfs3.FSF3_SYMLINK | nfs3.FSF3_HOMOGENEOUS
        ok = nfs3.FSINFO3resok(self.tree.post_op(path), READ_MAX, READ_MAX, 4096, READ_MAX, READ_MAX, 4096, 8192, 2**63 - 1, nfs3.nfstime3(0, 1), properties)
        return nfs3.FSINFO3res(OK, ok)

    def nfsproc3_pathconf(self, args: Any) -> Any:
        path = self.tree.path(args.object)
        if path is None:
            return nfs3.PATHCONF3res(nfs3.nfsstat3.NFS3ERR_STALE, resfail=nfs3.PATHCONF3resfail(NO_ATTRIBUTES))
        return nfs3.PATHCONF3res(OK, nfs3.PATHCONF3resok(self.tree.post_op(path), 32000, 255, True, True, False, True))


async def serve(directory: str, host: str, port: int, register: bool) -> None:
    tree = Tree(directory)
    server = xdr_rpc.OncServer(Mount(tree), Nfs(tree))  # both programs on the same ports
    await server.start(host, port, register=register)
    print(f"serving {tree.root} as {EXPORT} on {host}, ports {server.ports}", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):  # stop() unregisters: no stale rpcbind entries
        loop.add_signal_handler(number, stopping.set)
    try:
        await stopping.wait()
    finally:
        await server.stop()
    print("stopped", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", help="the directory to serve, read-only, as /export")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP and UDP port for both programs (default: any free one)")
    parser.add_argument("--register", action="store_true", help="register both programs with the local rpcbind (unregistered on exit)")
    args = parser.parse_args()
    if not os.path.isdir(args.directory):
        parser.error(f"{args.directory}: not a directory")
    asyncio.run(serve(args.directory, args.host, args.port, args.register))


if __name__ == "__main__":
    main()
