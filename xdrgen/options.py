"""Every option of a run, parsed and validated in one place.

The command line (``-D``, ``-I``, ``--include``, ``--target``, ``--rpc``, ``-W...``) and the
keys of ``[tool.xdrgen]`` in a ``pyproject.toml`` (README, "Configuration in pyproject.toml")
become one :class:`Options` (how to read the sources) plus the project-level choices. A bad
value raises :class:`OptionError` with a one-line message; the CLI shows it with its usage
line (exit 2), a configuration error is reported as an error of that file (exit 1).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .conventions import Convention, ConventionError, read_convention
from .preprocess import RPC_TARGETS

TARGETS = {t.removeprefix("RPC_").lower(): t for t in RPC_TARGETS}
# where modules go when neither -o nor 'output' names a folder: one folder of their own, never
# loose files and an __init__.py in the current folder
DEFAULT_OUTPUT = "generated"
CONFIG_KEYS = ("inputs", "output", "include-dirs", "defines", "define-types", "pre-includes", "target", "rpc", "rpc-defs", "libvirt", "runtime")
# where generated modules import the runtime from: written beside them (the default), or the
# installed xdrgen-runtime distribution (xdrgen.python.render.RUNTIMES)
RUNTIMES = ("beside", "installed")

# The kinds of warning the checker gives, for -Wno-NAME / -Werror=NAME.
WARNING_CATEGORIES = {
    "keyword": "a name is a Python keyword and gets a trailing '_'",
    "shadow": "a name would hide one the generated module uses and is renamed",
    "duplicate": "a definition is repeated identically (the repetition is ignored)",
    "alias": "an enum repeats a value of another member (generated as an alias)",
    "recursion": "a struct contains itself and is read as an optional list",
    "discriminant": "a union arm has the discriminant's name and is renamed",
}


class OptionError(ValueError):
    """An option or configuration value that cannot be used; the message is one line."""


@dataclass
class Options:
    """How the sources are read: the preprocessor's view of a run."""

    include_dirs: Sequence[str | Path] = ()
    defines: dict[str, str] = field(default_factory=dict)
    pre_includes: Sequence[str | Path] = ()
    include_anywhere: bool = False  # #include may read files outside the inputs' and -I folders
    target: str | None = None  # "RPC_HDR" ...; None is rpcgen's default (RPC_HDR)
    rpc_defs: bool = False  # names left undefined may come from xdrgen's RPC definitions (RFC 5531)
    # --define-type NAME=XDR-TYPE: types C headers define, as typedefs of the first input
    defined_types: dict[str, str] = field(default_factory=dict)


# ---- single values -----------------------------------------------------------------------


def parse_define(item: str) -> tuple[str, str]:
    """``NAME`` or ``NAME=VALUE`` as cpp's ``-D`` takes it; a bare NAME is 1."""
    name, equals, value = item.partition("=")
    if not name.isidentifier():
        raise OptionError(f"-D {item}: {name!r} is not a macro name")
    return name, value if equals else "1"


def parse_define_type(item: str) -> tuple[str, str]:
    """``NAME=XDR-TYPE`` (``gss_OID=opaque<>``, ``time_t=int``, ``u64='unsigned hyper'``)."""
    name, equals, xdr_type = item.partition("=")
    if not name.isidentifier():
        raise OptionError(f"--define-type {item}: {name!r} is not a type name")
    if not equals or not xdr_type.strip():
        raise OptionError(f"--define-type {item}: give the XDR type too, as NAME=XDR-TYPE (e.g. {name}=opaque<>)")
    return name, xdr_type.strip()


def typedef_text(name: str, xdr_type: str) -> str:
    """The XDR typedef that ``--define-type name=xdr_type`` stands for: a size (``<>``,
    ``[16]``) and a ``*`` go with the name, as in ``typedef opaque gss_OID<>;``."""
    sized = re.fullmatch(r"(.*?)\s*([\[<][^\[\]<>]*[\]>])", xdr_type)
    base, size = (sized[1], sized[2]) if sized else (xdr_type, "")
    pointer = "*" if base.endswith("*") else ""
    return f"typedef {base.rstrip('*').strip()} {pointer}{name}{size};"


