"""Syntax tree -> checked model: name resolution, constant evaluation and semantic checks.

All problems of a file are collected and reported together (see ``Reporter``); the model is
only returned when there are none. Forward references are allowed everywhere.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import keyword
import sys
from dataclasses import dataclass
from typing import Callable, Collection, Iterator, Sequence

from . import model as M
from . import hints, naming
from . import xdr_ast as A
from .diagnostics import Reporter, note

_INT32 = (-(1 << 31), (1 << 31) - 1)


@dataclass
class _Symbol:
    kind: str  # "constant", "enum value", "type", "program", "version", "procedure"
    location: A.Location | None
    node: object


class _Checker:
    """Checks one file. Names it does not define are looked up by ``outside`` (the other files
    of the set, see ``check_set``), which gives the checker of the file that defines them."""

    def __init__(self, spec: A.Specification, reporter: Reporter):
        self.spec = spec
        self.report = reporter
        self.symbols: dict[str, _Symbol] = {}
        self.const_values: dict[str, int | str | None] = {}
        self.evaluating: list[str] = []
        self.enum_values: dict[int, list[int | None]] = {}  # id(EnumBody) -> values
        self.enum_of_member: dict[str, A.EnumBody] = {}
        self.module = M.Module(spec.file, comment=spec.doc)
        self.pending_inline: list[M.TypeDefinition] = []
        self.warned_keywords: set[tuple[str, A.Location | None]] = set()
        self.skipped: set[int] = set()  # ids of definitions not to build (repeats, C-isms)
        self._type_names: set[str] | None = None
        # where the names the file uses but does not define come from: (name, among the included
        # files only, where it is used, a type?) -> the checker of the file that defines it, or None
        self.outside: Callable[[str, bool, A.Location | None, bool], _Checker | None] = lambda name, included, location, type_: None
        self.imported: dict[str, _Checker] = {}  # the other files' types this file uses, by name
        self.declared: dict[str, _Symbol] = {}  # the names the file itself defines (pass 1)

    # ---- pass 1: collect every global name ------------------------------------------------

    def declare(self, name: str, kind: str, location: A.Location | None, node: object) -> bool:
        """Enter a global name; False if it was already there (and is to be skipped)."""
        previous = self.symbols.get(name)
        if previous is not None:
            if _same_tree(node, previous.node):
                # rpcgen accepts a repeated identical definition (ganesha's nfs4.x has two)
                self.report.warning(location, f"'{name}' is defined again, identically; the repetition is ignored", "duplicate")
                self.skipped.add(id(node))
                return False
            if kind == previous.kind == "procedure" and self._same_procedure_number(node, previous.node):
                return False  # rpcgen allows one procedure name in several versions, same number
            if kind == previous.kind == "constant" and self._same_macro(node, previous.node):
                self.skipped.add(id(node))
                return False
            self.report.error(
                location,
                f"duplicate definition of '{name}' (already defined as a {previous.kind})",
                note(previous.location, f"previous definition of '{name}' is here"),
            )
            self.skipped.add(id(node))
            return False
        self.symbols[name] = _Symbol(kind, location, node)
        return True

    @staticmethod
    def _same_procedure_number(a: object, b: object) -> bool:
        return (
            isinstance(a, A.Procedure)
            and isinstance(b, A.Procedure)
            and isinstance(a.number, A.Literal)
            and isinstance(b.number, A.Literal)
            and a.number.value == b.number.value
        )

    @staticmethod
    def _same_macro(a: object, b: object) -> bool:
        # cpp accepts an identical redefinition, e.g. -D X=8 and a file's own #define X 8
        return isinstance(a, A.MacroConstant) and isinstance(b, A.MacroConstant) and a.value.value == b.value.value

    def collect(self) -> None:
        for definition in self.spec.definitions():
            if isinstance(definition, (A.ConstDef, A.MacroConstant)):
                self.declare(definition.name, "constant", definition.location, definition)
            elif isinstance(definition, A.ProgramDef):
                self.declare(definition.name, "program", definition.location, definition)
                for version in definition.versions:
                    self.declare(version.name, "version", version.location, version)
                    for proc in version.procedures:
                        self.declare(proc.name, "procedure", proc.location, proc)
            elif _is_c_tag_typedef(definition):
                self.skipped.add(id(definition))  # "typedef struct foo foo;": C needs it, XDR does not
            elif self.declare(definition.name, "type", definition.location, definition):
                self.collect_enums(definition)

    def collect_enums(self, node: object) -> None:
        """Enum values are global constants, also those of anonymous inline enums."""
        for body in _enum_bodies(node):
            for member in body.members:
                self.declare(member.name, "enum value", member.location, member)
                self.enum_of_member[member.name] = body

    # ---- constants -----------------------------------------------------------------------

    def value(self, value: A.Value, what: str) -> int | None:
        if isinstance(value, A.Literal):
            return value.value
        return self.constant(value.name, value.location, what)

    def unsigned(self, value: A.Value, what: str) -> int | None:
        """A program, version or procedure number: RFC 5531 carries each as an unsigned int."""
        number = self.value(value, what)
        if number is not None and not 0 <= number <= 0xFFFFFFFF:
            self.report.error(value.location, f"{what} must be 0 to 4294967295 (an unsigned int on the wire), not {number}")
            return None
        return number

    def constant(self, name: str, location: A.Location, what: str) -> int | None:
        result = self.constant_any(name, location, what)
        if isinstance(result, str):
            self.report.error(location, f"constant '{name}' is a string; {what} must be an integer")
            return None
        return result

    def constant_any(self, name: str, location: A.Location, what: str) -> int | str | None:
        symbol = self.symbols.get(name)
        if symbol is None:
            if name in M.BUILTIN_CONSTANTS:
                return M.BUILTIN_CONSTANTS[name]
            owner = self.elsewhere(name, location, type_=False)
            if owner is not None:  # its value is known where it is defined
                return owner.constant_any(name, location, what)
            self.undefined(name, location, "constant", self.constant_names())
            return None
        if symbol.kind == "type":
            self.report.error(location, f"'{name}' is a type, but {what} must be a constant")
            return None
        if name in self.const_values:
            return self.const_values[name]
        if name in self.evaluating:
            cycle = " -> ".join(self.evaluating[self.evaluating.index(name) :] + [name])
            self.report.error(location, f"constant '{name}' is defined in terms of itself ({cycle})")
            self.const_values[name] = None
            return None
        self.evaluating.append(name)
        try:
            node = symbol.node
            result: int | str | None
            if isinstance(node, A.ConstDef):
                result = node.value.value if isinstance(node.value, A.StringLiteral) else self.value(node.value, what)
            elif isinstance(node, A.MacroConstant):
                result = node.value.value
            elif isinstance(node, A.EnumMember):
                body = self.enum_of_member[name]
                values = self.evaluate_enum(body)
                result = values[[m.name for m in body.members].index(name)]
            elif isinstance(node, (A.ProgramDef, A.Version, A.Procedure)):
                result = self.value(node.number, what)
            else:  # pragma: no cover - every symbol kind is handled above
                raise AssertionError(node)
        finally:
            self.evaluating.pop()
        self.const_values[name] = result
        return result

    def evaluate_enum(self, body: A.EnumBody) -> list[int | None]:
        """Values of an enum's members; a member without '= value' is the previous plus one
        (rpcgen's rule, the first being 0)."""
        key = id(body)
        if key in self.enum_values:
            return self.enum_values[key]
        values: list[int | None] = []
        previous: int | None = -1
        for member in body.members:
            if member.value is None:
                current = None if previous is None else previous + 1
            else:
                current = self.value(member.value, "an enum value")
            if current is not None and not _INT32[0] <= current <= _INT32[1]:
                self.report.error(member.location, f"enum value {member.name} = {current} does not fit in a 32-bit int")
                current = None
            values.append(current)
            # known at once, so that a later member may be defined by this one (B = A)
            self.const_values.setdefault(member.name, current)
            previous = current
        self.enum_values[key] = values
        return values

    def size(self, value: A.Value | None, what: str) -> int:
        if value is None:
            return M.UINT32_MAX
        size = self.value(value, what)
        if size is None:
            return 0
        if not 0 <= size <= M.UINT32_MAX:
            self.report.error(value.location, f"{what} {size} is out of range (0 to {M.UINT32_MAX})")
            return 0
        return size

    # ---- names ---------------------------------------------------------------------------

    def constant_names(self) -> list[str]:
        return [n for n, s in self.symbols.items() if s.kind != "type"] + list(M.BUILTIN_CONSTANTS)

    def type_names(self) -> list[str]:
        return [n for n, s in self.symbols.items() if s.kind == "type"] + list(M.C_TYPE_NAMES)

    def undefined(self, name: str, location: A.Location, kind: str, candidates: list[str]) -> None:
        message = f"undefined {kind} '{name}'"
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
        # the one next step that works, if known (hints.py): --rpc-defs, the file's % lines, a file beside
        hint = hints.undefined_hint(name, kind, location.file if location else None)
        if kind == "type" and name in self.symbols:
            message = f"'{name}' is a {self.symbols[name].kind}, not a type"
        elif hint is not None:
            message += hint
        elif close:
            message += f"; did you mean '{close[0]}'?"
        else:
            message += hints.generic_hint(kind)
        self.report.error(location, message)

    def py(self, name: str, location: A.Location | None, position: str = naming.MODULE, owner: str = "") -> str:
        """The Python name of a module-level definition or an enum member (``naming.python_name``,
        its scope the module's names), with a warning where it is not the .x name."""
        result, why = naming.python_name(name, position, _Others(self.symbols, name), owner=owner)
        if why is not None:
            self.warn_renamed(name, location, why, result)
        return result

    def py_member(self, name: str, location: A.Location | None, taken: Collection[str] = ()) -> str:
        """The Python name of a struct or union field. Besides keywords and names Python gives
        a meaning, names that the class body needs (builtins in annotations, to_xdr/from_xdr,
        the module's type names) are escaped silently, as README documents."""
        result, why = naming.python_name(name, naming.FIELD, taken, self.type_python_names())
        if why is not None and (keyword.iskeyword(name) or naming.underscore_meaning(name) or name in taken):
            self.warn_renamed(name, location, why, result)
        return result

    def warn_renamed(self, name: str, location: A.Location | None, why: str, result: str) -> None:
        """Say once per place that ``name`` is written as ``result``, and why."""
        if (name, location) not in self.warned_keywords:
            self.warned_keywords.add((name, location))
            category = "keyword" if keyword.iskeyword(name) else "shadow"
            self.report.warning(location, f"'{name}' {why}; it is generated as '{result}'", category)

    def elsewhere(self, name: str, location: A.Location | None, *, type_: bool, beyond_included: bool = True) -> _Checker | None:
        """The checker of the other file that defines ``name``: one this file includes, else
        (``beyond_included``) any other of the set."""
        return self.outside(name, True, location, type_) or (self.outside(name, False, location, type_) if beyond_included else None)

    def type_python_names(self) -> set[str]:
        """The module's type names: its own and those it may import from other files."""
        if self._type_names is None:
            names = {n for n, s in self.symbols.items() if s.kind == "type"} | (_type_refs(self.spec) - self.declared.keys())
            self._type_names = {naming.module_level_name(n, _Others(self.symbols, n)) for n in names}  # as py() names them
        return self._type_names

    # ---- types ---------------------------------------------------------------------------

    def type_of(self, spec: A.TypeSpec, owner: str) -> M.TypeExpr:
        """A type specifier without array/optional shape. ``owner`` names inline types."""
        if isinstance(spec, A.BuiltinType):
            if spec.name == "quadruple":
                self.report.error(spec.location, "quadruple (a 128-bit float) has no Python type; xdrgen cannot generate it")
            return M.BUILTIN_KEYWORD_TYPES[spec.name]
        if isinstance(spec, A.TypeRef):
            return self.type_ref(spec)
        if isinstance(spec, A.OpaqueType):
            return M.OpaqueType(False, M.UINT32_MAX)
        if isinstance(spec, A.StringType):
            return M.StringType(M.UINT32_MAX)
        if isinstance(spec, A.VoidType):
            return M.VOID
        name = self.unique_inline_name(owner)
        if isinstance(spec, A.InlineEnum):
            self.pending_inline.append(self.enum(name, spec.body, spec.location, None, synthetic=True))
        elif isinstance(spec, A.InlineStruct):
            self.pending_inline.append(self.struct(name, spec.body, spec.location, None, synthetic=True))
        else:
            self.pending_inline.append(self.union(name, spec.body, spec.location, None, synthetic=True))
        return M.NamedType(name)

    def unique_inline_name(self, base: str) -> str:
        name, n = base, 1
        while name in self.symbols:
            n += 1
            name = f"{base}{n}"
        self.symbols[name] = _Symbol("type", None, None)
        self._type_names = None
        return name

    def type_ref(self, spec: A.TypeRef) -> M.TypeExpr:
        symbol = self.symbols.get(spec.name)
        owner = None
        if symbol is None:  # a C type name rpcgen knows ranks after the included files only
            builtin = spec.keyword is None and spec.name in M.C_TYPE_NAMES
            owner = self.elsewhere(spec.name, spec.location, type_=True, beyond_included=not builtin)
        if owner is not None:
            symbol = owner.symbols[spec.name]
            self.imported[spec.name] = owner
        if symbol is not None and symbol.kind == "type":
            node = symbol.node
            expected = {"struct": A.StructDef, "enum": A.EnumDef, "union": A.UnionDef}.get(spec.keyword or "")
            if expected is not None and isinstance(node, (A.StructDef, A.EnumDef, A.UnionDef)) and not isinstance(node, expected):
                actual = {A.StructDef: "struct", A.EnumDef: "enum", A.UnionDef: "union"}[type(node)]
                self.report.error(spec.location, f"'{spec.keyword} {spec.name}' refers to {actual} '{spec.name}'")
            return M.NamedType(spec.name)
        if spec.name in M.C_TYPE_NAMES and spec.keyword is None:
            return M.C_TYPE_NAMES[spec.name]
        self.undefined(spec.name, spec.location, "type", self.type_names())
        return M.INT  # keep checking; the error stops generation

    def declaration(self, decl: A.Declaration, owner: str, context: str) -> M.TypeExpr:
        base = decl.type
        shape = decl.shape
        label = f"'{decl.name}'" if decl.name else "declaration"
        if isinstance(base, A.VoidType):
            if context not in ("union arm",):
                self.report.error(decl.location, f"void is only allowed as a union arm, not as a {context}")
            return M.VOID
        if isinstance(base, A.OpaqueType):
            if isinstance(shape, A.FixedArray):
                return M.OpaqueType(True, self.size(shape.size, f"size of opaque {label}"))
            assert isinstance(shape, A.VarArray)
            return M.OpaqueType(False, self.size(shape.max, f"maximum size of opaque {label}"))
        if isinstance(base, A.StringType):
            assert isinstance(shape, A.VarArray)
            return M.StringType(self.size(shape.max, f"maximum length of string {label}"))
        element = self.type_of(base, f"{owner}_{decl.name}" if decl.name else owner)
        if isinstance(shape, A.Scalar):
            return element
        if isinstance(shape, A.FixedArray):
            return M.ArrayType(element, True, self.size(shape.size, f"size of array {label}"))
        if isinstance(shape, A.VarArray):
            return M.ArrayType(element, False, self.size(shape.max, f"maximum size of array {label}"))
        return M.OptionalType(element)

    def field(self, decl: A.Declaration, owner: str, context: str, siblings: Collection[str] = frozenset()) -> M.Field:
        """A struct or union member; ``siblings``: the .x names of the other members."""
        assert decl.name is not None
        type_ = self.declaration(decl, owner, context)
        taken = _Others(siblings, decl.name)
        return M.Field(decl.name, self.py_member(decl.name, decl.location, taken), type_, decl.location, decl.comment, decl.annotations)

    def enum(self, name: str, body: A.EnumBody, location: A.Location, comment: str | None, synthetic: bool = False) -> M.EnumDef:
        py_name = self.py(name, location)
        values = self.evaluate_enum(body)
        members = []
        seen: dict[int, A.EnumMember] = {}
        for member, value in zip(body.members, values):
            if value is None:
                continue
            if value in seen:
                # C allows it and real files rely on it (nis_object.x, gss.x): an alias
                other = seen[value]
                self.report.warning(
                    member.location,
                    f"'{member.name}' repeats the value {value} of '{other.name}' in enum '{name}'; it is generated as an alias",
                    "alias",
                )
            seen.setdefault(value, member)
            members.append(M.EnumValue(member.name, self.py(member.name, member.location, naming.ENUM_MEMBER, owner=py_name), value, member.location, member.comment, member.annotations))
        return M.EnumDef(name, py_name, members, location, comment, synthetic)

    def struct(self, name: str, body: A.StructBody, location: A.Location, comment: str | None, synthetic: bool = False) -> M.StructDef:
        fields = []
        siblings = {decl.name for decl in body.fields if decl.name is not None}
        for decl in body.fields:
            if decl.name is None:
                self.declaration(decl, name, "struct member")  # reports the misplaced void
            else:
                fields.append(self.self_reference_as_optional(self.field(decl, name, "struct member", siblings), name))
        self.no_duplicate_fields(name, fields)
        return M.StructDef(name, self.py(name, location), fields, location, comment, synthetic)

    def self_reference_as_optional(self, field: M.Field, struct: str) -> M.Field:
        """RFC 1057 wrote the portmapper list as ``struct *pmaplist { ...; pmaplist next; }``;
        copies that lost the ``*`` (pynfs) describe a struct that contains itself, which has no
        finite value. rpcgen accepts the text; the wire format is the optional-chain list, so
        read the member as ``pmaplist *next`` and say so."""
        if field.type != M.NamedType(struct):
            return field
        self.report.warning(
            field.location,
            f"struct '{struct}' contains itself in '{field.name}'; read as an optional ('{struct} *{field.name}'), "
            f"as RFC 1057's 'struct *{struct}' list",
            "recursion",
        )
        return dataclasses.replace(field, type=M.OptionalType(field.type))

    def no_duplicate_fields(self, owner: str, fields: list[M.Field]) -> None:
        seen: dict[str, M.Field] = {}
        for f in fields:
            if f.name in seen:
                self.report.error(f.location, f"duplicate member '{f.name}' in '{owner}'", note(seen[f.name].location, "first declared here"))
            else:
                seen[f.name] = f

    def union(self, name: str, body: A.UnionBody, location: A.Location, comment: str | None, synthetic: bool = False) -> M.UnionDef:
        siblings = {d.name for d in [body.discriminant] + [arm.declaration for arm in body.arms] if d.name is not None}
        discriminant = self.field(body.discriminant, name, "union discriminant", siblings)
        allowed = self.discriminant_values(discriminant, name)
        arms: list[M.UnionArm] = []
        default: M.UnionArm | None = None
        seen: dict[int, A.Location] = {}
        for arm in body.arms:
            decl = arm.declaration
            field = None if isinstance(decl.type, A.VoidType) else self.field(decl, name, "union arm", siblings)
            if isinstance(decl.type, A.VoidType):
                self.declaration(decl, name, "union arm")
            if arm.is_default:
                if default is not None:
                    self.report.error(arm.location, f"union '{name}' has more than one default arm", note(default.location, "first default is here"))
                default = M.UnionArm([], [], field, arm.location)
                continue
            values, labels = [], []
            for case in arm.cases:
                value = self.value(case, "a case value")
                label = case.text if isinstance(case, A.Literal) else case.name
                if value is None:
                    continue
                if value in seen:
                    self.report.error(case.location, f"duplicate case value {label} in union '{name}'", note(seen[value], "first used here"))
                    continue
                problem = allowed(value)
                if problem:
                    shown = label if label == str(value) else f"{label} = {value}"
                    self.report.error(case.location, f"case {shown} {problem}")
                    continue
                seen[value] = case.location
                values.append(value)
                labels.append(label)
            arms.append(M.UnionArm(values, labels, field, arm.location))
        arm_fields = [a.field for a in arms + ([default] if default else []) if a.field is not None]
        for f in arm_fields:
            if f.name == discriminant.name:
                # gssproxy's gp_rpc.x does this; both must be attributes of one Python object
                taken = {discriminant.py_name} | {g.py_name for g in arm_fields if g is not f}
                f.py_name = naming.python_name(f.name, naming.FIELD, taken, self.type_python_names())[0]
                self.report.warning(f.location, f"arm '{f.name}' has the name of the discriminant of '{name}'; it is generated as '{f.py_name}'", "discriminant")
        self.no_duplicate_fields(name, [f for f in arm_fields if f.name != discriminant.name] + [discriminant])
        return M.UnionDef(name, self.py(name, location), discriminant, arms, default, location, comment, synthetic)

    def discriminant_values(self, discriminant: M.Field, union: str) -> Callable[[int], str | None]:
        """A test that says why a case value does not fit the discriminant, or None."""
        resolved = self.resolve(discriminant.type)
        if isinstance(resolved, M.BoolType):
            return lambda v: None if v in (0, 1) else "does not fit the bool discriminant (only TRUE and FALSE)"
        if isinstance(resolved, M.IntType):
            lo, hi = resolved.min, resolved.max
            return lambda v: None if lo <= v <= hi else f"does not fit the discriminant type {resolved.name} ({lo} to {hi})"
        if isinstance(resolved, M.EnumDef):
            members = {v.value for v in resolved.values}
            return lambda v: None if v in members else f"is not a value of enum '{resolved.name}'"
        if resolved is not None:
            self.report.error(discriminant.location, f"the discriminant of union '{union}' must be an integer, bool or enum type")
        return lambda v: None

    def resolve(self, expr: M.TypeExpr) -> M.TypeExpr | A.EnumDef | M.EnumDef | None:
        """Follow names through the syntax tree (the model may not be built yet)."""
        for _ in range(1000):
            if not isinstance(expr, M.NamedType):
                return expr
            symbol = self.symbols.get(expr.name)
            if symbol is None and expr.name in self.imported:
                return self.imported[expr.name].resolve(expr)
            node = symbol.node if symbol else None
            if isinstance(node, A.TypedefDef):
                decl = node.declaration
                if not isinstance(decl.shape, A.Scalar) or isinstance(decl.type, (A.OpaqueType, A.StringType, A.VoidType)):
                    return M.VOID  # not an integer type
                inner = decl.type
                if isinstance(inner, A.BuiltinType):
                    return M.BUILTIN_KEYWORD_TYPES[inner.name]
                if isinstance(inner, A.TypeRef):
                    if inner.name not in self.symbols and inner.name in M.C_TYPE_NAMES:
                        return M.C_TYPE_NAMES[inner.name]
                    expr = M.NamedType(inner.name)
                    continue
                if isinstance(inner, A.InlineEnum):
                    return self.enum(expr.name, inner.body, inner.location, None)
                return M.VOID
            if isinstance(node, A.EnumDef):
                return M.EnumDef(node.name, node.name, [M.EnumValue(m.name, m.name, v, m.location) for m, v in zip(node.body.members, self.evaluate_enum(node.body)) if v is not None], node.location)
            for pending in self.pending_inline:
                if pending.name == expr.name and isinstance(pending, M.EnumDef):
                    return pending
            return None if node is None else M.VOID
        return None

    # ---- definitions ---------------------------------------------------------------------

    def add_type(self, definition: M.TypeDefinition) -> None:
        for inline in self.pending_inline:
            self.module.add_type(inline)
        self.pending_inline.clear()
        self.module.add_type(definition)

    def build(self) -> M.Module:
        """The model of the file (after ``collect``, once every file's names are known)."""
        module = self.module
        for item in _flatten(self.spec.items):
            if id(item) in self.skipped:
                continue
            if isinstance(item, A.Passthrough):
                module.passthrough.append(item.text)
            elif isinstance(item, A.Pragma):
                module.pragmas.append(item.words)
            elif isinstance(item, (A.ConstDef, A.MacroConstant)):
                value = self.constant_any(item.name, item.location, "a constant")
                if value is not None:
                    origin = "const" if isinstance(item, A.ConstDef) else ("command line" if item.location.line == 0 else "#define")
                    module.constants.append(M.Constant(item.name, self.py(item.name, item.location), value, item.location, origin, getattr(item, "comment", None)))
            elif isinstance(item, A.TypedefDef):
                decl = item.declaration
                type_ = self.declaration(decl, item.name, "typedef")
                if isinstance(decl.type, A.InlineEnum | A.InlineStruct | A.InlineUnion) and isinstance(decl.shape, A.Scalar):
                    # C style "typedef struct { ... } name;": the inline type takes the name
                    inline = self.pending_inline.pop()
                    inline.name, inline.py_name, inline.synthetic, inline.comment = item.name, self.py(item.name, item.location), False, item.comment
                    self.add_type(inline)
                else:
                    self.add_type(M.AliasDef(item.name, self.py(item.name, item.location), type_, item.location, item.comment))
            elif isinstance(item, A.EnumDef):
                self.add_type(self.enum(item.name, item.body, item.location, item.comment))
            elif isinstance(item, A.StructDef):
                self.add_type(self.struct(item.name, item.body, item.location, item.comment))
            elif isinstance(item, A.UnionDef):
                self.add_type(self.union(item.name, item.body, item.location, item.comment))
            elif isinstance(item, A.ProgramDef):
                module.programs.append(self.program(item))
        self.check_alias_loops()
        self.check_recursion()
        self.check_rpc_class_names()
        return module

    def check_rpc_class_names(self) -> None:
        """The RPC classes of a version (``<VERSION>_Client`` ...) are module names too: a
        definition of the same name is an error, since the names are fixed for their users."""
        taken = {t.py_name: t.location for t in self.module.types} | {c.py_name: c.location for c in self.module.constants}
        for e in self.module.types:
            if isinstance(e, M.EnumDef):
                taken.update((v.py_name, v.location) for v in e.values)
        for program in self.module.programs:
            for version in program.versions:
                for name in naming.rpc_classes(version.py_name):
                    if name in taken:
                        self.report.error(taken[name], f"'{name}' is the name of an RPC class of version '{version.name}'; rename the definition", note(version.location, "version declared here"))

    def program(self, node: A.ProgramDef) -> M.Program:
        number = self.unsigned(node.number, "a program number") or 0
        self.module.constants.append(M.Constant(node.name, self.py(node.name, node.location), number, node.location, "program", node.comment))
        versions: list[M.Version] = []
        seen_versions: dict[int, A.Location] = {}
        for version in node.versions:
            vnum = self.unsigned(version.number, "a version number") or 0
            if vnum in seen_versions:
                self.report.error(version.location, f"duplicate version number {vnum} in program '{node.name}'", note(seen_versions[vnum], "first used here"))
            seen_versions[vnum] = version.location
            version_py = self.py(version.name, version.location)
            self.module.constants.append(M.Constant(version.name, version_py, vnum, version.location, "version"))
            # a procedure's name is a member of the version's procedure IntEnum too
            procedure_py = functools.partial(self.py, position=naming.ENUM_MEMBER, owner=naming.procedure_enum(version_py))
            procedures = []
            seen_procs: dict[int, A.Location] = {}
            for proc in version.procedures:
                pnum = self.unsigned(proc.number, "a procedure number") or 0
                if pnum in seen_procs:
                    self.report.error(proc.number.location, f"duplicate procedure number {pnum} in version '{version.name}'", note(seen_procs[pnum], "first used here"))
                seen_procs[pnum] = proc.location
                if not any(c.name == proc.name for c in self.module.constants):
                    self.module.constants.append(M.Constant(proc.name, procedure_py(proc.name, proc.location), pnum, proc.location, "procedure"))
                args = [self.type_of(a, f"{proc.name}_arg{i + 1}") for i, a in enumerate(proc.arguments)]
                if len(args) > 1 and any(isinstance(a, M.VoidType) for a in args):
                    self.report.error(proc.location, f"procedure '{proc.name}' mixes void with other arguments")
                args = [self.named(a, f"{proc.name}_arg{i + 1}", proc.location) for i, a in enumerate(args) if not isinstance(a, M.VoidType)]
                result = self.named(self.type_of(proc.result, f"{proc.name}_result"), f"{proc.name}_result", proc.location)
                for inline in self.pending_inline:
                    self.module.add_type(inline)
                    self.module.invented.add(inline.name)
                self.pending_inline.clear()
                procedures.append(M.Procedure(proc.name, procedure_py(proc.name, proc.location), pnum, args, result, proc.location, proc.comment, proc.annotations))
            self.warn_renamed_methods(version.name, procedures)
            versions.append(M.Version(version.name, version_py, vnum, procedures, version.location))
        return M.Program(node.name, self.py(node.name, node.location), number, versions, node.location, node.comment)

    def warn_renamed_methods(self, version: str, procedures: list[M.Procedure]) -> None:
        """A warning for each procedure whose method in the RPC classes is not its name
        lower-cased (the back end names them with the same rule)."""
        taken: set[str] = set()
        for proc in procedures:
            method, why = naming.rpc_method_name(proc.name, self.type_python_names(), taken)
            taken.add(method)
            if why is not None:
                self.report.warning(proc.location, f"the method of procedure '{proc.name}' in version '{version}' {why}; it is generated as '{method}'", "shadow")

    def named(self, expr: M.TypeExpr, base: str, location: A.Location) -> M.TypeExpr:
        """A procedure's unnamed argument or result type (``string``, ``unsigned int``) gets a
        typedef of its own, so every procedure type has a codec of its own."""
        if isinstance(expr, (M.NamedType, M.VoidType)):
            return expr
        name = self.unique_inline_name(base)
        self.pending_inline.append(M.AliasDef(name, name, expr, location, synthetic=True))
        return M.NamedType(name)

    # ---- recursion -----------------------------------------------------------------------

    def check_alias_loops(self) -> None:
        """A typedef that reaches itself through typedefs, optionals and arrays alone
        (``typedef struct mountlist *mountlist;``, where C's ``struct mountlist`` is another
        name) describes no type: only a struct or union can contain itself."""
        aliases = {d.name: d for d in self.module.types if isinstance(d, M.AliasDef)}
        order = {name: n for n, name in enumerate(aliases)}  # the order of the file
        # each typedef names at most one other typedef (arrays and optionals stripped): the
        # graph has out-degree one, so one walk per typedef, marking what it saw, finds every
        # loop in linear time
        following: dict[str, str] = {}
        for name, alias in aliases.items():
            expr = alias.type
            while isinstance(expr, (M.ArrayType, M.OptionalType)):
                expr = expr.element
            if isinstance(expr, M.NamedType) and expr.name in aliases:
                following[name] = expr.name
        walked: dict[str, int] = {}  # typedef -> the walk that reached it first
        for walk, start in enumerate(aliases):
            name = start
            while name not in walked:
                walked[name] = walk
                if name not in following:
                    break
                name = following[name]
            else:
                if walked[name] != walk:
                    continue  # joins a path walked before: any loop there is reported
                loop = [name]
                while following[loop[-1]] != name:
                    loop.append(following[loop[-1]])
                first = loop.index(min(loop, key=order.__getitem__))
                chain = loop[first:] + loop[:first]
                # reported at the first typedef of the loop in the file, once per loop
                self.report.error(
                    aliases[chain[0]].location,
                    f"typedef '{chain[0]}' is defined in terms of itself ({' -> '.join(chain + [chain[0]])}); "
                    "only a struct or union can contain itself",
                )

    def check_recursion(self) -> None:
        """Every type needs a finite value: a type that contains itself must be able to stop,
        through an optional ('*'), a variable-length array ('<>') or a union arm that does
        not recurse. Computed as a least fixpoint, so mutual recursion is covered too."""
        types = {d.name: d for d in self.module.types}
        # A struct or typedef needs every type it holds by value; a union needs its
        # discriminant and one arm. Each definition counts what it still waits for; a type
        # that becomes finite tells the definitions waiting on it (a worklist: linear in the
        # number of references, whatever the order of the file).
        waiting: dict[str, int] = {}  # struct, typedef, union discriminant: names still missing
        arm_waiting: dict[str, bool] = {}  # union: True while no arm is known finite
        dependents: dict[str, list[tuple[str, bool]]] = {}  # name -> (definition, as an arm)

        def held(expr: M.TypeExpr) -> str | None:
            while isinstance(expr, M.ArrayType) and expr.fixed and expr.size > 0:
                expr = expr.element
            return expr.name if isinstance(expr, M.NamedType) and expr.name in types and not isinstance(types[expr.name], M.EnumDef) else None

        ready: list[str] = []
        for name, d in types.items():
            if isinstance(d, M.UnionDef):
                arms = [None if a.field is None else held(a.field.type) for a in d.all_arms]
                arm_waiting[name] = all(arms)
                for arm in set(a for a in arms if a):
                    dependents.setdefault(arm, []).append((name, True))
                needed = {n for n in [held(d.discriminant.type)] if n}
            elif isinstance(d, (M.StructDef, M.AliasDef)):
                needed = {n for n in map(held, [f.type for f in d.fields] if isinstance(d, M.StructDef) else [d.type]) if n}
            else:
                needed = set()
            waiting[name] = len(needed)
            for n in needed:
                dependents.setdefault(n, []).append((name, False))
            if not needed and not arm_waiting.get(name, False):
                ready.append(name)
        finite = set(ready)
        while ready:
            for dependent, as_arm in dependents.get(ready.pop(), ()):
                if as_arm:
                    arm_waiting[dependent] = False
                else:
                    waiting[dependent] -= 1
                if dependent not in finite and waiting[dependent] == 0 and not arm_waiting.get(dependent, False):
                    finite.add(dependent)
                    ready.append(dependent)
        # each infinite type leads, through its first infinite part, to one next type: walk
        # those steps until a name repeats (that loop is the cause); a walk that reaches a type
        # an earlier walk saw stops, since its loop is reported already
        walked: dict[str, int] = {}
        for walk, name in enumerate(types):
            if name in finite:
                continue
            path: list[str] = []
            while name not in walked:
                walked[name] = walk
                path.append(name)
                name = next(n for n in _direct_names(types[name]) if n in types and n not in finite)
            if walked[name] != walk:
                continue
            cycle = path[path.index(name) :]
            chain = " -> ".join(cycle + [cycle[0]])
            self.report.error(
                types[cycle[0]].location,
                f"recursive type '{cycle[0]}' has no finite value ({chain}); "
                "recursion must be able to end through an optional ('*'), a variable-length array ('<>') or a union arm",
            )


class _Others(Collection[str]):
    """The names of a scope but one (the name being named), without copying the scope."""

    def __init__(self, names: Collection[str], name: str) -> None:
        self.names, self.name = names, name

    def __contains__(self, other: object) -> bool:
        return other != self.name and other in self.names

    def __iter__(self) -> Iterator[str]:
        return (n for n in self.names if n != self.name)

    def __len__(self) -> int:
        return len(self.names) - (self.name in self.names)


def _type_refs(node: object) -> set[str]:
    """The names of the types a syntax tree refers to."""
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, A.TypeRef):
            found.add(item.name)
        elif isinstance(item, tuple):
            pending.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, (type, A.Location, A.Include)):
            pending.extend(getattr(item, f.name) for f in dataclasses.fields(item))
    return found


