"""How each corpus file is checked: the -D values and pre-included files it needs.

rpcgen hands names it does not know to the C compiler; these are the values of those names
in the projects' C headers (or, for types, stand-ins in tests/corpus_shims/). Files that
use another .x file's types pre-include it, as cpp's -include would. A file not listed needs
nothing.
"""

from __future__ import annotations

from pathlib import Path

from paths import CORPUS  # the one definition, $XDRGEN_CORPUS aware

from xdrgen.compiler import rpc_defs_path

SHIMS = Path(__file__).resolve().parent / "corpus_shims"
# xdrgen's RFC 5531 definitions (what --rpc-defs consults), for the NFSv4 files' AUTH_SYS and authsys_parms
RPC_DEFS = rpc_defs_path()

# libvirt's include/libvirt/libvirt-*.h and src/internal.h
LIBVIRT_DEFINES = {
    "VIR_UUID_BUFLEN": "16",
    "VIR_SECURITY_MODEL_BUFLEN": "257",
    "VIR_SECURITY_LABEL_BUFLEN": "4097",
    "VIR_SECURITY_DOI_BUFLEN": "257",
    "VIR_TYPED_PARAM_INT": "1",
    "VIR_TYPED_PARAM_UINT": "2",
    "VIR_TYPED_PARAM_LLONG": "3",
    "VIR_TYPED_PARAM_ULLONG": "4",
    "VIR_TYPED_PARAM_DOUBLE": "5",
    "VIR_TYPED_PARAM_BOOLEAN": "6",
    "VIR_TYPED_PARAM_STRING": "7",
}
OPEN_VM_TOOLS = {"Bool": "bool", "uint32": "unsigned int", "uint64": "unsigned hyper"}

_STELLAR_ORDER = [
    "Stellar-types.x",
    "Stellar-SCP.x",
    "Stellar-contract.x",
    "Stellar-contract-config-setting.x",
    "Stellar-ledger-entries.x",
    "Stellar-transaction.x",
    "Stellar-ledger.x",
]


def _stellar(name: str) -> list[Path]:
    """Stellar files use the types of the ones before them in this order."""
    needs = {
        "Stellar-contract-env-meta.x": ["Stellar-types.x"],
        "Stellar-contract-meta.x": [],
        "Stellar-contract-spec.x": ["Stellar-types.x", "Stellar-contract.x"],
        "Stellar-contract.x": ["Stellar-types.x"],
        "Stellar-internal.x": _STELLAR_ORDER,
        "Stellar-overlay.x": _STELLAR_ORDER,
    }
    if name in needs:
        chosen = needs[name]
    elif name in _STELLAR_ORDER:
        chosen = _STELLAR_ORDER[: _STELLAR_ORDER.index(name)]
    else:
        chosen = []
    return [CORPUS / "stellar" / n for n in chosen]


