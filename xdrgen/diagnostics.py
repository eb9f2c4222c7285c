"""Compiler-style diagnostics: ``file:line:col: error: message``, the source line, a caret."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

from .xdr_ast import Location

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    message: str
    location: Location | None
    notes: tuple[Diagnostic, ...] = ()
    category: str | None = None  # a warning's kind, for -Wno-KIND (options.WARNING_CATEGORIES)


@dataclass
class SourceCache:
    """The text of every file read, so a diagnostic can quote its line."""

    texts: dict[str, str] = field(default_factory=dict)

    def add(self, file: str, text: str) -> None:
        self.texts[file] = text

    def line(self, file: str, number: int) -> str | None:
        text = self.texts.get(file)
        if text is None:
            return None
        lines = text.splitlines()
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return None


def format_diagnostic(diagnostic: Diagnostic, sources: SourceCache) -> str:
    """Render one diagnostic (and its notes) as the compiler-format text block."""
    where = f"{diagnostic.location}: " if diagnostic.location else "xdrgen: "
    kind = f" [-W{diagnostic.category}]" if diagnostic.category else ""
    out = [f"{where}{diagnostic.severity}: {diagnostic.message}{kind}"]
    loc = diagnostic.location
    if loc is not None:
        source = sources.line(loc.file, loc.line)
        if source is not None:
            out.append(source.rstrip("\n"))
            # Copy tabs from the quoted line so the caret lines up in any terminal.
            prefix = "".join("\t" if ch == "\t" else " " for ch in source[: loc.column - 1])
            out.append(prefix + "^")
    for note in diagnostic.notes:
        out.append(format_diagnostic(note, sources))
    return "\n".join(out)


class XdrgenError(Exception):
    """Raised with one or more error diagnostics; the CLI prints them and exits 1."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("; ".join(d.message for d in self.diagnostics))

    @classmethod
    def at(cls, location: Location | None, message: str) -> XdrgenError:
        return cls([Diagnostic("error", message, location)])


@dataclass
class Reporter:
    """Collects diagnostics during a pass so that one run reports every problem it finds."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, location: Location | None, message: str, *notes: Diagnostic) -> None:
        self.diagnostics.append(Diagnostic("error", message, location, tuple(notes)))

    def warning(self, location: Location | None, message: str, category: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("warning", message, location, category=category))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise XdrgenError(self.errors)


def note(location: Location | None, message: str) -> Diagnostic:
    return Diagnostic("note", message, location)