def config_define(name: object, value: object) -> tuple[str, str]:
    """One entry of ``defines = { NAME = VALUE }``: a number or a string, never a boolean
    (TOML ``true`` is no C value, and writing it as 1 would hide a typo for ``"true"``)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise OptionError(f"'defines': {name!r} is not a macro name")
    if isinstance(value, bool):
        raise OptionError(f"'defines': {name} = {str(value).lower()} is not a C value; write {name} = 1 or {name} = 0")
    if not isinstance(value, (int, str)):
        raise OptionError(f"'defines': {name} must be a number or a string")
    return name, str(value)


def parse_target(name: str) -> str:
    """``hdr`` -> ``RPC_HDR``; the error names the valid values."""
    target = TARGETS.get(name.lower().removeprefix("rpc_")) if isinstance(name, str) else None
    if target is None:
        raise OptionError(f"unknown target {name!r}; use one of {', '.join(TARGETS)}")
    return target


# ---- warnings ---------------------------------------------------------------------------


@dataclass
class WarningPolicy:
    """What ``-W`` options asked for: categories silenced, and which warnings fail the run."""

    silenced: set[str] = field(default_factory=set)
    all_errors: bool = False
    errors: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, items: Iterable[str]) -> WarningPolicy:
        """``-Werror``, ``-Werror=NAME``, ``-Wno-NAME``, ``-WNAME`` (on, the default), ``-Wall``."""
        policy = cls()
        for item in items:
            if item == "error":
                policy.all_errors = True
            elif item == "all":
                policy.silenced.clear()
            elif item.startswith("error="):
                policy.errors.add(_category(item.removeprefix("error="), item))
            elif item.startswith("no-error="):
                policy.errors.discard(_category(item.removeprefix("no-error="), item))
            elif item.startswith("no-"):
                policy.silenced.add(_category(item.removeprefix("no-"), item))
            else:
                policy.silenced.discard(_category(item, item))
        return policy

    def shown(self, category: str | None) -> bool:
        return category not in self.silenced

    def fails(self, category: str | None) -> bool:
        return self.shown(category) and (self.all_errors or category in self.errors)


def _category(name: str, item: str) -> str:
    if name not in WARNING_CATEGORIES:
        raise OptionError(f"-W{item}: unknown warning {name!r}; the kinds are {', '.join(WARNING_CATEGORIES)}")
    return name


# ---- the command line --------------------------------------------------------------------


def add_common_options(p: argparse.ArgumentParser) -> None:
    """The options every command shares: how the .x files are read, warnings, -q."""
    p.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR", help="search DIR for #include files")
    p.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]", help="define a macro, as cpp does (an integer value becomes a constant; NAME alone is 1)")
    p.add_argument(
        "--define-type",
        dest="define_types",
        action="append",
        default=[],
        metavar="NAME=XDR-TYPE",
        help="a type C headers define, in XDR terms (gss_OID='opaque<>', time_t=int): as 'typedef XDR-TYPE NAME;' in the first input",
    )
    p.add_argument("--include", dest="pre_includes", action="append", default=[], metavar="FILE.x", help="read FILE.x first, as if #included at the top")
    p.add_argument(
        "--include-anywhere", action="store_true", help="let #include read files outside the inputs' folders and the -I folders (refused by default: a .x file is untrusted input)"
    )
    p.add_argument("--rpc-defs", action="store_true", help="take names the files leave undefined from RFC 5531's RPC definitions (AUTH_SYS, authsys_parms, rpc_msg, netobj ...), shipped with xdrgen")
    p.add_argument("--target", metavar="|".join(TARGETS), help="which of rpcgen's RPC_HDR/RPC_XDR/... is defined for #if (default: hdr)")
    p.add_argument("-W", dest="warning_options", action="append", default=[], metavar="error|no-KIND|error=KIND", help=f"-Werror: warnings are errors; -Wno-KIND silences one kind ({', '.join(WARNING_CATEGORIES)})")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")


def source_options(args: argparse.Namespace, base: Options | None = None) -> Options:
    """The -I/-D/--include/--target options added to those of a configuration (``base``)."""
    base = base or Options()
    return Options(
        include_dirs=[*base.include_dirs, *args.include_dirs],
        defines={**base.defines, **dict(parse_define(item) for item in args.defines)},
        pre_includes=[*base.pre_includes, *args.pre_includes],
        include_anywhere=base.include_anywhere or args.include_anywhere,
        target=parse_target(args.target) if args.target else base.target,
        rpc_defs=base.rpc_defs or args.rpc_defs,
        defined_types={**base.defined_types, **dict(parse_define_type(item) for item in getattr(args, "define_types", []))},
    )


def regenerate_command(inputs: Sequence[Path], args: argparse.Namespace, root: Path) -> str:
    """The command that writes a module again, for its header: the inputs (none when they come
    from ``[tool.xdrgen]``, which plain ``xdrgen`` reads) and the command line's source
    options, paths relative to ``root``, no ``-o`` (so the text does not depend on where the
    checkout or the output folder is)."""
    words = ["xdrgen", *sorted(_relative(path, root) for path in inputs)]  # their order changes nothing
    for directory in args.include_dirs:
        words += ["-I", _relative(Path(directory), root)]
    for item in args.defines:
        name, value = parse_define(item)
        words += ["-D", name if value == "1" else f"{name}={value}"]
    for item in getattr(args, "define_types", []):
        words += ["--define-type", "=".join(parse_define_type(item))]
    for path in args.pre_includes:
        words += ["--include", _relative(Path(path), root)]
    if args.target:
        words += ["--target", args.target.lower()]
    if args.rpc_defs:
        words.append("--rpc-defs")
    if getattr(args, "rpc", False):
        words.append("--rpc")
    if getattr(args, "runtime", None) not in (None, RUNTIMES[0]):
        words += ["--runtime", args.runtime]
    return " ".join(shlex.quote(w) for w in words)


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path.absolute(), root.absolute())).as_posix()


# ---- [tool.xdrgen] ----------------------------------------------------------------------


@dataclass
class Config:
    """The values of a ``[tool.xdrgen]`` table, paths made absolute from its folder."""

    inputs: list[Path]
    output: Path
    options: Options
    rpc: bool
    conventions: dict[str, Convention] = field(default_factory=dict)  # [tool.xdrgen.libvirt.<module>]
    runtime: str = RUNTIMES[0]


def read_config(table: Mapping[str, Any], root: Path) -> Config:
    """Validate a ``[tool.xdrgen]`` table; unknown keys and bad values raise OptionError."""
    unknown = set(table) - set(CONFIG_KEYS)
    if unknown:
        raise OptionError(f"unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(CONFIG_KEYS)})")
    patterns = _string_list(table.get("inputs", []), "inputs")
    if not patterns:
        raise OptionError("'inputs' lists no .x files")
    inputs: list[Path] = []
    for pattern in patterns:
        matches = sorted(root.glob(pattern)) if any(c in pattern for c in "*?[") else [root / pattern]
        if not matches:
            raise OptionError(f"input pattern {pattern!r} matches no file")
        inputs.extend(matches)
    output = table.get("output", DEFAULT_OUTPUT)
    if not isinstance(output, str):
        raise OptionError("'output' must be a string (a folder)")
    rpc, rpc_defs = table.get("rpc", False), table.get("rpc-defs", False)
    for key, flag in (("rpc", rpc), ("rpc-defs", rpc_defs)):
        if not isinstance(flag, bool):
            raise OptionError(f"'{key}' must be true or false")
    runtime = table.get("runtime", RUNTIMES[0])
    if runtime not in RUNTIMES:
        raise OptionError(f"'runtime' must be one of {', '.join(map(repr, RUNTIMES))}")
    target = table.get("target")
    if target is not None and not isinstance(target, str):
        raise OptionError(f"'target' must be a string, one of {', '.join(TARGETS)}")
    return Config(
        inputs=inputs,
        output=root / output,
        options=Options(
            include_dirs=[root / d for d in _string_list(table.get("include-dirs", []), "include-dirs")],
            defines=_config_defines(table.get("defines", {})),
            pre_includes=[root / p for p in _string_list(table.get("pre-includes", []), "pre-includes")],
            target=_config_target(target) if target else None,
            rpc_defs=rpc_defs,
            defined_types=_config_define_types(table.get("define-types", {})),
        ),
        rpc=rpc,
        conventions=_config_conventions(table.get("libvirt", {})),
        runtime=runtime,
    )


def _config_conventions(value: object) -> dict[str, Convention]:
    """``[tool.xdrgen.libvirt.<module name>]``: how a module follows libvirt's convention."""
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
        raise OptionError("'libvirt' must be a table of tables, one per module name")
    try:
        return {str(name): read_convention(table) for name, table in value.items()}
    except ConventionError as error:
        raise OptionError(f"'libvirt': {error}") from None


def _config_defines(value: object) -> dict[str, str]:
    if isinstance(value, list):
        items = _string_list(value, "defines")
        try:
            return dict(parse_define(item) for item in items)
        except OptionError as error:
            raise OptionError(f"'defines': {error}") from None
    if isinstance(value, dict):
        return dict(config_define(k, v) for k, v in value.items())
    raise OptionError("'defines' must be a table (NAME = VALUE) or a list of \"NAME[=VALUE]\" strings")


def _config_define_types(value: object) -> dict[str, str]:
    """``define-types = { gss_OID = "opaque<>" }``."""
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise OptionError("'define-types' must be a table of NAME = \"XDR-TYPE\" strings")
    try:
        return dict(parse_define_type(f"{name}={xdr_type}") for name, xdr_type in value.items())
    except OptionError as error:
        raise OptionError(f"'define-types': {error}") from None


def _config_target(value: str) -> str:
    try:
        return parse_target(value)
    except OptionError as error:
        raise OptionError(f"'target': {error}") from None


def _string_list(value: object, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise OptionError(f"'{key}' must be a list of strings")
    return value
