"""The part of the C preprocessor that real .x files rely on, without needing cpp.

rpcgen pipes every .x file through ``cpp``. We handle the directives ourselves, line by
line, and keep every line in place (a directive or an excluded line becomes an empty line)
so that parser positions stay the file's own positions.

- ``#include "x.x"`` / ``<x.x>``: relative to the including file, then the ``-I`` paths.
  The included file is loaded by the caller (see :class:`Directives.includes`).
- ``#define NAME value``: a value that evaluates to an integer becomes a named constant of
  the model (``MacroConstant``); any other value is substituted as text, as cpp would.
- ``#undef``, ``#ifdef``, ``#ifndef``, ``#if``/``#elif`` (with ``defined``, integer
  arithmetic and comparisons as cpp computes them: see "#if expressions" below), ``#else``,
  ``#endif``; ``#error`` when active.
- rpcgen's ``RPC_HDR``/``RPC_XDR``/``RPC_SVC``/``RPC_CLNT``/``RPC_TBL``: one is defined.
- ``%`` lines are passthrough and never directives; one ending in a backslash continues on
  the next line (Debian's nis.x), which is then passthrough too.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

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
    exported: set[str] = field(default_factory=set)  # names of the exported macros
    # integer_value results; None: not an integer. Defining a new name can only turn a None
    # into a value (the name was undefined in it), unless it is in _never_integers. Values
    # that asked ``defined`` are not kept: defining a name changes them.
    _values: dict[str, int | None] = field(default_factory=dict)
    _never_integers: set[str] = field(default_factory=set)
    _asked_defined: bool = False

    def define(self, macro: Macro) -> None:
        previous = self.macros.get(macro.name)
        self.macros[macro.name] = macro
        (self.exported.add if macro.exported else self.exported.discard)(macro.name)
        if previous is None:
            self._values = {n: v for n, v in self._values.items() if v is not None or n in self._never_integers}
        elif previous.text != macro.text:
            self._forget_values()

    def undefine(self, name: str) -> None:
        if self.macros.pop(name, None) is not None:
            self._forget_values()
        self.exported.discard(name)

    def _forget_values(self) -> None:
        self._values, self._never_integers = {}, set()

    @classmethod
    def initial(cls, defines: dict[str, str], target: str = DEFAULT_TARGET) -> MacroTable:
        if target not in RPC_TARGETS:
            raise XdrgenError.at(None, f"unknown rpcgen target {target!r}; use one of {', '.join(RPC_TARGETS)}")
        table = cls()
        table.define(Macro(target, "1", Location("<built-in>", 0, 0), exported=False))
        for name, text in defines.items():
            table.define(Macro(name, text, Location("<command line>", 0, 0), exported=True))
        return table

    def integer_value(self, name: str) -> int | None:
        """The value of a macro whose expansion is an integer expression, or None."""
        if name in self._values:
            return self._values[name]
        if name not in self.macros:
            return None
        value: int | None
        self._asked_defined = False
        try:
            value = _evaluate_tokens((("name", name, 0, False, 0),), self, strict=True)
        except _ExprError as error:
            value = None
            if error.final:
                self._never_integers.add(name)
        if not self._asked_defined:
            self._values[name] = value
        return value

    def substitution(self, name: str) -> str:
        """What cpp would leave of ``name`` in a line: the text of an exported macro whose value
        is not an integer (integer macros are model constants, kept by name), else the name."""
        if name in self.exported and self.integer_value(name) is None:
            return self.macros[name].text
        return name

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
        parts = [line]
        while parts[-1].endswith("\\") and index < len(lines):
            parts[-1] = parts[-1][:-1]
            parts.append(lines[index])
            index += 1
        directive_text = " ".join(parts)  # joined once: 100,000 continued lines stay linear
        extra = len(parts) - 1
        out.append("")
        out.extend([""] * extra)
        match = _DIRECTIVE.match(directive_text)
        assert match is not None
        name = match.group(1) or ""
        rest = _strip_comments(match.group(2)).strip()
        loc = Location(file, number, line.index("#") + 1)
        # the expression of #if/#elif, comments blanked in place: its offsets are columns
        condition = _Condition(_blank_comments(match.group(2)), loc, match.start(2), len(parts[0]))
        if name in ("if", "ifdef", "ifndef"):
            if not active:
                stack.append(_Conditional(False, False, True, loc))
                continue
            if name == "if":
                keep = _evaluate(condition, macros) != 0
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
                keep = top.parent_active and not top.taken and _evaluate(condition, macros) != 0
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


def _blank_comments(text: str) -> str:
    """``text`` with comments replaced by as many spaces: offsets keep their meaning."""
    text = re.sub(r"/\*.*?\*/", lambda m: " " * len(m.group(0)), text)
    text = re.sub(r"/\*.*$", lambda m: " " * len(m.group(0)), text)
    return re.sub(r"//.*$", lambda m: " " * len(m.group(0)), text)


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
    # values are computed for the macros a line uses, not for all after each #define: a file
    # of 1,000 #defines, each followed by a line, stays linear
    if not macros.exported or macros.exported.isdisjoint(_IDENT.findall(line)):
        return line
    return _IDENT.sub(lambda m: macros.substitution(m.group(0)), line)


# ---- #if expressions -------------------------------------------------------------------
#
# Evaluated as cpp evaluates them (C11 6.10.1, GCC's choices where C leaves one): in 64-bit
# intmax_t, or uintmax_t once an operand is unsigned (a ``u`` suffix, or a constant too large
# for intmax_t); results wrap to 64 bits; a shift by 64 or more gives 0 (-1 for a negative
# value shifted right) and a negative count shifts the other way. Macros are replaced by
# their tokens (``#define A 1+1`` makes ``A*2`` 3), never inside their own expansion.
# Evaluation is a loop over tokens with explicit stacks, so nesting costs no Python stack;
# division by zero is an error except in an operand that && || ?: leave unevaluated.

_BITS = 64
_MASK = (1 << _BITS) - 1
_SIGNED_MAX = (1 << (_BITS - 1)) - 1
EXPANSION_LIMIT = 10_000  # tokens that macro expansion may add to one expression (cpp has no limit)

_TOKEN = re.compile(r"\s*(?:(?P<num>\d\w*)|(?P<name>[A-Za-z_]\w*)|(?P<op>&&|\|\||<<|>>|<=|>=|==|!=|\+\+|--|[-+*/%()!~<>&|^?:]))")
_INTEGER = re.compile(r"(?P<digits>0[xX](?P<hex>[0-9a-fA-F]+)|[0-9]+)(?P<suffix>(?:[uU](?:ll|LL|[lL])?|(?:ll|LL|[lL])[uU]?)?)")

_PRECEDENCE = {
    "||": 2, "&&": 3, "|": 4, "^": 5, "&": 6, "==": 7, "!=": 7, "<": 8, "<=": 8, ">": 8, ">=": 8,
    "<<": 9, ">>": 9, "+": 10, "-": 10, "*": 11, "/": 11, "%": 11,
}  # fmt: skip
_TERNARY = 1  # ? and : bind loosest, to the right
_UNARY = 12  # prefix + - ! ~ bind tightest, to the right
_OPEN = 0  # "(" on the operator stack: nothing reduces past it

# A token: (kind, text, value, unsigned, position); kind is "num", "name", "op" or "end" (the
# end of a macro's expansion, after which the macro may be expanded again); position is its
# offset in the expression, or that of the macro name whose expansion it came from.
_Token = tuple[str, str, int, bool, int]
_Value = tuple[int, bool]  # (value, unsigned)


class _ExprError(Exception):
    """An expression that cannot be evaluated; ``final`` if defining more macros cannot help;
    ``position``: the offset in the expression of the token at fault, when known."""

    def __init__(self, message: str, final: bool = False, position: int | None = None) -> None:
        super().__init__(message)
        self.final = final
        self.position = position


@functools.lru_cache(maxsize=4096)
def _tokenize(text: str) -> tuple[_Token, ...]:
    tokens: list[_Token] = []
    end = len(text.rstrip())
    pos = len(text) - len(text.lstrip())
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _ExprError(f"cannot evaluate preprocessor expression {_shorten(text.strip())!r}", position=pos)
        kind = m.lastgroup or ""
        word, start = m.group(kind), m.start(kind)
        if kind == "num":
            try:
                value, unsigned = _integer(word)
            except _ExprError as error:
                error.position = start
                raise
            tokens.append(("num", word, value, unsigned, start))
        elif word in ("++", "--"):  # one token to cpp, as in C: "- -1" is not "--1"
            raise _ExprError(f"token {word!r} is not valid in preprocessor expressions", position=start)
        else:
            tokens.append((kind, word, 0, False, start))
        pos = m.end()
        while pos < end and text[pos].isspace():
            pos += 1
    return tuple(tokens)


def _integer(word: str) -> _Value:
    """The value of an integer constant and whether it is unsigned, as cpp reads it."""
    m = _INTEGER.fullmatch(word)
    if m is None:
        raise _ExprError(f"invalid integer constant {_shorten(word)!r} in preprocessor expression")
    digits = m.group("digits")
    if m.group("hex"):
        significant, base = m.group("hex").lstrip("0"), 16
        too_long = len(significant) > _BITS // 4
    elif digits.startswith("0"):
        bad = re.search(r"[89]", digits)
        if bad:
            raise _ExprError(f"invalid digit {bad.group(0)!r} in octal constant {_shorten(word)!r}")
        significant, base = digits.lstrip("0"), 8
        too_long = len(significant) > _BITS // 3 + 1
    else:
        significant, base = digits, 10
        too_long = len(significant) > 20  # 2**64 has 20 digits: int() stays cheap
    value = 0 if too_long or not significant else int(significant, base)
    if too_long or value > _MASK:
        raise _ExprError(f"integer constant {_shorten(word)!r} is too large for {_BITS} bits", final=True)
    return value, "u" in m.group("suffix").lower() or value > _SIGNED_MAX


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class _Condition:
    """The expression of an ``#if``/``#elif`` whose directive is at ``loc``; it starts at
    column ``start + 1`` of a first line ``line_length`` long."""

    text: str
    loc: Location
    start: int
    line_length: int

    def location(self, position: int | None) -> Location:
        """Where the offset ``position`` of the text is (None: its end); the directive's
        location if that is on a continuation line."""
        offset = self.start + (len(self.text.rstrip()) if position is None else position)
        if offset > self.line_length:
            return self.loc
        return Location(self.loc.file, self.loc.line, offset + 1)


def _evaluate(condition: _Condition, macros: MacroTable) -> int:
    """The value of the expression of an ``#if`` or ``#elif``."""
    try:
        return _evaluate_tokens(_tokenize(condition.text), macros, strict=False)
    except _ExprError as error:
        raise XdrgenError.at(condition.location(error.position), str(error)) from None


