"""Checked model -> formatted Python source. Chooses a template per construct and fills it."""

from __future__ import annotations

import dataclasses
import hashlib
import keyword
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from . import __version__
from . import model as M
from .layout import LINE_LENGTH, dict_entry_call, format_like_black
from .codecs import CodeWriter, FastDecoder, FastEncoder, FlatShapes, GenerationError, StructFormats, min_size, pystr, python_type

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


def _commented(code: str, comment: str | None, indent: int = 0) -> str:
    """``code  # comment``; the comment goes on a line of its own before the code when the
    line would be longer than black's limit (black would wrap the code in parentheses)."""
    if not comment:
        return code
    line = f"{code}  # {_oneline(comment)}"
    if indent + len(line) <= LINE_LENGTH:
        return line
    return f"# {_oneline(comment)}\n{' ' * indent}{code}"


def _docstring(text: str) -> str:
    """A comment as the body of a class docstring, in the shape black gives docstrings:
    first line stripped, the others dedented to the class body, quotes kept off the ends."""
    text = str(text).replace("\\", "\\\\").replace('"""', '\\"\\"\\"').expandtabs()
    first, *rest = text.split("\n")
    rest = textwrap.dedent("\n".join(line.rstrip() for line in rest)).split("\n") if rest else []
    body = "\n".join([first.strip()] + [("    " + line) if line.strip() else "" for line in rest]).strip()
    if body.startswith('"'):
        body = " " + body
    if body.endswith('"'):
        body += " "
    return body


def _literal(value: object) -> str:
    return pystr(value) if isinstance(value, str) else repr(value)


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
    env.filters["pyrepr"] = _literal
    env.filters["oneline"] = _oneline
    env.filters["docstring"] = _docstring
    env.filters["commented"] = _commented
    return env


@dataclass
class _FieldView:
    name: str
    py_name: str
    annotation: str
    local: str
    comment: str | None


POSITIONAL_ARMS = 4  # a decoded union arm among the first four is passed by position
# up to this many arm fields, each arm tests the others' fields one by one; more, and all are
# counted at once, so that the code stays small in unions of many arms (NFSv4's nfs_argop4 has 60)
NAMED_ARM_CHECKS = 4


