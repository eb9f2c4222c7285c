"""Checked model -> Python source: builds the view of each definition, chooses its templates
and lays the module out as black would (``layout``)."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from .. import __version__
from .. import conventions, options
from .. import model as M
from .. import naming
from ..diagnostics import Reporter
from ..layout import format_like_black
from .code import Block, If, Statement, lines, text
from .imports import imports, public_names, reaches, rpc_class_names
from .libvirt import LibvirtView, LibvirtViewBuilder
from .text import comment_lines, comment_text, commented, docstring, docstring_text, literal, oneline, pystr
from .views import EnumView, StructView, TypedefView, UnionView, ViewBuilder


RUNTIMES = options.RUNTIMES
# the import package of the installed runtime (the xdrgen-runtime distribution: runtime/)
RUNTIME_PACKAGE = "xdrgen_runtime"


@lru_cache(maxsize=1)
def runtime_api_version() -> int:
    """The ``API_VERSION`` of the runtime this xdrgen ships: what its modules check at import."""
    source = (resources.files("xdrgen") / "runtime" / "xdr_runtime.py").read_text(encoding="utf-8")
    found = re.search(r"^API_VERSION: Final = (\d+)$", source, re.MULTILINE)
    assert found is not None, "xdr_runtime.py states its API_VERSION"
    return int(found[1])


def _templates_dir() -> Path:
    packaged = Path(str(resources.files("xdrgen"))) / "templates"
    if packaged.is_dir():  # installed wheel: the templates ship inside the package
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "templates"  # source checkout


def _statements(statements: list[Statement], indent: int, allow_empty: bool = False) -> str:
    """The statements at ``indent``; ``pass`` for none, unless more statements follow them."""
    if not statements and allow_empty:
        return ""
    return text(statements or ["pass"], indent)


def _headers(headers: list[str | If], indent: int) -> str:
    """The header line of a block (``if ...:``, ``elif ...:``, ``else:``) at ``indent``."""
    return "\n".join(line for header in headers for line in list(lines([Block(header, ["pass"])], indent))[:-1])


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs, in a per-user folder under the temp dir (the CLI's
    time is mostly fixed costs like this one); none where that folder cannot be made."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_templates_dir())),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        auto_reload=False,  # the templates do not change during a run: no stat per render
        bytecode_cache=_bytecode_cache(),
    )
    env.globals["RT"] = naming.RT
    env.filters.update(
        pyrepr=literal, pystr=pystr, oneline=oneline, docstring=docstring, commented=commented, comment=comment_text, doctext=docstring_text, statements=_statements, headers=_headers
    )
    return env


class Renderer:
    def __init__(self, module: M.Module, module_name: str) -> None:
        self.module = module
        self.module_name = module_name
        self.views = ViewBuilder(module)
        # the types of modules imported at the top exist when this module's aliases are made
        owners = {id(owner): owner for _, owner in module.foreign.values()}
        first = {key for key, owner in owners.items() if not reaches(owner, module)}
        self.views.rendered.update(t.py_name for t, owner in module.foreign.values() if id(owner) in first)
        self.env = environment()

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(f"python/{template}").render(L=self.views.L, **context).rstrip("\n")

    def block(self, t: M.TypeDefinition) -> str:
        """The class (or alias) of a definition and its codec functions."""
        view = self.views.view(t)
        if isinstance(view, StructView):
            parts = [self.render("struct/class.py.j2", s=view)]
            if view.link is not None:
                parts += [self.render("struct/list_encode.py.j2", s=view), self.render("struct/list_decode.py.j2", s=view)]
            else:
                parts += [self.render("struct/encode.py.j2", s=view), self.render("struct/decode.py.j2", s=view)]
            if view.functions.unpack:
                parts.append(self.render("struct/unpack.py.j2", s=view))
        elif isinstance(view, UnionView):
            parts = [self.render(f"union/{role}.py.j2", u=view) for role in ("class", "encode", "decode")]
        elif isinstance(view, EnumView):
            parts = [self.render("enum/class.py.j2", e=view), self.render("codec.py.j2", c=view)]
        else:
            assert isinstance(view, TypedefView)
            parts = [self.render("typedef/alias.py.j2", a=view), self.render("codec.py.j2", c=view)]
        return "\n\n\n".join(parts)

    def program(self, p: M.Program) -> str:
        view = self.views.program(p)
        return self.render("program/procedures.py.j2", p=view) + "\n\n\n" + self.render("program/table.py.j2", p=view)

    def lazy_exports(self, names: dict[str, str]) -> str:
        """The block of the module that hands out RPC classes on first use (ONC RPC programs'
        or libvirt's framing's): ``names`` maps each to the module that defines it, its sibling
        or that of a file it includes."""
        sources: dict[str, list[str]] = {}
        for name, rpc_module in sorted(names.items()):
            sources.setdefault(rpc_module, []).append(name)
        ordered = sorted(sources.items(), key=lambda source: (source[0] != naming.rpc_module_for(self.module_name), source[0]))
        return self.render("rpc_exports.py.j2", sources=ordered, table=naming.RPC_NAMES_TABLE)

    def rpc_classes(self, p: M.Program) -> tuple[list[str], set[str]]:
        """The client, asyncio client and server classes of each version of ``p``, and the
        names they import from the module."""
        view = self.views.program(p)
        roles = ("client", "async_client", "server")
        return [self.render(f"program/{role}.py.j2", p=view, v=v) for v in view.versions for role in roles], view.imported

    def exports(self, rpc_classes: list[str], handed_on: list[str]) -> list[str]:
        """``__all__``: the module's names, the RPC classes it hands out (``rpc_classes``) and
        the names of the files it includes (``handed_on``)."""
        names = public_names(self.module) + rpc_classes + handed_on
        names += ["CODECS", "XdrError", "codec", "decode", "encode"]
        return sorted(set(names))


def generate(
    module: M.Module,
    source_name: str,
    source_text: str,
    module_name: str | None = None,
    *,
    format: bool = True,
    regenerate: str | None = None,
    convention: conventions.Convention | None = None,
    runtime: str = "beside",
) -> str:
    """Render ``module`` as Python source. ``source_text`` is hashed into the header;
    ``regenerate`` is the header's "Do not edit: ..." text (how the module is written again).
    The typed RPC classes live in the module ``companions`` writes beside it, re-exported here
    on first use; ``convention`` says how a module follows libvirt's convention (else detected);
    ``runtime`` where it imports the runtime from (one of RUNTIMES)."""
    module_name = module_name or naming.module_name_for(source_name)
    renderer = Renderer(module, module_name)
    libvirt = _libvirt_builder(module, module_name, convention)
    libvirt_classes = list(libvirt.class_names()) if libvirt else []  # the view itself is companions'
    blocks = [renderer.block(t) for t in module.types]
    programs = [renderer.program(p) for p in module.programs]
    types_code = "\n\n".join(blocks)
    taken = imports(module, "\n\n".join([types_code] + programs))
    sibling = naming.rpc_module_for(module_name)
    lazy = {name: sibling for name in rpc_class_names(module) + libvirt_classes} | taken.rpc
    if programs:
        programs.append(renderer.lazy_exports(lazy))
    name = Path(source_name).name
    code = (
        renderer.render(
            "module.py.j2",
            **_header(source_name, source_text, regenerate, runtime),
            docstring=_module_docstring(module, name, module_name),
            module=module,
            module_name=module_name,
            blocks=blocks,
            programs=programs,
            passthrough=[line for part in module.passthrough for line in comment_lines(part)],
            exports=renderer.exports(list(lazy), taken.exported),
            imports=taken,
            runtime_constants=[(alias, name) for alias, name in naming.RT.bindings() if re.search(rf"\b{alias}\b", types_code)],
            formats=renderer.views.formats.definitions(),
            tables=renderer.views.formats.table_definitions(),
            codecs=[renderer.views.codec(t, block) for t, block in zip(module.types, blocks)],
        )
        + "\n"
    )
    if lazy and not programs:  # libvirt's framing's typed classes (xdrgen/python/libvirt.py), or those handed on
        code += "\n\n" + renderer.lazy_exports(lazy) + "\n"
    return format_like_black(code) if format else code


def _header(source_name: str, source_text: str, regenerate: str | None, runtime: str = "beside") -> dict[str, Any]:
    """What the first lines of every module written from a .x file say (templates' header),
    and how it imports the runtime and checks its API version."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime {runtime!r}: use one of {', '.join(RUNTIMES)}")
    name = Path(source_name).name
    return {
        "runtime_package": RUNTIME_PACKAGE if runtime == "installed" else "",
        "api_version": runtime_api_version(),
        "version": __version__,
        "source_name": name,
        "sha256": hashlib.sha256(source_text.encode("utf-8")).hexdigest(),
        "regenerate": regenerate or f"run `xdrgen {name}` again",
    }


