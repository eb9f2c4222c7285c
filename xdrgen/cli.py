"""The ``xdrgen`` command."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from . import __version__
from .codecs import GenerationError
from .compiler import Options, compile_file
from .diagnostics import Diagnostic, SourceCache, XdrgenError, format_diagnostic
from .dump import dump
from .generator import RUNTIME_MODULE, generate, module_name_for, runtime_source
from .preprocess import RPC_TARGETS

EXAMPLES = """\
examples:
  xdrgen protocols/lxc_monitor_protocol.x -o generated/
  xdrgen nfs_prot.x mount.x -o nfs/ -I include/
  xdrgen remote_protocol.x -D VIR_UUID_BUFLEN=16 -o out/
  xdrgen protocol.x -o generated/ --check     # exit 1 and show a diff if out of date
  xdrgen protocol.x --stdout | less
  xdrgen --dump-ast protocol.x                # the syntax tree as JSON
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="xdrgen",
        description="Generate Python encoders and decoders from ONC RPC / XDR (.x) files.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="*", metavar="FILE.x", help=".x files to compile")
    p.add_argument("-o", "--output", metavar="DIR", help="folder for the generated modules (default: .)")
    p.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR", help="search DIR for #include files")
    p.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]", help="define a macro, as cpp does (an integer value becomes a constant)")
    p.add_argument("--include", dest="pre_includes", action="append", default=[], metavar="FILE.x", help="read FILE.x first, as if #included at the top")
    p.add_argument("--target", choices=[t.removeprefix("RPC_").lower() for t in RPC_TARGETS], default="hdr", help="which of rpcgen's RPC_HDR/RPC_XDR/... is defined for #if (default: hdr)")
    p.add_argument("--stdout", action="store_true", help="print the module of the one input instead of writing files")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 and print a diff if any output would change")
    p.add_argument("--dump-ast", action="store_true", help="print the syntax tree as JSON and stop")
    p.add_argument("--dump-model", action="store_true", help="print the checked model as JSON and stop")
    p.add_argument("-Werror", dest="werror", action="store_true", help="treat warnings as errors")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    p.add_argument("--version", action="version", version=f"xdrgen {__version__}")
    return p


def _defines(items: Sequence[str]) -> dict[str, str]:
    defines = {}
    for item in items:
        name, _, value = item.partition("=")
        if not name.isidentifier():
            raise XdrgenError([Diagnostic("error", f"-D {item!r}: {name!r} is not a macro name", None)])
        defines[name] = value if value else "1"
    return defines


def _write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, so a failed run leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sources = SourceCache()
    try:
        return _run(args, sources)
    except XdrgenError as error:
        for diagnostic in error.diagnostics:
            print(format_diagnostic(diagnostic, sources), file=sys.stderr)
        return 1
    except GenerationError as error:
        print(f"xdrgen: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"xdrgen: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, sources: SourceCache) -> int:
    if not args.inputs:
        _parser().print_usage(sys.stderr)
        print("xdrgen: error: no input files", file=sys.stderr)
        return 2
    if args.stdout and len(args.inputs) != 1:
        print("xdrgen: error: --stdout takes exactly one input file", file=sys.stderr)
        return 2
    options = Options(
        include_dirs=args.include_dirs,
        defines=_defines(args.defines),
        pre_includes=args.pre_includes,
        target="RPC_" + args.target.upper(),
    )
    if args.dump_ast:
        from .parser import parse_file

        for path in args.inputs:
            spec = parse_file(path, include_dirs=options.include_dirs, defines=options.defines, target=options.target, sources=sources, pre_includes=options.pre_includes)
            print(dump(spec))
        return 0

    outputs: dict[Path, str] = {}
    out_dir = Path(args.output or ".")
    for path in args.inputs:
        compiled = compile_file(path, options, sources)
        warnings = compiled.reporter.warnings
        if warnings and not args.quiet or args.werror:
            for warning in warnings:
                print(format_diagnostic(warning, sources), file=sys.stderr)
        if args.werror and warnings:
            print(f"xdrgen: error: {len(warnings)} warning(s) treated as errors (-Werror)", file=sys.stderr)
            return 1
        if args.dump_model:
            print(dump(compiled.model))
            continue
        name = module_name_for(path)
        code = generate(compiled.model, str(path), compiled.text, name)
        if args.stdout:
            sys.stdout.write(code)
            return 0
        outputs[out_dir / f"{name}.py"] = code
    if args.dump_model:
        return 0
    outputs[out_dir / f"{RUNTIME_MODULE}.py"] = runtime_source()
    init = out_dir / "__init__.py"
    if not init.exists():
        # a package, so the modules import their runtime relatively and type-check cleanly
        outputs[init] = '"""Modules generated by xdrgen."""\n'
    return _check(outputs, args.quiet) if args.check else _write(outputs, args.quiet)


def _check(outputs: dict[Path, str], quiet: bool) -> int:
    stale = 0
    for path, text in outputs.items():
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old != text:
            stale += 1
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True), str(path), f"{path} (regenerated)"))
    if stale:
        print(f"xdrgen: {stale} file(s) out of date", file=sys.stderr)
        return 1
    if not quiet:
        print(f"xdrgen: {len(outputs)} file(s) up to date", file=sys.stderr)
    return 0


def _write(outputs: dict[Path, str], quiet: bool) -> int:
    written = unchanged = 0
    for path, text in outputs.items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            unchanged += 1  # leave the file (and its mtime) alone
            continue
        _write_atomic(path, text)
        written += 1
    if not quiet:
        print(f"xdrgen: wrote {written} file(s), {unchanged} unchanged", file=sys.stderr)
    return 0
