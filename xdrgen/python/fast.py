"""The fast path: statements that encode or decode one value, specialised at generation time.

They fuse runs of fixed-size values into one precompiled ``struct.Struct`` (with at most one
string or opaque among them: a Struct for each of its lengths, ``_rt.Sized``), write flat
unions out in loops, and add a struct's output with one ``out +=``. They check everything the
checked codec checks, but only say "no" (one of ``_rt.REFUSED``); the function's ``except``
then asks the checked codec, which says why and where (see the templates).
Encoders add ``bytes`` to ``out``; decoders read ``buf`` at ``pos`` and advance ``pos``.
A struct, union or enum value is checked by its exact class (``v.__class__ is T``, cheaper
than ``isinstance``): an instance of a subclass, or an enum's value as a plain int, is left to
the checked codec, which takes it.
Strings are UTF-8 with surrogateescape (any bytes round-trip), but the fast path encodes and
decodes them strictly, which is quicker and gives the same bytes and text wherever it
succeeds; the rest raises UnicodeError, one of REFUSED, and the checked codec makes the value.
"""

from __future__ import annotations

import struct
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from .. import model as M
from .. import naming
from ..shapes import Shapes, full_range, may_be_none
from .code import Block, If, Writer
from .text import annotation, pystr

FIXED_INT_FORMATS = {(32, True): "i", (32, False): "I", (64, True): "q", (64, False): "Q"}
FLOAT_FORMATS = {32: "f", 64: "d"}
NO_LIMIT = M.UINT32_MAX  # a length limit the 32-bit length word enforces by itself
# The encoder's slot of a string or variable opaque: its bytes, padded, in the run of fixed-size
# values around it, packed by a Struct for its length (``_rt.Sized``), one part in all
SIZED = "s"
REJECT = "raise _rt.Reject"


class StructFormats:
    """The struct.Struct objects a module needs, one per format, named after what they pack."""

    def __init__(self) -> None:
        # by name, which gives the run back (naming.struct_format): "ii" and "2i" are one Struct
        self.formats: dict[str, str] = {}  # name -> format
        self.tables: dict[str, str] = {}  # name -> the expression that makes the runtime's table

    def name(self, fmt: str) -> str:
        name = naming.struct_format(fmt)
        self.formats.setdefault(name, fmt)
        return name

    def items(self, head: str, code: str) -> str:
        """The ``_rt.Items`` table of ``head`` then any count of ``code`` (arrays of numbers)."""
        return self._table(naming.struct_items(head, code), f'_rt.Items("{head}", "{code}")')

    def sized(self, head: str, tail: str, reading: bool = False) -> str:
        """The ``_rt.Sized`` table of ``head``, bytes of any length and their padding, then
        ``tail``. (Encoders' heads end in the length word; decoders read it first: no clash.)"""
        padding = ', "s"' if reading else ""  # "s": the padding is read, to be checked
        return self._table(naming.struct_sized(head, tail), f'_rt.Sized("{head}", "{tail}"{padding})')

    def _table(self, name: str, made: str) -> str:
        assert self.tables.setdefault(name, made) == made, f"two tables named {name}"
        return name

    def definitions(self) -> list[tuple[str, str]]:
        """(name, format) of each, in the order of their names."""
        return sorted(self.formats.items())

    def table_definitions(self) -> list[tuple[str, str]]:
        """(name, the expression that makes it) of each table of Structs by count, in the order
        of their names."""
        return sorted(self.tables.items())


def number_format(expr: M.TypeExpr | M.TypeDefinition) -> str | None:
    """The struct format of a fixed-size number whose range the format itself checks."""
    if isinstance(expr, M.IntType) and full_range(expr):
        return FIXED_INT_FORMATS[expr.bits, expr.signed]
    if isinstance(expr, M.FloatType) and expr.bits in FLOAT_FORMATS:
        return FLOAT_FORMATS[expr.bits]
    return None


