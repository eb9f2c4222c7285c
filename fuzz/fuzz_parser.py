"""Coverage-guided fuzzing of the .x compiler: preprocessor, parser, checker, generator.

    python3 fuzz/fuzz_parser.py -max_total_time=600 [corpus_dir ../shared/corpus/rpcsvc]
"""

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["xdrgen"]):
    from targets import check_compiler

SCRATCH = Path(tempfile.mkdtemp(prefix="xdrgen-fuzz-x-"))


def one_input(data: bytes) -> None:
    check_compiler(data, SCRATCH)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
