"""Coverage-guided fuzzing of generated decoders (atheris).

    python3 fuzz/fuzz_decoders.py -max_total_time=600 [corpus_dir]
"""

import sys

import atheris

from targets import build_package

NAMES = build_package()
with atheris.instrument_imports():
    import fuzzed  # noqa: F401  (instrument the generated modules and their runtime)
    from targets import load_codecs

    CODECS = load_codecs(NAMES)

from targets import check_decoder  # noqa: E402


def one_input(data: bytes) -> None:
    check_decoder(CODECS, data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
