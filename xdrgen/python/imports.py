"""Which names a generated module takes from the other modules of its package: the types of
other files that its code uses (directly, or through the definitions it uses from them), and
everything the files it includes define, which it hands on (re-exports)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .. import model as M
from .. import naming
from ..layout import LINE_LENGTH


@dataclass
class Import:
    """``from .<owner> import <names>``; ``last``: written at the end of the module, because
    the two modules import each other (each is complete by the time the other asks)."""

    owner: str
    names: list[str]
    last: bool

    @property
    def statement(self) -> str:
        line = f"from .{self.owner} import {', '.join(self.names)}"
        if len(line) <= LINE_LENGTH:
            return line
        return f"from .{self.owner} import (\n" + "".join(f"    {name},\n" for name in self.names) + ")"


@dataclass
class Imports:
    """What one module takes from the others of its package, and what it hands on."""

    statements: list[Import] = field(default_factory=list)
    codecs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # owner -> XDR names, for CODECS
    # the names it hands on: the other files' types it uses, and the names of the files it includes
    exported: list[str] = field(default_factory=list)
    rpc: dict[str, str] = field(default_factory=dict)  # the RPC classes of included files -> their module

    @property
    def first(self) -> list[Import]:
        return [i for i in self.statements if not i.last]

    @property
    def last(self) -> list[Import]:
        return [i for i in self.statements if i.last]


def public_names(module: M.Module) -> list[str]:
    """The names a module defines for its users: constants, types (not those invented for
    procedures), enum values, program tables and procedure enums."""
    names = [c.py_name for c in module.constants]
    for t in module.types:
        if t.name in module.invented:
            continue
        names.append(t.py_name)
        if isinstance(t, M.EnumDef):
            names.extend(v.py_name for v in t.values)
    for p in module.programs:
        names.append(naming.program_table(p.py_name))
        names.extend(naming.procedure_enum(v.py_name) for v in p.versions)
    return names


def rpc_class_names(module: M.Module) -> list[str]:
    """The client, asyncio client and server classes of every version of the module's programs."""
    return sorted(name for p in module.programs for v in p.versions for name in naming.rpc_classes(v.py_name))


def _definition_names(t: M.TypeDefinition) -> list[str]:
    """The module-level names generated for a definition (its class or alias, codec functions,
    enum tables and values)."""
    py = t.py_name
    names = [py, naming.encoder(py), naming.decoder(py), naming.packer(py), naming.unpacker(py)]
    if isinstance(t, M.EnumDef):
        names += [naming.enum_members(py), naming.enum_packed(py)] + [v.py_name for v in t.values]
    return names


def reaches(start: M.Module, target: M.Module) -> bool:
    """Whether ``start`` imports ``target``, directly or through other modules."""
    modules = {id(start): start}
    pending = [start]
    while pending:
        current = pending.pop()
        for owner in [o for _, o in current.foreign.values()] + M.included_modules(current):
            if owner is target:
                return True
            if id(owner) not in modules:
                modules[id(owner)] = owner
                pending.append(owner)
    return False


def imports(module: M.Module, code: str) -> Imports:
    """What ``module``, whose definitions generate ``code``, imports from other modules."""
    if not module.foreign and not module.includes:
        return Imports()
    owners: dict[str, M.Module] = {}
    wanted: dict[str, set[str]] = {}
    codecs: dict[str, list[str]] = {}

    def want(owner: M.Module, name: str) -> None:
        owners[owner.name] = owner
        wanted.setdefault(owner.name, set()).add(name)

    provided = {name: owner for definition, owner in module.foreign.values() for name in _definition_names(definition)}
    for name in sorted({node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name)} & provided.keys()):
        want(provided[name], name)
    own = set(public_names(module)) | naming.API_NAMES
    exported: list[str] = []
    for name, owner in module.imports.items():  # the types it names: its users (and RPC classes) see them
        py_name = owner.type_named(name).py_name
        want(owner, py_name)
        exported.append(py_name)
    for name, (_, owner) in module.foreign.items():  # codec("name") of every type its types reach
        codecs.setdefault(owner.name, []).append(name)
    rpc: dict[str, str] = {}
    own_rpc = set(rpc_class_names(module))
    for included in M.included_modules(module):
        for name in public_names(included):
            if name not in own and name not in exported:
                exported.append(name)
                want(included, name)
        for name in rpc_class_names(included):
            if name not in own and name not in own_rpc:
                rpc.setdefault(name, naming.rpc_module_for(included.name))
    statements = [Import(name, sorted(wanted[name]), reaches(owners[name], module)) for name in sorted(wanted)]
    return Imports(statements, {owner: tuple(sorted(set(names))) for owner, names in sorted(codecs.items())}, exported, rpc)


__all__ = ["Import", "Imports", "imports", "public_names", "reaches", "rpc_class_names"]
