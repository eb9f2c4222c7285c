"""Generated text laid out exactly as black lays it out, without running black over all of it.

The templates and code writers already write black's style (quotes, blank lines, magic
trailing commas, ``if (`` conditions split one per line). What is left is a statement longer
than the line limit: the common shapes (a call, a ``def`` header, ``name = other.name``,
``return value, pos``, a tuple added to ``out``) are split here by black's rules
(``split_call``); any other is cut out whole (ast gives its lines), dedented, and formatted by
black in one call per indentation level with the limit reduced by that indentation. On
libvirt's remote_protocol.x that leaves a handful of statements for black instead of 40,000
lines. tests/test_layout.py checks that black leaves every generated corpus module unchanged.
"""
from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterator

LINE_LENGTH = 100
_MARK = "# xdrgen-statement "
_ALIAS = re.compile(r"(\w+(?:: \w+)?) = ([\w.]+)")
_RETURN_PAIR = re.compile(r"return (\w+\(.*\)), (\w+)")
_COMPOUND = (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.FunctionDef, ast.AsyncFunctionDef, ast.AsyncFor, ast.AsyncWith, ast.ClassDef)


def black_format(code: str, line_length: int = LINE_LENGTH) -> str:
    import black

    return black.format_str(code, mode=black.Mode(line_length=line_length))


def format_like_black(code: str) -> str:
    """``code`` as black would format it, given that only over-long statements need work."""
    lines: list[str] = []
    for line in code.split("\n"):
        split = split_call(line) if len(line) > LINE_LENGTH else None
        if split is None:
            lines.append(line)
        else:
            lines += split
    code = "\n".join(lines)
    # black leaves comment lines as they are, however long
    long_lines = [n for n, line in enumerate(lines, 1) if len(line) > LINE_LENGTH and not line.lstrip().startswith("#")]
    if not long_lines:
        return code
    spans = []
    for first, last in _top_level_chunks(lines, long_lines):
        tree = ast.parse("\n".join(lines[first - 1 : last]))
        inside = {n - first + 1 for n in long_lines if first <= n <= last}
        spans += [(a + first - 1, b + first - 1, c) for a, b, c in _statement_spans(tree, inside)]
    by_indent: dict[int, list[tuple[int, int, bool]]] = {}
    for first, last, compound in sorted(set(spans)):
        indent = len(lines[first - 1]) - len(lines[first - 1].lstrip(" "))
        by_indent.setdefault(indent, []).append((first, last, compound))
    replacement: dict[int, tuple[int, list[str]]] = {}
    for indent, statements in by_indent.items():
        batch = []
        for index, (first, last, compound) in enumerate(statements):
            text = textwrap.dedent("\n".join(lines[first - 1 : last]))
            if text.startswith("elif "):
                text = text[2:]  # formatted as an "if", then given its "el" back
            batch.append(f"{_MARK}{index}\n{text}\n" + ("    pass\n" if compound else ""))
        formatted = black_format("".join(batch), LINE_LENGTH - indent)
        for index, chunk in enumerate(formatted.split(_MARK)[1:]):
            body = chunk.split("\n")[1:]
            while body and not body[-1].strip():
                body.pop()
            first, last, compound = statements[index]
            if compound:
                body.pop()  # the "pass" that made the header a statement
            if lines[first - 1].lstrip().startswith("elif "):
                body[0] = "el" + body[0]
            replacement[first] = (last, [" " * indent + line if line else line for line in body])
    out: list[str] = []
    n = 1
    while n <= len(lines):
        if n in replacement:
            last, new = replacement[n]
            out += new
            n = last + 1
        else:
            out.append(lines[n - 1])
            n += 1
    return "\n".join(out)


def _top_level_chunks(lines: list[str], wanted: list[int]) -> list[tuple[int, int]]:
    """(first, last) line of each top-level definition (decorators included) holding a line
    of ``wanted``: parsing these alone is much cheaper than parsing the module."""
    starts = [1]
    for n, line in enumerate(lines, 1):
        if line.startswith("@") or (line.startswith(("def ", "class ")) and not lines[n - 2].startswith("@")):
            starts.append(n)
    starts.append(len(lines) + 1)
    chunks = []
    for first, following in zip(starts, starts[1:]):
        if any(first <= n < following for n in wanted):
            chunks.append((first, following - 1))
    return chunks


def _statement_spans(tree: ast.Module, long_lines: set[int]) -> list[tuple[int, int, bool]]:
    """(first line, last line, is a compound header) of the innermost statement holding
    each long line; lines inside strings (docstrings) are black's to leave alone."""
    spans = []
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        end = node.end_lineno or node.lineno
        if not any(node.lineno <= n <= end for n in long_lines):
            continue
        if isinstance(node, _COMPOUND):
            body_start = node.body[0].lineno
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            if any(first <= n < body_start for n in long_lines):
                spans.append((first, body_start - 1, True))
            for field in ("body", "orelse", "finalbody"):
                stack.extend(getattr(node, field, []))
            for handler in getattr(node, "handlers", []):  # an except line itself is never long
                stack.extend(handler.body)
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue
        spans.append((node.lineno, end, False))
    return spans


