"""Python statements that encode and decode one XDR type expression.

The templates lay out classes and functions; this module writes the statements inside them,
specialised per type at generation time (no descriptors are interpreted at run time).
Encoders append ``bytes`` to ``out``; decoders read ``buf`` at ``pos`` and advance ``pos``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from . import model as M
from .layout import LINE_LENGTH


def pystr(text: str) -> str:
    """A string literal as black writes it: double quotes, unless they would need escapes."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def python_type(expr: M.TypeExpr, module: M.Module) -> str:
    """The annotation for a value of ``expr``."""
    if isinstance(expr, M.IntType):
        return "int"
    if isinstance(expr, M.FloatType):
        return "float"
    if isinstance(expr, M.BoolType):
        return "bool"
    if isinstance(expr, M.VoidType):
        return "None"
    if isinstance(expr, M.OpaqueType):
        return "bytes"
    if isinstance(expr, M.StringType):
        return "str"
    if isinstance(expr, M.ArrayType):
        return f"list[{python_type(expr.element, module)}]"
    if isinstance(expr, M.OptionalType):
        return f"{python_type(expr.element, module)} | None"
    return module.type_named(expr.name).py_name


def min_size(expr: M.TypeExpr, module: M.Module, seen: frozenset[str] = frozenset()) -> int:
    """The fewest bytes any value of ``expr`` takes: bounds a length prefix before allocating."""
    if isinstance(expr, (M.IntType, M.FloatType)):
        return expr.bits // 8
    if isinstance(expr, (M.BoolType, M.OptionalType, M.StringType)):
        return 4
    if isinstance(expr, M.VoidType):
        return 0
    if isinstance(expr, M.OpaqueType):
        return (expr.size + 3) // 4 * 4 if expr.fixed else 4
    if isinstance(expr, M.ArrayType):
        return expr.size * min_size(expr.element, module, seen) if expr.fixed else 4
    if expr.name in seen:
        return 0
    definition = module.type_named(expr.name)
    inner = seen | {expr.name}
    if isinstance(definition, M.EnumDef):
        return 4
    if isinstance(definition, M.StructDef):
        return sum(min_size(f.type, module, inner) for f in definition.fields)
    if isinstance(definition, M.UnionDef):
        arms = definition.all_arms
        return 4 + min((min_size(a.field.type, module, inner) if a.field else 0 for a in arms), default=0)
    return min_size(definition.type, module, inner)