def _evaluate_tokens(tokens: tuple[_Token, ...], macros: MacroTable, strict: bool) -> int:
    """``strict``: a name that is not a macro is an error (deciding whether a #define is a
    number), not 0 (as in #if)."""
    if not tokens:
        raise _ExprError("empty preprocessor expression")
    evaluation = _Evaluation()
    for kind, text, value, unsigned, position in _expanded(tokens, macros, strict):
        evaluation.take(kind, text, (value, unsigned), position)
    return evaluation.result()


def _expanded(tokens: tuple[_Token, ...], macros: MacroTable, strict: bool) -> Iterator[_Token]:
    """The tokens with macros replaced by their tokens and ``defined X`` by 0 or 1. A stack
    of pending tokens, not recursion: a chain of 10,000 macros costs no Python stack."""
    pending = list(reversed(tokens))
    expanding: set[str] = set()  # cpp does not expand a macro inside its own expansion
    added = 0
    while pending:
        token = pending.pop()
        kind, name, position = token[0], token[1], token[4]
        if kind == "end":
            expanding.discard(name)
        elif kind != "name":
            yield token
        elif name == "defined":
            macros._asked_defined = True
            yield ("num", name, int(_defined_name(pending, expanding, position) in macros.macros), False, position)
        elif name in macros.macros and name not in expanding:
            try:
                body = _tokenize(macros.macros[name].text)
            except _ExprError as error:
                raise _ExprError(f"{error} (the value of macro {name!r})", error.final, position) from None
            added += len(body)
            if added > EXPANSION_LIMIT:
                raise _ExprError(f"macros expand to more than {EXPANSION_LIMIT:,} tokens in this expression", True, position)
            expanding.add(name)
            pending.append(("end", name, 0, False, position))
            pending.extend((k, t, v, u, position) for k, t, v, u, _ in reversed(body))
        elif strict:
            raise _ExprError(f"{name!r} is not an integer macro", position=position)
        else:
            yield ("num", name, 0, False, position)  # cpp: a name that is not a macro is 0