def split_call(line: str) -> list[str] | None:
    """Black's split of a one-line statement that ends in a call (or a ``def`` header):
    the arguments on one line of their own if they fit, else one per line with a trailing
    comma, each argument split the same way if it is still too long. None for any other
    shape, which black itself then formats."""
    indent = line[: len(line) - len(line.lstrip(" "))]
    text = line.strip()
    alias = _ALIAS.fullmatch(text)
    if alias:  # "name: Final = other.name": black wraps the value in parentheses
        if len(indent) + 4 + len(alias[2]) > LINE_LENGTH:
            return None
        return [f"{indent}{alias[1]} = (", f"{indent}    {alias[2]}", f"{indent})"]
    returned = _RETURN_PAIR.fullmatch(text)
    if returned:  # "return value, pos": black's invisible parentheses, one item per line
        value = _fitted(indent + "    ", returned[1] + ",")
        if value is None:
            return None
        return [f"{indent}return ("] + value + [f"{indent}    {returned[2]},", f"{indent})"]
    return _split_brackets(indent, text)


def _fitted(indent: str, text: str) -> list[str] | None:
    """``text`` on one line if it fits, else split at its last brackets."""
    if len(indent) + len(text) <= LINE_LENGTH:
        return [indent + text]
    return _split_brackets(indent, text)


def _split_brackets(indent: str, text: str) -> list[str] | None:
    """Black's right-hand split of ``text`` (an item of an exploded list when it ends in a
    comma) at the brackets that close it."""
    item_comma = ""
    if text.endswith(","):
        text, item_comma = text[:-1], ","
    if text.startswith(("def ", "async def ")) and text.endswith(":"):
        close = text.rfind(")")
        tail = text[close:]
        if not tail.startswith(") -> ") or "(" in tail or "#" in text:
            return None
        text = text[: close + 1]
    elif not text.endswith(")") or text.startswith(("if ", "elif ", "while ", "for ", "with ")) or "#" in text:
        return None
    else:
        tail = ")"
    open_at = _matching_open(text)
    if open_at is None:
        return None
    if open_at == 0:  # a parenthesised tuple
        call, collection = False, True
    else:
        call = text[open_at - 1].isalnum() or text[open_at - 1] in "_]"
        # a tuple assigned, added or given as a dict value: black puts one item per line
        collection = text[:open_at].endswith(("= ", "+= ", ": "))
    if not (call or collection):
        return None
    head, body = text[: open_at + 1], text[open_at + 1 : -1]
    tail += item_comma
    if not body or _has_bracket_at_top(head):
        return None
    if len(indent) + len(head) > LINE_LENGTH or len(indent) + len(tail) > LINE_LENGTH:
        return None
    inner = indent + "    "
    items = _top_level_items(body)
    if items is None:
        return None
    if not body.rstrip().endswith(",") and not collection:
        if len(inner) + len(body) <= LINE_LENGTH:
            # black gives a one-parameter signature its trailing comma (parameters with
            # commas between them keep the line as it is)
            comma = "," if tail.startswith(") -> ") and len(items) == 1 else ""
            return [indent + head, inner + body + comma, indent + tail]
        if len(items) == 1 and not tail.startswith(") -> "):  # one argument, split in turn
            argument = _split_brackets(inner, body)
            return None if argument is None else [indent + head] + argument + [indent + tail]
    lines = [indent + head]
    for item in items:
        split = _fitted(inner, item + ",")
        if split is None:
            return None
        lines += split
    return lines + [indent + tail]


_TABLE_CALL = re.compile(r"\b\w+\[\w+\]\.\w+\($")
# A string literal (to its closing quote, or to the end of the text), or one character of
# ``_BRACKETS``/``_ITEMS`` outside string literals: scanned by the re module, not char by char
_STRING = r'"(?:[^"\\]|\\[\s\S]?)*"?' + r"|'(?:[^'\\]|\\[\s\S]?)*'?"
_BRACKETS = re.compile(_STRING + r"|[()\[\]{}]")
_ITEMS = re.compile(_STRING + r"|[()\[\]{},]")


def _code_marks(pattern: re.Pattern[str], text: str) -> Iterator[tuple[int, str]]:
    """Index and character of each character of ``pattern`` in ``text`` outside its string
    literals."""
    for match in pattern.finditer(text):
        c = match.group()
        if c[0] not in "\"'":
            yield match.start(), c


def _matching_open(text: str) -> int | None:
    """The index of the bracket that the last character of ``text`` closes."""
    opened: list[int] = []
    for i, c in _code_marks(_BRACKETS, text):
        if c in "([{":
            opened.append(i)
        elif opened:
            start = opened.pop()
            if i == len(text) - 1:
                return start
    return None


def _has_bracket_at_top(head: str) -> bool:
    """Brackets before the split one: black may split elsewhere, so black decides. Except a
    Struct looked up by a length (``table[n].pack(``): black tries the last brackets first and
    keeps that split when its head fits, as the caller has checked."""
    table = _TABLE_CALL.search(head)
    before = head[: table.start()] if table else head[:-1]
    return any(c in "([{" for _, c in _code_marks(_BRACKETS, before))


def _top_level_items(body: str) -> list[str] | None:
    """``body`` split at its top-level commas; None if it holds a backslash (an escape in a
    string, whose quotes black may rewrite)."""
    if "\\" in body:
        return None
    items, depth, start = [], 0, 0
    for i, c in _code_marks(_ITEMS, body):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            items.append(body[start:i].strip())
            start = i + 1
    last = body[start:].strip()
    if last:
        items.append(last)
    return items


def dict_entry_call(key: str, function: str, arguments: list[str], indent: int = 4) -> str:
    """``key: function(arguments),`` as an entry of an exploded dict, split as black splits it."""
    pad = " " * indent
    line = f"{key}: {function}({', '.join(arguments)}),"
    return "\n".join(_fitted(pad, line) or [pad + line])