def _libvirt_builder(module: M.Module, module_name: str, convention: conventions.Convention | None) -> LibvirtViewBuilder | None:
    """The view builder of a module that follows libvirt's convention, or None. (A module with
    programs has ONC RPC classes instead.)"""
    convention = convention or conventions.detect(module)
    if convention is None or module.programs:
        return None
    return LibvirtViewBuilder(module, module_name, conventions.describe(module, convention))


def libvirt_view(
    module: M.Module, module_name: str, convention: conventions.Convention | None = None, warnings: Reporter | None = None
) -> LibvirtView | None:
    """The typed classes of a module that follows libvirt's convention, or None; the names
    renamed are reported to ``warnings``."""
    builder = _libvirt_builder(module, module_name, convention)
    if builder is None:
        return None
    view = builder.build()
    if warnings is not None:
        warnings.diagnostics.extend(builder.warnings)
    return view


def companions(
    module: M.Module,
    source_name: str,
    source_text: str,
    module_name: str | None = None,
    *,
    format: bool = True,
    regenerate: str | None = None,
    convention: conventions.Convention | None = None,
    warnings: Reporter | None = None,
    runtime: str = "beside",
) -> dict[str, str]:
    """The modules written beside the one ``generate`` makes, by module name: ``<module>_rpc``,
    holding the typed RPC classes of its programs (ONC RPC), or of libvirt's framing when it
    follows libvirt's convention (methods and parameters renamed are reported to ``warnings``)."""
    module_name = module_name or naming.module_name_for(source_name)
    header = _header(source_name, source_text, regenerate, runtime)
    if module.programs:
        code = _onc_classes(module, module_name, header)
        return {naming.rpc_module_for(module_name): format_like_black(code) if format else code}
    view = libvirt_view(module, module_name, convention, warnings)
    if view is None:
        return {}
    code = environment().get_template("python/libvirt/companion.py.j2").render(v=view, **header).rstrip("\n") + "\n"
    return {view.companion: format_like_black(code) if format else code}


