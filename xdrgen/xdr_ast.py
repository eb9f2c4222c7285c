"""The syntax tree of a .x file: small frozen dataclasses, built by xdrgen.parser.

The tree records what was written, unresolved: names are strings, sizes are literals or
names. xdrgen.checker turns it into the checked model that the generator renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Location:
    """Where a node starts (1-based line and column) in the file that holds it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Annotation:
    """One annotation carried by a comment, e.g. ``@acl: connect:getattr``.

    libvirt's older two-word markers (``/* skipgen skipgen */``, ``/* autogen autogen */``)
    become ``Annotation("gendispatch", "skipgen skipgen")``: the words in their order.
    """

    key: str
    value: str


@dataclass(frozen=True)
class Comment:
    text: str
    location: Location


# ---- values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: int
    text: str
    location: Location


@dataclass(frozen=True)
class StringLiteral:
    """A C string constant, ``const NAME = "text";`` (rpcgen passes it through to C)."""

    value: str
    text: str
    location: Location


@dataclass(frozen=True)
class NameRef:
    name: str
    location: Location


Value = Union[Literal, NameRef]


# ---- type specifiers -------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltinType:
    """``int``, ``unsigned hyper``, ``bool``, ``float`` ... as written (``unsigned`` alone too)."""

    name: str
    location: Location


@dataclass(frozen=True)
class TypeRef:
    """A named type; ``keyword`` is "struct"/"enum"/"union" for C-style ``struct foo``."""

    name: str
    location: Location
    keyword: str | None = None


@dataclass(frozen=True)
class OpaqueType:
    location: Location


@dataclass(frozen=True)
class StringType:
    location: Location


@dataclass(frozen=True)
class VoidType:
    location: Location


@dataclass(frozen=True)
class InlineEnum:
    body: EnumBody
    location: Location


@dataclass(frozen=True)
class InlineStruct:
    body: StructBody
    location: Location


@dataclass(frozen=True)
class InlineUnion:
    body: UnionBody
    location: Location


TypeSpec = Union[
    BuiltinType,
    TypeRef,
    OpaqueType,
    StringType,
    VoidType,
    InlineEnum,
    InlineStruct,
    InlineUnion,
]


# ---- declarations ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    """A single value: ``T name``."""


@dataclass(frozen=True)
class FixedArray:
    """``T name[size]``; for opaque, ``size`` counts bytes."""

    size: Value


@dataclass(frozen=True)
class VarArray:
    """``T name<max>``; ``max`` is None for ``<>`` (bounded only by 2**32 - 1)."""

    max: Value | None


@dataclass(frozen=True)
class Optional:
    """``T *name``: XDR optional-data."""


Shape = Union[Scalar, FixedArray, VarArray, Optional]


@dataclass(frozen=True)
class Declaration:
    """A field, union arm, typedef target or discriminant; ``name`` is None for ``void``."""

    name: str | None
    type: TypeSpec
    shape: Shape
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()


# ---- bodies ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EnumMember:
    name: str
    value: Value | None  # None: rpcgen's implicit "previous + 1"
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True)
class EnumBody:
    members: tuple[EnumMember, ...]


@dataclass(frozen=True)
class StructBody:
    fields: tuple[Declaration, ...]


@dataclass(frozen=True)
class UnionArm:
    """``case a: case b: decl;`` -- ``cases`` is empty for the ``default:`` arm."""

    cases: tuple[Value, ...]
    declaration: Declaration
    location: Location

    @property
    def is_default(self) -> bool:
        return not self.cases


@dataclass(frozen=True)
class UnionBody:
    discriminant: Declaration
    arms: tuple[UnionArm, ...]


# ---- definitions -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConstDef:
    name: str
    value: Value | StringLiteral
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True)
class TypedefDef:
    declaration: Declaration
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()

    @property
    def name(self) -> str:
        assert self.declaration.name is not None
        return self.declaration.name


@dataclass(frozen=True)
class EnumDef:
    name: str
    body: EnumBody
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True)
class StructDef:
    name: str
    body: StructBody
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True)
class UnionDef:
    name: str
    body: UnionBody
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True)
class Procedure:
    name: str
    result: TypeSpec
    arguments: tuple[TypeSpec, ...]  # (VoidType,) for "no argument"
    number: Value
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True)
class Version:
    name: str
    procedures: tuple[Procedure, ...]
    number: Value
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True)
class ProgramDef:
    name: str
    versions: tuple[Version, ...]
    number: Value
    location: Location
    comment: str | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True)
class Passthrough:
    """A ``%`` line, text after the ``%`` (continuation lines joined with newlines)."""

    text: str
    location: Location


@dataclass(frozen=True)
class Pragma:
    """A Linux kernel xdrgen ``pragma word ...;`` statement."""

    words: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class Namespace:
    """The xdrc/xdrpp ``namespace name { ... }`` wrapper (Stellar)."""

    name: str
    items: tuple[Item, ...]
    location: Location


@dataclass(frozen=True)
class Include:
    """A ``#include`` of another .x file, already parsed."""

    path: str
    specification: Specification
    location: Location


@dataclass(frozen=True)
class MacroConstant:
    """``#define NAME <integer>`` in the file, or ``-D NAME=<integer>`` on the command line."""

    name: str
    value: Literal
    location: Location


Definition = Union[ConstDef, TypedefDef, EnumDef, StructDef, UnionDef, ProgramDef]
Item = Union[
    ConstDef,
    TypedefDef,
    EnumDef,
    StructDef,
    UnionDef,
    ProgramDef,
    Passthrough,
    Pragma,
    Namespace,
    Include,
    MacroConstant,
]


@dataclass(frozen=True)
class Specification:
    """One parsed file: its items in source order (passthrough lines included)."""

    file: str
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = field(default=(), repr=False)
    doc: str | None = None  # the comment that opens the file: it documents the file, not an item

    def definitions(self) -> list[Definition | MacroConstant]:
        """The file's own definitions, namespaces flattened, in source order. (An included
        file's definitions are its own: its module defines them, see ``includes``.)"""
        found: list[Definition | MacroConstant] = []
        for item in self.items:
            if isinstance(item, Namespace):
                found.extend(Specification(self.file, item.items).definitions())
            elif not isinstance(item, (Passthrough, Pragma, Include)):
                found.append(item)
        return found

    def includes(self) -> list[Include]:
        """The files this one includes (``#include`` and the command line's ``--include``)."""
        found: list[Include] = []
        for item in self.items:
            if isinstance(item, Namespace):
                found.extend(Specification(self.file, item.items).includes())
            elif isinstance(item, Include):
                found.append(item)
        return found
