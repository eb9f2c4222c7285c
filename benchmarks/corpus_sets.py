"""How many corpus files compile, and with what: alone with no options, with xdrgen's RPC
definitions (--rpc-defs), with the files of their folder they need, with only -D values
standing for C header macros (the tests' values, tests/corpus_options.py), and with all of it.

    python benchmarks/corpus_sets.py [CORPUS]        (default ../shared/corpus)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from corpus_options import CORPUS, options_for  # noqa: E402

from xdrgen.compiler import Options, compile_set  # noqa: E402
from xdrgen.diagnostics import XdrgenError  # noqa: E402

BESIDE = re.compile(r"; (\S+\.x) beside it defines it")


def compiles(path: Path, options: Options, siblings: bool) -> bool:
    """Whether ``path`` compiles; with ``siblings``, adding the files of its folder that the
    errors name as defining what it lacks, until it compiles or nothing more is named."""
    inputs = [path]
    for _ in range(12):
        try:
            compile_set(inputs, options)
            return True
        except XdrgenError as error:
            wanted = {path.parent / m[1] for d in error.diagnostics if (m := BESIDE.search(d.message))} - set(inputs)
            if not siblings or not wanted:
                return False
            inputs += sorted(wanted)
    return False


def main() -> int:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    files = sorted(corpus.rglob("*.x"))
    rows = {"alone, no options": 0, "--rpc-defs": 0, "with the folder's files it needs": 0, "-D values only": 0, "all of these": 0}
    for path in files:
        defines, _ = options_for(str(path.relative_to(corpus)))
        rows["alone, no options"] += compiles(path, Options(), False)
        rows["--rpc-defs"] += compiles(path, Options(rpc_defs=True), False)
        rows["with the folder's files it needs"] += compiles(path, Options(), True)
        rows["-D values only"] += compiles(path, Options(defines=defines), False)
        rows["all of these"] += compiles(path, Options(defines=defines, rpc_defs=True), True)
    print(f"{len(files)} corpus files compile:")
    for name, count in rows.items():
        print(f"  {name:34} {count:4}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
