"""Conventions a .x file can follow instead of declaring an ONC RPC ``program`` block.

libvirt's protocols (``remote_protocol.x``, the LXC monitor, ``lxc_protocol.x``,
``virkeepaliveprotocol.x``) have no ``program``: a constant holds the program number, another
the version, an enum numbers the procedures, and each procedure's argument, result and event
types are found by their names. :class:`Convention` describes such a protocol by those parts;
:data:`PRESETS` holds the two libvirt protocols xdrgen knows by name, :func:`detect` finds the
parts in any file that follows the pattern, and :func:`describe` turns a convention and a
checked module into a :class:`Protocol`: every procedure, a call or an event, with its types.

A pattern names types from a procedure's member name with the prefix removed
(``REMOTE_PROC_CONNECT_OPEN`` -> ``CONNECT_OPEN``): ``{proc}`` is it in lower case
(``connect_open``), ``{Proc}`` in camel case (``ConnectOpen``). An explicit table entry
(``procedures``) overrides the patterns for one procedure, and is the only way to give a
procedure several argument types or to make a procedure without types an event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from . import model as M


class ConventionError(ValueError):
    """A convention that does not fit the module, or a bad table; the message is one line."""


@dataclass(frozen=True)
class ProcedureTypes:
    """An explicit entry for one procedure: its argument types (in order; their encodings are
    concatenated), its result type, or, for an event, the type of its message (``event`` true
    with no ``message`` is an event without payload)."""

    arguments: tuple[str, ...] = ()
    result: str | None = None
    event: bool = False
    message: str | None = None


@dataclass(frozen=True)
class Convention:
    """The parts of a libvirt-style protocol, by name."""

    program: str  # the constant holding the program number
    version: str  # the constant holding the protocol version
    procedures: str  # the enum of procedure numbers
    procedure_prefix: str  # removed from the enum's member names: what is left names the procedure
    arguments: str = "{stem}_{proc}_args"  # patterns, see the module docstring
    result: str = "{stem}_{proc}_ret"
    event: str = "{stem}_{proc}_msg"
    error: str | None = None  # the type a failed call's virNetMessageError decodes as (default: the runtime's)
    table: Mapping[str, ProcedureTypes] = field(default_factory=dict)  # by member name, with or without the prefix

    @property
    def stem(self) -> str:
        """The procedure enum's name without its "procedure" ending: ``remote``, ``virLXCMonitor``."""
        return re.sub(r"_?[Pp]rocedure$", "", self.procedures)


# The two protocols of libvirt that xdrgen knows by name.
PRESETS: dict[str, Convention] = {
    "remote": Convention(
        program="REMOTE_PROGRAM",
        version="REMOTE_PROTOCOL_VERSION",
        procedures="remote_procedure",
        procedure_prefix="REMOTE_PROC_",
        arguments="remote_{proc}_args",
        result="remote_{proc}_ret",
        event="remote_{proc}_msg",
        error="remote_error",
    ),
    "lxc-monitor": Convention(
        program="VIR_LXC_MONITOR_PROGRAM",
        version="VIR_LXC_MONITOR_PROGRAM_VERSION",
        procedures="virLXCMonitorProcedure",
        procedure_prefix="VIR_LXC_MONITOR_PROC_",
        arguments="virLXCMonitor{Proc}Args",
        result="virLXCMonitor{Proc}Ret",
        event="virLXCMonitor{Proc}Msg",
    ),
}


@dataclass(frozen=True)
class ProcedureBinding:
    """One procedure of a protocol: a call (arguments, result) or an event (message)."""

    member: str  # the enum member, as in the .x file
    name: str  # the member without the prefix, lower case: the base of the Python names
    number: int
    event: bool
    arguments: tuple[str, ...] = ()  # type names; several are concatenated on the wire
    result: str | None = None  # None: no result (void)
    message: str | None = None  # an event's payload type; None: no payload


@dataclass(frozen=True)
class Protocol:
    """A convention applied to one module: the numbers and every procedure's types."""

    convention: Convention
    program: int
    version: int
    procedures: tuple[ProcedureBinding, ...]
    error: str | None

    @property
    def prefix(self) -> str:
        """The program constant without ``_PROGRAM``: the base of the class names."""
        return self.convention.program.removesuffix("_PROGRAM") or self.convention.program

    @property
    def calls(self) -> list[ProcedureBinding]:
        return [p for p in self.procedures if not p.event]

    @property
    def events(self) -> list[ProcedureBinding]:
        return [p for p in self.procedures if p.event]