def _onc_classes(module: M.Module, module_name: str, header: dict[str, Any]) -> str:
    """The typed clients and servers of every program version of ``module``."""
    renderer = Renderer(module, module_name)
    classes: list[str] = []
    imported: set[str] = set()
    for p in module.programs:
        blocks, names = renderer.rpc_classes(p)
        classes += blocks
        imported |= names
    return (
        renderer.render(
            "program/rpc_module.py.j2",
            **header,
            module_name=module_name,
            imported=_by_module(module, module_name, imported),
            tables=sorted(naming.program_table(p.py_name) for p in module.programs),
            exports=rpc_class_names(module),
            classes=classes,
        )
        + "\n"
    )


def _by_module(module: M.Module, module_name: str, names: set[str]) -> list[tuple[str, list[str]]]:
    """``names`` grouped by the module that defines them: this one, or another file's."""
    owners = {t.py_name: owner.name for t, owner in module.foreign.values()}
    groups: dict[str, list[str]] = {}
    for name in sorted(names):
        groups.setdefault(owners.get(name, module_name), []).append(name)
    return sorted(groups.items(), key=lambda group: (group[0] != module_name, group[0]))


def _module_docstring(module: M.Module, source_name: str, module_name: str) -> str:
    what = "XDR types and RPC programs" if module.programs else "XDR types"
    lines = [f"{what} of {docstring_text(source_name)}."]
    if module.comment:
        lines += ["", docstring(module.comment, indent=0)]
    lines += [
        "",
        'Every named type has a codec: ``encode("name", value)`` / ``decode("name", data)``, or',
        '``codec("name")``; structs and unions also have ``to_xdr()`` and ``from_xdr()``.',
        "Invalid bytes or values raise ``XdrError`` (with the byte offset and field path).",
    ]
    if module.programs:
        lines += [
            "Each program version V has typed RPC classes ``V_Client``, ``V_AsyncClient`` and",
            f"``V_Server``, imported from the sibling module ``{naming.rpc_module_for(module_name)}`` on first use.",
        ]
    return "\n".join(lines) + "\n"
