"""Compiler-style diagnostics: ``file:line:col: error: message``, the source line, a caret.

What a diagnostic prints of a file is one line at most, cut to ``QUOTE_WIDTH`` characters around
the caret, with control and invisible characters as escapes; a file that is not text (it holds a
NUL byte) is never quoted. A diagnostic may reach a build log that others read."""

from __future__ import annotations

import unicodedata
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


QUOTE_WIDTH = 160  # characters of a quoted line shown around the caret
MESSAGE_WIDTH = 1000  # a message quoting the file (#error) is cut there
# Unicode categories never printed as they are (here and in generated comments and docstrings,
# xdrgen/python/text.py): controls (NUL, CR, terminal escapes), format characters (bidi
# overrides), surrogates, private-use and unassigned code points, line and paragraph separators
INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def shown(text: str) -> str:
    """``text`` safe to print: control and invisible characters (terminal escapes, NUL, bidi
    overrides) as ``\\xNN``/``\\uNNNN``; tabs kept."""
    return "".join(ch if ch == "\t" or unicodedata.category(ch) not in INVISIBLE else repr(ch)[1:-1] for ch in text)


@dataclass
class SourceCache:
    """The text of every file read, so a diagnostic can quote its line."""

    texts: dict[str, str] = field(default_factory=dict)
    unquotable: set[str] = field(default_factory=set)  # files that are not text: never quoted

    def add(self, file: str, text: str, quotable: bool = True) -> None:
        self.texts[file] = text
        (self.unquotable.discard if quotable else self.unquotable.add)(file)

    def line(self, file: str, number: int) -> str | None:
        text = self.texts.get(file)
        if text is None or file in self.unquotable:
            return None
        lines = text.split("\n")
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return None

    def quote(self, file: str, number: int, column: int) -> tuple[str, str] | None:
        """The line to print and the caret line under it: at most QUOTE_WIDTH characters of the
        line around ``column``, made safe by ``shown`` (tabs copied into the caret's line so it
        lines up in any terminal)."""
        source = self.line(file, number)
        if source is None:
            return None
        start = max(0, min(column - 1 - QUOTE_WIDTH // 2, len(source) - QUOTE_WIDTH))
        part = source[start : start + QUOTE_WIDTH]
        before = [shown(ch) for ch in part[: max(column - 1 - start, 0)]]
        caret = "".join("\t" if ch == "\t" else " " * len(ch) for ch in before) + "^"
        lead, tail = ("..." if start else ""), ("..." if start + QUOTE_WIDTH < len(source) else "")
        return lead + shown(part) + tail, " " * len(lead) + caret


def format_diagnostic(diagnostic: Diagnostic, sources: SourceCache) -> str:
    """Render one diagnostic (and its notes) as the compiler-format text block."""
    where = f"{shown(str(diagnostic.location))}: " if diagnostic.location else "xdrgen: "
    kind = f" [-W{diagnostic.category}]" if diagnostic.category else ""
    message = diagnostic.message if len(diagnostic.message) <= MESSAGE_WIDTH else diagnostic.message[:MESSAGE_WIDTH] + "..."
    out = [f"{where}{diagnostic.severity}: {shown(message)}{kind}"]
    loc = diagnostic.location
    if loc is not None:
        quoted = sources.quote(loc.file, loc.line, loc.column)
        if quoted is not None:
            out += quoted
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
