"""How the front end scales on hostile-size inputs (issue 24): parse and check times of a
5,000-typedef chain (in the file's order and reversed), 5,000 structs that hold each other by
value, a 50,000-member enum and a 100,000-line file, with the checker's time per 1,000 lines.

The checker must be linear (or n log n) in its input: per-1,000-line figures that stay flat
from the small inputs to the large ones say it is. Run alone with ``python benchmarks/run.py
checker``; ``run.py`` prints it with the rest.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xdrgen.checker import check  # noqa: E402
from xdrgen.parser import parse_file  # noqa: E402

INPUTS = {
    "typedef chain, 5,000": lambda: "typedef int t0;\n" + "".join(f"typedef t{i - 1} t{i};\n" for i in range(1, 5000)),
    "typedef chain, 5,000, reversed": lambda: "".join(f"typedef t{i + 1} t{i};\n" for i in range(4999)) + "typedef int t4999;\n",
    "struct chain, 5,000, reversed": lambda: "".join(f"struct s{i} {{ s{i + 1} next; }};\n" for i in range(4999)) + "struct s4999 { int a; };\n",
    "enum, 50,000 members": lambda: "enum big {\n" + ",\n".join(f"    M{i} = {i}" for i in range(50000)) + "\n};\n",
    "100,000 lines of structs": lambda: "".join(f"struct r{i} {{\n    int a;\n    string b<>;\n    r{i - 1} *c;\n}};\n" if i else "struct r0 { int a; };\n" for i in range(20000)),
}


def main() -> None:
    print("\nthe front end on hostile-size inputs (parse = preprocess + Lark; check = the checker alone):")
    print(f"{'input':34} {'lines':>8} {'parse s':>8} {'check s':>8} {'check ms / 1,000 lines':>24}")
    with tempfile.TemporaryDirectory(prefix="xdrgen-checker-") as folder:
        for title, make in INPUTS.items():
            path = Path(folder) / "input.x"
            text = make()
            path.write_text(text)
            lines = text.count("\n")
            t0 = time.perf_counter()
            spec = parse_file(path)
            t1 = time.perf_counter()
            check(spec)
            t2 = time.perf_counter()
            print(f"{title:34} {lines:8d} {t1 - t0:8.2f} {t2 - t1:8.2f} {(t2 - t1) * 1e6 / lines:24.1f}")


if __name__ == "__main__":
    main()
