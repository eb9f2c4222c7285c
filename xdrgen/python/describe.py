"""The shape of each type, as the constant the runtime's checked codec walks (see the runtime's
"shapes" section for the vocabulary). Written into the module's ``CODECS``; read only when a
fast codec refuses a value or an input, to say which field is wrong, where and why."""

from __future__ import annotations

from .. import model as M
from ..shapes import Shapes
from .text import pystr

# XDR keywords name the builtin types: no definition can take these names
SCALARS = {(32, True): "int", (32, False): "unsigned int", (64, True): "hyper", (64, False): "unsigned hyper"}


def shape(expr: M.TypeExpr, shapes: Shapes) -> str:
    """The shape of a type expression, as Python source."""
    if isinstance(expr, M.IntType):
        if (expr.min, expr.max) in ((-(1 << (expr.bits - 1)), (1 << (expr.bits - 1)) - 1), (0, (1 << expr.bits) - 1)):
            return pystr(SCALARS[expr.bits, expr.signed])
        return f'("int", {expr.min}, {expr.max})'
    if isinstance(expr, M.FloatType):
        assert expr.bits in (32, 64), "the checker refuses quadruple"
        return '"float"' if expr.bits == 32 else '"double"'
    if isinstance(expr, M.BoolType):
        return '"bool"'
    if isinstance(expr, M.VoidType):
        return '"void"'
    if isinstance(expr, M.OpaqueType):
        return f'("opaque", {expr.size})' if expr.fixed else f'("opaque<>", {expr.size})'
    if isinstance(expr, M.StringType):
        return f'("string", {expr.max})'
    if isinstance(expr, M.ArrayType):
        element = shape(expr.element, shapes)
        if expr.fixed:
            return f'("array", {element}, {expr.size}, {shapes.min_size(expr)})'
        return f'("array<>", {element}, {expr.size}, {shapes.min_size(expr.element)})'
    if isinstance(expr, M.OptionalType):
        return f'("optional", {shape(expr.element, shapes)})'
    return pystr(expr.name)


def _field(f: M.Field, shapes: Shapes) -> str:
    renamed = f", {pystr(f.py_name)}" if f.py_name != f.name else ""
    return f"({pystr(f.name)}, {shape(f.type, shapes)}{renamed})"


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def definition_shape(t: M.TypeDefinition, shapes: Shapes) -> str:
    """The shape of a named type: ("enum",), ("struct", fields), ("union", discriminant, arms)
    or ("typedef", shape)."""
    if isinstance(t, M.EnumDef):
        return '("enum",)'
    if isinstance(t, M.StructDef):
        fields = [_field(f, shapes) for f in t.fields]
        return f'("struct", {_tuple(fields) if fields else "()"})'
    if isinstance(t, M.UnionDef):
        arms = []
        for arm in t.all_arms:
            values = _tuple([str(v) for v in arm.values]) if arm.values else "None"
            arms.append(f"({values}, {_field(arm.field, shapes) if arm.field else 'None'})")
        return f'("union", {_field(t.discriminant, shapes)}, {_tuple(arms) if arms else "()"})'
    return f'("typedef", {shape(t.type, shapes)})'


__all__ = ["definition_shape", "shape"]