OPTIONS: dict[str, dict] = {
    "cde/agent.x": {"defines": {"time_t": "int"}, "pre": [CORPUS / "cde/rtable4.x"]},
    "cde/cm.x": {"defines": {"time_t": "int"}, "pre": [SHIMS / "cde_csa.x"]},
    "cde/cmcb.x": {"defines": {"time_t": "int"}, "pre": [SHIMS / "cde_csa.x", CORPUS / "cde/cm.x"]},
    "cde/rtable2.x": {"defines": {"time_t": "int"}},
    "cde/rtable3.x": {"defines": {"time_t": "int"}},
    "cde/rtable4.x": {"defines": {"time_t": "int"}},
    "freebsd/gssd.x": {"pre": [SHIMS / "freebsd_gss.x"]},
    "ganesha/mount.x": {"defines": {"FHSIZE3": "64"}, "pre": [CORPUS / "ganesha/nfs23.x"]},
    "ganesha/nfsacl.x": {"pre": [CORPUS / "ganesha/nfs23.x"]},
    "glusterfs/acl3-xdr.x": {"pre": [CORPUS / "ganesha/nfs23.x"]},
    "glusterfs/changelog-xdr.x": {"defines": {"UNIX_PATH_MAX": "108"}},
    # glusterfs/libglusterfs/src/glusterfs/dict.h: enum gf_dict_data_type_t
    "glusterfs/glusterfs4-xdr.x": {
        "defines": {
            "GF_DATA_TYPE_INT": "1",
            "GF_DATA_TYPE_UINT": "2",
            "GF_DATA_TYPE_DOUBLE": "3",
            "GF_DATA_TYPE_STR": "4",
            "GF_DATA_TYPE_PTR": "5",
            "GF_DATA_TYPE_GFUUID": "6",
            "GF_DATA_TYPE_IATT": "7",
            "GF_DATA_TYPE_MDATA": "8",
            "GF_DATA_TYPE_STR_OLD": "9",
        }
    },
    "glusterfs/mount3udp.x": {"pre": [CORPUS / "pynfs/mnt3.x"]},
    "libvirt/lxc_protocol.x": {"defines": LIBVIRT_DEFINES, "pre": [CORPUS / "libvirt/remote_protocol.x"]},
    "libvirt/remote_protocol.x": {"defines": LIBVIRT_DEFINES},
    "libvirt/virnetprotocol.x": {"defines": LIBVIRT_DEFINES},
    "ndmp/ndmp2.x": {"defines": {"ndmp2_u_quad": "unsigned hyper"}},
    "ndmp/ndmp3.x": {"defines": {"ndmp3_u_quad": "unsigned hyper"}},
    "ndmp/ndmp4.x": {"defines": {"ndmp4_u_quad": "unsigned hyper"}},
    "ndmp/ndmp9.x": {"defines": {"ndmp9_u_quad": "unsigned hyper", "ndmp9_no_arguments": "int"}},
    "nfs4/filesys/flex_files_layout.x": {"pre": [RPC_DEFS, CORPUS / "nfs4/filesys/nfs42_prot.x"]},
    "nfs4/filesys/nfs42_prot.x": {"pre": [RPC_DEFS]},
    "nfs4/filesys/nfs4_prot.x": {"defines": {"opaqueref": "opaque"}, "pre": [RPC_DEFS]},
    "nfs4/ganesha/flex_files_prot.x": {"pre": [RPC_DEFS, CORPUS / "nfs4/ganesha/nfsv41.x", SHIMS / "nfs42_device_error.x"]},
    "nfs4/ganesha/nfs4.x": {"pre": [RPC_DEFS]},
    "nfs4/ganesha/nfsv41.x": {"pre": [RPC_DEFS]},
    "nfs4/libnfs/nfs4.x": {"pre": [RPC_DEFS]},
    "open-vm-tools/cpFileContents.x": {"defines": OPEN_VM_TOOLS},
    "open-vm-tools/guestQuiesce.x": {"defines": OPEN_VM_TOOLS},
    "open-vm-tools/guestlibV3.x": {"defines": OPEN_VM_TOOLS},
    "open-vm-tools/nicinfo.x": {"defines": OPEN_VM_TOOLS},
    "open-vm-tools/testData.x": {"defines": OPEN_VM_TOOLS},
    # pynfs's nfs3.x names FSINFO3args in its program but never defines it (pynfs's own
    # generator ignores procedure types); give it the FSINFO argument, a file handle
    "pynfs/nfs3.x": {"defines": {"FSINFO3args": "nfs_fh3"}},
    "pynfs/rpc/gss.x": {"defines": {"proc_req_arg_t": "unsigned int"}},
    "rpcsvc/key_prot.x": {"defines": {"MAXNETNAMELEN": "255"}},
    "rpcsvc/nis_callback.x": {"pre": [CORPUS / "rpcsvc/nis.x"]},
    "rpcsvc/nlm_prot.x": {"defines": {"LM_MAXSTRLEN": "1024", "MAXNAMELEN": "1025"}},
    "rpcsvc/rpcb_prot.x": {"pre": [SHIMS / "netbuf.x"]},
}
for _path in (CORPUS / "stellar").glob("*.x"):
    OPTIONS.setdefault(f"stellar/{_path.name}", {"pre": _stellar(_path.name)})

# Files we reject on purpose, with the reason; the test checks that the error is this one.
# Files the checker refuses on purpose, with the start of the error it must give. None today:
# pynfs/portmap.x's self-containing pmaplist is read as RFC 1057's optional list (a warning).
REJECTED: dict[str, str] = {}


def corpus_files() -> list[str]:
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.x"))


def options_for(relative: str) -> tuple[dict[str, str], list[Path]]:
    opts = OPTIONS.get(relative, {})
    return dict(opts.get("defines", {})), list(opts.get("pre", []))
