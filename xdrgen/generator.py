"""Checked model -> formatted Python source. Chooses a template per construct and fills it."""

from __future__ import annotations

import dataclasses
import hashlib
import keyword
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from . import __version__
from . import model as M
from .codecs import CodeWriter, GenerationError, python_type

RUNTIME_MODULE = "xdr_runtime"


def module_name_for(path: str | Path) -> str:
    """A valid Python module name from a file's stem: ``Stellar-types.x`` -> ``Stellar_types``."""
    name = re.sub(r"\W", "_", Path(path).stem)
    if not name or name[0].isdigit():
        name = "_" + name
    return name + "_" if keyword.iskeyword(name) else name


RPC_MODULE = "xdr_rpc"


def runtime_source(name: str = RUNTIME_MODULE) -> str:
    """The text of a runtime module written next to generated modules: ``xdr_runtime`` (the
    codecs' helpers) or ``xdr_rpc`` (libvirt RPC framing over asyncio)."""
    return resources.files("xdrgen").joinpath("runtime", f"{name}.py").read_text(encoding="utf-8")


def _templates_dir() -> Path:
    packaged = Path(str(resources.files("xdrgen"))) / "templates"
    if packaged.is_dir():  # installed wheel: the templates ship inside the package
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"  # source checkout


def _oneline(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()


def _docstring(text: str) -> str:
    text = str(text).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = text.split("\n")
    return "\n".join([lines[0]] + [("    " + line) if line.strip() else "" for line in lines[1:]]).rstrip('"')


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_templates_dir())),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["pyrepr"] = repr
    env.filters["oneline"] = _oneline
    env.filters["docstring"] = _docstring
    return env


@dataclass
class _FieldView:
    name: str
    py_name: str
    annotation: str
    local: str
    comment: str | None


