"""The part of the C preprocessor that real .x files rely on, without needing cpp.

rpcgen pipes every .x file through ``cpp``. We handle the directives ourselves, line by
line, and keep every line in place (a directive or an excluded line becomes an empty line)
so that parser positions stay the file's own positions.

- ``#include "x.x"`` / ``<x.x>``: relative to the including file, then the ``-I`` paths.
  The included file is loaded by the caller (see :class:`Directives.includes`).
- ``#define NAME value``: a value that evaluates to an integer becomes a named constant of
  the model (``MacroConstant``); any other value is substituted as text, as cpp would.
- ``#undef``, ``#ifdef``, ``#ifndef``, ``#if``/``#elif`` (with ``defined``, integer
  arithmetic and comparisons), ``#else``, ``#endif``; ``#error`` when active.
- rpcgen's ``RPC_HDR``/``RPC_XDR``/``RPC_SVC``/``RPC_CLNT``/``RPC_TBL``: one is defined.
- ``%`` lines are passthrough and never directives; one ending in a backslash continues on
  the next line (Debian's nis.x), which is then passthrough too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .diagnostics import XdrgenError
from .xdr_ast import Literal, Location

RPC_TARGETS = ("RPC_HDR", "RPC_XDR", "RPC_SVC", "RPC_CLNT", "RPC_TBL")
DEFAULT_TARGET = "RPC_HDR"

_DIRECTIVE = re.compile(r"^\s*#\s*([A-Za-z_]\w*)?(.*)$")
_IDENT = re.compile(r"[A-Za-z_]\w*")


@dataclass
class Macro:
    name: str
    text: str
    location: Location
    exported: bool  # True: a model constant (from the file or -D); False: a target flag


@dataclass
class MacroTable:
    """Macros shared by a file and everything it includes, as in cpp."""

    macros: dict[str, Macro] = field(default_factory=dict)
    _textual: dict[str, str] | None = None

    def define(self, macro: Macro) -> None:
        self.macros[macro.name] = macro
        self._textual = None

    def undefine(self, name: str) -> None:
        self.macros.pop(name, None)
        self._textual = None

    @classmethod
    def initial(cls, defines: dict[str, str], target: str = DEFAULT_TARGET) -> MacroTable:
        if target not in RPC_TARGETS:
            raise XdrgenError.at(None, f"unknown rpcgen target {target!r}; use one of {', '.join(RPC_TARGETS)}")
        table = cls()
        table.define(Macro(target, "1", Location("<built-in>", 0, 0), exported=False))
        for name, text in defines.items():
            table.define(Macro(name, text, Location("<command line>", 0, 0), exported=True))
        return table

    def integer_value(self, name: str, seen: frozenset[str] = frozenset()) -> int | None:
        """The value of an integer macro, following macros that name other macros."""
        macro = self.macros.get(name)
        if macro is None or name in seen:
            return None
        try:
            return _evaluate(macro.text, self, seen | {name}, macro.location, strict=True)
        except XdrgenError:
            return None

    def textual(self) -> dict[str, str]:
        """Macros cpp would substitute as text: those whose value is not an integer."""
        if self._textual is None:
            self._textual = {
                name: m.text
                for name, m in self.macros.items()
                if m.exported and self.integer_value(name) is None
            }
        return self._textual

    def exported_constants(self) -> list[tuple[str, Literal, Location]]:
        found = []
        for name, macro in self.macros.items():
            value = self.integer_value(name) if macro.exported else None
            if value is not None:
                found.append((name, Literal(value, macro.text, macro.location), macro.location))
        return found


@dataclass
class IncludeRequest:
    """An ``#include`` met at ``location``; ``path`` as written."""

    path: str
    system: bool
    location: Location


@dataclass
class Preprocessed:
    text: str  # same number of lines as the input
    includes: list[IncludeRequest]
    constants: list[tuple[str, Literal, Location]]  # integer #defines, in order of definition


@dataclass
class _Conditional:
    active: bool  # this branch is being kept
    parent_active: bool
    taken: bool  # some branch of this #if was already kept
    location: Location
    seen_else: bool = False


