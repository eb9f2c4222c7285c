"""Values of generated types <-> JSON values, for ``xdrgen encode`` / ``xdrgen decode``.

The mapping (README, "JSON mapping"):

- integers are numbers; ``bool`` is ``true``/``false``;
- ``float``/``double`` are numbers when finite; ``"Infinity"``, ``"-Infinity"`` and ``"NaN"``
  (the positive quiet NaN with no payload) otherwise, and any other NaN is ``"NaN:0x"`` and the
  hex of its bits at the type's width (``"NaN:0x7ff8000000000001"``), so every bit pattern
  survives ``decode | encode``; output never holds JSON's missing NaN/Infinity literals;
- enums are the name of their value (a number is accepted on input);
- opaque data is a hex string; strings are strings; arrays are lists; an absent optional is
  ``null``; typedefs map as the type they name;
- a struct is an object keyed by its field names as written in the .x file; a union is an
  object with the discriminant under its declared name plus the arm's field (nothing else for
  a void arm);
- a linked list (a struct whose last field is an optional pointer to its own type, the
  ``entry *next`` of READDIR replies) is a JSON array of its nodes, each an object of the other
  fields; an optional pointer to such a struct is the same array, empty when absent. Lists are
  walked with loops, so their length is not bounded by any recursion limit.

This module maps values only: the caller hands it the model and the generated module whose
classes build the values (:mod:`xdrgen.loader` generates one in memory).
"""

from __future__ import annotations

import math
import struct
import types
from typing import Any

from . import model as M
from .shapes import link_field

JSON = Any

# a JSON integer longer than this is out of every XDR type's range (a double's largest
# integer has 309 digits), and converting it would hit Python's 4,300-digit limit
MAX_NUMBER_TEXT = 400

_FLOAT_FORMATS = {32: (">f", ">I", 8), 64: (">d", ">Q", 16)}


class JsonError(ValueError):
    """JSON that does not describe a value of the type; ``path`` names where."""

    def __init__(self, message: str, path: str):
        super().__init__(f"{path}: {message}")
        self.path = path


class HugeNumber(str):
    """A JSON number too long to convert (see :func:`parse_int`); kept as its text."""


def parse_int(text: str) -> int | HugeNumber:
    """``json.loads(..., parse_int=parse_int)``: integers of any length without a traceback."""
    return HugeNumber(text) if len(text) > MAX_NUMBER_TEXT else int(text)


def parse_float(text: str) -> float | HugeNumber:
    """``json.loads(..., parse_float=parse_float)``: ``1e400`` is out of range, not infinity."""
    value = float(text)
    return HugeNumber(text) if math.isinf(value) else value


def float_to_json(value: float, bits: int) -> float | str:
    """A float or double as JSON: a number when finite, else a string that keeps its bits."""
    if math.isfinite(value):
        return value
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    float_format, int_format, digits = _FLOAT_FORMATS[bits]
    pattern = struct.unpack(int_format, struct.pack(float_format, value))[0]
    canonical = struct.unpack(int_format, struct.pack(float_format, math.nan))[0]
    return "NaN" if pattern == canonical else f"NaN:0x{pattern:0{digits}x}"


def float_from_json(data: JSON, bits: int, path: str) -> float:
    """The inverse of :func:`float_to_json`; a number out of the type's range is an error."""
    float_format, int_format, digits = _FLOAT_FORMATS[bits]
    type_name = "float" if bits == 32 else "double"
    if isinstance(data, str) and not isinstance(data, HugeNumber):
        named = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}
        if data in named:
            return named[data]
        hex_digits = data.removeprefix("NaN:0x")
        if hex_digits != data and len(hex_digits) == digits:
            try:
                value: float = struct.unpack(float_format, struct.pack(int_format, int(hex_digits, 16)))[0]
            except ValueError:
                pass
            else:
                if math.isnan(value):
                    return value
        raise JsonError(f"expected a number, \"Infinity\", \"-Infinity\", \"NaN\" or \"NaN:0x\" and {digits} hex digits of a NaN, got {data!r}", path)
    if isinstance(data, bool) or not isinstance(data, (int, float, HugeNumber)):
        raise JsonError(f"expected a number, got {_kind(data)}", path)
    try:
        if isinstance(data, HugeNumber):
            raise OverflowError
        value = float(data)
        struct.pack(float_format, value)  # refuses what a float32 cannot hold
    except (OverflowError, struct.error):
        raise JsonError(f"{_short(data)} is out of range for {type_name} (write \"Infinity\" for an infinity)", path) from None
    return value