def _defined_name(pending: list[_Token], expanding: set[str], position: int) -> str:
    """The operand of ``defined``: ``NAME`` or ``(NAME)``, taken from ``pending`` unexpanded."""

    def next_token() -> _Token | None:
        while pending and pending[-1][0] == "end":
            expanding.discard(pending.pop()[1])
        return pending.pop() if pending else None

    token = next_token()
    parenthesised = token is not None and token[1] == "("
    if parenthesised:
        token = next_token()
    if token is None or token[0] != "name":
        raise _ExprError("defined expects a macro name", position=position)
    if parenthesised:
        close = next_token()
        if close is None or close[1] != ")":
            raise _ExprError("expected ')' after defined(NAME", position=position)
    return token[1]


@dataclass
class _Pending:
    """An operator waiting for its right operand, at ``position``. ``skips``: it made the
    evaluation skip (the right operand of ``0 &&``, a branch of ``?:`` not taken);
    ``condition``: that of ``?``."""

    symbol: str
    precedence: int
    position: int
    skips: bool = False
    condition: bool = False


@dataclass
class _Evaluation:
    """Operator precedence parsing with a value stack and an operator stack, fed one token at a
    time, computing as it reduces. Errors carry the offset of the token or operator at fault."""

    values: list[_Value] = field(default_factory=list)
    operators: list[_Pending] = field(default_factory=list)
    want_value: bool = True
    skipping: int = 0  # > 0: inside an operand that is not evaluated (no division errors)

    def take(self, kind: str, text: str, number: _Value, position: int) -> None:
        if self.want_value:
            if kind == "num":
                self.values.append(number)
                self.want_value = False
            elif text == "(":
                self.operators.append(_Pending("(", _OPEN, position))
            elif text in ("+", "-", "!", "~"):
                self.operators.append(_Pending(text, _UNARY, position))
            else:
                raise _ExprError(f"expected a value before {text!r} in preprocessor expression", position=position)
        elif text == ")":
            while self.operators and self.operators[-1].symbol not in ("(", "?"):
                self.reduce()
            if not self.operators:
                raise _ExprError("')' without '(' in preprocessor expression", position=position)
            if self.operators[-1].symbol == "?":
                raise _ExprError("expected ':' in preprocessor expression", position=position)
            self.operators.pop()
        elif text == "?":
            self.reduce_above(_TERNARY)
            condition = self.values[-1][0] != 0
            self.push(_Pending("?", _TERNARY, position, not condition, condition))
        elif text == ":":
            while self.operators and self.operators[-1].symbol not in ("?", "("):
                self.reduce()
            if not self.operators or self.operators[-1].symbol != "?":
                raise _ExprError("':' without '?' in preprocessor expression", position=position)
            question = self.operators.pop()
            self.skipping -= question.skips
            self.push(_Pending(":", _TERNARY, position, question.condition, question.condition))
        elif text in _PRECEDENCE:
            precedence = _PRECEDENCE[text]
            self.reduce_above(precedence - 1)  # left-associative: equal precedence reduces
            left = self.values[-1][0] != 0
            self.push(_Pending(text, precedence, position, (text == "&&" and not left) or (text == "||" and left)))
        else:
            raise _ExprError(f"missing an operator before {text!r} in preprocessor expression", position=position)

    def push(self, operator: _Pending) -> None:
        self.skipping += operator.skips
        self.operators.append(operator)
        self.want_value = True

    def reduce_above(self, precedence: int) -> None:
        while self.operators and self.operators[-1].precedence > precedence:
            self.reduce()

    def reduce(self) -> None:
        pending = self.operators.pop()
        self.skipping -= pending.skips
        right = self.values.pop()
        if pending.precedence == _UNARY:
            self.values.append(_unary(pending.symbol, right))
        elif pending.symbol == ":":
            yes = self.values.pop()
            self.values.pop()  # the condition, known already
            chosen = yes if pending.condition else right
            self.values.append(_wrap(chosen[0], yes[1] or right[1]))
        else:
            try:
                self.values.append(_binary(pending.symbol, self.values.pop(), right, self.skipping > 0))
            except _ExprError as error:
                error.position = pending.position
                raise

    def result(self) -> int:
        if self.want_value:
            raise _ExprError("preprocessor expression ends too early")
        while self.operators:
            unfinished = self.operators[-1]
            if unfinished.symbol in ("(", "?"):
                expected = ")" if unfinished.symbol == "(" else ":"
                raise _ExprError(f"expected {expected!r} for this {unfinished.symbol!r} in preprocessor expression", position=unfinished.position)
            self.reduce()
        return self.values[-1][0]


