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
API_NAMES = frozenset({"XdrError", "CODECS", "codec", "encode", "decode", "_SHAPES", "__getattr__", RPC_NAMES_TABLE})
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


# What the RPC classes have besides their procedure methods (the runtime's ProgramClient,
# AsyncProgramClient and ProgramServer): a procedure method of the same name would replace it.
RPC_ATTRIBUTES = frozenset({"start", "stop", "ports", "close", "connect", "call", "stream", "counters"})
RPC_PRIVATE_PREFIX = "_xdr_"  # the runtime's own attributes of the RPC classes


def module_level_clash(name: str) -> bool:
    """Whether a definition called ``name`` would replace something the module itself uses."""
    return name in IMPORTED_NAMES or name in API_NAMES or name in BUILTINS_USED or name.startswith(GENERATED_PREFIXES)


def module_level_name(name: str) -> str:
    """The Python name of a definition of the module (type, constant, enum value, program)."""
    return name + "_" if keyword.iskeyword(name) or module_level_clash(name) else name


def field_name(name: str, type_names: set[str]) -> str:
    """The Python name of a struct or union field: besides keywords, a name the class body
    uses after its fields (builtins in annotations, methods, the module's type names) would be
    shadowed inside the class, so it gets the underscore too."""
    clash = name in CLASS_NAMES or name in type_names or name.startswith(CLASS_PRIVATE_PREFIX)
    return name + "_" if clash or keyword.iskeyword(name) else name


def module_name_for(path: str | Path) -> str:
    """A valid Python module name from a file's stem: ``Stellar-types.x`` -> ``Stellar_types``."""
    name = re.sub(r"\W", "_", Path(path).stem)
    if not name or name[0].isdigit():
        name = "_" + name
    return name + "_" if keyword.iskeyword(name) else name


def rpc_module_for(module_name: str) -> str:
    """The sibling module holding the RPC classes of ``module_name`` (so that importing the
    types alone does not import asyncio or socket)."""
    return module_name + RPC_SIBLING_SUFFIX


def rpc_classes(version_py_name: str) -> tuple[str, str, str]:
    """The blocking client, asyncio client and server classes of a program version."""
    return version_py_name + CLIENT_SUFFIX, version_py_name + ASYNC_CLIENT_SUFFIX, version_py_name + SERVER_SUFFIX


def rpc_method_name(procedure: str, type_names: set[str], taken: set[str] = set()) -> tuple[str, str | None]:
    """The method of a procedure in the RPC classes: its name lower-cased, with a trailing
    ``_`` where that would hide a type of the module inside the class body (``SM_STAT`` next
    to struct ``sm_stat``), replace an attribute of the runtime's classes, be a keyword, or
    repeat an earlier method of the class (``taken``). Returns the name and, when it changed,
    why (for a warning)."""
    name = procedure.lower()
    why = None
    if keyword.iskeyword(name):
        why = "is a Python keyword"
    elif name in type_names:
        why = "would hide the type of the same name in the RPC classes"
    elif name in RPC_ATTRIBUTES or name.startswith(RPC_PRIVATE_PREFIX) or (name.startswith("__") and name.endswith("__")):
        why = "would replace an attribute of the RPC classes"
    elif name in taken:
        why = "repeats the method of another procedure"
    if why is None:
        return name, None
    name += "_"
    while name in taken or name in type_names:
        name += "_"
    return name, why


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
