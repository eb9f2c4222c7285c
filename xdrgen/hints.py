"""The next step for a name a .x file uses but does not define: the one option or file that
defines it, named exactly, so that following the first error's hint makes the file compile.

Real files leave names to C: rpcgen copies ``%`` lines into its C output and hands every
unknown name to the C compiler. In the order tried here, a name may be

* one of RFC 5531's (``AUTH_SYS``, ``RPCSEC_GSS``, ``netobj``): ``--rpc-defs``;
* defined by the file's own ``%`` lines (``%#define FHSIZE3 64``, ``%typedef long time_t;``,
  ``%#define ndmp2_u_quad unsigned long long``): ``-D NAME=VALUE`` or
  ``--define-type NAME=XDR-TYPE`` with what the line says, in XDR terms;
* defined, as XDR, by another .x file in the same folder (never by its ``%`` lines, which
  would send the user to a file that needs the name too): "pass that file too";
* a C header's type whose XDR meaning is the usual one (``uint64``, ``time_t``):
  ``--define-type`` with it;
* otherwise named in the file's ``%`` lines (C code we cannot read as XDR), or from C headers:
  the option to give, with a placeholder for what only the user knows.

The messages are read by tests/test_hints.py, which walks every corpus file following them.
"""

from __future__ import annotations

import functools
import re
import shlex
from importlib import resources
from pathlib import Path

# C types that %-lines and C headers use, by their XDR equivalent (as rpcgen's xdr_* routines
# encode them: a C long is xdr_long, 4 bytes)
C_TO_XDR = {
    "int": "int",
    "long": "int",
    "long int": "int",
    "short": "int",
    "int32_t": "int",
    "unsigned": "unsigned int",
    "unsigned int": "unsigned int",
    "unsigned long": "unsigned int",
    "u_int": "unsigned int",
    "u_long": "unsigned int",
    "uint32_t": "unsigned int",
    "u_int32_t": "unsigned int",
    "long long": "hyper",
    "int64_t": "hyper",
    "quad_t": "hyper",
    "longlong_t": "hyper",
    "unsigned long long": "unsigned hyper",
    "u_longlong_t": "unsigned hyper",
    "uint64_t": "unsigned hyper",
    "u_int64_t": "unsigned hyper",
    "u_quad_t": "unsigned hyper",
    "bool_t": "bool",
    "float": "float",
    "double": "double",
    "char *": "string<>",
}
# types of common C headers whose XDR form is not in doubt, for files that use them bare
USUAL_C_TYPES = {
    "time_t": "int",  # xdr_long: rpcgen-era headers encode time_t in 4 bytes
    "int32": "int",
    "uint32": "unsigned int",
    "int64": "hyper",
    "uint64": "unsigned hyper",
    "Bool": "bool",
}
_PERCENT_DEFINE = re.compile(r"^%\s*#\s*define\s+(\w+)\s+(.+?)\s*$")
_PERCENT_TYPEDEF = re.compile(r"^%\s*typedef\s+([\w\s]+?\**)\s*(\w+)\s*;")


def undefined_hint(name: str, kind: str, file: str | None) -> str | None:
    """The hint for ``name`` (``kind``: "type" or "constant") undefined in ``file``, to follow
    ``undefined {kind} 'NAME'``; None when nothing specific is known (the caller then tries a
    close spelling, then the generic hint)."""
    if name in rpc_defs_names():
        return "; RFC 5531 defines it: pass --rpc-defs (xdrgen's copy of its RPC definitions)"
    lines = percent_lines(file)
    for number, line in lines:
        found = _PERCENT_DEFINE.match(line)
        if found and found[1] == name:
            return _from_c(name, kind, found[2], number)
        found = _PERCENT_TYPEDEF.match(line)
        if found and found[2] == name and kind == "type":
            return _from_c(name, kind, found[1], number)
    beside = file_beside_defining(name, file)
    if beside is not None:
        return f"; {beside.name} beside it defines it: pass that file too"
    if kind == "type" and name in USUAL_C_TYPES:
        return f"; it is a C header's type: pass {define_type_option(name, USUAL_C_TYPES[name])} (its usual meaning in XDR)"
    mentioned = next((number for number, line in lines if re.search(rf"\b{re.escape(name)}\b", line)), None)
    if mentioned is not None:
        what = "--define-type NAME=XDR-TYPE (e.g. opaque<>)" if kind == "type" else "-D NAME=VALUE"
        return f"; it comes from C code in the file's % lines (line {mentioned}): give it with {what.replace('NAME', name)}, or in a small .x file"
    return None