def _camel(words: str) -> str:
    return "".join(part.capitalize() for part in words.lower().split("_") if part)


def _fill(pattern: str, convention: Convention, short: str) -> str:
    return pattern.format(stem=convention.stem, proc=short.lower(), Proc=_camel(short), PROC=short)


def _constant(module: M.Module, name: str) -> int | None:
    value = next((c.value for c in module.constants if c.name == name), None)
    return value if isinstance(value, int) else None


def _procedure_enum(module: M.Module, name: str) -> M.EnumDef | None:
    found = next((t for t in module.types if t.name == name), None)
    return found if isinstance(found, M.EnumDef) else None


def fits(module: M.Module, convention: Convention) -> bool:
    """Whether the module has the convention's program and version constants and its enum."""
    return (
        _constant(module, convention.program) is not None
        and _constant(module, convention.version) is not None
        and _procedure_enum(module, convention.procedures) is not None
    )


def detect(module: M.Module) -> Convention | None:
    """The convention ``module`` follows, or None: a preset whose parts it has, else one made
    from what it has, the way libvirt's files are written: a ``P_PROGRAM`` constant, a
    ``P_PROGRAM_VERSION`` or ``P_PROTOCOL_VERSION`` constant, and an enum whose name ends in
    "procedure" (any case) with members ``P_PROC_...``; types in snake case
    (``<stem>_<proc>_args``) when the enum's name has an underscore, else in camel case.
    A file that includes another protocol (lxc_protocol.x pre-includes remote_protocol.x)
    follows its own: the one whose program constant comes last."""
    found = detect_all(module)
    return found[-1] if found else None


def detect_all(module: M.Module) -> list[Convention]:
    """Every convention the module's constants and enums make, in the order of their program
    constants."""
    conventions = []
    names = {c.name for c in module.constants if isinstance(c.value, int)}
    for constant in module.constants:
        program = constant.name
        if not program.endswith("_PROGRAM") or program not in names:
            continue
        preset = next((p for p in PRESETS.values() if p.program == program and fits(module, p)), None)
        if preset is not None:
            conventions.append(preset)
            continue
        prefix = program.removesuffix("_PROGRAM")
        version = next((v for v in (f"{prefix}_PROTOCOL_VERSION", f"{prefix}_PROGRAM_VERSION") if v in names), None)
        enum = next(
            (
                t
                for t in module.types
                if isinstance(t, M.EnumDef)
                and t.name.lower().endswith("procedure")
                and t.values
                and all(v.name.startswith(f"{prefix}_PROC_") for v in t.values)
            ),
            None,
        )
        if version is None or enum is None:
            continue
        if "_" in enum.name:
            conventions.append(Convention(program, version, enum.name, f"{prefix}_PROC_"))
        else:
            conventions.append(Convention(program, version, enum.name, f"{prefix}_PROC_", "{stem}{Proc}Args", "{stem}{Proc}Ret", "{stem}{Proc}Msg"))
    return conventions


def follows_libvirt_convention(module: M.Module) -> bool:
    """Whether ``module`` describes an RPC protocol the way libvirt's files do (see ``detect``)."""
    return detect(module) is not None


def describe(module: M.Module, convention: Convention) -> Protocol:
    """Every procedure of the convention's enum with its types. A procedure with an event
    type (and no argument or result type) is an event; any other is a call, whose missing
    argument or result type means none (void). Raises ConventionError when a part is missing."""
    program, version = _constant(module, convention.program), _constant(module, convention.version)
    enum = _procedure_enum(module, convention.procedures)
    for what, name, found in (("constant", convention.program, program), ("constant", convention.version, version), ("enum", convention.procedures, enum)):
        if found is None:
            raise ConventionError(f"the libvirt convention needs the {what} {name}, which the file does not define")
    assert program is not None and version is not None and enum is not None
    types = {t.name for t in module.types}
    table = {key.removeprefix(convention.procedure_prefix): entry for key, entry in convention.table.items()}
    members = {v.name.removeprefix(convention.procedure_prefix) for v in enum.values}
    for key, entry in table.items():
        if key not in members:
            raise ConventionError(f"the table names procedure {key}, which enum {convention.procedures} does not have")
        for type_name in (*entry.arguments, entry.result, entry.message):
            if type_name is not None and type_name not in types:
                raise ConventionError(f"the table's entry for {key} names type {type_name}, which the file does not define")
    error = convention.error if convention.error in types else None
    bindings = []
    for value in enum.values:
        short = value.name.removeprefix(convention.procedure_prefix)
        name = short.lower()
        if short in table:
            entry = table[short]
            bindings.append(ProcedureBinding(value.name, name, value.value, entry.event, entry.arguments, entry.result, entry.message))
            continue
        arguments, result, message = (_fill(p, convention, short) for p in (convention.arguments, convention.result, convention.event))
        has_arguments, has_result = arguments in types, result in types
        if message in types and not (has_arguments or has_result):
            bindings.append(ProcedureBinding(value.name, name, value.value, True, message=message))
        else:
            bindings.append(ProcedureBinding(value.name, name, value.value, False, (arguments,) if has_arguments else (), result if has_result else None))
    return Protocol(convention, program, version, tuple(bindings), error)


