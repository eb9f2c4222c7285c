"""Where the tests find things outside the package: the repository root and the real-world corpus.

The corpus is ``$XDRGEN_CORPUS`` when that is set (a relative value is taken from the current
directory), else ``../shared/corpus`` beside the clone, where CI has it. The tests, the corpus
options and the fuzz targets all take it from here.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS_VARIABLE = "XDRGEN_CORPUS"
CORPUS = Path(os.environ.get(CORPUS_VARIABLE) or ROOT.parent / "shared" / "corpus").expanduser().resolve()


def corpus_present() -> bool:
    """True when the corpus folder exists and holds .x files."""
    return CORPUS.is_dir() and next(CORPUS.rglob("*.x"), None) is not None


CORPUS_MISSING = f"needs the real-world corpus at {CORPUS} (set {CORPUS_VARIABLE}=DIR, or put shared/ beside the clone)"
