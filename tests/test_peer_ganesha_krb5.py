"""nfs-ganesha 4.3 exporting with ``SecType = krb5, krb5i, krb5p`` in a throwaway realm: the
typed MOUNT v3 client (AUTH_SYS, as MOUNT is) is told the three RPCSEC_GSS pseudo-flavours,
and the typed NFSv3 client, with ``Credentials.gss("nfs@localhost", ...)``, lists the export
(READDIRPLUS) and reads a file whose sha256 matches the bytes on disk, under each service, over
TCP (ganesha's RPCSEC_GSS over UDP is broken in 4.3: /work/shared/notes/rpcsec-gss.md). Under
AUTH_SYS the same GETATTR is refused with AUTH_TOOWEAK."""

from __future__ import annotations

import glob
import hashlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator, NamedTuple

import pytest
from conftest import sibling_module
from krb5_realm import Realm, realm  # noqa: F401  (realm: a module fixture)
from peers import Daemon, Portmapper, free_port, load_corpus_module, missing, registered_daemon, require_binary, require_root, rpcbind  # noqa: F401
from test_peer_ganesha import MOUNT_PROGRAM, NFS_PROGRAM, connect, lookup

RPCSEC_GSS_KRB5, RPCSEC_GSS_KRB5I, RPCSEC_GSS_KRB5P = 390003, 390004, 390005
FILE_SIZE = 300 * 1024  # several READs of 64 KiB
LISTED = 40

CONFIG = """\
NFS_CORE_PARAM {{
    Bind_addr = 127.0.0.1;
    NFS_Port = {nfs_port};
    MNT_Port = {mount_port};
    Protocols = 3;
    Enable_NLM = false;
    Enable_RQUOTA = false;
}}
NFS_KRB5 {{
    Active_krb5 = true;
    PrincipalName = nfs;
    KeytabPath = {workdir}/nfs.keytab;
    CCacheDir = {workdir}/ccache;
}}
NFSV4 {{
    Graceless = true;
}}
EXPORT {{
    Export_Id = 1;
    Path = {workdir}/export;
    Pseudo = /export;
    Access_Type = RO;
    Squash = No_Root_Squash;
    Protocols = 3;
    Transports = TCP;
    SecType = krb5, krb5i, krb5p;
    FSAL {{ Name = VFS; }}
}}
"""


class Ganesha(NamedTuple):
    daemon: Daemon
    export: Path
    mount_port: int
    nfs_port: int



@pytest.fixture(scope="module")
def ganesha(rpcbind: Portmapper, realm: Realm) -> Iterator[Ganesha]:  # noqa: F811
    binary = require_binary("ganesha.nfsd", "nfs-ganesha")
    if not glob.glob("/usr/lib/*/ganesha/libfsalvfs.so") and not glob.glob("/usr/lib*/ganesha/libfsalvfs.so"):
        missing("ganesha's VFS FSAL not installed (Debian package nfs-ganesha-vfs)")
    require_root("ganesha's VFS FSAL opens files by handle")
    nfs_port, mount_port = free_port(), free_port()
    while mount_port == nfs_port:
        mount_port = free_port()

    def prepare(workdir: Path) -> None:
        export = workdir / "export"
        export.mkdir()
        (workdir / "ccache").mkdir()
        (export / "data.bin").write_bytes(os.urandom(FILE_SIZE))
        for n in range(LISTED):
            (export / f"file-{n:02d}").write_bytes(b"%d\n" % n)
        realm.add_principal("nfs/localhost", workdir / "nfs.keytab")
        (workdir / "ganesha.conf").write_text(CONFIG.format(workdir=workdir, nfs_port=nfs_port, mount_port=mount_port))

    def argv(workdir: Path) -> list[str]:
        return [binary, "-F", "-L", str(workdir / "ganesha.log"), "-f", str(workdir / "ganesha.conf"), "-p", str(workdir / "ganesha.pid")]

    # the daemon inherits the realm's KRB5_* variables (realm.activate)
    with registered_daemon(rpcbind, "ganesha-krb5", argv, [(MOUNT_PROGRAM, 3), (NFS_PROGRAM, 3)], prepare=prepare, logs=["ganesha.log"]) as (daemon, ports):
        yield Ganesha(daemon, daemon.workdir / "export", mount_port, nfs_port)


@pytest.fixture(scope="module")
def nfs3(generated_package: Any) -> tuple[ModuleType, Any]:
    return load_corpus_module(generated_package, "ganesha/mount.x", "ganesha_mount")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def root(nfs3: tuple[ModuleType, Any], ganesha: Ganesha) -> Any:
    """The export's root handle from MNT (AUTH_SYS), which names the three GSS pseudo-flavours."""
    module, _ = nfs3
    with connect(nfs3, ganesha.mount_port, module.MOUNTPROG_PROGRAM, 3) as mount:
        reply = mount.mountproc3_mnt(str(ganesha.export))
    assert reply.fhs_status == module.mountstat3.MNT3_OK, ganesha.daemon.log()
    assert set(reply.mountinfo.auth_flavors) == {RPCSEC_GSS_KRB5, RPCSEC_GSS_KRB5I, RPCSEC_GSS_KRB5P}
    return module.nfs_fh3(reply.mountinfo.fhandle)


def test_auth_sys_is_too_weak(nfs3: tuple[ModuleType, Any], root: Any, ganesha: Ganesha) -> None:
    module, _ = nfs3
    rpc = sibling_module(module, "xdr_rpc")
    with connect(nfs3, ganesha.nfs_port, module.NFS_PROGRAM_PROGRAM, 3) as nfs:
        with pytest.raises(rpc.Rejected) as raised:
            nfs.nfsproc3_getattr(module.GETATTR3args(root))
    assert raised.value.auth_stat == rpc.AUTH_TOOWEAK


@pytest.mark.parametrize("service", ["krb5", "krb5i", "krb5p"])
def test_typed_nfs3_client_lists_and_reads_under(nfs3: tuple[ModuleType, Any], root: Any, ganesha: Ganesha, service: str) -> None:
    module, _ = nfs3
    rpc = sibling_module(module, "xdr_rpc")
    client_class = getattr(module, f"{module.NFS_PROGRAM_PROGRAM.version(3).name}_Client")
    credentials = rpc.Credentials.gss("nfs@localhost", service)
    with client_class("127.0.0.1", ganesha.nfs_port, credentials=credentials, timeout=30.0) as nfs:
        names: list[str] = []
        cookie, verifier = 0, bytes(8)
        for _ in range(50):
            reply = nfs.nfsproc3_readdirplus(module.READDIRPLUS3args(root, cookie, verifier, 1024, 4096))
            assert reply.status == module.nfsstat3.NFS3_OK, (reply.status, ganesha.daemon.log())
            node = reply.resok.reply.entries
            while node is not None:
                names.append(node.name)
                cookie = node.cookie
                node = node.nextentry
            verifier = reply.resok.cookieverf
            if reply.resok.reply.eof:
                break
        assert sorted(n for n in names if n not in (".", "..")) == sorted(os.listdir(ganesha.export))

        handle = lookup(module, nfs, root, "data.bin").object
        digest, offset = hashlib.sha256(), 0
        while True:
            read = nfs.nfsproc3_read(module.READ3args(handle, offset, 65536))
            assert read.status == module.nfsstat3.NFS3_OK, read.status
            digest.update(read.resok.data)
            offset += len(read.resok.data)
            if read.resok.eof:
                break
    assert offset == FILE_SIZE
    assert digest.hexdigest() == hashlib.sha256((ganesha.export / "data.bin").read_bytes()).hexdigest()
