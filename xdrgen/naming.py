"""Every Python name the generated code uses or reserves, in one place.

The checker asks this module which names a definition of the ``.x`` file may not take (it then
gets a trailing underscore); the back end asks it what to call what it writes: module names, the
runtime alias and the module's names for the runtime's constants, codec functions, struct formats,
enum tables, program tables, the RPC classes, and the locals of generated functions, which are
chosen so that they cannot hide a name of the file.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Collection

RUNTIME_MODULE = "xdr_runtime"  # the codecs' helpers, written beside the generated modules
RPC_MODULE = "xdr_rpc"  # RPC framing, clients and servers, written beside them when needed
GSS_MODULE = "rpcsec_gss"  # RPCSEC_GSS for xdr_rpc's clients and servers, written beside xdr_rpc
RUNTIME_ALIAS = "_rt"  # how a generated module refers to its runtime


@dataclass(frozen=True)
class RuntimeConstants:
    """The runtime's constants that codecs read for nearly every value, bound at the top of each
    module that has codecs: a global is one lookup, an attribute of the runtime module two."""

    PADDING: str = "_PADDING"  # PADDING[n & 3]: the zero bytes that follow n bytes of data
    ZEROS: str = "_ZEROS"  # ZEROS[n]: n zero bytes (n < 4), what padding must read as
    BOOLS: str = "_BOOLS"  # a decoded word 0 or 1 -> bool; IndexError for any other
    ZERO: str = "_ZERO"  # the four bytes of FALSE (no value follows)
    ONE: str = "_ONE"  # those of TRUE

    def bindings(self) -> list[tuple[str, str]]:
        """(module-level name, the runtime's name) of each."""
        return [(alias, name) for name, alias in self.__dict__.items()]


RT = RuntimeConstants()

# What a generated module binds at its top level besides the definitions of its .x file.
# (Its RPC sibling also binds Awaitable and the RPC alias.)
IMPORTED_NAMES = frozenset({"enum", "TYPE_CHECKING", "Any", "Awaitable", "ClassVar", "Final", "TypeAlias", RUNTIME_ALIAS, "_rpc"}) | frozenset(
    alias for alias, _ in RT.bindings()
)
RPC_NAMES_TABLE = "_RPC_NAMES"  # the names the module hands over to its RPC sibling on first use
API_NAMES = frozenset({"XdrError", "CODECS", "codec", "encode", "decode", "_SHAPES", "_FUNCTIONS", "__getattr__", RPC_NAMES_TABLE})
# Builtins that generated functions call or name in annotations: a definition of the same name
# would replace them for the whole module.
BUILTINS_USED = frozenset(
    {"str", "bytes", "int", "float", "bool", "list", "dict", "tuple", "range", "len", "type", "object", "classmethod", "isinstance", "super"}
)
# Names a generated module defines for itself, by prefix: codec functions (the runtime's
# registry finds them by these prefixes: its own constants must agree), struct formats.
ENCODER_PREFIX, DECODER_PREFIX, PACK_PREFIX, UNPACK_PREFIX = "_enc_", "_dec_", "_pack_", "_unpack_"
STRUCT_FORMAT_PREFIX = "_S_"
GENERATED_PREFIXES = (ENCODER_PREFIX, DECODER_PREFIX, PACK_PREFIX, UNPACK_PREFIX, STRUCT_FORMAT_PREFIX)
# Module-level names derived from the name of a definition or program (``<name><suffix>``).
ENUM_MEMBERS_SUFFIX = "_MEMBERS"  # decoded value -> member
ENUM_PACKED_SUFFIX = "_PACKED"  # member -> its 4 bytes: an enum packed alone needs no pack() call
PROGRAM_SUFFIX = "_PROGRAM"  # the program table
PROCEDURE_ENUM_SUFFIX = "_Procedure"  # the procedure numbers of a version, as an IntEnum
CLIENT_SUFFIX, ASYNC_CLIENT_SUFFIX, SERVER_SUFFIX = "_Client", "_AsyncClient", "_Server"
RPC_CLASS_SUFFIXES = (CLIENT_SUFFIX, ASYNC_CLIENT_SUFFIX, SERVER_SUFFIX)  # the RPC classes of a version
RPC_SIBLING_SUFFIX = "_rpc"  # <module>_rpc.py holds the RPC classes of <module>.py
DERIVED_SUFFIXES = (ENUM_MEMBERS_SUFFIX, ENUM_PACKED_SUFFIX, PROGRAM_SUFFIX, PROCEDURE_ENUM_SUFFIX) + RPC_CLASS_SUFFIXES

# Names a generated class body uses after its fields (annotations, methods, class attributes):
# a field of the same name would shadow them inside the class.
CLASS_NAMES = frozenset({"to_xdr", "from_xdr", "int", "float", "bool", "bytes", "str", "list", "self"})
CLASS_PRIVATE_PREFIX = "_xdr_"  # attributes of the runtime's Record classes

# Module names the output folder already uses, or that the generated code imports.
RESERVED_MODULE_NAMES = frozenset({RUNTIME_MODULE, RPC_MODULE, GSS_MODULE, "enum", "typing", "dataclasses", "struct", "operator", "asyncio", "socket"})
# The standard library's modules that a generated module, its RPC sibling and the runtime import,
# with what those import in turn (Python 3.11-3.13): a file called ``logging.x`` written as
# ``logging.py`` into a folder on sys.path would replace the real one for the whole program.
# tests/test_hostile_x.py checks the list against what importing them loads.
STDLIB_IMPORTED = frozenset(
    """__future__ _abc _ast _asyncio _bisect _blake2 _bz2 _codecs _collections _collections_abc _compression
    _contextvars _datetime _functools _hashlib _heapq _io _json _locale _lzma _opcode _operator _pickle
    _posixsubprocess _random _sha2 _sha512 _signal _socket _sre _ssl _stat _string _struct _thread _typing
    _warnings _weakref _weakrefset abc annotationlib argparse array ast asyncio atexit base64 binascii bisect
    builtins bz2 codecs collections concurrent contextlib contextvars copy copyreg dataclasses datetime dis
    email encodings enum errno fcntl fnmatch functools genericpath glob hashlib heapq importlib inspect io
    ipaddress itertools json keyword linecache locale logging lzma marshal math ntpath opcode operator os
    pathlib pickle posix posixpath random re reprlib select selectors shlex shutil signal site socket ssl
    stat string struct subprocess sys tempfile textwrap threading time token tokenize traceback types
    typing urllib warnings weakref zipfile zipimport zlib""".split()
)


# What the RPC classes have besides their procedure methods (the runtime's ProgramClient,
# AsyncProgramClient and ProgramServer): a procedure method of the same name would replace it.
RPC_ATTRIBUTES = frozenset({"start", "stop", "ports", "close", "connect", "call", "stream", "counters"})
RPC_PRIVATE_PREFIX = "_xdr_"  # the runtime's own attributes of the RPC classes

# ---- the one rule for every name written ---------------------------------------------------
#
# A name of the .x file is written as it is unless Python, the generated code or the runtime
# give it a meaning at the place it is written (its position). Then it is renamed:
# - a name whose beginning is the clash takes the prefix ``xdr``: underscores that mean something
#   to Python wherever the name stands (a dunder ``__x__``, a class-private ``__x`` that class
#   bodies mangle, ``_`` alone) and the prefixes of the generated code's own names (``_enc_``,
#   ``_S_``, ``_xdr_``): ``__all__`` -> ``xdr__all__``, ``_`` -> ``xdr_``, ``_enc_s`` -> ``xdr_enc_s``;
# - any other clash (a keyword, a name the generated code uses at that position, an ``Enum``
#   sunder name ``_x_``) takes a trailing underscore: ``if`` -> ``if_``, ``_rt`` -> ``_rt_``;
# - then trailing underscores until the name is free of the clashes and of the other names of
#   its scope (``taken``), so two names never become one.
# The checker warns (-Wkeyword / -Wshadow) with the .x location; the .x names stay the names
# of the wire: JSON, ``encode("name")``/``decode("name")`` and the codec table use them.
# Soft keywords (``match``, ``case``, ``type``, ``_``) are identifiers: only ``_`` (and ``type``,
# a builtin the generated code calls) are renamed.

MODULE, FIELD, ENUM_MEMBER, METHOD, PARAMETER, MODULE_FILE = "module", "field", "enum member", "method", "parameter", "module file"
POSITIONS = (MODULE, FIELD, ENUM_MEMBER, METHOD, PARAMETER, MODULE_FILE)  # PARAMETER: a name only its scope (taken) limits
ENUM_RESERVED = frozenset({"mro"})  # refused by Enum as a member name (besides sunder and dunder names)


def underscore_meaning(name: str) -> bool:
    """A dunder, a class-private name (mangled inside class bodies), or underscores alone."""
    return name.startswith("__") or not name.strip("_")


def _sunder(name: str) -> bool:
    return len(name) > 2 and name[0] == name[-1] == "_" and name[1] != "_" and name[-2] != "_"


def module_level_clash(name: str) -> bool:
    """Whether a definition called ``name`` would replace something the module itself uses."""
    return name in IMPORTED_NAMES or name in API_NAMES or name in BUILTINS_USED or name.startswith(GENERATED_PREFIXES)


def clash(name: str, position: str, type_names: Collection[str] = (), owner: str = "") -> str | None:
    """Why ``name`` cannot be written as it is at ``position`` (None: it can). ``type_names``
    are the module's type names, which a field or method would hide inside its class body;
    ``owner`` is the Python name of an enum member's class (Enum treats ``_<owner>__x`` as
    private)."""
    if keyword.iskeyword(name):
        return "is a Python keyword"
    if underscore_meaning(name):
        return "has underscores that Python gives a meaning (a dunder or class-private name)"
    if position in (MODULE, ENUM_MEMBER) and module_level_clash(name):
        return "would hide a name the generated module uses"
    if position == ENUM_MEMBER and (_sunder(name) or name in ENUM_RESERVED or name.startswith(f"_{owner}__")):
        return "is a name Python's Enum reserves"
    if position == FIELD and (name in CLASS_NAMES or name in type_names or name.startswith(CLASS_PRIVATE_PREFIX)):
        return "would hide a name the generated class uses"
    if position == METHOD:
        if name in type_names:
            return "would hide the type of the same name in the RPC classes"
        if name in RPC_ATTRIBUTES or name.startswith(RPC_PRIVATE_PREFIX):
            return "would replace an attribute of the RPC classes"
    if position == MODULE_FILE and (name in RESERVED_MODULE_NAMES or name in STDLIB_IMPORTED):
        return "is the name of a module the generated code imports"
    return None


def python_name(name: str, position: str, taken: Collection[str] = (), type_names: Collection[str] = (), owner: str = "") -> tuple[str, str | None]:
    """The Python name of the .x name ``name`` written at ``position`` (one of ``POSITIONS``),
    and why it is not ``name`` (None when it is). ``taken``: the other names of its scope."""
    why = clash(name, position, type_names, owner)
    if why is None and name not in taken:
        return name, None
    result = name
    while clash(result, position, type_names, owner) is not None or result in taken:
        result = "xdr" + result if _starts_reserved(result, position) else result + "_"
    return result, why or "repeats another name of its scope"


def _starts_reserved(name: str, position: str) -> bool:
    """Whether the clash is in how the name begins, which no trailing underscore mends."""
    if underscore_meaning(name):
        return True
    if position in (MODULE, ENUM_MEMBER):
        return name.startswith(GENERATED_PREFIXES) or (position == ENUM_MEMBER and name.startswith("_") and name.endswith("_"))
    return name.startswith(CLASS_PRIVATE_PREFIX if position == FIELD else RPC_PRIVATE_PREFIX if position == METHOD else "\0")


def module_level_name(name: str, taken: Collection[str] = ()) -> str:
    """The Python name of a definition of the module (type, constant, enum value, program)."""
    return python_name(name, MODULE, taken)[0]


def identifier_for(path: str | Path) -> str:
    """A file's stem as an identifier: ``Stellar-types.x`` -> ``Stellar_types``."""
    name = re.sub(r"\W", "_", Path(path).stem, flags=re.ASCII)
    return "_" + name if not name or name[0].isdigit() else name


def module_name_for(path: str | Path) -> str:
    """The Python module of a file: its stem as an identifier, renamed by the rule
    (``logging.x`` -> ``logging_``, ``__init__.x`` -> ``xdr__init__``)."""
    return python_name(identifier_for(path), MODULE_FILE)[0]


def rpc_module_for(module_name: str) -> str:
    """The sibling module holding the RPC classes of ``module_name`` (so that importing the
    types alone does not import asyncio or socket)."""
    return module_name + RPC_SIBLING_SUFFIX


def rpc_classes(version_py_name: str) -> tuple[str, str, str]:
    """The blocking client, asyncio client and server classes of a program version."""
    return version_py_name + CLIENT_SUFFIX, version_py_name + ASYNC_CLIENT_SUFFIX, version_py_name + SERVER_SUFFIX


def rpc_method_name(procedure: str, type_names: Collection[str], taken: Collection[str] = ()) -> tuple[str, str | None]:
    """The method of a procedure in the RPC classes: its name lower-cased, renamed by the rule
    (``python_name``) where it would hide a type of the module inside the class body (``SM_STAT``
    next to struct ``sm_stat``), replace an attribute of the runtime's classes, be a keyword, or
    repeat an earlier method of the class (``taken``). Returns the name and, when it changed,
    why (for a warning)."""
    return python_name(procedure.lower(), METHOD, taken, type_names)


def encoder(py_name: str) -> str:
    return ENCODER_PREFIX + py_name


def decoder(py_name: str) -> str:
    return DECODER_PREFIX + py_name


def packer(py_name: str) -> str:
    return PACK_PREFIX + py_name


def unpacker(py_name: str) -> str:
    return UNPACK_PREFIX + py_name


def enum_members(py_name: str) -> str:
    return f"_{py_name}{ENUM_MEMBERS_SUFFIX}"


def enum_packed(py_name: str) -> str:
    return f"_{py_name}{ENUM_PACKED_SUFFIX}"


def program_table(py_name: str) -> str:
    return py_name + PROGRAM_SUFFIX


def procedure_enum(version_py_name: str) -> str:
    return version_py_name + PROCEDURE_ENUM_SUFFIX


_FORMAT_WORDS = {"i": "int", "I": "uint", "q": "hyper", "Q": "uhyper", "f": "float", "d": "double"}


def struct_format(fmt: str) -> str:
    """The name of the ``struct.Struct`` of a format, readable as the run of values it packs:
    ``>iiQ`` -> ``_S_2int_uhyper``, ``>16s`` -> ``_S_16bytes``, and ``s`` with no count (bytes
    of any length, ``Sized``) -> ``bytes``. The name gives the run back, so two formats of one
    name are the same run (``ii`` and ``2i``)."""
    words: list[tuple[int, str]] = []
    for count, code in re.findall(r"(\d*)([a-zA-Z])", fmt):
        if code == "s":  # one value of that many bytes: its count is its size, never merged
            words.append((1, f"{count}bytes"))
        elif words and not count and words[-1][1] == _FORMAT_WORDS[code]:
            words[-1] = (words[-1][0] + 1, words[-1][1])
        else:
            words.append((int(count) if count else 1, _FORMAT_WORDS[code]))
    return STRUCT_FORMAT_PREFIX + "_".join(f"{n}{w}" if n != 1 else w for n, w in words)


def struct_items(head: str, code: str) -> str:
    """The name of the ``Items`` table of a head and an item format, readable as what it packs:
    ``("I", "i")`` -> ``_S_uint_int_items`` (a length word, then ints)."""
    return struct_format(head + code) + "_items"


def struct_sized(head: str, tail: str) -> str:
    """The name of the ``Sized`` table of the formats around a string or opaque, readable as
    what it packs: ``("iI", "Q")`` -> ``_S_int_uint_bytes_uhyper_sized``."""
    return struct_format(head + "s" + tail) + "_sized"


@dataclass(frozen=True)
class Locals:
    """The names of the locals every generated codec function has. They are the plain words
    unless the module defines a name that a function body also refers to (its types, constants
    and enum values), in which case the local gets trailing underscores until it is free."""

    value: str = "v"
    out: str = "out"
    buf: str = "buf"
    pos: str = "pos"
    start: str = "start"
    refused: str = "refused"
    discriminant: str = "d"
    node: str = "node"
    nodes: str = "nodes"
    current: str = "current"
    following: str = "following"

    @classmethod
    def avoiding(cls, taken: set[str]) -> Locals:
        chosen = {}
        for name, default in cls().__dict__.items():
            while default in taken:
                default += "_"
            chosen[name] = default
        return cls(**chosen)


class Temporaries:
    """Fresh local names for one function: ``_b1``, ``_len2`` ... none of them a module name."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.counter = 0

    def __call__(self, base: str) -> str:
        while True:
            self.counter += 1
            name = f"_{base}{self.counter}"
            if name not in self.taken:
                return name
