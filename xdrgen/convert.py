"""``xdrgen decode`` and ``xdrgen encode``: bytes <-> JSON through a .x file's types, in the
spirit of ``protoc --decode`` / ``--encode``. The JSON mapping is :mod:`xdrgen.jsonmap`'s."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path

from . import model as M
from .compiler import Compiled, compile_set
from .diagnostics import SourceCache
from .jsonmap import JsonError, JsonMapping, parse_float, parse_int
from .loader import load_generated
from .options import OptionError, Options, WarningPolicy, add_common_options, source_options
from .project import find_pyproject, load_config

USAGE = "xdrgen {command} [options] [FILE.x ...] TYPE"

EXAMPLES = """\
Several FILE.x compile as one set (as `xdrgen FILE.x ...` does); TYPE is looked up in all
of them. Without FILE.x, TYPE is looked up in the inputs of [tool.xdrgen] (pyproject.toml here
or above), read with its options; FILE.x that are all among those inputs are read with them too.

examples:
  xdrgen decode lxc_monitor_protocol.x virLXCMonitorExitEventMsg < event.bin
  xdrgen decode rfc4506_file.x file --hex <<< '00000009 73696c6c ...'
  xdrgen decode f.x file < msg.bin | xdrgen encode f.x file > same.bin
  echo '{"status": "VIR_LXC_MONITOR_EXIT_STATUS_SHUTDOWN"}' | \\
      xdrgen encode lxc_monitor_protocol.x virLXCMonitorExitEventMsg --hex
"""


def parser(command: str) -> argparse.ArgumentParser:
    reads, writes = ("bytes", "JSON") if command == "decode" else ("JSON", "bytes")
    p = argparse.ArgumentParser(
        prog=f"xdrgen {command}",
        usage=USAGE.format(command=command),
        description=f"Read {reads} from standard input and write {writes} for one type of FILE.x.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument("names", nargs="+", metavar="[FILE.x ...] TYPE", help="the .x files (compiled as one set) and the type's name as written in them")
    p.add_argument("--hex", action="store_true", help="the bytes are hex text (whitespace and 0x prefixes ignored) instead of raw")
    if command == "decode":
        p.add_argument("--indent", type=int, default=None, help="pretty-print the JSON with this indent")
    add_common_options(p)
    return p


def run(command: str, args: argparse.Namespace, sources: SourceCache) -> int:
    WarningPolicy.parse(args.warning_options)  # validated; conversions print no warnings
    *files, type_name = args.names
    if any(not f.endswith(".x") for f in files):
        raise OptionError(f"expected [FILE.x ...] TYPE, got {' '.join(args.names)}")
    units, compiled = _find_type([Path(f) for f in files], type_name, args, sources)
    modules = load_generated(units)
    generated = modules[compiled.module_name]
    mapping = JsonMapping(compiled.model, modules)
    expr = M.NamedType(type_name)
    try:
        if command == "decode":
            value = generated.decode(type_name, _read_bytes(args.hex))
            text = json.dumps(mapping.to_json(expr, value), indent=args.indent, allow_nan=False)
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        else:
            value = mapping.from_json(expr, _read_json(), type_name)
            encoded = generated.encode(type_name, value)
            if args.hex:
                print(encoded.hex(), flush=True)
            else:
                sys.stdout.buffer.write(encoded)
                sys.stdout.buffer.flush()
    except generated.XdrError as error:
        print(f"xdrgen: error: {error}", file=sys.stderr)
        return 1
    except JsonError as error:
        print(f"xdrgen: error: invalid input: {error}", file=sys.stderr)
        return 1
    except RecursionError:
        print("xdrgen: error: the value is nested too deeply for JSON", file=sys.stderr)
        return 1
    return 0


def _find_type(files: list[Path], type_name: str, args: argparse.Namespace, sources: SourceCache) -> tuple[list[Compiled], Compiled]:
    """The files compiled as one set (FILE.x ..., or the project's inputs), and the one whose
    module has ``type_name``."""
    pyproject = find_pyproject(Path.cwd())
    project = load_config(pyproject) if pyproject is not None else None
    if not files:
        if project is None:
            raise OptionError("no FILE.x given, and no [tool.xdrgen] in a pyproject.toml here or above")
        candidates, base = project.inputs, project.options
    else:
        own = project is not None and all(any(f.resolve() == p.resolve() for p in project.inputs) for f in files)
        candidates, base = files, project.options if own and project is not None else Options()
    units = compile_set(candidates, source_options(args, base), sources)
    names: list[str] = []
    for compiled in units:
        if any(t.name == type_name for t in compiled.model.types):
            return units, compiled
        names += [t.name for t in compiled.model.types if t.name not in compiled.model.invented]
    where = " ".join(str(f) for f in files) if files else "the inputs of [tool.xdrgen]"
    close = difflib.get_close_matches(type_name, names, n=3, cutoff=0.6)
    if close:
        hint = "; did you mean " + " or ".join(repr(n) for n in close) + "?"
    else:
        hint = f" (types: {', '.join(names[:12])}{', ...' if len(names) > 12 else ''})" if names else " (it defines no types)"
    raise OptionError(f"no type {type_name!r} in {where}{hint}")


def _read_bytes(as_hex: bool) -> bytes:
    data = sys.stdin.buffer.read()
    if not as_hex:
        return data
    try:
        words = data.decode("ascii").split()
        return bytes.fromhex("".join(w[2:] if w[:2] in ("0x", "0X") else w for w in words))
    except (ValueError, UnicodeDecodeError) as error:
        raise JsonError(f"not hex: {error}", "stdin") from None


def _read_json() -> object:
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or any(ord(c) < 0x20 and c not in "\t\n\r" for c in text):
        raise JsonError("expected JSON, got binary data (xdrgen decode reads bytes)", "stdin")
    try:
        return json.loads(text, parse_int=parse_int, parse_float=parse_float, parse_constant=str)
    except json.JSONDecodeError as error:
        raise JsonError(f"expected JSON: {error}", "stdin") from None

