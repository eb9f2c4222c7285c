"""View models: what each template is given, one per construct, with every name and every
piece of code already made. Python decides here; the templates only lay things out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import model as M
from .. import naming
from ..shapes import Shapes, link_field
from .code import If, Statement
from .describe import definition_shape
from .fast import FastDecoder, FastEncoder, StructFormats, arm_header, inlining
from .text import annotation, pystr


@dataclass
class FieldView:
    name: str  # as in the .x file
    py_name: str
    annotation: str
    comment: str | None = None
    optional: bool = False  # a union arm: None unless its discriminant selects it


@dataclass
class Functions:
    """The codec functions of a type; ``pack``/``unpack`` are None when it has none."""

    encode: str
    decode: str
    pack: str | None = None
    unpack: str | None = None


@dataclass
class StructView:
    t: M.StructDef
    fields: list[FieldView]
    functions: Functions
    link: FieldView | None
    encode: list[Statement]  # the fast statements, inside the function's try
    decode: list[Statement]
    decoded: str  # the value decode returns (a plain struct), or the node appended (a list)
    more: str = ""  # a list: the decoded word that says whether another node follows
    unpack: list[Statement] = field(default_factory=list)
    unpacked: str = ""


@dataclass
class ArmView:
    header: str | If
    labels: str
    describe: str
    encode: list[Statement]
    decode: list[Statement]


@dataclass
class UnionView:
    t: M.UnionDef
    discriminant: FieldView
    arm_fields: list[FieldView]
    arms: list[ArmView]
    functions: Functions
    check_discriminant: list[Statement]  # the encoder's, before the arms
    decode_discriminant: list[Statement]
    arm_local: str  # the encoder's local holding the arm that is set (see _rt.Union)
    has_default: bool


@dataclass
class EnumView:
    t: M.EnumDef
    functions: Functions
    encode: list[Statement]
    decode: list[Statement]
    decoded: str
    members: str  # the table from a decoded value to its member
    packed: str  # the members' bytes, for an enum packed alone


@dataclass
class TypedefView:
    t: M.AliasDef
    annotation: str
    functions: Functions
    encode: list[Statement]
    decode: list[Statement]
    decoded: str


@dataclass
class CodecView:
    """A type's entries in the module's tables of shapes and of functions (``functions``: the
    text of its ``_rt.Functions`` tuple)."""

    name: str
    shape: str
    functions: str = ""


@dataclass
class ProcedureView:
    name: str
    py_name: str
    number: int
    arguments: list[str]  # codecs
    result: str
    annotations: list[tuple[str, str]]


@dataclass
class MethodView:
    """A procedure as a method of the RPC classes: ``def method(self, arg1: T, /) -> R``."""

    name: str  # the procedure's, as in the .x file
    method: str
    number: int
    parameters: list[tuple[str, str]]  # (name, annotation), positional-only
    result: str  # annotation; "None" for void
    local: str  # the typed local a client method returns

    @property
    def signature(self) -> str:
        """The parameters after ``self``, ``/`` included when there are any."""
        return "".join(f", {name}: {text}" for name, text in self.parameters) + (", /" if self.parameters else "")

    @property
    def passed(self) -> str:
        return "".join(f", {name}" for name, _ in self.parameters)


@dataclass
class VersionView:
    name: str
    py_name: str
    number: int
    procedures: list[ProcedureView]
    procedure_enum: str
    client: str = ""
    async_client: str = ""
    server: str = ""
    methods: list[MethodView] = field(default_factory=list)


@dataclass
class ProgramView:
    name: str
    py_name: str
    number: int
    table: str
    versions: list[VersionView]
    imported: set[str] = field(default_factory=set)  # what the RPC sibling imports from the module


TypeView = StructView | UnionView | EnumView | TypedefView


class ViewBuilder:
    """Builds the view of each definition of one module, running the fast emitters."""

    def __init__(self, module: M.Module) -> None:
        self.module = module
        self.shapes = Shapes(module)
        self.formats = StructFormats()
        self.inline = inlining(module, self.shapes)
        self.taken = _module_names(module)
        self.L = naming.Locals.avoiding(self.taken)
        self.rendered: set[str] = set()  # python names of the types emitted so far

    def writers(self) -> tuple[FastEncoder, FastDecoder]:
        """An encoder and a decoder for one pair of functions (temporaries unique in each)."""
        return (
            FastEncoder(self.module, self.shapes, self.formats, self.L, naming.Temporaries(self.taken), self.inline),
            FastDecoder(self.module, self.shapes, self.formats, self.L, naming.Temporaries(self.taken), self.inline),
        )

    def functions(self, t: M.TypeDefinition) -> Functions:
        packs = isinstance(t, (M.StructDef, M.UnionDef)) and self.shapes.packs(t)
        return Functions(
            encode=naming.encoder(t.py_name),
            decode=naming.decoder(t.py_name),
            pack=naming.packer(t.py_name) if packs else None,
            unpack=naming.unpacker(t.py_name) if self.shapes.unpacks(t) else None,
        )

    def codec(self, t: M.TypeDefinition, block: str) -> CodecView:
        """``t``'s entries in the module's tables; ``block`` is its rendered code, which says
        which of its functions exist (a struct that packs has no encoder, one not fixed in size
        no unpacker)."""
        names = [naming.encoder(t.py_name), naming.decoder(t.py_name), naming.packer(t.py_name), naming.unpacker(t.py_name)]
        listed = [name if re.search(rf"^def {name}\(", block, re.MULTILINE) else "None" for name in names]
        listed.append(t.py_name if isinstance(t, (M.EnumDef, M.StructDef, M.UnionDef)) else "None")
        return CodecView(t.name, definition_shape(t, self.shapes), f"({', '.join(listed)})")

    def view(self, t: M.TypeDefinition) -> TypeView:
        if isinstance(t, M.EnumDef):
            result: TypeView = self.enum(t)
        elif isinstance(t, M.StructDef):
            result = self.struct(t)
        elif isinstance(t, M.UnionDef):
            result = self.union(t)
        else:
            result = self.typedef(t)
        self.rendered.add(t.py_name)
        return result

    # ---- constructs ------------------------------------------------------------------------

    def field_view(self, f: M.Field, optional: bool = False) -> FieldView:
        text = annotation(f.type, self.module)
        if optional and not text.endswith("| None"):
            text += " | None"
        return FieldView(f.name, f.py_name, text, f.comment, optional)

    def struct(self, t: M.StructDef) -> StructView:
        fields = [self.field_view(f) for f in t.fields]
        link = link_field(self.module, t)
        functions = self.functions(t)
        enc, dec = self.writers()
        enc.packing = functions.pack is not None
        v = self.L.value
        if link is None:
            values = []
            for f in t.fields:
                enc.encode(f.type, f"{v}.{f.py_name}")
                values.append(dec.decode(f.type))
            (enc.flush_return if functions.pack else enc.flush)()
            dec.flush()
            view = StructView(t, fields, functions, None, enc.statements, dec.statements, f"{t.py_name}({', '.join(values)})")
            if functions.unpack:
                whole = FastDecoder(self.module, self.shapes, self.formats, self.L, naming.Temporaries(self.taken), self.inline, whole=True)
                view.unpacked = whole.decode(M.NamedType(t.name))
                whole.flush()
                view.unpack = whole.statements
            return view
        # a linked list: the body of the loop over its nodes
        node = self.L.node
        values = []
        enc.in_loop = dec.in_loop = True
        enc.slots.append(("I", "1"))  # TRUE, a node follows: packed with the node's first values
        for f in t.fields[:-1]:
            enc.encode(f.type, f"{node}.{f.py_name}")
            values.append(dec.decode(f.type))
        enc.flush()
        more = dec.slot("I")
        dec.flush()
        return StructView(
            t, fields, functions, fields[-1], enc.statements, dec.statements, f"{t.py_name}({', '.join(values + ['None'])})", more
        )

    def union(self, t: M.UnionDef) -> UnionView:
        d = self.L.discriminant
        arm_fields: list[FieldView] = []
        for arm in t.all_arms:
            if arm.field is not None and all(f.py_name != arm.field.py_name for f in arm_fields):
                arm_fields.append(self.field_view(arm.field, optional=True))
        functions = self.functions(t)
        enc, dec = self.writers()  # one pair for all arms: temporaries unique in each function
        enc.packing = functions.pack is not None
        disc_value = dec.decode(t.discriminant.type)
        dec.flush()
        dec.emit(f"{d} = {disc_value}")
        decode_discriminant = dec.take()
        arm_local, made = enc.temp("arm"), dec.temp("u")  # the arm set (_rt.Union), the value made
        enc.check_discriminant(t, d)
        check_discriminant = enc.take()
        arms = []
        for index, arm in enumerate(t.all_arms):
            enc.encode_arm(t, arm, d, arm_local)
            (enc.flush_return if functions.pack else enc.flush)()
            dec.decode_arm(t, arm, d, made)
            dec.emit(f"return {made}, {self.L.pos}")
            arms.append(
                ArmView(
                    arm_header(self.module, t, index, arm, d),
                    "default" if not arm.values else ", ".join(arm.labels),
                    f"``{arm.field.py_name}``" if arm.field else "no field (void)",
                    enc.take(),
                    dec.take(),
                )
            )
        return UnionView(
            t, self.field_view(t.discriminant), arm_fields, arms, functions, check_discriminant, decode_discriminant, arm_local, t.default is not None
        )

    def typedef(self, t: M.AliasDef) -> TypedefView:
        # A real alias when every name it uses already exists, so that ``isinstance`` and
        # constructors work through it; a forward reference (a string) otherwise.
        text = annotation(t.type, self.module)
        if not all(self.module.type_named(n).py_name in self.rendered for n in _names_in(t.type)):
            text = pystr(text)
        enc, dec = self.writers()
        enc.encode(t.type, self.L.value)
        enc.flush()
        value = dec.decode(t.type)
        dec.flush()
        return TypedefView(t, text, self.functions(t), enc.statements, dec.statements, value)

    def enum(self, t: M.EnumDef) -> EnumView:
        enc, dec = self.writers()
        enc.encode(M.NamedType(t.name), self.L.value)
        enc.flush()
        value = dec.decode(M.NamedType(t.name))
        dec.flush()
        return EnumView(
            t, self.functions(t), enc.statements, dec.statements, value, naming.enum_members(t.py_name), naming.enum_packed(t.py_name)
        )

    def program(self, p: M.Program) -> ProgramView:
        versions = []
        for version in p.versions:
            procedures = [
                ProcedureView(
                    proc.name,
                    proc.py_name,
                    proc.number,
                    [_codec_ref(a) for a in proc.arguments],
                    "None" if isinstance(proc.result, M.VoidType) else _codec_ref(proc.result),
                    [(a.key, a.value) for a in proc.annotations],
                )
                for proc in version.procedures
            ]
            client, async_client, server = naming.rpc_classes(version.py_name)
            methods = self.methods(version)
            versions.append(
                VersionView(
                    version.name, version.py_name, version.number, procedures, naming.procedure_enum(version.py_name), client, async_client, server, methods
                )
            )
        view = ProgramView(p.name, p.py_name, p.number, naming.program_table(p.py_name), versions)
        view.imported = {view.table} | {
            name for v in versions for m in v.methods for text in [m.result, *(a for _, a in m.parameters)] for name in _IDENTIFIER.findall(text)
        } - _ANNOTATION_BUILTINS
        return view

    def methods(self, version: M.Version) -> list[MethodView]:
        """The procedure methods of the RPC classes of ``version``, named as the checker
        warned (``naming.rpc_method_name``); parameters and locals hide no module name."""
        type_names = {t.py_name for t in self.module.types if t.name not in self.module.invented}
        taken: set[str] = set()
        methods = []
        for proc in version.procedures:
            method, _ = naming.rpc_method_name(proc.name, type_names, taken)
            taken.add(method)
            parameters = [(_free(f"arg{i + 1}", self.taken), self.rpc_annotation(a)) for i, a in enumerate(proc.arguments)]
            methods.append(MethodView(proc.name, method, proc.number, parameters, self.rpc_annotation(proc.result), _free("result", self.taken)))
        return methods

    def rpc_annotation(self, expr: M.TypeExpr) -> str:
        """A procedure type's annotation: the typedef the checker invented for an unnamed one
        (``int``, ``string``) is seen through, so that the methods say ``int`` and ``str``."""
        if isinstance(expr, M.NamedType) and expr.name in self.module.invented:
            t = self.module.type_named(expr.name)
            if isinstance(t, M.AliasDef):
                return annotation(t.type, self.module)
        return annotation(expr, self.module)


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_ANNOTATION_BUILTINS = {"int", "float", "bool", "bytes", "str", "list", "None"}


def _free(name: str, taken: set[str]) -> str:
    """``name``, with trailing underscores until no module-level name has it."""
    return naming.python_name(name, naming.PARAMETER, taken)[0]


def _codec_ref(expr: M.TypeExpr) -> str:
    assert isinstance(expr, M.NamedType), "the checker names every procedure type"
    return f"CODECS[{pystr(expr.name)}]"


def _names_in(expr: M.TypeExpr) -> list[str]:
    while isinstance(expr, (M.ArrayType, M.OptionalType)):
        expr = expr.element
    return [expr.name] if isinstance(expr, M.NamedType) else []


def _module_names(module: M.Module) -> set[str]:
    """The module-level names the definitions of the .x file take: a local must not hide one."""
    names = {c.py_name for c in module.constants} | {t.py_name for t in module.types} | {p.py_name for p in module.programs}
    for t in module.types:
        if isinstance(t, M.EnumDef):
            names.update(v.py_name for v in t.values)
    return names