def preprocess(text: str, file: str, macros: MacroTable) -> Preprocessed:
    lines = text.split("\n")
    out: list[str] = []
    includes: list[IncludeRequest] = []
    constants: list[tuple[str, Literal, Location]] = []
    stack: list[_Conditional] = []
    in_comment = False
    continuing_passthrough = False
    index = 0
    while index < len(lines):
        line = lines[index]
        number = index + 1
        index += 1
        active = not stack or stack[-1].active
        stripped = line.lstrip()

        if continuing_passthrough:
            continuing_passthrough = line.endswith("\\")
            out.append(line if active else "")
            continue
        if not in_comment and stripped.startswith("%"):
            continuing_passthrough = line.endswith("\\")
            out.append(line if active else "")
            continue

        match = None if in_comment else _DIRECTIVE.match(line)
        if match is None:
            in_comment = _ends_in_comment(line, in_comment)
            out.append(_substitute(line, macros) if active else "")
            continue

        # A directive, possibly continued with backslashes over several lines.
        directive_text = line
        extra = 0
        while directive_text.endswith("\\") and index < len(lines):
            directive_text = directive_text[:-1] + " " + lines[index]
            index += 1
            extra += 1
        out.append("")
        out.extend([""] * extra)
        match = _DIRECTIVE.match(directive_text)
        assert match is not None
        name = match.group(1) or ""
        rest = _strip_comments(match.group(2)).strip()
        loc = Location(file, number, line.index("#") + 1)

        if name in ("if", "ifdef", "ifndef"):
            if not active:
                stack.append(_Conditional(False, False, True, loc))
                continue
            if name == "if":
                keep = _evaluate(rest, macros, frozenset(), loc) != 0
            else:
                target = _single_name(rest, name, loc)
                keep = (target in macros.macros) == (name == "ifdef")
            stack.append(_Conditional(keep, True, keep, loc))
        elif name in ("elif", "else"):
            if not stack:
                raise XdrgenError.at(loc, f"#{name} without #if")
            top = stack[-1]
            if top.seen_else:
                raise XdrgenError.at(loc, f"#{name} after #else")
            if name == "else":
                top.seen_else = True
                top.active = top.parent_active and not top.taken
            else:
                keep = top.parent_active and not top.taken and _evaluate(rest, macros, frozenset(), loc) != 0
                top.active = keep
            top.taken = top.taken or top.active
        elif name == "endif":
            if not stack:
                raise XdrgenError.at(loc, "#endif without #if")
            stack.pop()
        elif not active:
            continue
        elif name == "define":
            m = re.match(r"([A-Za-z_]\w*)(\(?)\s*(.*)$", rest)
            if m is None:
                raise XdrgenError.at(loc, "#define needs a macro name")
            if m.group(2):
                raise XdrgenError.at(loc, f"function-like macro {m.group(1)!r} is not supported in .x files")
            macro = Macro(m.group(1), m.group(3).strip() or "1", loc, exported=True)
            macros.define(macro)
            value = macros.integer_value(macro.name)
            if value is not None:
                constants.append((macro.name, Literal(value, macro.text, loc), loc))
        elif name == "undef":
            macros.undefine(_single_name(rest, name, loc))
        elif name == "include":
            m = re.match(r'"([^"]+)"|<([^>]+)>', rest)
            if m is None:
                raise XdrgenError.at(loc, '#include expects "FILE" or <FILE>')
            includes.append(IncludeRequest(m.group(1) or m.group(2), m.group(2) is not None, loc))
        elif name == "error":
            raise XdrgenError.at(loc, f"#error {rest}")
        elif name in ("pragma", "line", "ident", "warning", ""):
            continue  # meaningless for XDR; cpp would pass them on to the C compiler
        else:
            raise XdrgenError.at(loc, f"unknown preprocessor directive #{name}")
    if stack:
        raise XdrgenError.at(stack[-1].location, "#if without #endif")
    return Preprocessed("\n".join(out), includes, constants)


def _single_name(rest: str, directive: str, loc: Location) -> str:
    m = _IDENT.fullmatch(rest.strip())
    if m is None:
        raise XdrgenError.at(loc, f"#{directive} expects one macro name")
    return m.group(0)


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text)
    text = re.sub(r"/\*.*$", " ", text)
    return re.sub(r"//.*$", " ", text)


def _ends_in_comment(line: str, in_comment: bool) -> bool:
    """Whether a ``/* */`` comment is still open at the end of ``line``."""
    pos = 0
    while True:
        if in_comment:
            end = line.find("*/", pos)
            if end < 0:
                return True
            pos, in_comment = end + 2, False
        else:
            start = line.find("/*", pos)
            line_comment = line.find("//", pos)
            if start < 0 or (0 <= line_comment < start):
                return False
            pos, in_comment = start + 2, True


