"""Questions about the shape of XDR types that the back end asks: the fewest bytes a value
takes, which structs are flat or fixed (written out where they are used), which struct is a
linked list, and whether None is a value of a type."""

from __future__ import annotations

from . import model as M

# the types a flat struct may hold besides flat structs: each one run of bytes expressions
FLAT_LEAVES = (M.IntType, M.FloatType, M.BoolType, M.EnumDef, M.StringType, M.OpaqueType, M.VoidType)
FLAT_LIMIT = 32  # leaves of a struct written out where it is used; bigger ones are called
FLAT_DEPTH = 8  # and how deeply its structs may nest: each level is a constructor call in a call
# how deeply _pack_ functions may call each other: a codec whose entry is a _pack_ has no
# wrapper to turn a RecursionError into XdrError, so the nesting must stay far from the limit
PACK_DEPTH = 32


def full_range(expr: M.IntType) -> bool:
    """An integer whose range is all of its 32 or 64 bits (not a char or short)."""
    return (expr.min, expr.max) in ((-(1 << (expr.bits - 1)), (1 << (expr.bits - 1)) - 1), (0, (1 << expr.bits) - 1))


def link_field(module: M.Module, t: M.StructDef) -> M.Field | None:
    """The last field, if it points to another node of the same struct (``entry *next``):
    such lists are encoded and decoded with a loop, so their length is not bounded by
    Python's recursion limit."""
    if not t.fields:
        return None
    last = t.fields[-1]
    expr = module.resolve(last.type)
    if not isinstance(expr, M.OptionalType):
        return None
    return last if module.resolve(expr.element) is t else None


def may_be_none(module: M.Module, expr: M.TypeExpr) -> bool:
    """Whether None is a value of ``expr`` itself (an optional, possibly behind typedefs)."""
    return isinstance(module.resolve(expr), (M.OptionalType, M.VoidType))