def arm_header(module: M.Module, t: M.UnionDef, index: int, arm: M.UnionArm, d: str) -> str | If:
    """The ``if``/``elif``/``else`` that selects arm ``index`` of ``t`` by the discriminant ``d``."""
    resolved = module.resolve(t.discriminant.type)

    def label(value: int) -> str:
        if isinstance(resolved, M.EnumDef):
            return next(m.py_name for m in resolved.values if m.value == value)  # one lookup, not two
        if isinstance(resolved, M.BoolType):
            return "True" if value else "False"
        return str(value)

    if not arm.values:  # the default arm, always the last
        return "else:" if index else "if True:"
    keyword = "elif" if index else "if"
    if len(arm.values) == 1:
        # 1 == True, yet not a bool; an enum discriminant is a member (checked, or decoded)
        test = "is" if isinstance(resolved, (M.BoolType, M.EnumDef)) else "=="
        return If([f"{d} {test} {label(arm.values[0])}"], keyword)
    return If([f"{d} in ({', '.join(label(x) for x in arm.values)})"], keyword)


# How many copies of a type's leaves the fast codecs may write out in place of calls to its
# functions. A flat struct with strings or variable opaques is written out where it is used
# once, or while its leaves times its uses stay within this (a one-field wrapper, a struct used
# twice), and so is a typedef'd string or opaque in the decoders (seven lines each); beyond it,
# each use calls the type's functions, as a person would write a helper for a type used in a
# hundred places (libvirt's remote_nonnull_domain: 3 leaves, 182 uses). Fixed structs are always
# written out: their numbers fuse with their neighbours' into one struct.Struct.
COPY_BUDGET = 16


@dataclass
class Inlining:
    """What the fast codecs of one module write out where it is used (see ``COPY_BUDGET``)."""

    structs: set[str]  # flat structs written out field by field
    called_strings: set[str]  # typedef'd strings and opaques that decoders call


def inlining(module: M.Module, shapes: Shapes) -> Inlining:
    """Count the copies each type's code would have and choose (see ``COPY_BUDGET``). The
    definitions of other files that the module's types reach count as its own: its code writes
    them out or calls them alike."""
    definitions = module.types + [t for t, _ in module.foreign.values()]
    direct: dict[str, int] = {}  # name -> uses in structs and unions
    in_aliases: dict[str, list[str]] = {}  # name -> the typedefs whose body uses it
    for t in definitions:
        for name in M.names_used(t):
            if isinstance(t, M.AliasDef):
                in_aliases.setdefault(name, []).append(t.name)
            else:
                direct[name] = direct.get(name, 0) + 1
    copies: dict[str, int] = {}

    def copies_of(name: str) -> int:
        """Uses of ``name``, a typedef's counted as often as the typedef is used (typedefs
        form no cycle: the checker refuses one)."""
        pending = [name]
        while pending:
            current = pending[-1]
            waiting = [a for a in in_aliases.get(current, []) if a not in copies]
            if waiting:
                pending.extend(waiting)
                continue
            copies[current] = direct.get(current, 0) + sum(copies[a] for a in in_aliases.get(current, []))
            pending.pop()
        return copies[name]

    structs, called = set(), set()
    for t in definitions:
        if isinstance(t, M.StructDef) and (leaves := shapes.flat_leaves(t)) is not None:
            if shapes.fixed(t) or copies_of(t.name) <= 1 or leaves * copies_of(t.name) <= COPY_BUDGET:
                structs.add(t.name)
        elif isinstance(t, M.AliasDef) and isinstance(body := module.resolve(t.type), (M.StringType, M.OpaqueType)):
            if not (isinstance(body, M.OpaqueType) and body.fixed) and copies_of(t.name) > COPY_BUDGET:
                called.add(t.name)
    return Inlining(structs, called)


class _FastWriter(Writer):
    def __init__(
        self, module: M.Module, shapes: Shapes, formats: StructFormats, locals_: naming.Locals, temp: naming.Temporaries, inline: Inlining
    ) -> None:
        super().__init__()
        self.module = module
        self.shapes = shapes
        self.inline = inline
        self.formats = formats
        self.L = locals_
        self.temp = temp
        self.slots: list[tuple[str, str]] = []  # (format, value) being fused
        self.in_loop = False  # writing the body of a loop: flat unions are written out (Shapes.flat_union)

    def bulk_format(self, element: M.TypeExpr) -> str | None:
        """The format of array items packed or unpacked all at once (``Shapes.bulk``), or None."""
        return number_format(self.module.resolve(element)) if self.shapes.bulk(element) else None

    def reject_if(self, conditions: list[str]) -> None:
        with self.block(If(conditions)):
            self.emit(REJECT)

    @contextmanager
    def loop(self, header: str) -> Iterator[None]:
        """The body of a loop over an array's items (``in_loop`` within it)."""
        with self.block(header):
            self.in_loop, outer = True, self.in_loop
            try:
                yield
            finally:
                self.in_loop = outer