def _wrap(value: int, unsigned: bool) -> _Value:
    """``value`` as a 64-bit integer of the given signedness (two's complement wrap)."""
    value &= _MASK
    return (value, True) if unsigned else (value - (1 << _BITS) if value > _SIGNED_MAX else value, False)


def _unary(symbol: str, operand: _Value) -> _Value:
    value, unsigned = operand
    if symbol == "!":
        return int(value == 0), False
    return _wrap({"+": value, "-": -value, "~": ~value}[symbol], unsigned)


def _binary(symbol: str, left: _Value, right: _Value, skipping: bool) -> _Value:
    if symbol in ("&&", "||"):
        return int(bool(left[0]) and bool(right[0]) if symbol == "&&" else bool(left[0]) or bool(right[0])), False
    if symbol in ("<<", ">>"):
        return _shift(symbol, left, right[0])
    unsigned = left[1] or right[1]  # the usual arithmetic conversions
    a, b = _wrap(left[0], unsigned)[0], _wrap(right[0], unsigned)[0]
    if symbol in _COMPARISONS:
        return int(_COMPARISONS[symbol](a, b)), False
    if symbol in ("/", "%"):
        if b == 0:
            if skipping:
                return 0, unsigned
            raise _ExprError("division by zero in preprocessor expression")
        quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)  # C truncates toward 0
        return _wrap(quotient if symbol == "/" else a - b * quotient, unsigned)
    return _wrap(_ARITHMETIC[symbol](a, b), unsigned)


def _shift(symbol: str, left: _Value, count: int) -> _Value:
    """C leaves shifts by the width or more undefined; cpp (GCC) gives what a wider shift would."""
    value, unsigned = left
    if count < 0:
        symbol, count = ("<<" if symbol == ">>" else ">>"), -count
    if symbol == "<<":
        return (0, unsigned) if count >= _BITS else _wrap(value << count, unsigned)
    if count >= _BITS:
        return (-1 if value < 0 else 0), unsigned
    return value >> count, unsigned


_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
_ARITHMETIC: dict[str, Callable[[int, int], int]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "&": operator.and_, "|": operator.or_, "^": operator.xor,
}  # fmt: skip
