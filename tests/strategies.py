"""Hypothesis strategies for values of any type of a checked model, built with the classes of
the module generated from it."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from hypothesis import strategies as st

from xdrgen import model as M

MAX_ITEMS = 4  # keeps values of deep NFSv4 / Stellar types small
MAX_BYTES = 24
MAX_DEPTH = 2  # below this, optionals are absent and variable arrays empty: values stay small


class Strategies:
    def __init__(self, module: M.Module, generated: ModuleType, *, c_safe: bool = False):
        self.module = module
        self.generated = generated
        self.c_safe = c_safe  # strings without NUL: C strings end at the first NUL
        self.cache: dict[str, st.SearchStrategy[Any]] = {}

    def for_name(self, name: str, depth: int = 0) -> st.SearchStrategy[Any]:
        key = f"{name}@{min(depth, MAX_DEPTH)}"
        if key not in self.cache:
            self.cache[key] = st.deferred(lambda: self._definition(self.module.type_named(name), min(depth, MAX_DEPTH)))
        return self.cache[key]

    def for_expr(self, expr: M.TypeExpr, depth: int = 0) -> st.SearchStrategy[Any]:
        if isinstance(expr, M.IntType):
            return st.integers(expr.min, expr.max)
        if isinstance(expr, M.FloatType):
            return st.floats(width=expr.bits, allow_nan=False)
        if isinstance(expr, M.BoolType):
            return st.booleans()
        if isinstance(expr, M.VoidType):
            return st.none()
        if isinstance(expr, M.OpaqueType):
            if expr.fixed:
                return st.binary(min_size=expr.size, max_size=expr.size)
            return st.binary(max_size=min(expr.size, MAX_BYTES))
        if isinstance(expr, M.StringType):
            alphabet = st.characters(min_codepoint=1, max_codepoint=0x7E) if self.c_safe else st.characters(codec="utf-8")
            text = st.text(alphabet=alphabet, max_size=min(expr.max, MAX_BYTES) // 4 if expr.max < 4 * MAX_BYTES else MAX_BYTES // 2)
            return text.filter(lambda s: len(s.encode("utf-8", "surrogateescape")) <= expr.max)
        if isinstance(expr, M.ArrayType):
            element = self.for_expr(expr.element, depth + 1)
            if expr.fixed:
                return st.lists(element, min_size=expr.size, max_size=expr.size)
            if depth >= MAX_DEPTH:
                return st.just([])
            return st.lists(element, max_size=min(expr.size, MAX_ITEMS if depth < 2 else 1))
        if isinstance(expr, M.OptionalType):
            if depth >= MAX_DEPTH:
                return st.none()
            return st.none() | self.for_expr(expr.element, depth + 1)
        return self.for_name(expr.name, depth + 1)

    def python(self, definition: M.TypeDefinition) -> Any:
        """The class (or alias) of a definition, in the module of the file that defines it."""
        owner = self.module.owner_of(definition.name)
        generated = self.generated
        if owner is not self.module:
            generated = importlib.import_module(f"{self.generated.__package__}.{owner.name}")
        return getattr(generated, definition.py_name)

    def _definition(self, definition: M.TypeDefinition, depth: int) -> st.SearchStrategy[Any]:
        cls = self.python(definition)
        if isinstance(definition, M.EnumDef):
            return st.sampled_from(list(cls))
        if isinstance(definition, M.AliasDef):
            return self.for_expr(definition.type, depth)
        if isinstance(definition, M.StructDef):
            return st.builds(cls, *[self.for_expr(f.type, depth) for f in definition.fields])
        return self._union(definition, cls, depth)

    def _union(self, union: M.UnionDef, cls: type, depth: int) -> st.SearchStrategy[Any]:
        resolved = self.module.resolve(union.discriminant.type)
        covered = {v for arm in union.arms for v in arm.values}

        def disc(value: int) -> Any:
            if isinstance(resolved, M.EnumDef):
                return self.python(resolved)(value)
            if isinstance(resolved, M.BoolType):
                return bool(value)
            return value

        def build(d: Any, arm: M.UnionArm) -> st.SearchStrategy[Any]:
            if arm.field is None:
                return st.just(cls(d))
            return self.for_expr(arm.field.type, depth).map(lambda v: cls(d, **{arm.field.py_name: v}))  # type: ignore[union-attr]

        options = [st.sampled_from(arm.values).flatmap(lambda v, a=arm: build(disc(v), a)) for arm in union.arms if arm.values]
        if union.default is not None:
            if isinstance(resolved, M.EnumDef):
                rest = [v.value for v in resolved.values if v.value not in covered]
                values: st.SearchStrategy[int] | None = st.sampled_from(rest) if rest else None
            elif isinstance(resolved, M.BoolType):
                rest = [v for v in (0, 1) if v not in covered]
                values = st.sampled_from(rest) if rest else None
            else:
                assert isinstance(resolved, M.IntType)
                values = st.integers(resolved.min, resolved.max).filter(lambda v: v not in covered)
            if values is not None:
                default = union.default
                options.append(values.flatmap(lambda v: build(disc(v), default)))
        return st.one_of(options)
