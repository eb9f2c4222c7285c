"""``xdrgen decode`` and ``xdrgen encode``: bytes <-> JSON through a .x file's types, in the
spirit of ``protoc --decode`` / ``--encode``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from .cli import add_source_options, guarded, source_options
from .compiler import compile_file
from .diagnostics import SourceCache
from .generator import module_name_for
from . import model as M
from .jsonmap import JsonError, JsonMapping, load_generated

USAGE = """\
examples:
  xdrgen decode lxc_monitor_protocol.x virLXCMonitorExitEventMsg < event.bin
  xdrgen decode rfc4506_file.x file --hex <<< '00000009 73696c6c ...'
  xdrgen decode f.x file < msg.bin | xdrgen encode f.x file > same.bin
  echo '{"status": "VIR_LXC_MONITOR_EXIT_STATUS_SHUTDOWN"}' | \\
      xdrgen encode lxc_monitor_protocol.x virLXCMonitorExitEventMsg --hex
"""


def _parser(command: str) -> argparse.ArgumentParser:
    reads, writes = ("bytes", "JSON") if command == "decode" else ("JSON", "bytes")
    p = argparse.ArgumentParser(
        prog=f"xdrgen {command}",
        description=f"Read {reads} from standard input and write {writes} for one type of FILE.x.",
        epilog=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE.x")
    p.add_argument("type", metavar="TYPE", help="the type's name as written in FILE.x")
    p.add_argument("--hex", action="store_true", help="the bytes are hex text (whitespace ignored) instead of raw")
    if command == "decode":
        p.add_argument("--indent", type=int, default=None, help="pretty-print the JSON with this indent")
    add_source_options(p)
    return p


def main(argv: Sequence[str]) -> int:
    command = argv[0]
    args = _parser(command).parse_args(argv[1:])
    sources = SourceCache()
    return guarded(lambda: _convert(command, args, sources), sources)


def _convert(command: str, args: argparse.Namespace, sources: SourceCache) -> int:
    compiled = compile_file(args.file, source_options(args), sources)
    try:
        definition = compiled.model.type_named(args.type)
    except KeyError:
        names = ", ".join(t.name for t in compiled.model.types[:20])
        print(f"xdrgen: error: no type {args.type!r} in {args.file} (types: {names}...)", file=sys.stderr)
        return 2
    generated = load_generated(compiled.model, str(compiled.path), compiled.text, module_name_for(compiled.path))
    mapping = JsonMapping(compiled.model, generated)
    expr = M.NamedType(definition.name)
    try:
        if command == "decode":
            data = _read_bytes(args.hex)
            value = generated.decode(args.type, data)
            print(json.dumps(mapping.to_json(expr, value), indent=args.indent))
        else:
            value = mapping.from_json(expr, json.loads(sys.stdin.buffer.read()), args.type)
            encoded = generated.encode(args.type, value)
            if args.hex:
                print(encoded.hex())
            else:
                sys.stdout.buffer.write(encoded)
    except generated.XdrError as error:
        print(f"xdrgen: error: {error}", file=sys.stderr)
        return 1
    except (JsonError, json.JSONDecodeError, UnicodeDecodeError) as error:
        print(f"xdrgen: error: invalid input: {error}", file=sys.stderr)
        return 1
    except RecursionError:
        print("xdrgen: error: the value is nested too deeply for JSON", file=sys.stderr)
        return 1
    return 0


def _read_bytes(as_hex: bool) -> bytes:
    data = sys.stdin.buffer.read()
    if not as_hex:
        return data
    try:
        return bytes.fromhex("".join(data.decode("ascii").split()))
    except (ValueError, UnicodeDecodeError) as error:
        raise JsonError(f"not hex: {error}", "input") from None
