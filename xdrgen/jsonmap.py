"""Values of generated types <-> JSON, for ``xdrgen encode`` / ``xdrgen decode``.

The mapping (README, "JSON mapping"): integers and floats are numbers, bool is true/false,
enums are the name of their value (a number is accepted on input), opaque data is a hex
string, strings are strings, arrays are lists, an absent optional is null, a struct is an
object keyed by its field names as written in the .x file, and a union is an object with the
discriminant under its declared name plus the arm's field (nothing else for a void arm).
Typedefs map as the type they name.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from . import model as M
from .generator import RUNTIME_MODULE, generate

JSON = Any


class JsonError(ValueError):
    """JSON that does not describe a value of the type; ``path`` names where."""

    def __init__(self, message: str, path: str):
        super().__init__(f"{path}: {message}")
        self.path = path


def load_generated(model: M.Module, source_name: str, source_text: str, module_name: str) -> types.ModuleType:
    """Generate and import the module for ``model`` in memory (no files written)."""
    # the generated module falls back to a top-level "xdr_runtime" outside a package
    sys.modules.setdefault(RUNTIME_MODULE, importlib.import_module(f"xdrgen.runtime.{RUNTIME_MODULE}"))
    code = generate(model, source_name, source_text, module_name, format=False)
    module = types.ModuleType(f"xdrgen_live_{module_name}")
    sys.modules[module.__name__] = module  # dataclasses look their module up while decorating
    exec(compile(code, source_name, "exec"), module.__dict__)
    return module


class JsonMapping:
    def __init__(self, model: M.Module, generated: types.ModuleType):
        self.model = model
        self.generated = generated

    # ---- value -> JSON ------------------------------------------------------------------

    def to_json(self, expr: M.TypeExpr, value: Any) -> JSON:
        if isinstance(expr, (M.IntType, M.FloatType, M.BoolType)):
            return value
        if isinstance(expr, M.VoidType):
            return None
        if isinstance(expr, M.OpaqueType):
            return bytes(value).hex()
        if isinstance(expr, M.StringType):
            return value
        if isinstance(expr, M.ArrayType):
            return [self.to_json(expr.element, item) for item in value]
        if isinstance(expr, M.OptionalType):
            return None if value is None else self.to_json(expr.element, value)
        definition = self.model.type_named(expr.name)
        if isinstance(definition, M.AliasDef):
            return self.to_json(definition.type, value)
        if isinstance(definition, M.EnumDef):
            return next(v.name for v in definition.values if v.value == int(value))
        if isinstance(definition, M.StructDef):
            return {f.name: self.to_json(f.type, getattr(value, f.py_name)) for f in definition.fields}
        discriminant = getattr(value, definition.discriminant.py_name)
        result = {definition.discriminant.name: self.to_json(definition.discriminant.type, discriminant)}
        arm = self.arm_for(definition, int(discriminant))
        if arm is not None and arm.field is not None:
            result[arm.field.name] = self.to_json(arm.field.type, getattr(value, arm.field.py_name))
        return result

    # ---- JSON -> value ------------------------------------------------------------------

    def from_json(self, expr: M.TypeExpr, data: JSON, path: str) -> Any:
        if isinstance(expr, M.IntType):
            return self._expect(data, int, "an integer", path)
        if isinstance(expr, M.FloatType):
            return float(self._expect(data, (int, float), "a number", path))
        if isinstance(expr, M.BoolType):
            return self._expect(data, bool, "true or false", path)
        if isinstance(expr, M.VoidType):
            return None
        if isinstance(expr, M.OpaqueType):
            try:
                return bytes.fromhex(self._expect(data, str, "a hex string", path))
            except ValueError:
                raise JsonError("expected a hex string", path) from None
        if isinstance(expr, M.StringType):
            return self._expect(data, str, "a string", path)
        if isinstance(expr, M.ArrayType):
            items = self._expect(data, list, "a list", path)
            return [self.from_json(expr.element, item, f"{path}[{i}]") for i, item in enumerate(items)]
        if isinstance(expr, M.OptionalType):
            return None if data is None else self.from_json(expr.element, data, path)
        definition = self.model.type_named(expr.name)
        if isinstance(definition, M.AliasDef):
            return self.from_json(definition.type, data, path)
        cls = getattr(self.generated, definition.py_name)
        if isinstance(definition, M.EnumDef):
            return cls(self._enum_value(definition, data, path))
        obj = self._expect(data, dict, "an object", path)
        if isinstance(definition, M.StructDef):
            self._known_keys(obj, {f.name for f in definition.fields}, path)
            missing = [f.name for f in definition.fields if f.name not in obj]
            if missing:
                raise JsonError(f"missing field(s) {', '.join(missing)}", path)
            return cls(*[self.from_json(f.type, obj[f.name], f"{path}.{f.name}") for f in definition.fields])
        disc = definition.discriminant
        if disc.name not in obj:
            raise JsonError(f"missing discriminant {disc.name!r}", path)
        d = self.from_json(disc.type, obj[disc.name], f"{path}.{disc.name}")
        arm = self.arm_for(definition, int(d))
        if arm is None:
            raise JsonError(f"no arm for discriminant {obj[disc.name]!r}", f"{path}.{disc.name}")
        self._known_keys(obj, {disc.name} | ({arm.field.name} if arm.field else set()), path)
        if arm.field is None:
            return cls(d)
        if arm.field.name not in obj:
            raise JsonError(f"missing arm field {arm.field.name!r}", path)
        return cls(d, **{arm.field.py_name: self.from_json(arm.field.type, obj[arm.field.name], f"{path}.{arm.field.name}")})

    def arm_for(self, union: M.UnionDef, value: int) -> M.UnionArm | None:
        return next((a for a in union.arms if value in a.values), union.default)

    def _enum_value(self, enum: M.EnumDef, data: JSON, path: str) -> int:
        if isinstance(data, str):
            for member in enum.values:
                if member.name == data:
                    return member.value
            raise JsonError(f"{data!r} is not a value of enum {enum.name}", path)
        if isinstance(data, int) and not isinstance(data, bool) and any(v.value == data for v in enum.values):
            return data
        raise JsonError(f"expected a name of enum {enum.name}", path)

    @staticmethod
    def _expect(data: JSON, kind: type | tuple[type, ...], what: str, path: str) -> Any:
        # bool is an int to Python but not to JSON
        if not isinstance(data, kind) or (isinstance(data, bool) and kind in (int, (int, float))):
            raise JsonError(f"expected {what}, got {type(data).__name__ if data is not None else 'null'}", path)
        return data

    @staticmethod
    def _known_keys(obj: dict[str, JSON], known: set[str], path: str) -> None:
        extra = sorted(set(obj) - known)
        if extra:
            raise JsonError(f"unknown key(s) {', '.join(extra)}", path)
