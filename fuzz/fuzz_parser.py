"""Coverage-guided fuzzing of the .x compiler: preprocessor, parser, checker, generator.

    python3 fuzz/fuzz_parser.py -max_len=16384 -max_total_time=600 [corpus_dir]

The real .x files (targets.PARSER_SEED_SOURCES) are added as a seed corpus, after any
directories given.
"""

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["xdrgen"]):
    from targets import check_compiler, parser_seeds

SCRATCH = Path(tempfile.mkdtemp(prefix="xdrgen-fuzz-x-"))


def one_input(data: bytes) -> None:
    check_compiler(data, SCRATCH)


if __name__ == "__main__":
    seeds = SCRATCH / "seeds"
    parser_seeds(seeds)
    atheris.Setup(sys.argv + [str(seeds)], one_input)
    atheris.Fuzz()
