"""The checked model: what the generator renders.

Every name is resolved, every size and value is an integer, inline types are hoisted into
named definitions, and every identifier has the Python name it will be generated under.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from .xdr_ast import Annotation, Location

UINT32_MAX = 0xFFFFFFFF


# ---- type expressions ------------------------------------------------------------------


@dataclass(frozen=True)
class IntType:
    """An integer on the wire: 4 bytes (``bits=32``) or 8 (``bits=64``), with the value range
    of the type as declared (``char`` and ``short`` travel in 4 bytes but keep C's range)."""

    name: str  # as known to rpcgen: "int", "unsigned int", "hyper", "u_char", "uint64_t" ...
    bits: int
    signed: bool
    min: int
    max: int


@dataclass(frozen=True)
class FloatType:
    name: str  # "float", "double", "quadruple"
    bits: int


@dataclass(frozen=True)
class BoolType:
    pass


@dataclass(frozen=True)
class VoidType:
    pass


@dataclass(frozen=True)
class OpaqueType:
    fixed: bool
    size: int  # exact length if fixed, else the maximum


@dataclass(frozen=True)
class StringType:
    max: int


@dataclass(frozen=True)
class ArrayType:
    element: TypeExpr
    fixed: bool
    size: int  # exact count if fixed, else the maximum


@dataclass(frozen=True)
class OptionalType:
    element: TypeExpr


@dataclass(frozen=True)
class NamedType:
    """A reference to a definition of this module, by its XDR name."""

    name: str


TypeExpr = Union[
    IntType, FloatType, BoolType, VoidType, OpaqueType, StringType, ArrayType, OptionalType, NamedType
]


def _int(name: str, bits: int, signed: bool, width: int | None = None) -> IntType:
    w = width or bits
    if signed:
        return IntType(name, bits, True, -(1 << (w - 1)), (1 << (w - 1)) - 1)
    return IntType(name, bits, False, 0, (1 << w) - 1)


INT = _int("int", 32, True)
UNSIGNED_INT = _int("unsigned int", 32, False)
HYPER = _int("hyper", 64, True)
UNSIGNED_HYPER = _int("unsigned hyper", 64, False)
BOOL = BoolType()
VOID = VoidType()

# Spellings of the RPC language proper (keywords), by their normalised text.
BUILTIN_KEYWORD_TYPES: dict[str, TypeExpr] = {
    "int": INT,
    "unsigned int": UNSIGNED_INT,
    "unsigned": UNSIGNED_INT,
    "hyper": HYPER,
    "unsigned hyper": UNSIGNED_HYPER,
    "char": _int("char", 32, True, 8),
    "unsigned char": _int("unsigned char", 32, False, 8),
    "short": _int("short", 32, True, 16),
    "unsigned short": _int("unsigned short", 32, False, 16),
    # xdr_long and xdr_u_long put 4 bytes on the wire and reject wider values
    "long": _int("long", 32, True),
    "unsigned long": _int("unsigned long", 32, False),
    "float": FloatType("float", 32),
    "double": FloatType("double", 64),
    "quadruple": FloatType("quadruple", 128),
    "bool": BOOL,
}

# C type names that rpcgen passes to libtirpc's xdr_<name> routines. Used only when the file
# does not define the name itself.
C_TYPE_NAMES: dict[str, TypeExpr] = {
    "u_int": _int("u_int", 32, False),
    "u_long": _int("u_long", 32, False),
    "u_short": _int("u_short", 32, False, 16),
    "u_char": _int("u_char", 32, False, 8),
    "int8_t": _int("int8_t", 32, True, 8),
    "uint8_t": _int("uint8_t", 32, False, 8),
    "u_int8_t": _int("u_int8_t", 32, False, 8),
    "int16_t": _int("int16_t", 32, True, 16),
    "uint16_t": _int("uint16_t", 32, False, 16),
    "u_int16_t": _int("u_int16_t", 32, False, 16),
    "int32_t": _int("int32_t", 32, True),
    "uint32_t": _int("uint32_t", 32, False),
    "u_int32_t": _int("u_int32_t", 32, False),
    "int64_t": _int("int64_t", 64, True),
    "uint64_t": _int("uint64_t", 64, False),
    "u_int64_t": _int("u_int64_t", 64, False),
    "quad_t": _int("quad_t", 64, True),
    "u_quad_t": _int("u_quad_t", 64, False),
    "longlong_t": _int("longlong_t", 64, True),
    "u_longlong_t": _int("u_longlong_t", 64, False),
    "enum_t": _int("enum_t", 32, True),
    "bool_t": BOOL,
    "rpcprog_t": _int("rpcprog_t", 32, False),
    "rpcvers_t": _int("rpcvers_t", 32, False),
    "rpcproc_t": _int("rpcproc_t", 32, False),
    "rpcport_t": _int("rpcport_t", 32, False),
    # libtirpc's xdr_netobj (MAX_NETOBJ_SZ = 1024) and xdr_des_block (8 opaque bytes)
    "netobj": OpaqueType(False, 1024),
    "des_block": OpaqueType(True, 8),
}

# Constants every rpcgen output can use: they come from <rpc/types.h>.
BUILTIN_CONSTANTS = {"TRUE": 1, "FALSE": 0}


# ---- definitions -----------------------------------------------------------------------


@dataclass
class Constant:
    name: str
    py_name: str
    value: int | str
    location: Location | None
    origin: str  # "const", "#define", "command line", "program", "version", "procedure"
    comment: str | None = None


@dataclass
class EnumValue:
    name: str
    py_name: str
    value: int
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass
class Field:
    name: str
    py_name: str
    type: TypeExpr
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass
class EnumDef:
    name: str
    py_name: str
    values: list[EnumValue]
    location: Location
    comment: str | None = None
    synthetic: bool = False  # hoisted from an anonymous inline enum

    kind = "enum"


@dataclass
class StructDef:
    name: str
    py_name: str
    fields: list[Field]
    location: Location
    comment: str | None = None
    synthetic: bool = False

    kind = "struct"


@dataclass
class UnionArm:
    """One arm; ``field`` is None for a ``void`` arm. ``values`` is empty for ``default``."""

    values: list[int]
    labels: list[str]  # the case labels as written, for documentation
    field: Field | None
    location: Location


@dataclass
class UnionDef:
    name: str
    py_name: str
    discriminant: Field
    arms: list[UnionArm]
    default: UnionArm | None
    location: Location
    comment: str | None = None
    synthetic: bool = False

    kind = "union"

    @property
    def all_arms(self) -> list[UnionArm]:
        """The arms in order, the default (if any) last."""
        return self.arms + ([self.default] if self.default else [])


@dataclass
class AliasDef:
    """``typedef``: a new name for a type expression."""

    name: str
    py_name: str
    type: TypeExpr
    location: Location
    comment: str | None = None
    synthetic: bool = False

    kind = "typedef"


TypeDefinition = Union[EnumDef, StructDef, UnionDef, AliasDef]


@dataclass
class Procedure:
    name: str
    py_name: str
    number: int
    arguments: list[TypeExpr]  # empty for ``void``
    result: TypeExpr
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass
class Version:
    name: str
    py_name: str
    number: int
    procedures: list[Procedure]
    location: Location


@dataclass
class Program:
    name: str
    py_name: str
    number: int
    versions: list[Version]
    location: Location
    comment: str | None = None


@dataclass
class Module:
    """One checked .x file, with everything it includes."""

    source: str
    constants: list[Constant] = field(default_factory=list)
    types: list[TypeDefinition] = field(default_factory=list)
    programs: list[Program] = field(default_factory=list)
    passthrough: list[str] = field(default_factory=list)
    pragmas: list[tuple[str, ...]] = field(default_factory=list)
    comment: str | None = None  # the comment that opens the file: it documents the module
    # types the checker invented for procedure arguments and results (``PROC_arg1``, ...)
    invented: set[str] = field(default_factory=set)
    # Other files of the set: the types this file uses but does not define, by name, with the
    # module that defines each; the modules of the files it includes (it re-exports their names)
    imports: dict[str, Module] = field(default_factory=dict, repr=False, compare=False)
    includes: list[Module] = field(default_factory=list, repr=False, compare=False)
    bundled: bool = False  # xdrgen's own RPC definitions (--rpc-defs)
    name: str = ""  # the Python module's name, once the compile set has chosen it

    def __post_init__(self) -> None:
        self._by_name: dict[str, TypeDefinition] = {}
        # every definition of another file that this file's types reach, with its module
        self._foreign: dict[str, tuple[TypeDefinition, Module]] = {}

    def add_type(self, definition: TypeDefinition) -> None:
        self.types.append(definition)
        self._by_name[definition.name] = definition

    def type_named(self, name: str) -> TypeDefinition:
        found = self._by_name.get(name)
        return found if found is not None else self._foreign[name][0]

    def owner_of(self, name: str) -> Module:
        """The module that defines the type ``name`` (this one, or another file's)."""
        return self if name in self._by_name else self._foreign[name][1]

    @property
    def foreign(self) -> dict[str, tuple[TypeDefinition, Module]]:
        """The definitions of other files this file's types reach (see ``link``), by name."""
        return self._foreign

    def link(self) -> list[tuple[Location | None, str]]:
        """Learn every definition of another file that this file's types reach, directly or
        through other definitions, so that a name means one definition in the generated
        module. Returns the names that would mean two (a problem each: where, what)."""
        own_values = {c.name for c in self.constants} | {v.name for t in self.types if isinstance(t, EnumDef) for v in t.values}
        problems: list[tuple[Location | None, str]] = []
        # (name, its module, the definition that uses it, whether this module's code uses it).
        # A stack: the names its code uses come first; then those it only hands on (of the
        # files it includes), which give way to any other meaning of their name.
        pending: list[tuple[str, Module, str | None, bool]] = []
        for included in included_modules(self):
            pending += [(t.name, included, None, False) for t in included.types]
        pending += [(name, owner, None, True) for name, owner in self.imports.items()]
        while pending:
            name, owner, via, used = pending.pop()
            definition = owner._by_name[name]
            known = self._by_name.get(name) or self._foreign.get(name, (None, None))[0]
            if known is definition or (known is not None and not used):
                continue
            if known is not None:
                where = self._by_name[name].location if name in self._by_name else None
                problems.append((where, f"'{name}' of {owner.source}, which '{via}' uses, and '{name}' of {self.owner_of(name).source} would have one name in this module; rename one of them"))
                continue
            self._foreign[name] = (definition, owner)
            if isinstance(definition, EnumDef) and used:
                for value in definition.values:
                    if value.name in own_values:
                        problems.append((value.location, f"enum value '{value.name}' of {owner.source} has the name of a constant of {self.source}, whose code uses both; rename one of them"))
            for inner in names_used(definition):
                if inner in owner._by_name:
                    pending.append((inner, owner, name, used))
                elif inner in owner.imports:
                    pending.append((inner, owner.imports[inner], name, used))
        return list(dict.fromkeys(problems))

    def resolve(self, expr: TypeExpr) -> TypeExpr | TypeDefinition:
        """Follow typedef aliases until a non-alias: a builtin expression or a definition."""
        seen = 0
        while isinstance(expr, NamedType):
            definition = self.type_named(expr.name)
            if not isinstance(definition, AliasDef):
                return definition
            expr = definition.type
            seen += 1
            assert seen < 10_000, "alias cycle survived the checker"
        return expr


def names_used(definition: TypeDefinition) -> list[str]:
    """The names of the types a definition refers to, as often as it does (behind ``*`` and
    ``<>`` too)."""
    if isinstance(definition, StructDef):
        exprs = [f.type for f in definition.fields]
    elif isinstance(definition, UnionDef):
        exprs = [definition.discriminant.type] + [a.field.type for a in definition.all_arms if a.field]
    elif isinstance(definition, AliasDef):
        exprs = [definition.type]
    else:
        exprs = []
    names = []
    for expr in exprs:
        while isinstance(expr, (ArrayType, OptionalType)):
            expr = expr.element
        if isinstance(expr, NamedType):
            names.append(expr.name)
    return names


def included_modules(module: Module) -> list[Module]:
    """The modules of the files ``module`` includes, directly or through each other."""
    found: list[Module] = []
    pending = list(module.includes)
    while pending:
        m = pending.pop(0)
        if m is not module and all(m is not f for f in found):
            found.append(m)
            pending.extend(m.includes)
    return found
