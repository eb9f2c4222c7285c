"""Python statements that encode and decode one XDR type expression.

The templates lay out classes and functions; this module writes the statements inside them,
specialised per type at generation time (no descriptors are interpreted at run time).
Encoders append ``bytes`` to ``out``; decoders read ``buf`` at ``pos`` and advance ``pos``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import model as M


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
        arms = definition.arms + ([definition.default] if definition.default else [])
        return 4 + min((min_size(a.field.type, module, inner) if a.field else 0 for a in arms), default=0)
    return min_size(definition.type, module, inner)


@dataclass
class CodeWriter:
    """Writes statements for one function; ``temp`` gives fresh local names."""

    module: M.Module
    lines: list[str] = field(default_factory=list)
    counter: int = 0

    def temp(self, base: str) -> str:
        self.counter += 1
        return f"_{base}{self.counter}"

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    # ---- encoding --------------------------------------------------------------------------

    def encode(self, expr: M.TypeExpr, value: str, path: str, indent: int) -> None:
        p = repr(path)
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
        p = repr(path)
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
        self.emit(indent + 1, f"_rt.relabel(error, {inner!r}, {path!r})")
        self.emit(indent + 1, "raise")


class GenerationError(Exception):
    """A construct that parses and checks but cannot be generated (e.g. quadruple)."""
