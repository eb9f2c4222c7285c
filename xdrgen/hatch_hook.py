"""A hatchling build hook: generate a project's XDR modules while its wheel is built.

In the user's pyproject.toml::

    [build-system]
    requires = ["hatchling", "xdrgen-python"]   # the distribution; PyPI's "xdrgen" is another project
    build-backend = "hatchling.build"

    [tool.hatch.build.hooks.xdrgen]     # enables the hook
    # options here (inputs, output, ...) override [tool.xdrgen]

Generated files are written into the source tree (so editable installs see them too) and
declared as build artifacts, so they are packed even when .gitignore excludes them.

The hook says what it generated in one line per set of files. pip shows a build backend's
output only with ``-v`` (``python -m build`` always shows it), so when the output is captured
the line also goes to the controlling terminal, if there is one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.plugin import hookimpl

from .diagnostics import SourceCache, XdrgenError, format_diagnostic
from .options import CONFIG_KEYS
from .project import tool_tables, load_config, render, write

# keys of a build hook's table that hatchling itself reads
HATCH_KEYS = {"dependencies", "require-runtime-dependencies", "require-runtime-features", "enable-by-default"}
HEADER_NOTE = "written by the xdrgen build hook while the package is built, from the .x file"


class XdrgenBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "xdrgen"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        pyproject = Path(self.root) / "pyproject.toml"
        unknown = sorted(set(self.config) - set(CONFIG_KEYS) - HATCH_KEYS)
        if unknown:
            self.app.display_warning(
                f"xdrgen: [tool.hatch.build.hooks.xdrgen]: unknown key(s) {', '.join(unknown)} ignored (known: {', '.join(CONFIG_KEYS)})"
            )
        table = {**tool_tables(pyproject).get("xdrgen", {}), **{k: v for k, v in self.config.items() if k in CONFIG_KEYS}}
        sources = SourceCache()
        try:
            project = load_config(pyproject, table, "[tool.xdrgen] with [tool.hatch.build.hooks.xdrgen]")
            project.regenerate = lambda path: HEADER_NOTE
            outputs = render(project, sources)
        except XdrgenError as error:
            text = "\n".join(format_diagnostic(d, sources) for d in error.diagnostics)
            raise RuntimeError(f"xdrgen could not generate the XDR modules:\n{text}") from None
        written, unchanged = write(outputs)
        announce(summary(project.inputs, project.output, written, unchanged, Path(self.root)), self.app.display_info)
        for path in outputs:
            build_data["artifacts"].append(path.relative_to(self.root).as_posix())


def summary(inputs: Iterable[Path], output: Path, written: int, unchanged: int, root: Path) -> str:
    """One line for a set of generated files: its sources, its folder, what changed."""
    names = ", ".join(_relative(path, root) for path in inputs)
    return f"xdrgen: {names} -> {_relative(output, root)}/: wrote {written} file(s), {unchanged} unchanged"


def announce(line: str, display: Callable[[str], None], terminal: str = "/dev/tty") -> None:
    """Show ``line`` through hatchling, and on the terminal when stderr is captured (pip)."""
    display(line)
    if sys.stderr.isatty():
        return
    try:
        with open(terminal, "w", encoding="utf-8") as tty:
            tty.write(line + "\n")
    except OSError:  # no controlling terminal (CI, a daemon): the captured line is all there is
        pass


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path.absolute(), root.absolute())).as_posix()


@hookimpl
def hatch_register_build_hook() -> type[BuildHookInterface]:  # type: ignore[type-arg]
    return XdrgenBuildHook