def _substitute(line: str, macros: MacroTable) -> str:
    textual = macros.textual()
    if not textual:
        return line
    return _IDENT.sub(lambda m: textual.get(m.group(0), m.group(0)), line)


# ---- #if expressions -------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>0[xX][0-9a-fA-F]+|\d+)[uUlL]*|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<op>&&|\|\||<<|>>|<=|>=|==|!=|[-+*/%()!~<>&|^?:]))"
)

_BINARY = [
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<", "<=", ">", ">="),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/", "%"),
]


def _evaluate(text: str, macros: MacroTable, seen: frozenset[str], loc: Location, strict: bool = False) -> int:
    """Evaluate a cpp integer expression. ``strict``: a name that is not a macro is an error
    (deciding whether a #define is a number), not 0 (as in #if)."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise XdrgenError.at(loc, f"cannot evaluate preprocessor expression {text!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    if not tokens:
        raise XdrgenError.at(loc, "empty preprocessor expression")
    parser = _ExprParser(tokens, macros, seen, loc, strict)
    value = parser.parse_binary(0)
    if parser.pos != len(tokens):
        raise XdrgenError.at(loc, f"cannot evaluate preprocessor expression {text!r}")
    return value


@dataclass
class _ExprParser:
    tokens: list[tuple[str, str]]
    macros: MacroTable
    seen: frozenset[str]
    loc: Location
    strict: bool
    pos: int = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise XdrgenError.at(self.loc, "preprocessor expression ends too early")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse_binary(self, level: int) -> int:
        if level == len(_BINARY):
            return self.parse_unary()
        left = self.parse_binary(level + 1)
        while self.peek() in _BINARY[level]:
            op = self.take()[1]
            right = self.parse_binary(level + 1)
            left = self.apply(op, left, right)
        if level == 0 and self.peek() == "?":
            self.take()
            yes = self.parse_binary(0)
            if self.take()[1] != ":":
                raise XdrgenError.at(self.loc, "expected ':' in preprocessor expression")
            no = self.parse_binary(0)
            return yes if left else no
        return left

    def apply(self, op: str, a: int, b: int) -> int:
        if op in ("/", "%") and b == 0:
            raise XdrgenError.at(self.loc, "division by zero in preprocessor expression")
        ops = {
            "||": lambda: int(bool(a) or bool(b)),
            "&&": lambda: int(bool(a) and bool(b)),
            "|": lambda: a | b,
            "^": lambda: a ^ b,
            "&": lambda: a & b,
            "==": lambda: int(a == b),
            "!=": lambda: int(a != b),
            "<": lambda: int(a < b),
            "<=": lambda: int(a <= b),
            ">": lambda: int(a > b),
            ">=": lambda: int(a >= b),
            "<<": lambda: a << b,
            ">>": lambda: a >> b,
            "+": lambda: a + b,
            "-": lambda: a - b,
            "*": lambda: a * b,
            "/": lambda: int(a / b),
            "%": lambda: a - b * int(a / b),
        }
        return ops[op]()

    def parse_unary(self) -> int:
        kind, text = self.take()
        if text in ("!", "-", "+", "~"):
            value = self.parse_unary()
            return {"!": int(not value), "-": -value, "+": value, "~": ~value}[text]
        if text == "(":
            value = self.parse_binary(0)
            if self.take()[1] != ")":
                raise XdrgenError.at(self.loc, "expected ')' in preprocessor expression")
            return value
        if kind == "num":
            return int(text, 0) if not re.fullmatch(r"0[0-7]+", text) else int(text, 8)
        if kind == "name":
            if text == "defined":
                parenthesised = self.peek() == "("
                if parenthesised:
                    self.take()
                kind, name = self.take()
                if kind != "name":
                    raise XdrgenError.at(self.loc, "defined expects a macro name")
                if parenthesised and self.take()[1] != ")":
                    raise XdrgenError.at(self.loc, "expected ')' after defined(NAME")
                return int(name in self.macros.macros)
            # cpp: an identifier that is not a macro evaluates to 0
            if text not in self.macros.macros:
                if self.strict:
                    raise XdrgenError.at(self.loc, f"{text!r} is not an integer macro")
                return 0
            macro_value = self.macros.integer_value(text, self.seen)
            if macro_value is None:
                raise XdrgenError.at(self.loc, f"macro {text!r} is not an integer")
            return macro_value
        raise XdrgenError.at(self.loc, f"unexpected {text!r} in preprocessor expression")