@dataclass
class CodeWriter:
    """Writes the checked statements of one function: a runtime helper call per value, each
    naming the field and offset of any error. ``temp`` gives fresh local names."""

    module: M.Module
    lines: list[str] = field(default_factory=list)
    counter: int = 0

    def temp(self, base: str) -> str:
        self.counter += 1
        return f"_{base}{self.counter}"

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def emit_if(self, indent: int, conditions: list[str]) -> None:
        """``if a or b:``, split one condition per line when too long, as black splits it."""
        line = f"if {' or '.join(conditions)}:"
        if len(conditions) == 1 or 4 * indent + len(line) <= LINE_LENGTH:
            self.emit(indent, line)
            return
        self.emit(indent, "if (")
        for n, condition in enumerate(conditions):
            self.emit(indent + 1, f"{'or ' if n else ''}{condition}")
        self.emit(indent, "):")

    # ---- encoding --------------------------------------------------------------------------

    def encode(self, expr: M.TypeExpr, value: str, path: str, indent: int) -> None:
        p = pystr(path)
        if isinstance(expr, M.IntType):
            fn = "enc_int" if expr.bits == 32 else "enc_int64"
            self.emit(indent, f"_rt.{fn}(out, {value}, {expr.min}, {expr.max}, {p})")
        elif isinstance(expr, M.FloatType):
            if expr.bits == 128:
                raise GenerationError("quadruple (128-bit float) has no Python encoding")
            self.emit(indent, f"_rt.{'enc_float' if expr.bits == 32 else 'enc_double'}(out, {value}, {p})")
        elif isinstance(expr, M.BoolType):
            self.emit(indent, f"_rt.enc_bool(out, {value}, {p})")
        elif isinstance(expr, M.VoidType):
            pass
        elif isinstance(expr, M.OpaqueType):
            fn = "enc_opaque_fixed" if expr.fixed else "enc_opaque_var"
            self.emit(indent, f"_rt.{fn}(out, {value}, {expr.size}, {p})")
        elif isinstance(expr, M.StringType):
            self.emit(indent, f"_rt.enc_string(out, {value}, {expr.max}, {p})")
        elif isinstance(expr, M.ArrayType):
            items = self.temp("items")
            item = self.temp("item")
            self.emit(indent, f"{items} = _rt.enc_list({value}, {p})")
            if expr.fixed:
                self.emit(indent, f"_rt.enc_fixed_count(len({items}), {expr.size}, {p})")
            else:
                self.emit(indent, f"_rt.enc_count(out, len({items}), {expr.size}, {p})")
            self.emit(indent, f"for {item} in {items}:")
            before = len(self.lines)
            self.encode(expr.element, item, path, indent + 1)
            if len(self.lines) == before:
                self.emit(indent + 1, "pass")
        elif isinstance(expr, M.OptionalType):
            self.emit(indent, f"if {value} is None:")
            self.emit(indent + 1, "out.append(_rt.ZERO)")
            self.emit(indent, "else:")
            self.emit(indent + 1, "out.append(_rt.ONE)")
            self.encode(expr.element, value, path, indent + 1)
        else:
            self.call_named(expr, f"_enc_{self.module.type_named(expr.name).py_name}({value}, out)", path, indent)

    # ---- decoding --------------------------------------------------------------------------

    def decode(self, expr: M.TypeExpr, target: str, path: str, indent: int) -> None:
        p = pystr(path)
        if isinstance(expr, M.IntType):
            if expr.bits == 64:
                fn = "dec_int64" if expr.signed else "dec_uint64"
                self.emit(indent, f"{target}, pos = _rt.{fn}(buf, pos, {p})")
            elif (expr.min, expr.max) == (M.INT.min, M.INT.max):
                self.emit(indent, f"{target}, pos = _rt.dec_int32(buf, pos, {p})")
            elif (expr.min, expr.max) == (0, M.UINT32_MAX):
                self.emit(indent, f"{target}, pos = _rt.dec_uint32(buf, pos, {p})")
            else:
                self.emit(indent, f"{target}, pos = _rt.dec_int(buf, pos, {expr.min}, {expr.max}, {p})")
        elif isinstance(expr, M.FloatType):
            if expr.bits == 128:
                raise GenerationError("quadruple (128-bit float) has no Python encoding")
            self.emit(indent, f"{target}, pos = _rt.{'dec_float' if expr.bits == 32 else 'dec_double'}(buf, pos, {p})")
        elif isinstance(expr, M.BoolType):
            self.emit(indent, f"{target}, pos = _rt.dec_bool(buf, pos, {p})")
        elif isinstance(expr, M.VoidType):
            self.emit(indent, f"{target} = None")
        elif isinstance(expr, M.OpaqueType):
            fn = "dec_opaque_fixed" if expr.fixed else "dec_opaque_var"
            self.emit(indent, f"{target}, pos = _rt.{fn}(buf, pos, {expr.size}, {p})")
        elif isinstance(expr, M.StringType):
            self.emit(indent, f"{target}, pos = _rt.dec_string(buf, pos, {expr.max}, {p})")
        elif isinstance(expr, M.ArrayType):
            count = self.temp("n")
            item = self.temp("item")
            element_type = python_type(expr.element, self.module)
            if expr.fixed:
                need = min_size(expr, self.module)
                self.emit(indent, f"if pos + {need} > len(buf):")
                self.emit(indent + 1, f"raise _rt.truncated(buf, pos, {need}, {p})")
                self.emit(indent, f"{count} = {expr.size}")
            else:
                each = min_size(expr.element, self.module)
                self.emit(indent, f"{count}, pos = _rt.dec_count(buf, pos, {expr.size}, {each}, {p})")
            self.emit(indent, f"{target}: list[{element_type}] = []")
            self.emit(indent, f"for _ in range({count}):")
            self.decode(expr.element, f"{item}", path, indent + 1)
            self.emit(indent + 1, f"{target}.append({item})")
        elif isinstance(expr, M.OptionalType):
            flag = self.temp("present")
            self.emit(indent, f"{flag}, pos = _rt.dec_bool(buf, pos, {p})")
            self.emit(indent, f"{target}: {python_type(expr, self.module)} = None")
            self.emit(indent, f"if {flag}:")
            inner = self.temp("value")
            self.decode(expr.element, inner, path, indent + 1)
            self.emit(indent + 1, f"{target} = {inner}")
        else:
            self.call_named(expr, f"{target}, pos = _dec_{self.module.type_named(expr.name).py_name}(buf, pos)", path, indent)

    def call_named(self, expr: M.NamedType, call: str, path: str, indent: int) -> None:
        """A call into another type's codec; its errors are re-rooted at this field (the
        try costs nothing on Python 3.11 unless an error is raised)."""
        if "." not in path.partition(".")[2]:
            self.emit(indent, call)  # a typedef's own body: its path is already the type's
            return
        inner = f"{path.partition('.')[0]}.{expr.name}"
        self.emit(indent, "try:")
        self.emit(indent + 1, call)
        self.emit(indent, "except _rt.XdrError as error:")
        self.emit(indent + 1, f"_rt.relabel(error, {pystr(inner)}, {pystr(path)})")
        self.emit(indent + 1, "raise")