class JsonMapping:
    """Converts between values of the module made from ``model`` and JSON. ``modules`` are the
    generated modules of its compile set by name (its own and those of the files it uses)."""

    def __init__(self, model: M.Module, modules: dict[str, types.ModuleType]):
        self.model = model
        self.modules = modules

    def python(self, definition: M.TypeDefinition) -> type:
        """The class of a definition, from the module of the file that defines it."""
        return getattr(self.modules[self.model.owner_of(definition.name).name], definition.py_name)  # type: ignore[no-any-return]

    def linked_list(self, expr: M.TypeExpr | M.TypeDefinition) -> tuple[M.StructDef, bool] | None:
        """``(struct, optional)`` if values of ``expr`` are linked lists of ``struct``."""
        optional = False
        if isinstance(expr, M.OptionalType):
            expr, optional = self.model.resolve(expr.element), True
        if isinstance(expr, M.StructDef) and link_field(self.model, expr) is not None:
            return expr, optional
        return None

    # ---- value -> JSON ------------------------------------------------------------------

    def to_json(self, expr: M.TypeExpr, value: Any) -> JSON:
        resolved = self.model.resolve(expr)
        chain = self.linked_list(resolved)
        if chain is not None:
            return self._list_to_json(chain[0], value)
        if isinstance(resolved, (M.IntType, M.BoolType)):
            return value
        if isinstance(resolved, M.FloatType):
            return float_to_json(value, resolved.bits)
        if isinstance(resolved, M.VoidType):
            return None
        if isinstance(resolved, M.OpaqueType):
            return bytes(value).hex()
        if isinstance(resolved, M.StringType):
            return value
        if isinstance(resolved, M.ArrayType):
            return [self.to_json(resolved.element, item) for item in value]
        if isinstance(resolved, M.OptionalType):
            return None if value is None else self.to_json(resolved.element, value)
        if isinstance(resolved, M.EnumDef):
            return next(v.name for v in resolved.values if v.value == int(value))
        if isinstance(resolved, M.StructDef):
            return self._fields_to_json(resolved.fields, value)
        assert isinstance(resolved, M.UnionDef)
        discriminant = getattr(value, resolved.discriminant.py_name)
        result = {resolved.discriminant.name: self.to_json(resolved.discriminant.type, discriminant)}
        arm = arm_for(resolved, int(discriminant))
        if arm is not None and arm.field is not None:
            result[arm_key(resolved, arm.field)] = self.to_json(arm.field.type, getattr(value, arm.field.py_name))
        return result

    def _fields_to_json(self, fields: list[M.Field], value: Any) -> dict[str, JSON]:
        return {f.name: self.to_json(f.type, getattr(value, f.py_name)) for f in fields}

    def _list_to_json(self, node_type: M.StructDef, node: Any) -> list[JSON]:
        *fields, link = node_type.fields
        items = []
        while node is not None:
            items.append(self._fields_to_json(fields, node))
            node = getattr(node, link.py_name)
        return items

    # ---- JSON -> value ------------------------------------------------------------------

    def from_json(self, expr: M.TypeExpr, data: JSON, path: str) -> Any:
        resolved = self.model.resolve(expr)
        chain = self.linked_list(resolved)
        if chain is not None:
            return self._list_from_json(*chain, data, path)
        if isinstance(resolved, M.IntType):
            number = _expect(data, int, "an integer", path)
            if isinstance(number, HugeNumber) or not resolved.min <= number <= resolved.max:
                raise JsonError(f"{_short(number)} is out of range for {resolved.name}", path)
            return number
        if isinstance(resolved, M.FloatType):
            if resolved.bits not in _FLOAT_FORMATS:
                raise JsonError(f"{resolved.name} is not supported", path)
            return float_from_json(data, resolved.bits, path)
        if isinstance(resolved, M.BoolType):
            return _expect(data, bool, "true or false", path)
        if isinstance(resolved, M.VoidType):
            return None
        if isinstance(resolved, M.OpaqueType):
            try:
                return bytes.fromhex(_expect(data, str, "a hex string", path))
            except ValueError:
                raise JsonError("expected a hex string", path) from None
        if isinstance(resolved, M.StringType):
            return _expect(data, str, "a string", path)
        if isinstance(resolved, M.ArrayType):
            items = _expect(data, list, "a list", path)
            return [self.from_json(resolved.element, item, f"{path}[{i}]") for i, item in enumerate(items)]
        if isinstance(resolved, M.OptionalType):
            return None if data is None else self.from_json(resolved.element, data, path)
        assert isinstance(resolved, (M.EnumDef, M.StructDef, M.UnionDef)), resolved
        cls = self.python(resolved)
        if isinstance(resolved, M.EnumDef):
            return cls(_enum_value(resolved, data, path))
        obj = _expect(data, dict, "an object", path)
        if isinstance(resolved, M.StructDef):
            return cls(*self._fields_from_json(resolved.fields, obj, path))
        disc = resolved.discriminant
        if disc.name not in obj:
            raise JsonError(f"missing discriminant {disc.name!r}", path)
        d = self.from_json(disc.type, obj[disc.name], f"{path}.{disc.name}")
        arm = arm_for(resolved, int(d))
        if arm is None:
            raise JsonError(f"no arm for discriminant {obj[disc.name]!r}", f"{path}.{disc.name}")
        key = arm_key(resolved, arm.field) if arm.field else None
        _known_keys(obj, {disc.name} | ({key} if key else set()), path)
        if arm.field is None or key is None:
            return cls(d)
        if key not in obj:
            raise JsonError(f"missing arm field {key!r}", path)
        return cls(d, **{arm.field.py_name: self.from_json(arm.field.type, obj[key], f"{path}.{key}")})

    def _fields_from_json(self, fields: list[M.Field], obj: dict[str, JSON], path: str) -> list[Any]:
        _known_keys(obj, {f.name for f in fields}, path)
        missing = [f.name for f in fields if f.name not in obj]
        if missing:
            raise JsonError(f"missing field(s) {', '.join(missing)}", path)
        return [self.from_json(f.type, obj[f.name], f"{path}.{f.name}") for f in fields]

    def _list_from_json(self, node_type: M.StructDef, optional: bool, data: JSON, path: str) -> Any:
        items = _expect(data, list, f"a list of {node_type.name} entries", path)
        if not items and not optional:
            raise JsonError(f"expected at least one {node_type.name} entry", path)
        cls = self.python(node_type)
        fields = node_type.fields[:-1]
        node = None
        for index in range(len(items) - 1, -1, -1):  # built from the tail: each node holds the next
            where = f"{path}[{index}]"
            node = cls(*self._fields_from_json(fields, _expect(items[index], dict, "an object", where), where), node)
        return node


