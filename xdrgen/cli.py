"""The ``xdrgen`` command."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .generator import GenerationError
from .compiler import Options, compile_file
from .diagnostics import Diagnostic, Reporter, SourceCache, XdrgenError, format_diagnostic
from .dump import dump
from .generator import module_name_for
from .preprocess import RPC_TARGETS
from .project import Project, find_pyproject, load_config, render, stale, write

EXAMPLES = """\
examples:
  xdrgen protocols/lxc_monitor_protocol.x -o generated/
  xdrgen nfs_prot.x mount.x -o nfs/ -I include/
  xdrgen remote_protocol.x -D VIR_UUID_BUFLEN=16 -o out/
  xdrgen protocol.x -o generated/ --check     # exit 1 and show a diff if out of date
  xdrgen protocol.x --stdout | less
  xdrgen --dump-ast protocol.x                # the syntax tree as JSON
  xdrgen                                      # the inputs of [tool.xdrgen] in pyproject.toml
  xdrgen decode protocol.x my_type < msg.bin  # bytes -> JSON (see `xdrgen decode --help`)
  xdrgen encode protocol.x my_type < msg.json # JSON -> bytes
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="xdrgen",
        description="Generate Python encoders and decoders from ONC RPC / XDR (.x) files.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="*", metavar="FILE.x", help=".x files to compile (default: [tool.xdrgen] inputs of pyproject.toml)")
    p.add_argument("-o", "--output", metavar="DIR", help="folder for the generated modules (default: .)")
    add_source_options(p)
    p.add_argument("--stdout", action="store_true", help="print the module of the one input instead of writing files")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 and print a diff if any output would change")
    p.add_argument("--dump-ast", action="store_true", help="print the syntax tree as JSON and stop")
    p.add_argument("--dump-model", action="store_true", help="print the checked model as JSON and stop")
    p.add_argument("-Werror", dest="werror", action="store_true", help="treat warnings as errors")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    p.add_argument("--version", action="version", version=f"xdrgen {__version__}")
    return p


def add_source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR", help="search DIR for #include files")
    p.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]", help="define a macro, as cpp does (an integer value becomes a constant)")
    p.add_argument("--include", dest="pre_includes", action="append", default=[], metavar="FILE.x", help="read FILE.x first, as if #included at the top")
    p.add_argument("--target", choices=[t.removeprefix("RPC_").lower() for t in RPC_TARGETS], help="which of rpcgen's RPC_HDR/RPC_XDR/... is defined for #if (default: hdr)")


def _defines(items: Sequence[str]) -> dict[str, str]:
    defines = {}
    for item in items:
        name, _, value = item.partition("=")
        if not name.isidentifier():
            raise XdrgenError([Diagnostic("error", f"-D {item!r}: {name!r} is not a macro name", None)])
        defines[name] = value if value else "1"
    return defines


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("encode", "decode"):
        from .convert import main as convert_main

        return convert_main(argv)
    args = _parser().parse_args(argv)
    sources = SourceCache()
    return guarded(lambda: _run(args, sources), sources)


def guarded(run: Callable[[], int], sources: SourceCache) -> int:
    """Run a command, turning every expected failure into a message and an exit status."""
    try:
        return run()
    except XdrgenError as error:
        for diagnostic in error.diagnostics:
            print(format_diagnostic(diagnostic, sources), file=sys.stderr)
        return 1
    except (GenerationError, OSError) as error:
        print(f"xdrgen: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def source_options(args: argparse.Namespace, base: Options | None = None) -> Options:
    """The -I/-D/--include/--target options, added to those of a configuration."""
    base = base or Options()
    return Options(
        include_dirs=[*base.include_dirs, *args.include_dirs],
        defines={**base.defines, **_defines(args.defines)},
        pre_includes=[*base.pre_includes, *args.pre_includes],
        target="RPC_" + args.target.upper() if args.target else base.target,
    )


def _project(args: argparse.Namespace) -> Project | None:
    if args.inputs:
        return Project([Path(p) for p in args.inputs], Path(args.output or "."), source_options(args))
    pyproject = find_pyproject(Path.cwd())
    if pyproject is None:
        return None
    project = load_config(pyproject)
    if not args.quiet:
        print(f"xdrgen: using [tool.xdrgen] of {_relative(pyproject)}", file=sys.stderr)
    return Project(project.inputs, Path(args.output) if args.output else project.output, source_options(args, project.options))


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _run(args: argparse.Namespace, sources: SourceCache) -> int:
    project = _project(args)
    if project is None:
        _parser().print_usage(sys.stderr)
        print("xdrgen: error: no input files (and no [tool.xdrgen] in a pyproject.toml here or above)", file=sys.stderr)
        return 2
    if args.stdout and len(project.inputs) != 1:
        print("xdrgen: error: --stdout takes exactly one input file", file=sys.stderr)
        return 2
    if args.dump_ast or args.dump_model:
        return _dump(project, sources, model=args.dump_model)

    warnings = Reporter()
    outputs = render(project, sources, warnings)
    if warnings.diagnostics and (not args.quiet or args.werror):
        for warning in warnings.diagnostics:
            print(format_diagnostic(warning, sources), file=sys.stderr)
    if args.werror and warnings.diagnostics:
        print(f"xdrgen: error: {len(warnings.diagnostics)} warning(s) treated as errors (-Werror)", file=sys.stderr)
        return 1
    if args.stdout:
        sys.stdout.write(outputs[project.output / f"{module_name_for(project.inputs[0])}.py"])
        return 0
    return _check(outputs, args.quiet) if args.check else _write(outputs, args.quiet)


def _dump(project: Project, sources: SourceCache, *, model: bool) -> int:
    from .parser import parse_file

    for path in project.inputs:
        if model:
            print(dump(compile_file(path, project.options, sources).model))
        else:
            o = project.options
            print(dump(parse_file(path, include_dirs=o.include_dirs, defines=o.defines, target=o.target, sources=sources, pre_includes=o.pre_includes)))
    return 0


def _check(outputs: dict[Path, str], quiet: bool) -> int:
    changed = stale(outputs)
    for path in changed:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), outputs[path].splitlines(True), str(path), f"{path} (regenerated)"))
    if changed:
        print(f"xdrgen: {len(changed)} file(s) out of date", file=sys.stderr)
        return 1
    if not quiet:
        print(f"xdrgen: {len(outputs)} file(s) up to date", file=sys.stderr)
    return 0


def _write(outputs: dict[Path, str], quiet: bool) -> int:
    written, unchanged = write(outputs)
    if not quiet:
        print(f"xdrgen: wrote {written} file(s), {unchanged} unchanged", file=sys.stderr)
    return 0