class _Renderer:
    def __init__(self, module: M.Module, module_name: str):
        self.module = module
        self.module_name = module_name
        self.env = _environment()
        self.rendered: set[str] = set()  # python names of the types emitted so far
        self.formats = StructFormats()  # the struct.Struct objects the fast paths use
        self.shapes = FlatShapes(module)  # which types are written out where used, packed, unpacked

    def path(self, *parts: str) -> str:
        return ".".join((self.module_name,) + parts)

    def writer(self) -> CodeWriter:
        return CodeWriter(self.module)

    def fast_writers(self) -> tuple[FastEncoder, FastDecoder]:
        return (
            FastEncoder(self.module, shapes=self.shapes, formats=self.formats),
            FastDecoder(self.module, shapes=self.shapes, formats=self.formats),
        )

    def packs(self, t: M.TypeDefinition) -> bool:
        """Whether ``t`` has a ``_pack_`` function, its codec's ``encode`` (no output list to join)."""
        return self.shapes.packs(t)

    def unpacks(self, t: M.TypeDefinition) -> bool:
        """Whether ``t`` has an ``_unpack_`` function, its codec's ``decode``: one Struct.unpack
        of all the input (so not for a struct of no bytes, where unpack would check nothing)."""
        return self.shapes.fixed(t) and min_size(M.NamedType(t.name), self.module) > 0

    def codec_arguments(self, t: M.TypeDefinition) -> list[str]:
        functions = [f"_enc_{t.py_name}", f"_dec_{t.py_name}", pystr(self.module_name)]
        if self.packs(t):
            functions.append(f"_pack_{t.py_name}")
        if self.unpacks(t):
            functions.append(f"_unpack_{t.py_name}")
        return [pystr(t.name)] + functions

    def fast_value_bodies(self, expr: M.TypeExpr, path: str) -> tuple[FastEncoder, FastDecoder, str]:
        """Fast statements of a function whose whole value is ``expr`` (typedefs, enums),
        and the expression of the decoded value."""
        fast_enc, fast_dec = self.fast_writers()
        fast_enc.encode(expr, "v", path, 2)
        fast_enc.flush(2)
        value = fast_dec.decode(expr, path, 2)
        fast_dec.flush(2)
        return fast_enc, fast_dec, value

    @staticmethod
    def encoder_body(fast: CodeWriter, checked: CodeWriter, path: str, prologue: list[str] | None = None, packs: bool = False) -> str:
        """Fast statements first; if they refuse the value, the checked ones say why (and a
        value only the checked ones accept is still refused, with the one error type).
        ``packs``: the fast statements return the bytes (``_pack_``), so ``out`` is local."""
        return "\n".join(
            (prologue or [])
            + ["    try:", *(fast.lines or ["        pass"])]
            + ["    except _rt.FAST_ERRORS as refused:  # the checked statements name the field and the reason"]
            + (["        out: list[bytes] = []"] if packs else [])
            + checked.lines
            + [f"        raise _rt.unexpected(refused, {pystr(path)})"]
        )

    @staticmethod
    def decoder_body(fast: CodeWriter, fast_return: str, checked: CodeWriter, checked_return: str, prologue: list[str] | None = None, epilogue: list[str] | None = None) -> str:
        """Fast statements first; on anything they refuse, the checked ones decode again from
        the start and either return the same value or name the field, offset and reason."""
        return "\n".join(
            (prologue or [])
            + ["    start = pos", "    try:", *fast.lines]
            + ([f"        {fast_return}"] if fast_return else [])
            + ["    except _rt.FAST_ERRORS:  # the checked statements name the field, offset and reason", "        pos = start"]
            + checked.lines
            + ([f"        {checked_return}"] if checked_return else [])
            + (epilogue or [])
        )

    def type_check(self, t: M.StructDef | M.UnionDef, subject: str = "v") -> list[str]:
        return [f"    if not isinstance({subject}, {t.py_name}):", f"        raise _rt.bad_type({subject}, {pystr(t.py_name)}, {pystr(self.path(t.name))})"]

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context).rstrip("\n")

    # ---- constructs ------------------------------------------------------------------------

    def struct(self, t: M.StructDef) -> str:
        link = self.link_field(t)
        fields = [
            _FieldView(f.name, f.py_name, python_type(f.type, self.module), f"_f{i}", f.comment)
            for i, f in enumerate(t.fields)
        ]
        link_view = next((v for f, v in zip(t.fields, fields) if f is link), None)
        body = self.link_bodies(t, link, fields) if link else self.struct_bodies(t, fields)
        return self.render(
            "struct.py.j2",
            t=t,
            fields=fields,
            link=link_view,
            path=self.path(t.name),
            packs=self.packs(t),
            unpack_body=self.unpack_body(t) if self.unpacks(t) else "",
            encode_body=body[0],
            decode_body=body[1],
        )

    def unpack_body(self, t: M.StructDef) -> str:
        """The statements of ``_unpack_``: a fixed struct read from all of ``buf`` at once."""
        whole = FastDecoder(self.module, shapes=self.shapes, formats=self.formats, whole=True)
        value = whole.decode(M.NamedType(t.name), self.path(t.name), 3)
        whole.flush(3)
        return "\n".join(whole.lines + [f"            return {value}"])

    def struct_bodies(self, t: M.StructDef, fields: list[_FieldView]) -> tuple[str, str]:
        fast_enc, fast_dec = self.fast_writers()
        values = []
        for f in t.fields:
            fast_enc.encode(f.type, f"v.{f.py_name}", self.path(t.name, f.name), 2)
            values.append(fast_dec.decode(f.type, self.path(t.name, f.name), 2))
        packs = self.packs(t)
        (fast_enc.flush_return if packs else fast_enc.flush)(2)
        fast_dec.flush(2)
        enc, dec = self.writer(), self.writer()
        for f, view in zip(t.fields, fields):
            enc.encode(f.type, f"v.{f.py_name}", self.path(t.name, f.name), 2)
            dec.decode(f.type, view.local, self.path(t.name, f.name), 2)
        return (
            self.encoder_body(fast_enc, enc, self.path(t.name), self.type_check(t), packs),
            self.decoder_body(
                fast_dec, f"return {t.py_name}({', '.join(values)}), pos",
                dec, f"return {t.py_name}({', '.join(v.local for v in fields)}), pos",
            ),
        )

    def link_bodies(self, t: M.StructDef, link: M.Field, fields: list[_FieldView]) -> tuple[str, str]:
        """A linked list ("next" points to the next node): loops, not recursion."""
        fast_enc, fast_dec = self.fast_writers()
        nodes = [f for f in t.fields if f is not link]
        fast_enc.emit(2, "while node is not None:")
        fast_enc.emit(3, f"if not isinstance(node, {t.py_name}):")
        fast_enc.emit(4, "raise _rt.Reject")
        fast_dec.emit(2, "while True:")
        values = []
        for f in nodes:
            fast_enc.encode(f.type, f"node.{f.py_name}", self.path(t.name, f.name), 3)
            values.append(fast_dec.decode(f.type, self.path(t.name, f.name), 3))
        fast_enc.flush_slots()
        fast_enc.parts.append(f"_rt.ZERO if node.{link.py_name} is None else _rt.ONE")
        fast_enc.flush(3)
        fast_enc.emit(3, f"node = node.{link.py_name}")
        more = fast_dec.slot("I")
        fast_dec.flush(3)
        fast_dec.emit(3, f"nodes.append({t.py_name}({', '.join(values)}, None))")
        fast_dec.emit(3, f"if not _rt.BOOLS[{more}]:")
        fast_dec.emit(4, "break")

        enc, dec = self.writer(), self.writer()
        enc.emit(2, "node = v")
        enc.emit(2, "while node is not None:")
        enc.emit(3, f"_rt.check_instance(node, {t.py_name}, {pystr(self.path(t.name))})")
        dec.emit(2, "nodes.clear()")
        dec.emit(2, "while True:")
        for f, view in zip(t.fields, fields):
            if f is not link:
                enc.encode(f.type, f"node.{f.py_name}", self.path(t.name, f.name), 3)
                dec.decode(f.type, view.local, self.path(t.name, f.name), 3)
        enc.emit(3, f"node = node.{link.py_name}")
        enc.emit(3, "out.append(_rt.ZERO if node is None else _rt.ONE)")
        dec.emit(3, f"more, pos = _rt.dec_bool(buf, pos, {pystr(self.path(t.name, link.name))})")
        locals_ = ", ".join("None" if f is link else v.local for f, v in zip(t.fields, fields))
        dec.emit(3, f"nodes.append({t.py_name}({locals_}))")
        dec.emit(3, "if not more:")
        dec.emit(4, "break")
        return (
            self.encoder_body(fast_enc, enc, self.path(t.name), [f"    node: {t.py_name} | None = v"]),
            self.decoder_body(
                fast_dec, "", dec, "",
                prologue=[f"    nodes: list[{t.py_name}] = []"],
                epilogue=[
                    "    for current, following in zip(nodes, nodes[1:]):",
                    f"        current.{link.py_name} = following",
                    "    return nodes[0], pos",
                ],
            ),
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
                return member.py_name  # the module-level name: one lookup, not two
            if isinstance(resolved, M.BoolType):
                return "True" if value else "False"
            return str(value)

        arm_fields = []
        seen: set[str] = set()
        for arm in t.all_arms:
            if arm.field is not None and arm.field.py_name not in seen:
                seen.add(arm.field.py_name)
                annotation = python_type(arm.field.type, self.module)
                if not annotation.endswith("| None"):
                    annotation += " | None"
                arm_fields.append(_FieldView(arm.field.name, arm.field.py_name, annotation, "", arm.field.comment))

        def arm_arguments(name: str, value: str) -> list[str]:
            # by position when few arms come first: keywords cost a dataclass __init__ more
            position = next(n for n, f in enumerate(arm_fields) if f.py_name == name)
            return ["d"] + ["None"] * position + [value] if position < POSITIONAL_ARMS else ["d", f"{name}={value}"]

        arms = []
        all_arms = t.all_arms
        packs = self.packs(t)
        for arm in all_arms:
            arms.append(
                {
                    "labels": "default" if not arm.values else ", ".join(arm.labels),
                    "describe": f"``{arm.field.py_name}``" if arm.field else "no field (void)",
                }
            )
        # one writer per function for all arms, so temporaries are unique in the function
        # (mypy --strict sees one scope and would reject a name reused with another type)
        fast_enc, fast_dec = self.fast_writers()
        disc_path = self.path(t.name, t.discriminant.name)
        disc_value = fast_dec.decode(disc_type, disc_path, 2)
        fast_dec.flush(2)
        fast_dec.emit(2, f"d = {disc_value}")
        enc, dec = self.writer(), self.writer()
        enc.encode(disc_type, "d", disc_path, 2)
        dec.decode(disc_type, "d", disc_path, 2)
        # only the chosen arm's field may be set
        counted = len(arm_fields) > NAMED_ARM_CHECKS
        if counted:
            for w in (fast_enc, enc):
                w.emit(2, f"unset = _{t.py_name}_ARMS(v).count(None)")

        def other_arm_set(arm: M.UnionArm, local: str) -> list[str]:
            """Conditions of which one is true if a field of another arm than ``arm`` is set."""
            own = arm.field.py_name if arm.field else None
            if not counted:
                return [f"v.{f.py_name} is not None" for f in arm_fields if f.py_name != own]
            if arm.field is None:
                return [f"unset != {len(arm_fields)}"]
            if self.may_be_none(arm.field.type):
                return [f"unset != {len(arm_fields)} - ({local} is not None)"]
            return [f"unset != {len(arm_fields) - 1}"]
        for index, arm in enumerate(all_arms):
            if not arm.values:  # the default arm, always the last
                header = "else:" if index else "if True:"
            elif len(arm.values) == 1:
                test = "is" if isinstance(resolved, M.BoolType) else "=="  # 1 == True, yet not a bool
                header = f"{'elif' if index else 'if'} d {test} {label(arm.values[0])}:"
            else:
                header = f"{'elif' if index else 'if'} d in ({', '.join(label(v) for v in arm.values)}):"
            local = f"_arm{index}"
            for w in (fast_enc, fast_dec, enc, dec):
                w.emit(2, header)
            path = self.path(t.name, arm.field.name) if arm.field else ""
            if arm.field is not None:
                for w in (fast_enc, enc):
                    w.emit(3, f"{local} = v.{arm.field.py_name}")
            unset_arm = arm.field is not None and not self.may_be_none(arm.field.type)
            if arm.field is not None and unset_arm:
                enc.emit(3, f"if {local} is None:")
                enc.emit(4, f"raise _rt.XdrError({pystr(f'the arm {arm.field.name!r} is not set')}, path={pystr(path)})")
            others = other_arm_set(arm, local)
            if unset_arm or others:
                fast_enc.emit_if(3, ([f"{local} is None"] if unset_arm else []) + others)
                fast_enc.emit(4, "raise _rt.Reject")
            if others:
                enc.emit_if(3, others)
                enc.emit(4, f"raise _rt.XdrError({pystr('a field of another arm is set for this discriminant')}, path={pystr(self.path(t.name))})")
            elif arm.field is None:
                enc.emit(3, "pass")  # the discriminant was all there was to check and write
            if isinstance(resolved, M.BoolType) and arm.values:
                fast_enc.slots.append(("I", "d"))  # "d is True" has checked that it is a bool
            else:
                fast_enc.encode(disc_type, "d", disc_path, 3)
            if arm.field is None:
                fast_dec.emit(3, f"return {t.py_name}(d), pos")
                dec.emit(3, f"return {t.py_name}(d), pos")
            else:
                fast_enc.encode(arm.field.type, local, path, 3)
                value = fast_dec.decode(arm.field.type, path, 3)
                fast_dec.flush(3)
                fast_dec.emit(3, f"return {t.py_name}({', '.join(arm_arguments(arm.field.py_name, value))}), pos")
                enc.encode(arm.field.type, local, path, 3)
                dec.decode(arm.field.type, local, path, 3)
                dec.emit(3, f"return {t.py_name}(d, {arm.field.py_name}={local}), pos")
            (fast_enc.flush_return if packs else fast_enc.flush)(3)

        def no_arm(offset: str) -> str:
            return f'raise _rt.XdrError(f"no arm for discriminant {{d!r}}", {offset}path={pystr(disc_path)})'

        if t.default is None:
            fast_enc.emit(2, "else:")
            fast_enc.emit(3, "raise _rt.Reject")
            fast_dec.emit(2, "raise _rt.Reject")
            enc.emit(2, "else:")
            enc.emit(3, no_arm(""))
            dec.emit(2, no_arm("offset=start, "))
        return self.render(
            "union.py.j2",
            t=t,
            arms=arms,
            arm_fields=arm_fields,
            arm_getter=", ".join(pystr(f.py_name) for f in arm_fields) if counted else "",
            discriminant_annotation=disc_annotation,
            path=self.path(t.name),
            packs=packs,
            unpack_body="",
            encode_body=self.encoder_body(fast_enc, enc, self.path(t.name), self.type_check(t) + ["    d = v." + t.discriminant.py_name], packs),
            decode_body=self.decoder_body(fast_dec, "", dec, ""),
        )

    def typedef(self, t: M.AliasDef) -> str:
        # A real alias when every name it uses already exists, so that ``isinstance`` and
        # constructors work through it; a forward reference (a string) otherwise.
        annotation = python_type(t.type, self.module)
        if not all(self.module.type_named(n).py_name in self.rendered for n in _names_in(t.type)):
            annotation = pystr(annotation)
        fast_enc, fast_dec, value = self.fast_value_bodies(t.type, self.path(t.name))
        enc, dec = self.writer(), self.writer()
        enc.encode(t.type, "v", self.path(t.name), 2)
        dec.decode(t.type, "value", self.path(t.name), 2)
        return self.render(
            "typedef.py.j2",
            t=t,
            annotation=annotation,
            encode_body=self.encoder_body(fast_enc, enc, self.path(t.name)),
            decode_body=self.decoder_body(fast_dec, f"return {value}, pos", dec, "return value, pos"),
        )

    def enum(self, t: M.EnumDef) -> str:
        fast_enc, fast_dec, value = self.fast_value_bodies(M.NamedType(t.name), self.path(t.name))
        enc, dec = self.writer(), self.writer()
        # the checked statements of other types call this function for an enum; here they
        # are the runtime's
        enc.emit(2, f"_rt.enc_enum(out, v, _{t.py_name}_VALUES, {pystr(t.name)}, {pystr(self.path(t.name))})")
        dec.emit(2, f"return _rt.dec_enum(buf, pos, {t.py_name}, _{t.py_name}_VALUES, {pystr(self.path(t.name))})")
        return self.render(
            "enum.py.j2",
            t=t,
            path=self.path(t.name),
            encode_body=self.encoder_body(fast_enc, enc, self.path(t.name)),
            decode_body=self.decoder_body(fast_dec, f"return {value}, pos", dec, ""),
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


def generate(module: M.Module, source_name: str, source_text: str, module_name: str | None = None, *, format: bool = True, regenerate: str | None = None) -> str:
    """Render ``module`` as Python source. ``source_text`` is hashed into the header;
    ``regenerate`` is the header's "Do not edit: ..." text (how the module is written again)."""
    module_name = module_name or module_name_for(source_name)
    renderer = _Renderer(module, module_name)
    blocks = [renderer.block(t) for t in module.types]
    program_blocks = [renderer.program(p) for p in module.programs]
    code = renderer.render(
        "module.py.j2",
        version=__version__,
        source_name=Path(source_name).name,
        regenerate=regenerate or f"run `xdrgen {Path(source_name).name}` again",
        sha256=hashlib.sha256(source_text.encode("utf-8")).hexdigest(),
        module=module,
        module_name=module_name,
        blocks=blocks,
        program_blocks=program_blocks,
        passthrough=[line.rstrip() for text in module.passthrough for line in text.split("\n")],
        exports=renderer.exports(),
        struct_formats=renderer.formats.definitions(),
        codec_entries=[
            dict_entry_call(pystr(t.name), "_rt.Codec", renderer.codec_arguments(t))
            for t in module.types
        ],
    ) + "\n"
    return format_python(code) if format else code


def format_python(code: str) -> str:
    """The generated text as black lays it out (see layout.py: only long statements need it)."""
    return format_like_black(code)


__all__ = ["generate", "module_name_for", "runtime_source", "GenerationError", "RUNTIME_MODULE", "RPC_MODULE"]