def generic_hint(kind: str) -> str:
    """The hint for a name nothing here knows: C headers define it."""
    if kind == "type":
        return " (a type from C headers: give it with --define-type NAME=XDR-TYPE, e.g. --define-type gss_OID='opaque<>')"
    return " (a constant from C headers: give its value with -D NAME=VALUE)"


def define_type_option(name: str, xdr_type: str) -> str:
    return f"--define-type {shlex.quote(f'{name}={xdr_type}')}"


def _from_c(name: str, kind: str, c_text: str, number: int) -> str:
    where = f"(line {number} of the file's % lines defines it for C)"
    value = c_text.strip()
    if re.fullmatch(r"-?(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*", value):
        return f"; pass -D {name}={value.rstrip('uUlL')} {where}"
    xdr = C_TO_XDR.get(re.sub(r"\s+", " ", re.sub(r"\s*\*", " *", value)).strip())
    if xdr is not None and kind == "type":
        return f"; pass {define_type_option(name, xdr)} {where}"
    if kind == "type":
        return f"; it comes from C code in the file's % lines (line {number}): give it with --define-type {name}=XDR-TYPE, or in a small .x file"
    return f"; it comes from C code in the file's % lines (line {number}): give its value with -D {name}=VALUE"


def percent_lines(file: str | None) -> list[tuple[int, str]]:
    """The ``%`` lines of ``file`` (C code for rpcgen's output), with their line numbers."""
    text = _read(file)
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.startswith("%")]


@functools.lru_cache(maxsize=1)
def rpc_defs_names() -> frozenset[str]:
    """The names xdrgen's copy of RFC 5531's definitions (--rpc-defs) defines."""
    text = (resources.files("xdrgen") / "rpc_defs.x").read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    names = set(re.findall(r"\b(?:const|struct|union|enum)\s+(\w+)", text))
    names |= set(re.findall(r"\btypedef\b[^;]*?\b(\w+)\s*(?:<[^>]*>|\[[^\]]*\])?\s*;", text))
    names |= set(re.findall(r"^\s*(\w+)\s*=\s*-?\d+\s*,?\s*$", text, flags=re.MULTILINE))
    return frozenset(names)


def file_beside_defining(name: str, file: str | None) -> Path | None:
    """Another .x file in the folder of ``file`` that defines ``name`` in XDR (its ``%`` lines
    do not count): the user probably meant to pass it too."""
    if not file or not name.isidentifier():
        return None
    pattern = re.compile(
        rf"(?:\b(?:struct|union|enum)\s+{name}\s*(?:switch|\{{)|\btypedef\b[^;{{}}]*\b{name}\s*[\[<;]"
        rf"|\bconst\s+{name}\s*=|#\s*define\s+{name}\b|[{{,]\s*{name}\s*(?:=[^=]|,|\}}))"
    )
    itself = Path(file).resolve()
    try:
        others = sorted(path for path in itself.parent.glob("*.x") if path != itself)
    except OSError:
        return None
    for path in others:
        xdr = "\n".join(line for line in _read(str(path)).splitlines() if not line.startswith("%"))
        if pattern.search(xdr):
            return path
    return None


def _read(file: str | None) -> str:
    if not file:
        return ""
    path = Path(file)
    try:
        return _cached_text(path.resolve(), path.stat().st_mtime_ns)
    except OSError:
        return ""


@functools.lru_cache(maxsize=32)
def _cached_text(path: Path, stamp: int) -> str:
    """A file's text, read once while it stays as it is (``stamp``), however many names it
    leaves undefined."""
    return path.read_text(encoding="utf-8", errors="replace")