def _direct_names(definition: M.TypeDefinition) -> Iterator[str]:
    """Names a definition holds by value (not behind '*' or '<>')."""
    if isinstance(definition, M.StructDef):
        exprs = [f.type for f in definition.fields]
    elif isinstance(definition, M.UnionDef):
        exprs = [definition.discriminant.type] + [a.field.type for a in definition.all_arms if a.field]
    elif isinstance(definition, M.AliasDef):
        exprs = [definition.type]
    else:
        exprs = []
    for expr in exprs:
        while isinstance(expr, M.ArrayType) and expr.fixed and expr.size > 0:
            expr = expr.element
        if isinstance(expr, M.NamedType):
            yield expr.name


def _same_tree(a: object, b: object) -> bool:
    """Equal definitions, ignoring where they were written."""
    return type(a) is type(b) and _without_locations(a) == _without_locations(b)


def _without_locations(node: object) -> object:
    if isinstance(node, A.Location):
        return None
    if isinstance(node, tuple):
        return tuple(_without_locations(n) for n in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return (type(node).__name__,) + tuple(
            _without_locations(getattr(node, f.name)) for f in dataclasses.fields(node) if f.name not in ("comment", "annotations")
        )
    return node


def _is_c_tag_typedef(definition: object) -> bool:
    if not isinstance(definition, A.TypedefDef):
        return False
    decl = definition.declaration
    return isinstance(decl.type, A.TypeRef) and decl.type.keyword is not None and decl.type.name == decl.name and isinstance(decl.shape, A.Scalar)


def _flatten(items: tuple[A.Item, ...]) -> Iterator[A.Item]:
    for item in items:
        if isinstance(item, A.Namespace):
            yield from _flatten(item.items)
        elif not isinstance(item, A.Include):  # an included file is checked on its own
            yield item


def _enum_bodies(node: object) -> Iterator[A.EnumBody]:
    """Every enum body inside a definition, inline ones included."""
    if isinstance(node, A.EnumDef):
        yield node.body
    elif isinstance(node, A.InlineEnum):
        yield node.body
    elif isinstance(node, A.TypedefDef):
        yield from _enum_bodies(node.declaration.type)
    elif isinstance(node, (A.StructDef, A.InlineStruct)):
        for decl in node.body.fields:
            yield from _enum_bodies(decl.type)
    elif isinstance(node, (A.UnionDef, A.InlineUnion)):
        yield from _enum_bodies(node.body.discriminant.type)
        for arm in node.body.arms:
            yield from _enum_bodies(arm.declaration.type)


@dataclass(frozen=True)
class Unit:
    """One file of a set checked together: its syntax tree, a key that is the same for every
    inclusion of the file, the keys of the files it includes, and whether it is xdrgen's own
    RPC definitions (consulted only for names no other file defines)."""

    key: object
    spec: A.Specification
    includes: tuple[object, ...] = ()
    bundled: bool = False


class _CheckSet:
    """Checks files that use each other's definitions. A name a file does not define means,
    in this order: the definition of one of the files it includes (directly or not); a C type
    name rpcgen knows (``uint32_t``); the definition of one other file of the set; one of the
    bundled RPC definitions. Two files of one rank defining it make the name ambiguous."""

    def __init__(self, units: Sequence[Unit], reporter: Reporter) -> None:
        self.units = list(units)
        self.report = reporter
        self.checkers = {u.key: _Checker(u.spec, reporter) for u in self.units}
        self.reported: set[tuple[int, str]] = set()

    def build(self) -> list[M.Module]:
        for checker in self.checkers.values():
            checker.collect()
            checker.declared = dict(checker.symbols)
        for unit in self.units:
            module = self.checkers[unit.key].module
            module.includes = [self.checkers[k].module for k in unit.includes if k != unit.key]
            module.bundled = unit.bundled
        by_module = {id(c.module): c for c in self.checkers.values()}
        for unit in self.units:
            checker = self.checkers[unit.key]
            included = [by_module[id(m)] for m in M.included_modules(checker.module)]
            self.drop_repeats(checker, included)
            others = [c for c in self.checkers.values() if c is not checker and c not in included]
            ranks = (included, [c for c in others if not c.module.bundled], [c for c in others if c.module.bundled])
            checker.outside = functools.partial(self.lookup, checker, ranks)
        modules = [self.checkers[u.key].build() for u in self.units]
        for checker in self.checkers.values():
            checker.module.imports = {name: owner.module for name, owner in sorted(checker.imported.items()) if owner.symbols[name].kind == "type"}
        for module in modules:
            for location, message in module.link():
                self.report.error(location, message)
        return modules

    def drop_repeats(self, checker: _Checker, included: list[_Checker]) -> None:
        """A definition repeated word for word from an included file is the included one (as
        rpcgen, which sees both after cpp, takes one): one type, one class."""
        for name, symbol in list(checker.declared.items()):
            if symbol.kind not in ("type", "constant"):
                continue
            for other in included:
                previous = other.declared.get(name)
                if previous is not None and _same_tree(symbol.node, previous.node):
                    checker.report.warning(symbol.location, f"'{name}' is defined again, identically, as in {other.spec.file}; the repetition is ignored", "duplicate")
                    checker.skipped.add(id(symbol.node))
                    members = [m.name for body in _enum_bodies(symbol.node) for m in body.members]
                    for gone in [name, *members]:
                        checker.symbols.pop(gone, None)
                        checker.declared.pop(gone, None)
                    break

    def lookup(
        self, checker: _Checker, ranks: tuple[list[_Checker], ...], name: str, among_included: bool, location: A.Location | None, type_: bool
    ) -> _Checker | None:
        for rank in ranks[:1] if among_included else ranks[1:]:
            found = [c for c in rank if name in c.declared and (c.declared[name].kind == "type") == type_]
            if len(found) > 1 and (id(checker), name) not in self.reported:
                self.reported.add((id(checker), name))
                first, second = (c.declared[name].location for c in found[:2])
                self.report.error(
                    location,
                    f"'{name}' is defined in {found[0].spec.file} and in {found[1].spec.file}; which one is meant is ambiguous (define it in this file, or pass only one of them)",
                    note(first, f"'{name}' is defined here"),
                    note(second, "and here"),
                )
            if found:
                return found[0]
        return None


def check_set(units: Sequence[Unit], reporter: Reporter | None = None) -> list[M.Module]:
    """Check files that use each other's definitions (see ``_CheckSet``): one model each, in
    the order of ``units``. Raises XdrgenError with every error found; warnings stay in
    ``reporter`` for the caller to print."""
    reporter = reporter if reporter is not None else Reporter()
    # Constants defined by other constants (A0 = A1; A1 = A2 ...) are resolved by recursion, one
    # level per link: give legal chains of thousands room, and refuse deeper ones cleanly.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, CHECK_RECURSION_LIMIT))
    try:
        modules = _CheckSet(units, reporter).build()
    except RecursionError:
        reporter.error(None, f"definitions refer to each other more than {CHECK_RECURSION_LIMIT // 4:,} deep")
        modules = [M.Module(u.spec.file) for u in units]
    finally:
        sys.setrecursionlimit(limit)
    reporter.raise_if_errors()
    return modules


def check(spec: A.Specification, reporter: Reporter | None = None) -> M.Module:
    """Check one parsed file on its own (the files it includes must not be needed)."""
    return check_set([Unit(spec.file, spec)], reporter)[0]


CHECK_RECURSION_LIMIT = 20_000