class FastEncoder(_FastWriter):
    """Fast encoding statements. ``parts`` are expressions of bytes still to be added to ``out``."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.parts: list[str] = []
        self.packing = False  # in a ``_pack_`` function: the parts are returned, there is no ``out``
        self.packed: dict[str, str] = {}  # an enum slot -> its bytes from the table of packed members
        self.flushes = 0  # how many times parts were added to ``out`` so far

    def settle(self) -> None:
        """Compute the parts so far into locals, where they cannot be added to an ``out``."""
        self.flush_slots()
        for n, part in enumerate(self.parts):
            if not part.isidentifier():
                self.parts[n] = self.temp("p")
                self.emit(f"{self.parts[n]} = {part}")

    def flush_slots(self) -> None:
        if self.slots == [("I", "1")]:  # TRUE alone
            self.parts.append(naming.RT.ONE)
            self.slots = []
        if len(self.slots) == 1 and self.slots[0][1] in self.packed:
            self.parts.append(self.packed[self.slots.pop()[1]])
        if not self.slots:
            return
        formats = [f for f, _ in self.slots]
        values = ", ".join(v for _, v in self.slots)
        if SIZED in formats:  # the length word before it is the table's key
            n = formats.index(SIZED)
            table = self.formats.sized("".join(formats[:n]), "".join(formats[n + 1 :]))
            self.parts.append(f"{table}[{self.slots[n - 1][1]}].pack({values})")
        else:
            self.parts.append(f"{self.formats.name(''.join(formats))}.pack({values})")
        self.slots = []

    def flush(self) -> None:
        self.flush_slots()
        if self.parts:
            self.emit(self.adding(self.parts))
            self.flushes += 1
        self.parts = []

    def adding(self, parts: list[str]) -> str:
        """The statement that adds ``parts`` to ``out``."""
        return f"{self.L.out}.append({parts[0]})" if len(parts) == 1 else f"{self.L.out} += ({', '.join(parts)})"

    def flush_return(self) -> None:
        """``return`` the bytes still to be added, where there is no ``out`` (``_pack_``)."""
        self.flush_slots()
        joined = {0: 'b""', 1: "".join(self.parts)}.get(len(self.parts), f'b"".join(({", ".join(self.parts)}))')
        self.emit(f"return {joined}")
        self.parts = []

    def local(self, value: str, base: str = "x") -> str:
        """``value`` in a local, so that it is read once."""
        if value.isidentifier():
            return value
        name = self.temp(base)
        self.emit(f"{name} = {value}")
        return name

    def encode(self, expr: M.TypeExpr, value: str) -> None:
        t = self.module.resolve(expr)
        fmt = number_format(t)
        if fmt == "f":  # struct's "f" quiets a NaN: the runtime's float32 codec keeps its bits
            x = self.local(value)
            self.reject_if([f"{x} != {x}"])
            self.slots.append((fmt, x))
        elif fmt:
            self.slots.append((fmt, value))
        elif isinstance(t, M.IntType):  # char, short: 4 bytes, a narrower range
            x = self.local(value)
            self.reject_if([f"not {t.min} <= {x} <= {t.max}"])
            self.slots.append((FIXED_INT_FORMATS[32, t.signed], x))
        elif isinstance(t, M.BoolType):
            x = self.local(value)
            self.reject_if([f"{x} is not True and {x} is not False"])  # 1 == True, yet not a bool
            self.slots.append(("I", x))
        elif isinstance(t, M.EnumDef):  # a member, by its exact class (an int: the checked codec)
            x = self.local(value)
            self.reject_if([f"{x}.__class__ is not {t.py_name}"])
            self.enum_slot(t, x)
        elif isinstance(t, M.VoidType):
            pass
        elif isinstance(t, (M.StringType, M.OpaqueType)):
            self.encode_bytes(t, value)
        elif isinstance(t, M.ArrayType):
            self.encode_array(t, value)
        elif isinstance(t, M.OptionalType) and self.shapes.one_run(t.element):
            self.encode_small_optional(t, self.local(value))
        elif isinstance(t, M.OptionalType):
            x = self.local(value)
            self.flush()
            with self.block(f"if {x} is None:"):
                self.emit(f"{self.L.out}.append({naming.RT.ZERO})")
            with self.block("else:"):
                self.parts.append(naming.RT.ONE)
                self.encode(t.element, x)
                self.flush()
        elif isinstance(t, M.StructDef) and t.name in self.inline.structs:
            x = self.local(value, "st")
            self.reject_if([f"{x}.__class__ is not {t.py_name}"])
            for f in t.fields:
                self.encode(f.type, f"{x}.{f.py_name}")
        elif isinstance(t, M.UnionDef) and self.in_loop and not self.packing and self.shapes.flat_union(t):
            self.encode_union(t, value)
        else:
            assert isinstance(t, (M.StructDef, M.UnionDef)), t
            packs = self.shapes.packs(t)
            if not packs or self.slots or not all(p.isidentifier() for p in self.parts):
                # what comes before is checked before it, as the checked codec does
                self.settle() if packs and self.packing else self.flush()
            if packs:  # its bytes join the following parts: no output list passed down
                data = self.temp("p")
                self.emit(f"{data} = {naming.packer(t.py_name)}({value})")
                self.parts.append(data)
            else:
                self.emit(f"{naming.encoder(t.py_name)}({value}, {self.L.out})")

    def encode_arm(self, t: M.UnionDef, arm: M.UnionArm, d: str, arm_local: str) -> None:
        """The body of one arm: the check that its field is the one set (``arm_local``, see
        ``_rt.Union``), then the discriminant ``d`` and the field as slots and parts. The check is
        one comparison: a value with no arm field set fails ``[0]`` with a TypeError, one with
        several (a dict) with a KeyError, both refusals; one with none set fails ``[1]`` alike."""
        value = ""
        # Only the arm fields' properties set the slot, so where the union has one arm field a
        # set arm is that field: no comparison.
        named = len({a.field.py_name for a in t.all_arms if a.field}) > 1
        if arm.field is None:
            self.reject_if([f"{arm_local} is not None"])
        else:  # the value in a local of its type (the slot holds Any)
            value = self.temp("x")
            if may_be_none(self.module, arm.field.type):  # None is a value: the field may be unset
                if named:
                    self.reject_if([f"{arm_local} is not None and {arm_local}[0] != {pystr(arm.field.py_name)}"])
                self.emit(f"{value}: {annotation(arm.field.type, self.module)} = None if {arm_local} is None else {arm_local}[1]")
            else:
                if named:
                    self.reject_if([f"{arm_local}[0] != {pystr(arm.field.py_name)}"])
                self.emit(f"{value}: {annotation(arm.field.type, self.module)} = {arm_local}[1]")
        resolved = self.module.resolve(t.discriminant.type)
        if isinstance(resolved, M.BoolType) and len(arm.values) == 1:
            self.slots.append(("I", d))  # "d is True" has checked that it is a bool ("in" has not)
        elif isinstance(resolved, M.EnumDef):  # checked before the arms (check_discriminant)
            self.enum_slot(resolved, d)
        else:
            self.encode(t.discriminant.type, d)
        if arm.field is not None:
            self.encode(arm.field.type, value)

    def enum_slot(self, t: M.EnumDef, member: str) -> None:
        """A checked member of ``t`` as a slot; alone, its bytes come from the enum's table."""
        self.packed[member] = f"{naming.enum_packed(t.py_name)}[{member}]"
        self.slots.append(("i", member))

    def check_discriminant(self, t: M.UnionDef, d: str) -> None:
        """The check of an enum discriminant ``d``, once before the arms: a member, by its
        class (the arms then pack it as it is)."""
        resolved = self.module.resolve(t.discriminant.type)
        if isinstance(resolved, M.EnumDef):
            self.reject_if([f"{d}.__class__ is not {resolved.py_name}"])

    def encode_union(self, t: M.UnionDef, value: str) -> None:
        """A flat union written out in a loop's body. Each arm starts from the slots and parts
        pending before the union, so its discriminant fuses with the values before it. If every
        arm ends in one part added to those, that part is a local set in each and the parts go
        on after the union; otherwise each arm adds what it has left to ``out`` itself."""
        u = self.local(value, "u")
        self.reject_if([f"{u}.__class__ is not {t.py_name}"])
        d, arm_local = self.temp("d"), self.temp("arm")
        self.emit(f"{d} = {u}.{t.discriminant.py_name}")
        self.emit(f"{arm_local} = {u}._xdr_arm")
        self.check_discriminant(t, d)
        parts, slots = self.parts, self.slots
        arms: list[tuple[Block, list[str], bool]] = []  # (its block, the parts it has left, all new)
        for index, arm in enumerate(t.all_arms):
            self.parts, self.slots, flushes = list(parts), list(slots), self.flushes
            with self.block(arm_header(self.module, t, index, arm, d)) as block:
                self.encode_arm(t, arm, d, arm_local)  # may add the parts before it (a call)
                self.flush_slots()
            arms.append((block, self.parts, self.flushes > flushes))
        if t.default is None:
            with self.block("else:"):
                self.emit(REJECT)
        self.slots = []
        if all(not flushed and len(left) == len(parts) + 1 for _, left, flushed in arms):
            part = self.temp("p")
            for block, left, _ in arms:
                block.body.append(f"{part} = {left[-1]}")
            self.parts = parts + [part]
        else:
            for block, left, _ in arms:
                if left:
                    block.body.append(self.adding(left))
            self.parts = []

    def encode_small_optional(self, t: M.OptionalType, x: str) -> None:
        """An optional whose value is one run: its flag and value are one part (a local set in
        each branch), so the parts around it still go out together."""
        self.flush_slots()
        parts, self.parts = self.parts, []
        part = self.temp("p")
        with self.block(f"if {x} is None:"):
            self.emit(f"{part} = {naming.RT.ZERO}")
        with self.block("else:"):
            self.slots.append(("I", "1"))
            self.encode(t.element, x)
            self.flush_slots()
            (packed,) = self.parts
            self.emit(f"{part} = {packed}")
        self.parts = parts + [part]

    def encode_bytes(self, t: M.StringType | M.OpaqueType, value: str) -> None:
        data, size = self.temp("b"), self.temp("len")
        fixed = isinstance(t, M.OpaqueType) and t.fixed
        limit = t.size if isinstance(t, M.OpaqueType) else t.max
        # Either way its bytes are one value of a run, in an "s" format: it pads them with zeros
        # and refuses anything but bytes and a bytearray (a memoryview: the checked codec).
        self.emit(f"{data} = {value}.encode()" if isinstance(t, M.StringType) else f"{data} = {value}")  # strict UTF-8
        if fixed:
            self.reject_if([f"len({data}) != {limit}"])
            self.slots.append((f"{limit + -limit % 4}s", data))
            return
        self.emit(f"{size} = len({data})")
        if limit < NO_LIMIT:
            self.reject_if([f"{size} > {limit}"])
        if any(f == SIZED for f, _ in self.slots):  # one string or opaque in a run
            self.flush_slots()
        self.slots += [("I", size), (SIZED, data)]  # its length word, then its bytes

    def encode_array(self, t: M.ArrayType, value: str) -> None:
        items = self.temp("seq")
        self.emit(f"{items} = {value}")
        checks = [f"not isinstance({items}, (list, tuple))"]
        if t.fixed or t.size < NO_LIMIT:  # else the length word, packed as "I", is the check
            checks.append(f"len({items}) {'!=' if t.fixed else '>'} {t.size}")
        if not t.fixed and self.shapes.min_size(t.element) == 0:
            checks.append(f"len({items}) > _rt.ZERO_SIZE_ITEMS_MAX")  # as the decoder bounds them
        self.reject_if(checks)
        fmt = self.bulk_format(t.element)
        if fmt and t.fixed:
            self.flush_slots()
            self.parts.append(f"{self.formats.name(f'{t.size}{fmt}')}.pack(*{items})")
            return
        if fmt:
            self.flush_slots()
            self.parts.append(f"{self.formats.items('I', fmt)}[len({items})].pack(len({items}), *{items})")
            return
        if not t.fixed:
            self.slots.append(("I", f"len({items})"))
        self.flush()
        item = self.temp("el")
        with self.loop(f"for {item} in {items}:"):
            self.encode(t.element, item)
            self.flush()


