"""Python source text of small things: string literals, annotations, comments, docstrings."""

from __future__ import annotations

import re
import textwrap

from .. import model as M
from ..layout import LINE_LENGTH


def pystr(text: str) -> str:
    """A string literal as black writes it: double quotes, unless they would need escapes."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def literal(value: object) -> str:
    return pystr(value) if isinstance(value, str) else repr(value)


def annotation(expr: M.TypeExpr, module: M.Module, qualifier: str = "") -> str:
    """The annotation for a value of ``expr``; ``qualifier`` goes before the module's own types
    (``"_m."`` in a module written beside the one that defines them)."""
    if isinstance(expr, M.IntType):
        return "int"
    if isinstance(expr, M.FloatType):
        return "float"
    if isinstance(expr, M.BoolType):
        return "bool"
    if isinstance(expr, M.VoidType):
        return "None"
    if isinstance(expr, M.OpaqueType):
        return "bytes"
    if isinstance(expr, M.StringType):
        return "str"
    if isinstance(expr, M.ArrayType):
        return f"list[{annotation(expr.element, module, qualifier)}]"
    if isinstance(expr, M.OptionalType):
        return f"{annotation(expr.element, module, qualifier)} | None"
    return qualifier + module.type_named(expr.name).py_name


def oneline(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()


def commented(code: str, comment: str | None, indent: int = 0) -> str:
    """``code  # comment``; the comment goes on a line of its own before the code when the
    line would be longer than black's limit (black would wrap the code in parentheses)."""
    if not comment:
        return code
    line = f"{code}  # {oneline(comment)}"
    if indent + len(line) <= LINE_LENGTH:
        return line
    return f"# {oneline(comment)}\n{' ' * indent}{code}"


def docstring(text: str, indent: int = 4) -> str:
    """A comment as the body of a docstring indented ``indent`` spaces (a class's: 4), in the
    shape black gives docstrings: first line stripped, the others dedented to the body, quotes
    kept off the ends."""
    text = str(text).replace("\\", "\\\\").replace('"""', '\\"\\"\\"').expandtabs()
    first, *rest = text.split("\n")
    rest = textwrap.dedent("\n".join(line.rstrip() for line in rest)).split("\n") if rest else []
    body = "\n".join([first.strip()] + [(" " * indent + line) if line.strip() else "" for line in rest]).strip()
    if body.startswith('"'):
        body = " " + body
    if body.endswith('"'):
        body += " "
    return body
