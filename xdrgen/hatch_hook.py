"""A hatchling build hook: generate a project's XDR modules while its wheel is built.

In the user's pyproject.toml::

    [build-system]
    requires = ["hatchling", "xdrgen-python"]   # the distribution; PyPI's "xdrgen" is another project
    build-backend = "hatchling.build"

    [tool.hatch.build.hooks.xdrgen]     # enables the hook
    # options here (inputs, output, ...) override [tool.xdrgen]

Generated files are written into the source tree (so editable installs see them too) and
declared as build artifacts, so they are packed even when .gitignore excludes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
        self.app.display_info(f"xdrgen: wrote {written} file(s), {unchanged} unchanged")
        for path in outputs:
            build_data["artifacts"].append(path.relative_to(self.root).as_posix())


@hookimpl
def hatch_register_build_hook() -> type[BuildHookInterface]:  # type: ignore[type-arg]
    return XdrgenBuildHook
