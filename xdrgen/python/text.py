"""Python source text of small things: string literals, annotations, comments, docstrings.

Text from the ``.x`` file (comments, passthrough lines, string constants, file names) reaches the
output only through one function per context: ``pystr`` (a string literal), ``comment_text`` (inside
a ``#`` comment) and ``docstring``/``docstring_text`` (inside triple quotes). A ``.x`` file is
untrusted input: whatever it holds, these leave nothing that Python reads as code, as the end of
the comment or string, or as a source-encoding declaration.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata

from .. import model as M
from ..diagnostics import INVISIBLE  # written as escapes: NUL (no source may hold one), CR (ends a comment), bidi overrides
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


# A comment on one of the first two lines that matches this declares the file's encoding (PEP 263)
_CODING = re.compile(r"(?<=coding)[:=]")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _escape_unsafe(text: str, keep: str = "") -> str:
    return "".join(_escape(c) if c not in keep and unicodedata.category(c) in INVISIBLE else c for c in text)


def comment_text(text: str) -> str:
    """``text`` made safe to follow ``#`` on one line: every line terminator and other control
    or invisible character becomes a visible escape (``\\r``, ``\\x00``), and ``coding:``
    loses its colon (so a file name cannot declare the module's encoding)."""
    return _CODING.sub(lambda m: _escape(m.group()), _escape_unsafe(str(text), keep="\t"))


def comment_lines(text: str) -> list[str]:
    """``text`` as the lines of a comment block, split wherever Python or ``str.splitlines``
    would end a line (LF, CR, CR LF and the rest), each made safe by ``comment_text``."""
    return [comment_text(line).rstrip() for line in str(text).splitlines()]


def oneline(text: str) -> str:
    """``text`` on one line of a comment: runs of white space (line ends among them) become one
    space."""
    return comment_text(re.sub(r"\s+", " ", str(text)).strip())


def commented(code: str, comment: str | None, indent: int = 0) -> str:
    """``code  # comment``; the comment goes on a line of its own before the code when the
    line would be longer than black's limit (black would wrap the code in parentheses)."""
    if not comment:
        return code
    line = f"{code}  # {oneline(comment)}"
    if indent + len(line) <= LINE_LENGTH:
        return line
    return f"# {oneline(comment)}\n{' ' * indent}{code}"


def docstring_text(text: str) -> str:
    """``text`` made safe inside a triple-quoted string, its line breaks kept as LF: backslashes
    and quote runs escaped, CR LF and lone CR read as LF, every other control or invisible
    character (NUL, the separators ``str.splitlines`` splits on) a visible escape."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return _escape_unsafe(text, keep="\n\t")


def docstring(text: str, indent: int = 4) -> str:
    """A comment as the body of a docstring indented ``indent`` spaces (a class's: 4), in the
    shape black gives docstrings: first line stripped, the others dedented to the body, quotes
    kept off the ends. The text is made safe by ``docstring_text``."""
    text = docstring_text(text).expandtabs()
    first, *rest = text.split("\n")
    rest = textwrap.dedent("\n".join(line.rstrip() for line in rest)).split("\n") if rest else []
    body = "\n".join([first.strip()] + [(" " * indent + line) if line.strip() else "" for line in rest]).strip()
    if body.startswith('"'):
        body = " " + body
    if body.endswith('"'):
        body += " "
    return body