class FastDecoder(_FastWriter):
    """Fast decoding statements. ``decode`` returns an expression of the value, valid once
    the pending slots are flushed (``flush``), as they are before any other statement.
    ``whole``: the value is all of ``buf`` (``_unpack_`` of a fixed struct), so no ``pos``."""

    def __init__(self, *args: object, whole: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.checks: list[str] = []  # conditions that reject, after unpacking
        self.whole = whole
        self.sized: tuple[str, str] = ("", "")  # the SIZED slot's length, and its value (decode_bytes)

    def flush(self) -> None:
        if not self.slots:
            return
        if self.slots[0][0] == SIZED:
            self.flush_sized()
            return
        fmt = "".join(f for f, _ in self.slots)
        targets = ", ".join(v for _, v in self.slots)
        if len(self.slots) == 1:
            targets = f"({targets},)"
        buf, pos = self.L.buf, self.L.pos
        if self.whole:  # Struct.unpack wants exactly its size: neither short nor left over
            self.emit(f"{targets} = {self.formats.name(fmt)}.unpack({buf})")
        else:
            self.emit(f"{targets} = {self.formats.name(fmt)}.unpack_from({buf}, {pos})")
            self.emit(f"{pos} += {struct.calcsize('>' + fmt)}")
        if self.checks:
            self.reject_if(self.checks)
        self.slots, self.checks = [], []

    def flush_sized(self) -> None:
        """The run that begins with the bytes of a string or opaque (``decode_bytes``): alone, a
        slice; with fixed-size values after it, one unpack of all by a Struct for its length
        (``_rt.Sized``), which also reads the padding and refuses input that is too short."""
        buf, pos = self.L.buf, self.L.pos
        (_, raw), following = self.slots[0], self.slots[1:]
        size, value = self.sized
        decoding = ".decode()" if value != raw else ""  # strict UTF-8: see the module docstring
        if following:
            padding, tail = self.temp("pad"), "".join(f for f, _ in following)
            targets = ", ".join([raw, padding] + [v for _, v in following])
            self.emit(f"{targets} = {self.formats.sized('', tail, reading=True)}[{size}].unpack_from({buf}, {pos})")
            self.emit(f"{pos} += {size} + (-{size} & 3) + {struct.calcsize('>' + tail)}")
            self.reject_if(self.checks + [f"{padding} != {naming.RT.ZEROS}[-{size} & 3]"])
            if decoding:
                self.emit(f"{value} = {raw}{decoding}")
        else:
            end = self.temp("e")
            self.emit(f"{end} = {pos} + {size}")
            self.emit(f"{value} = {buf}[{pos}:{end}]{decoding}")
            self.emit(f"{pos} = {end} + (-{size} & 3)")
            # past the end, or padding that is not zeros (a short slice is not zeros either)
            self.reject_if(self.checks + [f"{pos} > len({buf})", f"{buf}[{end}:{pos}] != {naming.RT.ZEROS}[{pos} - {end}]"])
        self.slots, self.checks = [], []

    def slot(self, fmt: str) -> str:
        name = self.temp("v")
        self.slots.append((fmt, name))
        return name

    def decode(self, expr: M.TypeExpr) -> str:
        if isinstance(expr, M.NamedType) and expr.name in self.inline.called_strings:
            return self.call(self.module.type_named(expr.name))
        t = self.module.resolve(expr)
        fmt = number_format(t)
        if fmt == "f":  # struct's "f" quiets a NaN: the runtime's float32 codec keeps its bits
            x = self.slot(fmt)
            self.checks.append(f"{x} != {x}")
            return x
        if fmt:
            return self.slot(fmt)
        if isinstance(t, M.IntType):
            x = self.slot(FIXED_INT_FORMATS[32, t.signed])
            self.checks.append(f"not {t.min} <= {x} <= {t.max}")
            return x
        if isinstance(t, M.BoolType):
            return f"{naming.RT.BOOLS}[{self.slot('I')}]"
        if isinstance(t, M.EnumDef):
            return f"{naming.enum_members(t.py_name)}[{self.slot('i')}]"
        if isinstance(t, M.VoidType):
            return "None"
        if isinstance(t, M.OpaqueType) and t.fixed:
            x = self.slot(f"{t.size}s")
            if t.size % 4:
                self.checks.append(f"{self.slot(f'{-t.size % 4}s')} != {naming.RT.ZEROS}[{-t.size % 4}]")
            return x
        if isinstance(t, (M.StringType, M.OpaqueType)):
            return self.decode_bytes(t)
        if isinstance(t, M.ArrayType):
            return self.decode_array(t)
        if isinstance(t, M.OptionalType):
            flag = self.slot("I")
            self.flush()
            result = self.temp("opt")
            self.emit(f"{result}: {annotation(t, self.module)} = None")
            with self.block(f"if {naming.RT.BOOLS}[{flag}]:"):
                element = self.decode(t.element)
                self.flush()
                self.emit(f"{result} = {element}")
            return result
        if isinstance(t, M.StructDef) and t.name in self.inline.structs:
            fields = [self.decode(f.type) for f in t.fields]
            return f"{t.py_name}({', '.join(fields)})"
        if isinstance(t, M.UnionDef) and self.in_loop and self.shapes.flat_union(t):
            return self.decode_union(t)
        assert isinstance(t, (M.StructDef, M.UnionDef)), t
        return self.call(t)

    def decode_arm(self, t: M.UnionDef, arm: M.UnionArm, d: str, made: str) -> None:
        """The body of one arm: its field decoded, then the union ``made`` with the discriminant
        and the arm set directly (no ``__init__`` looking at every arm field)."""
        set_arm = "None"
        if arm.field is not None:
            decoded = self.decode(arm.field.type)
            self.flush()
            set_arm = f"({pystr(arm.field.py_name)}, {decoded})"
            if may_be_none(self.module, arm.field.type):
                set_arm = f"None if {decoded} is None else {set_arm}"
        self.emit(f"{made} = {t.py_name}.__new__({t.py_name})")
        self.emit(f"{made}.{t.discriminant.py_name} = {d}")
        self.emit(f"{made}._xdr_arm = {set_arm}")

    def decode_union(self, t: M.UnionDef) -> str:
        """A flat union written out in a loop's body; its discriminant is read with the values
        before it."""
        discriminant = self.decode(t.discriminant.type)
        self.flush()
        d, made = self.temp("d"), self.temp("u")
        self.emit(f"{d} = {discriminant}")
        for index, arm in enumerate(t.all_arms):
            with self.block(arm_header(self.module, t, index, arm, d)):
                self.decode_arm(t, arm, d, made)
        if t.default is None:
            with self.block("else:"):
                self.emit(REJECT)
        return made

    def call(self, t: M.TypeDefinition) -> str:
        """The value decoded by ``t``'s own decoder."""
        self.flush()
        result = self.temp("x")
        self.emit(f"{result}, {self.L.pos} = {naming.decoder(t.py_name)}({self.L.buf}, {self.L.pos})")
        return result

    def decode_bytes(self, t: M.StringType | M.OpaqueType) -> str:
        """A string or variable opaque: its length, then its bytes as the first slot of the
        next run (``flush_sized``). (Written out rather than a runtime call: the call costs a
        decode of 1,000 entries a fifth of its time.)"""
        size = self.slot("I")
        self.flush()
        limit = t.max if isinstance(t, M.StringType) else t.size
        if limit < NO_LIMIT:
            self.checks.append(f"{size} > {limit}")
        value = self.temp("s")
        raw = self.temp("b") if isinstance(t, M.StringType) else value
        self.slots.append((SIZED, raw))
        self.sized = (size, value)
        return value

    def decode_array(self, t: M.ArrayType) -> str:
        buf, pos = self.L.buf, self.L.pos
        fmt = self.bulk_format(t.element)
        result = self.temp("list")
        if t.fixed:
            count = str(t.size)
            self.flush()
        else:
            count = self.slot("I")
            self.flush()
            each = self.shapes.min_size(t.element)
            limit = [f"{count} > {t.size}"] if t.size < NO_LIMIT else []
            # items of no size cannot be bounded by the bytes left: the runtime's limit bounds them
            room = f"{count} > _rt.ZERO_SIZE_ITEMS_MAX" if each == 0 else f"{count} * {each} > len({buf}) - {pos}"
            self.reject_if(limit + [room])
        element_type = annotation(t.element, self.module)
        if fmt:
            size = struct.calcsize(">" + fmt)
            if t.fixed:
                self.emit(f"{result}: list[{element_type}] = list({self.formats.name(f'{t.size}{fmt}')}.unpack_from({buf}, {pos}))")
                self.emit(f"{pos} += {t.size * size}")
            else:
                self.emit(f"{result}: list[{element_type}] = list({self.formats.items('', fmt)}[{count}].unpack_from({buf}, {pos}))")
                self.emit(f"{pos} += {count} * {size}")
            return result
        self.emit(f"{result}: list[{element_type}] = []")
        with self.loop(f"for _ in range({count}):"):
            item = self.decode(t.element)
            self.flush()
            self.emit(f"{result}.append({item})")
        return result
