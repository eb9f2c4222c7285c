"""The ``xdrgen`` command: generate modules, or (``decode``/``encode``) convert one message."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from . import convert
from .compiler import compile_set
from .diagnostics import Reporter, SourceCache, XdrgenError, format_diagnostic
from .dump import to_data
from .generator import module_name_for
from .options import DEFAULT_OUTPUT, RUNTIMES, OptionError, WarningPolicy, add_common_options, regenerate_command, source_options
from .project import Project, find_pyproject, load_config, orphans, render, stale, write

SUBCOMMANDS = ("decode", "encode", "help")

USAGE = "xdrgen [options] [FILE.x ...]  |  xdrgen {decode,encode} [options] [FILE.x] TYPE  |  xdrgen help [COMMAND]"

EXAMPLES = """\
examples:
  xdrgen protocols/lxc_monitor_protocol.x      # writes generated/ (the default -o)
  xdrgen protocols/ -o generated/             # a folder: all its .x files, compiled as one set
  xdrgen nfs_prot.x mount.x -o nfs/ -I include/
  xdrgen remote_protocol.x -D VIR_UUID_BUFLEN=16 -o out/
  xdrgen protocol.x -o generated/ --check     # exit 1 and show a diff if out of date
  xdrgen protocol.x --stdout | less
  xdrgen --dump-ast protocol.x                # the syntax tree as JSON
  xdrgen                                      # the inputs of [tool.xdrgen] in pyproject.toml
  xdrgen decode protocol.x my_type < msg.bin  # bytes -> JSON (see `xdrgen help decode`)
  xdrgen encode protocol.x my_type < msg.json # JSON -> bytes
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="xdrgen",
        usage=USAGE,
        description="Generate Python encoders and decoders from ONC RPC / XDR (.x) files.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # split_command must know every option that takes a value
    )
    p.add_argument("inputs", nargs="*", metavar="FILE.x", help=".x files, or folders whose .x files are compiled as one set (default: [tool.xdrgen] inputs of pyproject.toml)")
    p.add_argument("-o", "--output", metavar="DIR", help=f"folder for the generated modules, made if missing (default: {DEFAULT_OUTPUT}/, or [tool.xdrgen]'s output)")
    add_common_options(p)
    p.add_argument("--rpc", action="store_true", help="write xdr_rpc.py even if no input declares a program")
    p.add_argument(
        "--runtime",
        choices=RUNTIMES,
        help="where the modules import the runtime from: beside (xdr_runtime.py and xdr_rpc.py written into the output folder; "
        "the default) or installed (the xdrgen-runtime distribution, shared by every generated package)",
    )
    p.add_argument("--stdout", action="store_true", help="print the module of the one input instead of writing files")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 and print a diff if any output would change")
    p.add_argument("--dump-ast", action="store_true", help="print the syntax tree as JSON and stop")
    p.add_argument("--dump-model", action="store_true", help="print the checked model as JSON and stop")
    p.add_argument("--version", action="version", version=f"xdrgen {__version__}")
    return p