class _Renderer:
    def __init__(self, module: M.Module, module_name: str):
        self.module = module
        self.module_name = module_name
        self.env = _environment()
        self.rendered: set[str] = set()  # python names of the types emitted so far

    def path(self, *parts: str) -> str:
        return ".".join((self.module_name,) + parts)

    def writer(self) -> CodeWriter:
        return CodeWriter(self.module)

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context).rstrip("\n")

    # ---- constructs ------------------------------------------------------------------------

    def enum(self, t: M.EnumDef) -> str:
        return self.render("enum.py.j2", t=t, path=self.path(t.name))

    def struct(self, t: M.StructDef) -> str:
        link = self.link_field(t)
        fields = [
            _FieldView(f.name, f.py_name, python_type(f.type, self.module), f"_f{i}", f.comment)
            for i, f in enumerate(t.fields)
        ]
        encode, decode = self.writer(), self.writer()
        indent = 2 if link else 1
        subject = "node" if link else "v"
        for f, view in zip(t.fields, fields):
            if f is link:
                continue
            encode.encode(f.type, f"{subject}.{f.py_name}", self.path(t.name, f.name), indent)
            decode.decode(f.type, view.local, self.path(t.name, f.name), indent)
        link_view = next((v for f, v in zip(t.fields, fields) if f is link), None)
        return self.render(
            "struct.py.j2",
            t=t,
            fields=fields,
            link=link_view,
            path=self.path(t.name),
            encode_body="\n".join(encode.lines) or "    " * indent + "pass",
            decode_body="\n".join(decode.lines) or "    " * indent + "pass",
        )

    def link_field(self, t: M.StructDef) -> M.Field | None:
        """The last field, if it points to another node of the same struct (``entry *next``):
        such lists are encoded and decoded with a loop, so their length is not bounded by
        Python's recursion limit."""
        if not t.fields:
            return None
        last = t.fields[-1]
        expr = self.module.resolve(last.type)
        if not isinstance(expr, M.OptionalType):
            return None
        return last if self.module.resolve(expr.element) is t else None

    def may_be_none(self, expr: M.TypeExpr) -> bool:
        """Whether None is a value of ``expr`` itself (an optional, possibly behind typedefs)."""
        return isinstance(self.module.resolve(expr), (M.OptionalType, M.VoidType))

    def union(self, t: M.UnionDef) -> str:
        disc_type = t.discriminant.type
        resolved = self.module.resolve(disc_type)
        disc_annotation = python_type(disc_type, self.module)

        def label(value: int) -> str:
            if isinstance(resolved, M.EnumDef):
                member = next(v for v in resolved.values if v.value == value)
                return f"{resolved.py_name}.{member.py_name}"
            if isinstance(resolved, M.BoolType):
                return "True" if value else "False"
            return str(value)

        arm_fields = []
        seen: set[str] = set()
        for arm in t.arms + ([t.default] if t.default else []):
            if arm.field is not None and arm.field.py_name not in seen:
                seen.add(arm.field.py_name)
                annotation = python_type(arm.field.type, self.module)
                if not annotation.endswith("| None"):
                    annotation += " | None"
                arm_fields.append(_FieldView(arm.field.name, arm.field.py_name, annotation, "", arm.field.comment))
        arms = []
        # one writer for all arms, so temporaries are unique in the function (mypy --strict
        # sees one scope and would reject a name reused with another type)
        encode, decode = self.writer(), self.writer()
        for index, arm in enumerate(t.arms + ([t.default] if t.default else [])):
            labels = [label(v) for v in arm.values]
            if not arm.values:
                test = "True"
            elif len(labels) == 1:
                test = f"d == {labels[0]}"
            else:
                test = f"d in ({', '.join(labels)})"
            encode_start, decode_start = len(encode.lines), len(decode.lines)
            local = f"_arm{index}"
            if arm.field is not None:
                path = self.path(t.name, arm.field.name)
                encode.emit(2, f"{local} = v.{arm.field.py_name}")
                if not self.may_be_none(arm.field.type):
                    encode.emit(2, f"if {local} is None:")
                    encode.emit(3, f"raise _rt.XdrError({f'the arm {arm.field.name!r} is not set'!r}, path={path!r})")
                encode.encode(arm.field.type, local, path, 2)
                decode.decode(arm.field.type, local, path, 2)
            others = [f.py_name for f in arm_fields if arm.field is None or f.py_name != arm.field.py_name]
            arms.append(
                {
                    "test": test,
                    "labels": "default" if not arm.values else ", ".join(arm.labels),
                    "describe": f"``{arm.field.py_name}``" if arm.field else "no field (void)",
                    "field": arm.field,
                    "others": others,
                    "local": local,
                    "encode": "\n".join(encode.lines[encode_start:]) or "        pass",
                    "decode": "\n".join(decode.lines[decode_start:]),
                }
            )
        disc_encode, disc_decode = self.writer(), self.writer()
        disc_path = self.path(t.name, t.discriminant.name)
        disc_encode.encode(disc_type, "d", disc_path, 1)
        disc_decode.decode(disc_type, "d", disc_path, 1)
        return self.render(
            "union.py.j2",
            t=t,
            arms=arms,
            arm_fields=arm_fields,
            discriminant_annotation=disc_annotation,
            path=self.path(t.name),
            encode_discriminant="\n".join(disc_encode.lines),
            decode_discriminant="\n".join(disc_decode.lines),
        )

    def typedef(self, t: M.AliasDef) -> str:
        # A real alias when every name it uses already exists, so that ``isinstance`` and
        # constructors work through it; a forward reference (a string) otherwise.
        annotation = python_type(t.type, self.module)
        if not all(self.module.type_named(n).py_name in self.rendered for n in _names_in(t.type)):
            annotation = repr(annotation)
        encode, decode = self.writer(), self.writer()
        encode.encode(t.type, "v", self.path(t.name), 1)
        decode.decode(t.type, "value", self.path(t.name), 1)
        return self.render(
            "typedef.py.j2",
            t=t,
            annotation=annotation,
            encode_body="\n".join(encode.lines) or "    pass",
            decode_body="\n".join(decode.lines),
        )

    def program(self, p: M.Program) -> str:
        versions = []
        for v in p.versions:
            procs = []
            for proc in v.procedures:
                procs.append(
                    {
                        "name": proc.name,
                        "number": proc.number,
                        "arguments": [self.codec_ref(a) for a in proc.arguments],
                        "result": self.codec_ref(proc.result) if not isinstance(proc.result, M.VoidType) else "None",
                        "annotations": proc.annotations,
                        "codecs": [],
                    }
                )
            versions.append({"name": v.name, "number": v.number, "procedures": procs})
        return self.render("program.py.j2", p={"name": p.name, "py_name": p.py_name, "number": p.number, "versions": versions})

    def codec_ref(self, expr: M.TypeExpr) -> str:
        assert isinstance(expr, M.NamedType), "the checker names every procedure type"
        return f'CODECS["{expr.name}"]'

    def block(self, t: M.TypeDefinition) -> str:
        if isinstance(t, M.EnumDef):
            text = self.enum(t)
        elif isinstance(t, M.StructDef):
            text = self.struct(t)
        elif isinstance(t, M.UnionDef):
            text = self.union(t)
        else:
            text = self.typedef(t)
        self.rendered.add(t.py_name)
        return text

    def exports(self) -> list[str]:
        names = [c.py_name for c in self.module.constants]
        for t in self.module.types:
            names.append(t.py_name)
            if isinstance(t, M.EnumDef):
                names.extend(v.py_name for v in t.values)
        names += [f"{p.py_name}_PROGRAM" for p in self.module.programs]
        names += ["CODECS", "XdrError", "codec", "decode", "encode"]
        return sorted(set(names))


def _names_in(expr: M.TypeExpr) -> list[str]:
    if isinstance(expr, M.NamedType):
        return [expr.name]
    if isinstance(expr, (M.ArrayType, M.OptionalType)):
        return _names_in(expr.element)
    return []


def generate(module: M.Module, source_name: str, source_text: str, module_name: str | None = None, *, format: bool = True) -> str:
    """Render ``module`` as Python source. ``source_text`` is hashed into the header."""
    module_name = module_name or module_name_for(source_name)
    renderer = _Renderer(module, module_name)
    blocks = [renderer.block(t) for t in module.types]
    program_blocks = [renderer.program(p) for p in module.programs]
    code = renderer.render(
        "module.py.j2",
        version=__version__,
        source_name=Path(source_name).name,
        sha256=hashlib.sha256(source_text.encode("utf-8")).hexdigest(),
        module=module,
        module_name=module_name,
        blocks=blocks,
        program_blocks=program_blocks,
        passthrough=[line.rstrip() for text in module.passthrough for line in text.split("\n")],
        exports=renderer.exports(),
    ) + "\n"
    return format_python(code) if format else code


def format_python(code: str) -> str:
    import black

    return black.format_str(code, mode=black.Mode(line_length=100))


__all__ = ["generate", "module_name_for", "runtime_source", "GenerationError", "RUNTIME_MODULE", "RPC_MODULE"]