# ---- the fast path ---------------------------------------------------------------------------
#
# The fast statements fuse runs of fixed-size values into one precompiled struct.Struct, read
# strings and opaques by offset and build the output of a struct with one ``out +=``. They
# check as much as the checked statements do, but only say "no" (one of _rt.FAST_ERRORS); the
# function then runs the checked statements, which say why and where.

FIXED_INT_FORMATS = {(32, True): "i", (32, False): "I", (64, True): "q", (64, False): "Q"}
FLOAT_FORMATS = {32: "f", 64: "d"}
# parts of the output that cannot fail: already computed bytes are kept for a later ``out +=``
SETTLED_PARTS = ("_rt.PADDING[", "_rt.ZEROS[")
NO_LIMIT = M.UINT32_MAX  # a length limit the 32-bit length word enforces by itself


class StructFormats:
    """The struct.Struct objects a module needs, one per format, named after the format."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def name(self, fmt: str) -> str:
        return self.names.setdefault(fmt, f"_S_{fmt}")

    def definitions(self) -> list[str]:
        return [f'{name}: Final = _rt.Struct(">{fmt}")' for fmt, name in sorted(self.names.items())]


def _full_range(expr: M.IntType) -> bool:
    return (expr.min, expr.max) in ((-(1 << (expr.bits - 1)), (1 << (expr.bits - 1)) - 1), (0, (1 << expr.bits) - 1))


# the types a flat struct may hold besides flat structs: each one run of bytes expressions
FLAT_LEAVES = (M.IntType, M.FloatType, M.BoolType, M.EnumDef, M.StringType, M.OpaqueType, M.VoidType)
FLAT_LIMIT = 32  # leaves of a struct written out where it is used; bigger ones are called


class FlatShapes:
    """Which structs and unions of a module are written out in one run of bytes expressions.
    The generator asks it what functions a type gets; the fast writers, how to write a value."""

    def __init__(self, module: M.Module) -> None:
        self.module = module
        self.leaves: dict[str, int | None] = {}  # flat_leaves, per struct

    def flat(self, t: M.TypeExpr | M.TypeDefinition) -> bool:
        """A struct of numbers, strings, opaques and flat structs only (no arrays, optionals or
        unions): written out field by field where it is used, so that its fixed-size runs fuse
        with its neighbours' (NFSv3's fattr3 inside post_op_attr is one struct.Struct)."""
        return isinstance(t, M.StructDef) and self.flat_leaves(t) is not None

    def packs(self, t: M.TypeExpr | M.TypeDefinition) -> bool:
        """Whether ``t`` has a ``_pack_`` function: its whole value in one expression of bytes.
        So a flat struct, and a union whose every arm is a flat value."""
        if isinstance(t, M.UnionDef):
            return all(arm.field is None or self.flat_value(arm.field.type) for arm in t.all_arms)
        return self.flat(t)

    def flat_value(self, expr: M.TypeExpr) -> bool:
        """A value written out in one run of bytes expressions: a leaf or a flat struct."""
        inner = self.module.resolve(expr)
        return isinstance(inner, FLAT_LEAVES) or self.flat(inner)

    def fixed(self, t: M.TypeExpr | M.TypeDefinition) -> bool:
        """A flat struct without strings or variable opaques: one struct.Struct reads it all."""
        if not (isinstance(t, M.StructDef) and self.flat(t)):
            return False
        for f in t.fields:
            inner = self.module.resolve(f.type)
            if isinstance(inner, M.StringType) or (isinstance(inner, M.OpaqueType) and not inner.fixed):
                return False
            if isinstance(inner, M.StructDef) and not self.fixed(inner):
                return False
        return True

    def flat_leaves(self, t: M.StructDef, seen: frozenset[str] = frozenset()) -> int | None:
        if t.name not in self.leaves:
            total: int | None = 0
            for f in t.fields:
                inner = self.module.resolve(f.type)
                if isinstance(inner, M.StructDef) and inner.name not in seen:
                    count = self.flat_leaves(inner, seen | {t.name})
                elif isinstance(inner, FLAT_LEAVES):
                    count = 1
                else:
                    count = None
                if count is None or total is None or total + count > FLAT_LIMIT:
                    total = None
                    break
                total += count
            self.leaves[t.name] = total
        return self.leaves[t.name]


@dataclass
class _FastWriter(CodeWriter):
    """Its temporaries have names the checked writer never uses (it writes the same function)."""

    shapes: FlatShapes = field(kw_only=True)  # one per module: its counts are cached
    formats: StructFormats = field(default_factory=StructFormats)
    slots: list[tuple[str, str]] = field(default_factory=list)  # (format, value) being fused

    def inline(self, expr: M.TypeExpr) -> M.TypeExpr | M.TypeDefinition:
        """What ``expr`` is written as: typedefs are inlined, structs and unions are called."""
        return self.module.resolve(expr)

    def number_format(self, expr: M.TypeExpr | M.TypeDefinition) -> str | None:
        """The struct format of a fixed-size number whose range the format itself checks."""
        if isinstance(expr, M.IntType) and _full_range(expr):
            return FIXED_INT_FORMATS[expr.bits, expr.signed]
        if isinstance(expr, M.FloatType) and expr.bits in FLOAT_FORMATS:
            return FLOAT_FORMATS[expr.bits]
        return None


@dataclass
class FastEncoder(_FastWriter):
    """Fast encoding statements. ``parts`` are expressions of bytes still to be added to ``out``."""

    parts: list[str] = field(default_factory=list)

    def flush_slots(self) -> None:
        if self.slots:
            fmt = "".join(f for f, _ in self.slots)
            self.parts.append(f"{self.formats.name(fmt)}.pack({', '.join(v for _, v in self.slots)})")
            self.slots = []

    def flush(self, indent: int) -> None:
        self.flush_slots()
        if len(self.parts) == 1:
            self.emit(indent, f"out.append({self.parts[0]})")
        elif self.parts:
            self.emit(indent, f"out += ({', '.join(self.parts)})")
        self.parts = []

    def local(self, value: str, indent: int, base: str = "x") -> str:
        """``value`` in a local, so that it is read once."""
        if value.isidentifier():
            return value
        name = self.temp(base)
        self.emit(indent, f"{name} = {value}")
        return name

    def encode(self, expr: M.TypeExpr, value: str, path: str, indent: int) -> None:
        t = self.inline(expr)
        fmt = self.number_format(t)
        if fmt:
            self.slots.append((fmt, value))
        elif isinstance(t, M.IntType):  # char, short: 4 bytes, a narrower range
            x = self.local(value, indent)
            self.emit(indent, f"if not {t.min} <= {x} <= {t.max}:")
            self.emit(indent + 1, "raise _rt.Reject")
            self.slots.append((FIXED_INT_FORMATS[32, t.signed], x))
        elif isinstance(t, M.FloatType):
            raise GenerationError("quadruple (128-bit float) has no Python encoding")
        elif isinstance(t, M.BoolType):
            x = self.local(value, indent)
            self.emit(indent, f"if {x} is not True and {x} is not False:")  # 1 == True, yet not a bool
            self.emit(indent + 1, "raise _rt.Reject")
            self.slots.append(("I", x))
        elif isinstance(t, M.EnumDef):
            self.slots.append(("i", f"_{t.py_name}_ENCODABLE[{value}]"))
        elif isinstance(t, M.VoidType):
            pass
        elif isinstance(t, (M.StringType, M.OpaqueType)):
            self.encode_bytes(t, value, indent)
        elif isinstance(t, M.ArrayType):
            self.encode_array(t, value, path, indent)
        elif isinstance(t, M.OptionalType):
            x = self.local(value, indent)
            self.flush(indent)
            self.emit(indent, f"if {x} is None:")
            self.emit(indent + 1, "out.append(_rt.ZERO)")
            self.emit(indent, "else:")
            self.parts.append("_rt.ONE")
            self.encode(t.element, x, path, indent + 1)
            self.flush(indent + 1)
        elif isinstance(t, M.StructDef) and self.shapes.flat(t):
            x = self.local(value, indent, "st")
            self.emit(indent, f"if not isinstance({x}, {t.py_name}):")
            self.emit(indent + 1, "raise _rt.Reject")
            for f in t.fields:
                self.encode(f.type, f"{x}.{f.py_name}", f"{path}.{f.name}", indent)
        else:
            assert isinstance(expr, M.NamedType) and isinstance(t, (M.StructDef, M.UnionDef))
            packs = self.shapes.packs(t)
            if not packs or self.slots or not all(p.isidentifier() or p.startswith(SETTLED_PARTS) for p in self.parts):
                self.flush(indent)  # what comes before is checked before it, as the checked path does
            if packs:  # its bytes join the following parts: no output list passed down
                data = self.temp("p")
                self.call_named(expr, f"{data} = _pack_{t.py_name}({value})", path, indent)
                self.parts.append(data)
            else:
                self.call_named(expr, f"_enc_{t.py_name}({value}, out)", path, indent)

    def flush_return(self, indent: int) -> None:
        """``return`` the bytes still to be added, where there is no ``out`` (``_pack_``)."""
        self.flush_slots()
        joined = {0: 'b""', 1: "".join(self.parts)}.get(len(self.parts), f'b"".join(({", ".join(self.parts)}))')
        self.emit(indent, f"return {joined}")
        self.parts = []

    def encode_bytes(self, t: M.StringType | M.OpaqueType, value: str, indent: int) -> None:
        data, size = self.temp("b"), self.temp("len")
        fixed = isinstance(t, M.OpaqueType) and t.fixed
        limit = t.size if isinstance(t, M.OpaqueType) else t.max
        if isinstance(t, M.StringType):
            self.emit(indent, f'{data} = {value}.encode("utf-8", "surrogateescape")')
            checks = []
        else:
            self.emit(indent, f"{data} = {value}")
            checks = [f"not isinstance({data}, _rt.BYTES_LIKE)"]
        if fixed or limit < NO_LIMIT:
            checks.append(f"len({data}) {'!=' if fixed else '>'} {limit}")
        if checks:
            self.emit_if(indent, checks)
            self.emit(indent + 1, "raise _rt.Reject")
        if fixed:
            self.flush_slots()
            self.parts += [data] + ([f"_rt.ZEROS[{-limit % 4}]"] if limit % 4 else [])
            return
        self.emit(indent, f"{size} = len({data})")
        self.slots.append(("I", size))
        self.flush_slots()
        self.parts += [data, f"_rt.PADDING[{size} & 3]"]

    def encode_array(self, t: M.ArrayType, value: str, path: str, indent: int) -> None:
        items = self.temp("seq")
        self.emit(indent, f"{items} = {value}")
        self.emit_if(indent, [f"not isinstance({items}, (list, tuple))", f"len({items}) {'!=' if t.fixed else '>'} {t.size}"])
        self.emit(indent + 1, "raise _rt.Reject")
        element = self.inline(t.element)
        fmt = self.number_format(element)
        if fmt and t.fixed:
            self.flush_slots()
            self.parts.append(f"{self.formats.name(f'{t.size}{fmt}')}.pack(*{items})")
            return
        if fmt:
            self.flush_slots()
            self.parts.append(f'_rt.pack(f">I{{len({items})}}{fmt}", len({items}), *{items})')
            return
        if not t.fixed:
            self.slots.append(("I", f"len({items})"))
        self.flush(indent)
        item = self.temp("el")
        self.emit(indent, f"for {item} in {items}:")
        before = len(self.lines)
        self.encode(t.element, item, path, indent + 1)
        self.flush(indent + 1)
        if len(self.lines) == before:
            self.emit(indent + 1, "pass")


@dataclass
class FastDecoder(_FastWriter):
    """Fast decoding statements. ``decode`` returns an expression of the value, valid once
    the pending slots are flushed (``flush``), as they are before any other statement."""

    checks: list[str] = field(default_factory=list)  # conditions that reject, after unpacking
    whole: bool = False  # the value is all of ``buf`` (``_unpack_`` of a fixed struct): no ``pos``

    def flush(self, indent: int) -> None:
        if not self.slots:
            return
        fmt = "".join(f for f, _ in self.slots)
        targets = ", ".join(v for _, v in self.slots)
        if len(self.slots) == 1:
            targets = f"({targets},)"
        if self.whole:  # Struct.unpack wants exactly its size: neither short nor left over
            self.emit(indent, f"{targets} = {self.formats.name(fmt)}.unpack(buf)")
        else:
            self.emit(indent, f"{targets} = {self.formats.name(fmt)}.unpack_from(buf, pos)")
            self.emit(indent, f"pos += {struct.calcsize('>' + fmt)}")
        if self.checks:
            self.emit_if(indent, self.checks)
            self.emit(indent + 1, "raise _rt.Reject")
        self.slots, self.checks = [], []

    def slot(self, fmt: str) -> str:
        name = self.temp("v")
        self.slots.append((fmt, name))
        return name

    def decode(self, expr: M.TypeExpr, path: str, indent: int) -> str:  # type: ignore[override]
        t = self.inline(expr)
        fmt = self.number_format(t)
        if fmt:
            return self.slot(fmt)
        if isinstance(t, M.IntType):
            x = self.slot(FIXED_INT_FORMATS[32, t.signed])
            self.checks.append(f"not {t.min} <= {x} <= {t.max}")
            return x
        if isinstance(t, M.FloatType):
            raise GenerationError("quadruple (128-bit float) has no Python encoding")
        if isinstance(t, M.BoolType):
            return f"_rt.BOOLS[{self.slot('I')}]"
        if isinstance(t, M.EnumDef):
            return f"_{t.py_name}_MEMBERS[{self.slot('i')}]"
        if isinstance(t, M.VoidType):
            return "None"
        if isinstance(t, M.OpaqueType) and t.fixed:
            x = self.slot(f"{t.size}s")
            if t.size % 4:
                self.checks.append(f"{self.slot(f'{-t.size % 4}s')} != _rt.ZEROS[{-t.size % 4}]")
            return x
        if isinstance(t, (M.StringType, M.OpaqueType)):
            return self.decode_bytes(t, indent)
        if isinstance(t, M.ArrayType):
            return self.decode_array(t, path, indent)
        if isinstance(t, M.OptionalType):
            flag = self.slot("I")
            self.flush(indent)
            result = self.temp("opt")
            self.emit(indent, f"{result}: {python_type(t, self.module)} = None")
            self.emit(indent, f"if _rt.BOOLS[{flag}]:")
            element = self.decode(t.element, path, indent + 1)
            self.flush(indent + 1)
            self.emit(indent + 1, f"{result} = {element}")
            return result
        if isinstance(t, M.StructDef) and self.shapes.flat(t):
            fields = [self.decode(f.type, f"{path}.{f.name}", indent) for f in t.fields]
            return f"{t.py_name}({', '.join(fields)})"
        assert isinstance(expr, M.NamedType) and isinstance(t, (M.StructDef, M.UnionDef))
        self.flush(indent)
        result = self.temp("x")
        self.call_named(expr, f"{result}, pos = _dec_{t.py_name}(buf, pos)", path, indent)
        return result

    def decode_bytes(self, t: M.StringType | M.OpaqueType, indent: int) -> str:
        size = self.slot("I")
        self.flush(indent)
        end, result = self.temp("end"), self.temp("s")
        self.emit(indent, f"{end} = pos + {size}")
        if isinstance(t, M.StringType):
            self.emit(indent, f'{result} = buf[pos:{end}].decode("utf-8", "surrogateescape")')
        else:
            self.emit(indent, f"{result} = buf[pos:{end}]")
        self.emit(indent, f"pos = {end} + (-{size} & 3)")
        limit = t.max if isinstance(t, M.StringType) else t.size
        too_long = [f"{size} > {limit}"] if limit < NO_LIMIT else []
        self.emit_if(indent, too_long + ["pos > len(buf)", f"(pos != {end} and buf[{end}:pos] != _rt.ZEROS[pos - {end}])"])
        self.emit(indent + 1, "raise _rt.Reject")
        return result

    def decode_array(self, t: M.ArrayType, path: str, indent: int) -> str:
        element = self.inline(t.element)
        fmt = self.number_format(element)
        result = self.temp("list")
        if t.fixed:
            count = str(t.size)
            self.flush(indent)
        else:
            count = self.slot("I")
            self.flush(indent)
            each = min_size(t.element, self.module)
            limit = [f"{count} > {t.size}"] if t.size < NO_LIMIT else []
            self.emit_if(indent, limit + [f"{count} * {each} > len(buf) - pos"])
            self.emit(indent + 1, "raise _rt.Reject")
        element_type = python_type(t.element, self.module)
        if fmt:
            size = struct.calcsize(">" + fmt)
            if t.fixed:
                self.emit(indent, f"{result}: list[{element_type}] = list({self.formats.name(f'{t.size}{fmt}')}.unpack_from(buf, pos))")
            else:
                self.emit(indent, f'{result}: list[{element_type}] = list(_rt.unpack_from(f">{{{count}}}{fmt}", buf, pos))')
            self.emit(indent, f"pos += {count} * {size}" if not t.fixed else f"pos += {t.size * size}")
            return result
        self.emit(indent, f"{result}: list[{element_type}] = []")
        self.emit(indent, f"for _ in range({count}):")
        item = self.decode(t.element, path, indent + 1)
        self.flush(indent + 1)
        self.emit(indent + 1, f"{result}.append({item})")
        return result


class GenerationError(Exception):
    """A construct that parses and checks but cannot be generated (e.g. quadruple)."""