class Shapes:
    """The shape questions of one module, answered once per type: how few bytes a value takes,
    and which structs and unions are written out in one run of bytes expressions. Everything is
    computed with explicit stacks, so a chain of a thousand nested types is fine."""

    def __init__(self, module: M.Module) -> None:
        self.module = module
        self.leaves: dict[str, tuple[int, int] | None] = {}  # (leaves, depth) of flat structs
        self.sizes: dict[str, int] = {}  # min_size of named types, computed once
        self.packing: dict[str, int | None] = {}  # of named types: how deeply _pack_ calls nest, 0: no _pack_, None: being decided

    def min_size(self, expr: M.TypeExpr) -> int:
        """The fewest bytes any value of ``expr`` takes: bounds a length prefix before
        allocating. A type met again inside itself counts as nothing."""
        return self._size(expr, set())

    def _size(self, expr: M.TypeExpr, open_names: set[str]) -> int:
        if isinstance(expr, (M.IntType, M.FloatType)):
            return expr.bits // 8
        if isinstance(expr, (M.BoolType, M.OptionalType, M.StringType)):
            return 4
        if isinstance(expr, M.VoidType):
            return 0
        if isinstance(expr, M.OpaqueType):
            return (expr.size + 3) // 4 * 4 if expr.fixed else 4
        if isinstance(expr, M.ArrayType):
            return expr.size * self._size(expr.element, open_names) if expr.fixed else 4
        if expr.name in open_names:
            return 0
        return self.sizes[expr.name] if expr.name in self.sizes else self._named_size(expr.name)

    def _parts(self, name: str) -> list[M.TypeExpr]:
        """The type expressions a definition is made of: its fields, its arms, or a typedef's
        type (its size is their sum or, for a union, the least)."""
        definition = self.module.type_named(name)
        if isinstance(definition, M.StructDef):
            return [f.type for f in definition.fields]
        if isinstance(definition, M.UnionDef):
            return [a.field.type for a in definition.all_arms if a.field]
        if isinstance(definition, M.AliasDef):
            return [definition.type]
        return []

    def _named_size(self, name: str) -> int:
        pending, open_names = [name], {name}
        while pending:
            current = pending[-1]
            needed = [n for n in self._sized_names(current) if n not in self.sizes and n not in open_names]
            if needed:
                pending += needed
                open_names.update(needed)
                continue
            pending.pop()
            open_names.discard(current)
            if current in self.sizes:
                continue
            definition = self.module.type_named(current)
            sizes = [self._size(e, open_names | {current}) for e in self._parts(current)]
            if isinstance(definition, M.EnumDef):
                self.sizes[current] = 4
            elif isinstance(definition, M.UnionDef):
                void_arm = any(a.field is None for a in definition.all_arms)
                self.sizes[current] = 4 + min(sizes + ([0] if void_arm else []), default=0)
            else:
                self.sizes[current] = sum(sizes)
        return self.sizes[name]

    def _sized_names(self, name: str) -> list[str]:
        """The named types whose size the size of ``name`` needs (not behind * or <>)."""
        names = []
        for expr in self._parts(name):
            while isinstance(expr, M.ArrayType) and expr.fixed:
                expr = expr.element
            if isinstance(expr, M.NamedType):
                names.append(expr.name)
        return names

    def flat(self, t: M.TypeExpr | M.TypeDefinition) -> bool:
        """A struct of numbers, strings, opaques and flat structs only (no arrays, optionals or
        unions): written out field by field where it is used, so that its fixed-size runs fuse
        with its neighbours' (NFSv3's fattr3 inside post_op_attr is one struct.Struct)."""
        return isinstance(t, M.StructDef) and self.flat_leaves(t) is not None

    def packs(self, t: M.TypeExpr | M.TypeDefinition) -> bool:
        """Whether ``t`` has a ``_pack_`` function: its whole value in a few expressions of bytes,
        with no loop. So a struct whose every field, and a union whose every arm, is a packed
        value (``packed_value``), whose ``_pack_`` calls nest at most PACK_DEPTH deep. A type met
        again inside itself does not pack. Decided bottom-up with an explicit stack, so a chain
        of a thousand nested types is fine."""
        if not isinstance(t, (M.StructDef, M.UnionDef)):
            return False
        if t.name in self.packing and self.packing[t.name] is None:
            return False  # being decided: met again inside itself
        pending = [t]
        while pending:
            current = pending[-1]
            if self.packing.get(current.name) is not None:
                pending.pop()
                continue
            self.packing[current.name] = None
            values = self._parts(current.name)
            undecided = [inner for inner in map(self._asks, values) if inner and inner.name not in self.packing]
            if undecided:
                pending.extend(undecided)
                continue
            depth = 1 + max((self.packing.get(inner.name) or 0 for inner in map(self._asks, values) if inner), default=0)
            self.packing[current.name] = depth if depth <= PACK_DEPTH and all(map(self.packed_value, values)) else 0
            pending.pop()
        return bool(self.packing[t.name])

    def packed_value(self, expr: M.TypeExpr) -> bool:
        """A leaf, a flat struct, a type that packs, an optional of one run, or an array of
        numbers packed all at once (``bulk``)."""
        inner = self.module.resolve(expr)
        if isinstance(inner, M.OptionalType):
            return self.one_run(inner.element)
        if isinstance(inner, M.ArrayType):
            return self.bulk(inner.element)
        return self.flat_value(expr) or self.packs(inner)

    def _asks(self, expr: M.TypeExpr) -> M.StructDef | M.UnionDef | None:
        """The type whose ``packs`` ``packed_value(expr)`` asks, if any."""
        inner = self.module.resolve(expr)
        if isinstance(inner, (M.StructDef, M.UnionDef)) and not self.flat_value(expr):
            return inner
        return None

    def bulk(self, element: M.TypeExpr) -> bool:
        """Array items packed and unpacked all at once, with one format: integers of a full
        range and doubles (not float32, whose NaNs each item's own check sends to the runtime)."""
        inner = self.module.resolve(element)
        return (isinstance(inner, M.IntType) and full_range(inner)) or (isinstance(inner, M.FloatType) and inner.bits == 64)

    def unpacks(self, t: M.TypeDefinition) -> bool:
        """Whether ``t`` has an ``_unpack_`` function: one Struct.unpack of all the input (so not
        for a struct of no bytes, where unpack would check nothing)."""
        return self.fixed(t) and self.min_size(M.NamedType(t.name)) > 0

    def flat_value(self, expr: M.TypeExpr) -> bool:
        """A value written out in one run of bytes expressions: a leaf or a flat struct."""
        inner = self.module.resolve(expr)
        return isinstance(inner, FLAT_LEAVES) or self.flat(inner)

    def one_run(self, expr: M.TypeExpr) -> bool:
        """A value of fixed size written as fixed-size values only (a number, bool, enum, fixed
        opaque or fixed struct): its bytes come from one struct.Struct."""
        inner = self.module.resolve(expr)
        if isinstance(inner, M.OpaqueType):
            return inner.fixed
        return isinstance(inner, (M.IntType, M.FloatType, M.BoolType, M.EnumDef)) or self.fixed(inner)

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

    def flat_union(self, t: M.TypeExpr | M.TypeDefinition) -> bool:
        """A union whose every arm is void or a flat value, FLAT_LIMIT leaves in all: written
        out where it is used in a loop (a list's node, an array's item), where a call per item
        would cost more than the rest of the item's code."""
        if not isinstance(t, M.UnionDef):
            return False
        total = 0
        for arm in t.all_arms:
            if arm.field is None:
                continue
            inner = self.module.resolve(arm.field.type)
            if isinstance(inner, FLAT_LEAVES):
                total += 1
            elif isinstance(inner, M.StructDef) and (leaves := self.flat_leaves(inner)) is not None:
                total += leaves
            else:
                return False
        return total <= FLAT_LIMIT

    def flat_leaves(self, t: M.StructDef) -> int | None:
        """How many leaves ``t`` has when written out flat, or None if it is not flat. Computed
        bottom-up with an explicit stack, so a chain of a thousand nested structs is fine."""
        pending = [t]
        while pending:
            current = pending[-1]
            if current.name in self.leaves:
                pending.pop()
                continue
            inner_structs = [
                inner
                for f in current.fields
                if isinstance(inner := self.module.resolve(f.type), M.StructDef) and inner.name not in self.leaves
            ]
            waiting = [s for s in inner_structs if s is not current and s not in pending]
            if waiting:
                pending.extend(waiting)
                continue
            self.leaves[current.name] = self._count_leaves(current)
            pending.pop()
        found = self.leaves[t.name]
        return None if found is None else found[0]

    def _count_leaves(self, t: M.StructDef) -> tuple[int, int] | None:
        total, depth = 0, 1
        for f in t.fields:
            inner = self.module.resolve(f.type)
            if isinstance(inner, M.StructDef):
                found = self.leaves.get(inner.name)  # None: not flat, or t itself (recursion)
                if found is None or found[1] >= FLAT_DEPTH:
                    return None
                count, depth = found[0], max(depth, found[1] + 1)
            elif isinstance(inner, FLAT_LEAVES):
                count = 1
            else:
                return None
            if total + count > FLAT_LIMIT:
                return None
            total += count
        return total, depth