def split_command(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """The subcommand (the first word that is not an option or an option's value, if it is
    one of SUBCOMMANDS) and the arguments without it, so options may come before it."""
    with_values = {name for action in _parser()._actions if action.nargs != 0 for name in action.option_strings}
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--":
            break
        if word.startswith("-") and word != "-":
            index += 2 if word in with_values else 1
            continue
        if word in SUBCOMMANDS:
            return word, [*argv[:index], *argv[index + 1 :]]
        break
    return None, list(argv)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:
        # the reader went away (`xdrgen --dump-ast f.x | head -1`): stop quietly; point
        # stdout at /dev/null so the interpreter's final flush does not complain either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130


def _main(argv: list[str]) -> int:
    command, rest = split_command(argv)
    sources = SourceCache()
    if command == "help":
        topic = next((w for w in rest if not w.startswith("-")), None)
        if topic in ("decode", "encode"):
            convert.parser(topic).print_help()
        elif topic is None:
            _parser().print_help()
        else:
            _parser().error(f"no help on {topic!r}; try `xdrgen help`, `xdrgen help decode` or `xdrgen help encode`")
        return 0
    if command is not None:
        parser = convert.parser(command)
        args = parser.parse_args(rest)
        return guarded(parser, lambda: convert.run(command, args, sources), sources)
    parser = _parser()
    args = parser.parse_args(rest)
    return guarded(parser, lambda: _run(args, sources), sources)


def guarded(parser: argparse.ArgumentParser, run: Callable[[], int], sources: SourceCache) -> int:
    """Run a command, turning every expected failure into a message and an exit status."""
    try:
        return run()
    except OptionError as error:
        parser.error(str(error))  # usage line, message, exit 2
    except XdrgenError as error:
        for diagnostic in error.diagnostics:
            print(format_diagnostic(diagnostic, sources), file=sys.stderr)
        return 1
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            raise
        print(f"xdrgen: error: {error}", file=sys.stderr)
        return 1


def project_root(path: Path) -> Path:
    """The folder of the nearest pyproject.toml at or above ``path``, else the current folder:
    what the paths in a module's regenerate command are relative to."""
    for folder in Path(path).absolute().parents:
        if (folder / "pyproject.toml").is_file():
            return folder
    return Path.cwd()


def _project(args: argparse.Namespace) -> Project | None:
    if args.inputs:
        return Project(
            expand_folders([Path(p) for p in args.inputs]),
            Path(args.output or DEFAULT_OUTPUT),
            source_options(args),
            rpc=args.rpc,
            runtime=args.runtime or RUNTIMES[0],
            regenerate=lambda path: f"regenerate with `{regenerate_command([Path(p) for p in args.inputs], args, project_root(path))}`",
        )
    pyproject = find_pyproject(Path.cwd())
    if pyproject is None:
        return None
    project = load_config(pyproject)
    if not args.quiet:
        print(f"xdrgen: using [tool.xdrgen] of {_relative(pyproject)}", file=sys.stderr)
    command = regenerate_command([], args, pyproject.parent)
    return Project(
        project.inputs,
        Path(args.output) if args.output else project.output,
        source_options(args, project.options),
        rpc=args.rpc or project.rpc,
        regenerate=lambda path: f"regenerate with `{command}` ([tool.xdrgen] of pyproject.toml)",
        conventions=project.conventions,
        runtime=args.runtime or project.runtime,
    )


def expand_folders(inputs: list[Path]) -> list[Path]:
    """Inputs with each folder replaced by the ``.x`` files directly in it, sorted: a folder
    is one set of files that may use each other's types."""
    expanded: list[Path] = []
    for path in inputs:
        if not path.is_dir():
            expanded.append(path)
            continue
        found = sorted(path.glob("*.x"))
        if not found:
            nested = sorted(path.glob("*/**/*.x"))
            hint = f" (its subfolders have {len(nested)}: name them, e.g. {nested[0].parent})" if nested else ""
            raise OptionError(f"{path}: a folder with no .x files in it{hint}")
        expanded.extend(found)
    return expanded


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _check_output_option(output: str | None) -> None:
    if output is None:
        return
    path = Path(output)
    if path.exists() and not path.is_dir():
        raise OptionError(f"-o {output}: is a file; -o names the folder the modules go to (--stdout prints one module)")
    if not path.exists() and path.suffix == ".py":
        raise OptionError(f"-o {output}: -o names a folder for the modules, not a file (use --stdout > {output} for one module)")


def _run(args: argparse.Namespace, sources: SourceCache) -> int:
    policy = WarningPolicy.parse(args.warning_options)
    _check_output_option(args.output)
    project = _project(args)
    if project is None:
        raise OptionError("no input files (and no [tool.xdrgen] in a pyproject.toml here or above)")
    if args.stdout and len(project.inputs) != 1:
        raise OptionError("--stdout takes exactly one input file")
    if args.dump_ast or args.dump_model:
        return _dump(project, sources, model=args.dump_model)

    warnings = Reporter()
    outputs = render(project, sources, warnings)
    shown = [w for w in warnings.diagnostics if policy.shown(w.category)]
    failing = [w for w in shown if policy.fails(w.category)]
    for warning in shown:
        if warning in failing:  # as gcc: an error, marked with the option that made it one
            print(format_diagnostic(replace(warning, severity="error", category=f"error={warning.category}" if warning.category else "error"), sources), file=sys.stderr)
        elif not args.quiet:
            print(format_diagnostic(warning, sources), file=sys.stderr)
    if failing:
        print(f"xdrgen: error: {len(failing)} warning(s) treated as errors (-Werror)", file=sys.stderr)
        return 1
    if args.stdout:
        sys.stdout.write(outputs[project.output / f"{module_name_for(project.inputs[0])}.py"])
        sys.stdout.flush()
        return 0
    gone = orphans(project, outputs)
    return _check(project.output, outputs, gone, args.quiet) if args.check else _write(outputs, gone, args.quiet)


def _dump(project: Project, sources: SourceCache, *, model: bool) -> int:
    """One JSON document: the input's tree, or an object of them keyed by input path."""
    from .parser import parse_file

    trees = {}
    units = compile_set(project.inputs, project.options, sources) if model else []
    for path in project.inputs:
        if model:
            trees[str(path)] = to_data(next(u.model for u in units if u.path.resolve() == path.resolve()))
        else:
            o = project.options
            roots = None if o.include_anywhere else ()
            trees[str(path)] = to_data(
                parse_file(path, include_dirs=o.include_dirs, defines=o.defines, target=o.target, sources=sources, pre_includes=o.pre_includes, include_roots=roots)
            )
    document = next(iter(trees.values())) if len(trees) == 1 else trees
    print(json.dumps(document, indent=2), flush=True)
    return 0


def _orphan_message(module: Path, source: str) -> str:
    return f"xdrgen: {module}: generated from {source}, which is not an input any more (delete the module, or restore {source})"


def _check(output: Path, outputs: dict[Path, str], gone: list[tuple[Path, str]], quiet: bool) -> int:
    if not any(path.is_file() for path in outputs if path.name != "__init__.py"):
        # nothing generated there yet: a diff of every line of every module helps nobody
        state = "no such folder" if not output.exists() else "not a folder" if not output.is_dir() else "an empty folder" if not any(output.iterdir()) else "none of its files are there yet"
        print(f"xdrgen: {output}: {state}; run without --check to write its {len(outputs)} file(s)", file=sys.stderr)
        return 1
    changed = stale(outputs)
    for path in changed:
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), outputs[path].splitlines(True), str(path), f"{path} (regenerated)"))
    sys.stdout.flush()
    for module, source in gone:
        print(_orphan_message(module, source), file=sys.stderr)
    if changed or gone:
        parts = [f"{len(changed)} file(s) out of date"] + ([f"{len(gone)} without a source"] if gone else [])
        print(f"xdrgen: {', '.join(parts)}", file=sys.stderr)
        return 1
    if not quiet:
        print(f"xdrgen: {len(outputs)} file(s) up to date", file=sys.stderr)
    return 0


def _write(outputs: dict[Path, str], gone: list[tuple[Path, str]], quiet: bool) -> int:
    written, unchanged = write(outputs)
    if not quiet:
        for module, source in gone:
            print(_orphan_message(module, source).replace("xdrgen: ", "xdrgen: warning: ", 1), file=sys.stderr)
        print(f"xdrgen: wrote {written} file(s), {unchanged} unchanged", file=sys.stderr)
    return 0
