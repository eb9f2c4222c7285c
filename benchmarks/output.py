"""What the generator writes, measured (issue 17): size, import time, memory, generation time.

Each figure is printed beside its goal; import time is a ratio against ``import asyncio`` timed
in the same run, in fresh processes, because this machine's speed varies from run to run.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from corpus_options import CORPUS, REJECTED, corpus_files, options_for  # noqa: E402

from xdrgen.compiler import Options, compile_file, compile_set  # noqa: E402
from xdrgen.generator import RUNTIME_MODULE, generate, module_name_for, runtime_source  # noqa: E402

REMOTE = "libvirt/remote_protocol.x"
ROUNDS = 9


def _generated(relative: str) -> str:
    defines, pre = options_for(relative)
    compiled = compile_file(CORPUS / relative, Options(defines=defines, pre_includes=pre))
    return generate(compiled.model, relative, compiled.text, module_name_for(relative))


def _cumulative_import_us(statement: str, module: str, cwd: Path, env: dict[str, str] | None = None) -> int:
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True, cwd=cwd, env=env)
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$", line)
        if match and match[2] == module:
            return int(match[1])
    raise RuntimeError(f"no import time for {module}: {result.stderr[-500:]}")


def _rss_growth_mb(package: Path) -> float:
    """Peak RSS growth while importing the module without a .pyc (compiled from source). The
    peak is the process's own (VmHWM): getrusage's ru_maxrss starts at the parent's peak, as
    Linux carries it over fork and exec, which hid the growth when run.py (large) ran this."""
    code = (
        "import resource, sys; sys.dont_write_bytecode = True\n"
        "def peak_kb():\n"
        "    try:\n"
        "        with open('/proc/self/status') as status:\n"
        "            return next(int(line.split()[1]) for line in status if line.startswith('VmHWM:'))\n"
        "    except OSError:\n"
        "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "before = peak_kb()\n"
        "import bench_output.remote_protocol\n"
        "print((peak_kb() - before) / 1024)\n"
    )
    result = subprocess.run([sys.executable, "-B", "-c", code], capture_output=True, text=True, cwd=package.parent, check=True)
    return float(result.stdout)


def main() -> None:
    remote = _generated(REMOTE)
    print(f"remote_protocol.py (tests' -D values): {len(remote.encode()) / 1e6:.2f} MB, {remote.count(chr(10)):,} lines (goal <= 1.0 MB)")
    total, started = 0, time.perf_counter()
    # Stellar's twelve files compile as one set (each file's module once, importing the others);
    # every other file with the tests' options, its own module only
    stellar = sorted((CORPUS / "stellar").glob("*.x"))
    total += sum(len(generate(u.model, str(u.path), u.text, u.module_name).encode()) for u in compile_set(stellar))
    for relative in corpus_files():
        if relative not in REJECTED and not relative.startswith("stellar/"):
            total += len(_generated(relative).encode())
    print(f"the corpus ({len(corpus_files()) - len(REJECTED)} files): {total / 1e6:.1f} MB, generated in {time.perf_counter() - started:.1f} s "
          f"(goal <= 14.4 MB, 40% of 36.1 MB)")

    with tempfile.TemporaryDirectory(prefix="xdrgen-output-") as folder:
        package = Path(folder) / "bench_output"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / f"{RUNTIME_MODULE}.py").write_text(runtime_source(RUNTIME_MODULE))
        (package / "remote_protocol.py").write_text(remote)
        growth = statistics.median(_rss_growth_mb(package) for _ in range(3))
        print(f"import of remote_protocol without a .pyc: peak RSS +{growth:.0f} MB (goal <= 80 MB)")
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
        ours, asyncio = [], []
        for _ in range(ROUNDS):  # interleaved, fresh processes
            ours.append(_cumulative_import_us("import bench_output.remote_protocol", "bench_output.remote_protocol", package.parent))
            asyncio.append(_cumulative_import_us("import asyncio", "asyncio", package.parent))
        print(
            f"import of remote_protocol with its .pyc: {statistics.median(ours) / 1000:.1f} ms, import asyncio "
            f"{statistics.median(asyncio) / 1000:.1f} ms: {statistics.median(o / a for o, a in zip(ours, asyncio)):.2f}x (goal <= 1.0x)"
        )

    defines, _ = options_for(REMOTE)
    with tempfile.TemporaryDirectory(prefix="xdrgen-cli-") as folder:
        command = [sys.executable, "-m", "xdrgen", str(CORPUS / REMOTE), "-q", "-o", folder] + [f"-D{k}={v}" for k, v in defines.items()]
        # the goal is timed with the .pyc files present: this environment may set
        # PYTHONDONTWRITEBYTECODE, so the warm-up run (which also fills Lark's cache) may write them
        writes_bytecode = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(command, capture_output=True, check=True, env=writes_bytecode)
        walls = []
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            walls.append(time.perf_counter() - started)
    print(f"xdrgen {REMOTE} -o DIR (CLI, wall, with .pyc): {statistics.median(walls):.2f} s (goal <= 0.4 s)")


if __name__ == "__main__":
    main()