def arm_key(union: M.UnionDef, field: M.Field) -> str:
    """The JSON key of an arm: its .x name, or its Python name where the .x name is the
    discriminant's too (gssproxy's gp_rpc.x), which would make one key of two."""
    return field.py_name if field.name == union.discriminant.name else field.name


def arm_for(union: M.UnionDef, value: int) -> M.UnionArm | None:
    return next((a for a in union.arms if value in a.values), union.default)


def _enum_value(enum: M.EnumDef, data: JSON, path: str) -> int:
    if isinstance(data, str) and not isinstance(data, HugeNumber):
        for member in enum.values:
            if member.name == data:
                return member.value
        raise JsonError(f"{data!r} is not a value of enum {enum.name}", path)
    if isinstance(data, int) and not isinstance(data, bool) and any(v.value == data for v in enum.values):
        return data
    raise JsonError(f"expected a name of enum {enum.name}", path)


def _expect(data: JSON, kind: type, what: str, path: str) -> Any:
    # bool is an int to Python but not to JSON; a HugeNumber is a number, not a string
    ok = isinstance(data, kind) and not (isinstance(data, bool) and kind is int)
    if kind is str and isinstance(data, HugeNumber):
        ok = False
    if kind is int and isinstance(data, HugeNumber):
        ok = data.lstrip("-").isdigit()
    if not ok:
        raise JsonError(f"expected {what}, got {_kind(data)}", path)
    return data


def _kind(data: JSON) -> str:
    if data is None:
        return "null"
    if isinstance(data, HugeNumber):
        return "a number"
    return {bool: "true/false", int: "int", float: "float", str: "str", list: "list", dict: "object"}.get(type(data), type(data).__name__)


def _short(number: int | float | HugeNumber) -> str:
    text = str(number)  # at most MAX_NUMBER_TEXT digits if an int, so str() is safe
    return text if len(text) <= 40 else f"a {len(text.lstrip('-'))}-digit number"


def _known_keys(obj: dict[str, JSON], known: set[str], path: str) -> None:
    extra = sorted(set(obj) - known)
    if extra:
        raise JsonError(f"unknown key(s) {', '.join(extra)}", path)