# ---- [tool.xdrgen] ------------------------------------------------------------------------

CONVENTION_KEYS = ("preset", "program", "version", "procedures", "procedure-prefix", "arguments", "result", "event", "error", "table")
ENTRY_KEYS = ("arguments", "result", "event", "message")


def read_convention(table: Mapping[str, Any]) -> Convention:
    """A convention from a ``[tool.xdrgen.libvirt.<module>]`` table: a ``preset`` and/or the
    parts (keys as in :class:`Convention`, ``procedure-prefix`` with a dash), and a ``table``
    of explicit procedure entries::

        preset = "remote"
        [tool.xdrgen.libvirt.remote_protocol.table]
        REMOTE_PROC_FOO = { arguments = ["foo_a", "foo_b"], result = "foo_ret" }
        REMOTE_PROC_PING = { event = true }

    Unknown keys and bad values raise ConventionError."""
    unknown = set(table) - set(CONVENTION_KEYS)
    if unknown:
        raise ConventionError(f"unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(CONVENTION_KEYS)})")
    preset_name = table.get("preset")
    if preset_name is not None and preset_name not in PRESETS:
        raise ConventionError(f"unknown preset {preset_name!r}; the presets are {', '.join(PRESETS)}")
    base = PRESETS.get(preset_name) if isinstance(preset_name, str) else None
    values: dict[str, Any] = {}
    for key in ("program", "version", "procedures", "procedure-prefix", "arguments", "result", "event", "error"):
        if key in table:
            if not isinstance(table[key], str):
                raise ConventionError(f"'{key}' must be a string")
            values[key.replace("-", "_")] = table[key]
        elif base is not None:
            values[key.replace("-", "_")] = getattr(base, key.replace("-", "_"))
    for required in ("program", "version", "procedures"):
        if required not in values:
            raise ConventionError(f"'{required}' is needed (or a 'preset')")
    values.setdefault("procedure_prefix", values["program"].removesuffix("_PROGRAM") + "_PROC_")
    for pattern in ("arguments", "result", "event"):
        if pattern in values:
            try:
                values[pattern].format(stem="", proc="", Proc="", PROC="")
            except (KeyError, IndexError, ValueError):
                raise ConventionError(f"'{pattern}': {values[pattern]!r} may use only {{stem}}, {{proc}}, {{Proc}} and {{PROC}}") from None
    entries = table.get("table", {})
    if not isinstance(entries, Mapping):
        raise ConventionError("'table' must be a table of procedures")
    return Convention(**values, table={str(k): _entry(str(k), v) for k, v in entries.items()})


def _entry(name: str, value: object) -> ProcedureTypes:
    if not isinstance(value, Mapping):
        raise ConventionError(f"'table.{name}' must be a table")
    unknown = set(value) - set(ENTRY_KEYS)
    if unknown:
        raise ConventionError(f"'table.{name}': unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(ENTRY_KEYS)})")
    arguments = value.get("arguments", [])
    if isinstance(arguments, str):
        arguments = [arguments]
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        raise ConventionError(f"'table.{name}.arguments' must be a list of type names")
    result, message, event = value.get("result"), value.get("message"), value.get("event", "message" in value)
    for key, item in (("result", result), ("message", message)):
        if item is not None and not isinstance(item, str):
            raise ConventionError(f"'table.{name}.{key}' must be a type name")
    if not isinstance(event, bool):
        raise ConventionError(f"'table.{name}.event' must be true or false")
    if event and (arguments or result):
        raise ConventionError(f"'table.{name}': an event has a message, not arguments or a result")
    return ProcedureTypes(tuple(arguments), result, event, message)
