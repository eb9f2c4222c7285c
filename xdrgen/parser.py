"""Text -> syntax tree: the Lark LALR parser, the tree builder and comment attachment."""

from __future__ import annotations

import bisect
import dataclasses
import os
import re
import stat
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Sequence, TypeVar

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr
from lark.tree import Meta

from . import xdr_ast as A
from .preprocess import DEFAULT_TARGET, IncludeRequest, MacroTable, preprocess
from .diagnostics import SourceCache, XdrgenError

# ---- the Lark parser -------------------------------------------------------------------


@dataclass
class _Collected:
    comments: list[Token]
    passthroughs: list[Token]


# Lark fixes lexer callbacks when it builds the parser, and building it costs far more than a
# parse, so one parser serves every file and its callbacks fill the collector of the parse
# in progress (under a lock: parsing is not reentrant).
_current = _Collected([], [])
_parse_lock = threading.Lock()


@lru_cache(maxsize=1)
def _grammar() -> str:
    return resources.files("xdrgen").joinpath("xdr.lark").read_text(encoding="utf-8")


def _comment(token: Token) -> Token:
    _current.comments.append(token)
    return token


def _passthrough(token: Token) -> Token:
    _current.passthroughs.append(token)
    return token


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(
        _grammar(),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=False,
        cache=True,  # the LALR tables, kept in the temp folder between runs (keyed by grammar)
        lexer_callbacks={
            "BLOCK_COMMENT": _comment,
            "LINE_COMMENT": _comment,
            "PASSTHROUGH": _passthrough,
        },
    )


# Lark names anonymous terminals after their text (SEMICOLON, LBRACE, ...); show users the text.
_TERMINAL_NAMES = {
    "IDENT": "identifier",
    "NUMBER": "number",
    "$END": "end of file",
}


def _describe_terminal(parser: Lark, name: str) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    try:
        pattern = parser.get_terminal(name).pattern
    except KeyError:
        return name
    if isinstance(pattern, PatternStr):
        return f"'{pattern.value}'"
    return name.lower()


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type == "IDENT":
        return f"identifier '{token.value}'"
    if token.type == "NUMBER":
        return f"number {token.value}"
    return f"'{token.value}'"


def _syntax_error(parser: Lark, error: UnexpectedInput, file: str, text: str) -> XdrgenError:
    if isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        char = text[position] if position < len(text) else ""
        if char == "#":
            message = "'#' is only allowed at the start of a preprocessor line"
        elif text.startswith("/*", position) and "*/" not in text[position + 2 :]:
            message = "unterminated comment: '/*' has no closing '*/'"
        else:
            message = f"unexpected character {char!r}"
        return XdrgenError.at(A.Location(file, error.line, error.column), message)
    assert isinstance(error, (UnexpectedToken, UnexpectedEOF))
    token: Token = error.token
    if token.type == "$END" or isinstance(error, UnexpectedEOF):
        lines = text.rstrip().split("\n")
        location = A.Location(file, len(lines), len(lines[-1]) + 1)
        seen = "end of file"
    else:
        location = A.Location(file, token.line or 1, token.column or 1)
        seen = _describe_token(token)
    expected = sorted(getattr(error, "accepts", None) or error.expected)
    if (
        "IDENT" in expected
        and token.type != "IDENT"
        and re.fullmatch(r"[A-Za-z_]\w*", str(token.value))
    ):
        return XdrgenError.at(location, f"'{token.value}' is a reserved word and cannot be used as a name")
    names = sorted({_describe_terminal(parser, name) for name in expected})
    if len(names) == 1:
        message = f"expected {names[0]}, found {seen}"
    elif len(names) <= 8:
        message = f"expected one of {', '.join(names)}; found {seen}"
    else:
        message = f"unexpected {seen}"
    return XdrgenError.at(location, message)


# ---- comments and annotations -----------------------------------------------------------

_ANNOTATION_LINE = re.compile(r"^@([A-Za-z_][\w-]*)\s*:?\s*(.*?)\s*$")
_GENDISPATCH = re.compile(r"^((?:autogen|skipgen)\s+(?:autogen|skipgen))\b")


def comment_text(raw: str) -> str:
    """A comment without its delimiters and the leading ``*`` of each line."""
    if raw.startswith("//"):
        return raw[2:].strip()
    body = raw[2:-2]
    lines = [re.sub(r"^\s*\*+ ?", "", line).rstrip() for line in body.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines).strip()


def annotations_in(text: str) -> tuple[A.Annotation, ...]:
    found = []
    gendispatch = _GENDISPATCH.match(text.strip())
    if gendispatch:
        found.append(A.Annotation("gendispatch", re.sub(r"\s+", " ", gendispatch.group(1))))
    for line in text.split("\n"):
        m = _ANNOTATION_LINE.match(line.strip())
        if m:
            found.append(A.Annotation(m.group(1), m.group(2)))
    return tuple(found)


@dataclass(frozen=True)
class _Span:
    start: tuple[int, int]
    end: tuple[int, int]


def _span(meta: Meta) -> _Span:
    return _Span((meta.line, meta.column), (meta.end_line, meta.end_column))


def _token_span(token: Token) -> _Span:
    return _Span((token.line or 0, token.column or 0), (token.end_line or 0, token.end_column or 0))


N = TypeVar("N")


class _CommentIndex:
    """Gives each item of a list (fields, enum members, procedures, definitions) the comment
    that documents it: one that ends on the line just above it, or one that starts on the
    line where it ends (``VALUE = 1, /* skipgen skipgen */``)."""

    def __init__(self, comments: Sequence[Token]):
        self.comments = sorted(((_token_span(c), str(c.value)) for c in comments), key=lambda c: c[0].start)
        self.starts = [span.start for span, _ in self.comments]

    def attach(self, items: Sequence[tuple[N, _Span]], container: _Span) -> list[N]:
        starts = [s.start for _, s in items]
        leading: dict[int, str] = {}
        trailing: dict[int, list[str]] = {}
        first = bisect.bisect_left(self.starts, container.start)
        last = bisect.bisect_right(self.starts, container.end)
        for span, raw in self.comments[first:last]:
            if span.end > container.end:
                continue
            k = bisect.bisect_right(starts, span.start) - 1  # last item starting before it
            if k >= 0 and span.end <= items[k][1].end:
                continue  # inside that item: its own list attaches it
            if k >= 0 and items[k][1].end[0] == span.start[0]:
                trailing.setdefault(k, []).append(raw)
            elif k + 1 < len(items) and items[k + 1][1].start[0] - span.end[0] <= 1:
                leading[k + 1] = raw  # the nearest comment wins
        result = []
        for i, (node, _) in enumerate(items):
            texts = [comment_text(c) for c in ([leading[i]] if i in leading else []) + trailing.get(i, [])]
            if texts and hasattr(node, "comment"):
                doc = "\n".join(t for t in texts if t)
                annotations = tuple(a for t in texts for a in annotations_in(t))
                node = dataclasses.replace(node, comment=doc or None, annotations=annotations)  # type: ignore[type-var]
            result.append(node)
        return result


# ---- tree -> AST ------------------------------------------------------------------------


class _Builder:
    """The AST of a parse tree: a method per rule, given the rule's meta (its position) and its
    children, the trees among them already built."""

    def __init__(self, file: str, comments: _CommentIndex):
        self.file = file
        self.comments = comments

    def build(self, tree: Tree[Token]) -> Any:
        """Bottom-up, without recursion (``iter_subtrees`` yields children before parents)."""
        built: dict[int, Any] = {}
        for node in tree.iter_subtrees():
            children = [built[id(child)] if isinstance(child, Tree) else child for child in node.children]
            built[id(node)] = getattr(self, node.data)(node.meta, children)
        return built[id(tree)]

    def loc(self, meta: Meta) -> A.Location:
        return A.Location(self.file, meta.line, meta.column)

    def tloc(self, token: Token) -> A.Location:
        return A.Location(self.file, token.line or 0, token.column or 0)

    # values
    def number(self, meta: Meta, children: list[Token]) -> A.Literal:
        text = str(children[0])
        digits = text.lstrip("-")
        if len(digits) > 24:  # no XDR value needs more than 64 bits; int() of 5,000 digits fails
            raise XdrgenError.at(self.tloc(children[0]), f"integer constant {digits[:20]}... is too large")
        if len(digits) > 1 and digits[0] == "0" and digits[1] not in "xX":
            value = int(digits, 8)
        else:
            value = int(digits, 0)
        return A.Literal(-value if text.startswith("-") else value, text, self.tloc(children[0]))

    def name(self, meta: Meta, children: list[Token]) -> A.NameRef:
        return A.NameRef(str(children[0]), self.tloc(children[0]))

    # type specifiers
    def builtin_type(self, meta: Meta, children: list[Any]) -> A.BuiltinType:
        words = [str(c) for c in children]
        return A.BuiltinType(" ".join(words), self.loc(meta))

    def int_kind(self, meta: Meta, children: list[Token]) -> str:
        return str(children[0])

    def type_ref(self, meta: Meta, children: list[Token]) -> A.TypeRef:
        return A.TypeRef(str(children[0]), self.loc(meta))

    def struct_ref(self, meta: Meta, children: list[Token]) -> A.TypeRef:
        return A.TypeRef(str(children[0]), self.loc(meta), "struct")

    def enum_ref(self, meta: Meta, children: list[Token]) -> A.TypeRef:
        return A.TypeRef(str(children[0]), self.loc(meta), "enum")

    def union_ref(self, meta: Meta, children: list[Token]) -> A.TypeRef:
        return A.TypeRef(str(children[0]), self.loc(meta), "union")

    def inline_enum(self, meta: Meta, children: list[Any]) -> A.InlineEnum:
        return A.InlineEnum(children[0], self.loc(meta))

    def inline_struct(self, meta: Meta, children: list[Any]) -> A.InlineStruct:
        return A.InlineStruct(children[0], self.loc(meta))

    def inline_union(self, meta: Meta, children: list[Any]) -> A.InlineUnion:
        return A.InlineUnion(children[0], self.loc(meta))

    def void_type(self, meta: Meta, children: list[Any]) -> A.VoidType:
        return A.VoidType(self.loc(meta))

    def string_type(self, meta: Meta, children: list[Any]) -> A.StringType:
        return A.StringType(self.loc(meta))

    def opaque_type(self, meta: Meta, children: list[Any]) -> A.OpaqueType:
        return A.OpaqueType(self.loc(meta))

    # declarations: each carries its meta span so lists can attach comments
    def _decl(self, meta: Meta, name: Token | None, type_: A.TypeSpec, shape: A.Shape) -> tuple[A.Declaration, _Span]:
        decl = A.Declaration(str(name) if name is not None else None, type_, shape, self.loc(meta))
        return decl, _span(meta)

    def plain_decl(self, meta: Meta, c: list[Any]) -> tuple[A.Declaration, _Span]:
        return self._decl(meta, c[1], c[0], A.Scalar())

    def fixed_array_decl(self, meta: Meta, c: list[Any]) -> tuple[A.Declaration, _Span]:
        return self._decl(meta, c[1], c[0], A.FixedArray(c[2]))

    def var_array_decl(self, meta: Meta, c: list[Any]) -> tuple[A.Declaration, _Span]:
        return self._decl(meta, c[1], c[0], A.VarArray(c[2] if len(c) > 2 else None))

    def optional_decl(self, meta: Meta, c: list[Any]) -> tuple[A.Declaration, _Span]:
        return self._decl(meta, c[1], c[0], A.Optional())

    def opaque_fixed_decl(self, meta: Meta, c: list[Any]) -> tuple[A.Declaration, _Span]:
        return self._decl(meta, c[0], A.OpaqueType(self.loc(meta)), A.FixedArray(c[1]))

    def opaque_var_decl(self, meta: Meta, c: list[Any]) -> tuple[A.Declaration, _Span]:
        return self._decl(meta, c[0], A.OpaqueType(self.loc(meta)), A.VarArray(c[1] if len(c) > 1 else None))

    def string_decl(self, meta: Meta, c: list[Any]) -> tuple[A.Declaration, _Span]:
        return self._decl(meta, c[0], A.StringType(self.loc(meta)), A.VarArray(c[1] if len(c) > 1 else None))

    def void_decl(self, meta: Meta, c: list[Any]) -> tuple[A.Declaration, _Span]:
        return self._decl(meta, None, A.VoidType(self.loc(meta)), A.Scalar())

    # bodies
    def enum_member(self, meta: Meta, c: list[Any]) -> tuple[A.EnumMember, _Span]:
        value = c[1] if len(c) > 1 else None
        return A.EnumMember(str(c[0]), value, self.tloc(c[0])), _span(meta)

    def enum_body(self, meta: Meta, c: list[Any]) -> A.EnumBody:
        return A.EnumBody(tuple(self.comments.attach(c, _span(meta))))

    def struct_body(self, meta: Meta, c: list[Any]) -> A.StructBody:
        return A.StructBody(tuple(self.comments.attach(c, _span(meta))))

    def case_label(self, meta: Meta, c: list[Any]) -> A.Value:
        value: A.Value = c[0]
        return value

    def case_arm(self, meta: Meta, c: list[Any]) -> tuple[A.UnionArm, _Span]:
        (decl, decl_span) = c[-1]
        return A.UnionArm(tuple(c[:-1]), decl, self.loc(meta)), _span(meta)

    def default_arm(self, meta: Meta, c: list[Any]) -> tuple[A.UnionArm, _Span]:
        (decl, _) = c[0]
        return A.UnionArm((), decl, self.loc(meta)), _span(meta)

    def union_body(self, meta: Meta, c: list[Any]) -> A.UnionBody:
        (discriminant, _) = c[0]
        arms = c[1:]
        # comments document an arm's declaration
        decls = self.comments.attach([(arm.declaration, span) for arm, span in arms], _span(meta))
        return A.UnionBody(
            discriminant,
            tuple(dataclasses.replace(arm, declaration=d) for (arm, _), d in zip(arms, decls)),
        )

    # definitions
    def const_def(self, meta: Meta, c: list[Any]) -> tuple[A.ConstDef, _Span]:
        value = c[1]
        if isinstance(value, Token):  # STRING
            text = str(value)
            decoded = re.sub(r"\\(.)", r"\1", text[1:-1])
            value = A.StringLiteral(decoded, text, self.tloc(value))
        return A.ConstDef(str(c[0]), value, self.loc(meta)), _span(meta)

    def typedef_def(self, meta: Meta, c: list[Any]) -> tuple[A.TypedefDef, _Span]:
        (decl, _) = c[0]
        if decl.name is None:
            raise XdrgenError.at(self.loc(meta), "typedef of void has no name")
        return A.TypedefDef(decl, self.loc(meta)), _span(meta)

    def enum_def(self, meta: Meta, c: list[Any]) -> tuple[A.EnumDef, _Span]:
        return A.EnumDef(str(c[0]), c[1], self.loc(meta)), _span(meta)

    def struct_def(self, meta: Meta, c: list[Any]) -> tuple[A.StructDef, _Span]:
        return A.StructDef(str(c[0]), c[1], self.loc(meta)), _span(meta)

    def union_def(self, meta: Meta, c: list[Any]) -> tuple[A.UnionDef, _Span]:
        return A.UnionDef(str(c[0]), c[1], self.loc(meta)), _span(meta)

    def proc_args(self, meta: Meta, c: list[Any]) -> tuple[A.TypeSpec, ...]:
        return tuple(c)

    def procedure_def(self, meta: Meta, c: list[Any]) -> tuple[A.Procedure, _Span]:
        result, name, args, number = c
        return A.Procedure(str(name), result, args, number, self.tloc(name)), _span(meta)

    def version_def(self, meta: Meta, c: list[Any]) -> tuple[A.Version, _Span]:
        name, *procs, number = c
        procedures = self.comments.attach(procs, _span(meta))
        return A.Version(str(name), tuple(procedures), number, self.loc(meta)), _span(meta)

    def program_def(self, meta: Meta, c: list[Any]) -> tuple[A.ProgramDef, _Span]:
        name, *vers, number = c
        versions = self.comments.attach(vers, _span(meta))
        return A.ProgramDef(str(name), tuple(versions), number, self.loc(meta)), _span(meta)

    def pragma(self, meta: Meta, c: list[Token]) -> tuple[A.Pragma, _Span]:
        return A.Pragma(tuple(str(t) for t in c), self.loc(meta)), _span(meta)

    def namespace(self, meta: Meta, c: list[Any]) -> tuple[A.Namespace, _Span]:
        name, *items = c
        attached = self.comments.attach(items, _span(meta))
        return A.Namespace(str(name), tuple(attached), self.loc(meta)), _span(meta)

    def start(self, meta: Meta, c: list[Any]) -> list[Any]:
        return list(c)


_COMMENTED = (A.ConstDef, A.TypedefDef, A.EnumDef, A.StructDef, A.UnionDef, A.ProgramDef)


NESTING_LIMIT = 64  # inline struct/union/enum bodies inside one another; real files nest a few


def _check_nesting(tree: Tree[Token], file: str) -> None:
    """Refuse inline definitions nested beyond NESTING_LIMIT, at the one that goes too deep:
    the tree builder, the checker and the generator recurse per level (200 levels overflowed
    the Python stack). An explicit stack here: this walk itself has no depth limit."""
    pending: list[tuple[Tree[Token], int]] = [(tree, 0)]
    while pending:
        node, depth = pending.pop()
        if node.data in ("inline_struct", "inline_union", "inline_enum"):
            depth += 1
            if depth > NESTING_LIMIT:
                location = A.Location(file, node.meta.line, node.meta.column)
                raise XdrgenError.at(location, f"inline definitions nested more than {NESTING_LIMIT} deep")
        pending.extend((child, depth) for child in node.children if isinstance(child, Tree))


def parse_text(text: str, file: str, extra_items: Sequence[tuple[A.Item, A.Location]] = ()) -> A.Specification:
    """Parse preprocessed .x text. ``extra_items`` (includes, #define constants) are merged
    into the item list by position."""
    parser = _lark()
    with _parse_lock:
        _current.comments, _current.passthroughs = [], []
        try:
            tree = parser.parse(text)
        except UnexpectedInput as error:
            raise _syntax_error(parser, error, file, text) from None
        collected = _Collected(_current.comments, _current.passthroughs)
    comments, doc = _file_comment(collected.comments, text)
    index = _CommentIndex(comments)
    _check_nesting(tree, file)
    items_with_spans = _Builder(file, index).build(tree)
    whole = _Span((1, 1), (text.count("\n") + 2, 1))
    commentable = [(item, span) for item, span in items_with_spans]
    attached = index.attach(commentable, whole)
    positioned: list[tuple[tuple[int, int], A.Item]] = [
        ((span.start[0], span.start[1]), item) for item, (_, span) in zip(attached, items_with_spans)
    ]
    for token in collected.passthroughs:
        body = str(token.value)[1:]
        positioned.append(
            ((token.line or 0, token.column or 0), A.Passthrough(body, A.Location(file, token.line or 0, token.column or 0)))
        )
    for item, location in extra_items:
        positioned.append(((location.line, location.column), item))
    positioned.sort(key=lambda entry: entry[0])
    return A.Specification(
        file,
        tuple(item for _, item in positioned),
        tuple(A.Comment(c.value, A.Location(file, c.line or 0, c.column or 0)) for c in collected.comments),
        doc,
    )


_MODE_LINE = re.compile(r"^\s*-\*-.*-\*-\s*$", re.MULTILINE)  # an editor's mode line: "-*- c -*-"


def _file_comment(comments: Sequence[Token], text: str) -> tuple[list[Token], str | None]:
    """The comments less the one that opens the file (only blank text before it), and that
    one's text: it documents the file, so no definition takes it."""
    if not comments or text[: comments[0].start_pos or 0].strip():
        return list(comments), None
    doc = _MODE_LINE.sub("", comment_text(str(comments[0].value))).strip()
    return list(comments[1:]), doc or None


# ---- files, includes and the preprocessor -----------------------------------------------


@dataclass
class Loader:
    """Reads a .x file and the files it includes, preprocessing each."""

    include_dirs: Sequence[Path]
    macros: MacroTable
    sources: SourceCache
    roots: Sequence[Path] | None = None  # where included files may be (resolved); None: anywhere
    _stack: list[Path] = dataclasses.field(default_factory=list)
    # each file is read once, as with include guards; a later #include of it still names it,
    # since the includer's module imports from the included file's
    _loaded: dict[Path, A.Specification] = dataclasses.field(default_factory=dict)

    def load(self, path: Path, display: str | None = None, location: A.Location | None = None) -> A.Specification:
        name = display or str(path)
        raw = _read_source(path, name, location)
        # .x files are ASCII by the RFC; a few real ones carry Latin-1 in comments.
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # CR LF and lone CR end lines, as for cpp
        # a diagnostic quotes no line of an included file that is not text (a NUL: a binary
        # file, /proc/*/environ); the inputs themselves are quoted, escaped
        self.sources.add(name, text, quotable=location is None or b"\0" not in raw)
        resolved = path.resolve()
        self._stack.append(resolved)
        try:
            pre = preprocess(text, name, self.macros)
            extra: list[tuple[A.Item, A.Location]] = []
            for request in pre.includes:
                target = self._find(request, path)
                if target.resolve() in self._stack:
                    raise XdrgenError.at(request.location, f"#include of {request.path!r} includes itself")
                spec = self._loaded.get(target.resolve()) or self.load(target, _display(target), request.location)
                extra.append((A.Include(request.path, spec, request.location), request.location))
            for const_name, literal, location in pre.constants:
                extra.append((A.MacroConstant(const_name, literal, location), location))
            spec = parse_text(pre.text, name, extra)
            self._loaded[resolved] = spec
            return spec
        finally:
            self._stack.pop()

    def _find(self, request: IncludeRequest, including: Path) -> Path:
        candidates = [] if request.system else [including.parent / request.path]
        candidates += [Path(d) / request.path for d in self.include_dirs]
        for candidate in candidates:
            try:
                if candidate.exists() and not candidate.is_dir():  # a device or FIFO: refused unread by load
                    return self.inside_roots(candidate, f"#include of {request.path!r}", request.location)
            except OSError:  # a name longer than the file system allows (ENAMETOOLONG)
                continue
        searched = ", ".join(str(c.parent) for c in candidates) or "no directories"
        raise XdrgenError.at(request.location, f"cannot find include file {request.path!r} (searched {searched})")

    def inside_roots(self, path: Path, what: str, location: A.Location | None) -> Path:
        """``path``, if it lies (symbolic links followed) in the inputs' folders or the ``-I``
        folders, or ``roots`` is None (--include-anywhere); else an error that names the path
        and reads nothing of it: a .x file from elsewhere must not make xdrgen read, and echo
        into a build log, files such as ~/.netrc or /proc/self/environ."""
        if self.roots is None:
            return path
        resolved = path.resolve()
        if not any(resolved.is_relative_to(root) for root in self.roots):
            roots = ", ".join(str(r) for r in self.roots)
            raise XdrgenError.at(location, f"{what} reads {resolved}, outside the input's folder and the -I folders ({roots}); pass --include-anywhere to allow it")
        return path


MAX_SOURCE_BYTES = 64 * 1024 * 1024  # a .x file larger than this is not one (remote_protocol.x: 0.1 MB)


def _read_source(path: Path, name: str, location: A.Location | None) -> bytes:
    """The bytes of a regular file of at most MAX_SOURCE_BYTES: a device, FIFO or folder is an
    error before anything is read (reading /dev/zero or a FIFO would never end)."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
            status = os.fstat(file.fileno())
            if stat.S_ISDIR(status.st_mode):
                raise XdrgenError.at(location, f"{name} is a folder, not a .x file")
            if not stat.S_ISREG(status.st_mode):
                raise XdrgenError.at(location, f"{name} is not a regular file (a device, FIFO or socket); xdrgen reads only .x files")
            raw = file.read(MAX_SOURCE_BYTES + 1)
    except OSError as error:
        raise XdrgenError.at(location, f"cannot read {name}: {error.strerror or error}") from None
    if len(raw) > MAX_SOURCE_BYTES:
        raise XdrgenError.at(location, f"{name} is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB; it is not a .x file")
    return raw


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def parse_file(
    path: str | Path,
    *,
    include_dirs: Sequence[str | Path] = (),
    defines: dict[str, str] | None = None,
    target: str | None = None,
    sources: SourceCache | None = None,
    pre_includes: Sequence[str | Path] = (),
    include_roots: Sequence[str | Path] | None = (),
) -> A.Specification:
    """Preprocess and parse ``path`` (and its includes) into a Specification.

    ``-D`` integer values become ``MacroConstant`` items at the top of the result;
    ``pre_includes`` are read first, as if ``#include``d at the top (cpp's ``-include``).
    Files ``#include`` names must lie in the folder (tree) of ``path``, of a ``pre_includes``
    file (named by the user, as inputs are), of ``include_dirs`` or of ``include_roots``;
    ``include_roots=None`` lets them lie anywhere.
    """
    macros = MacroTable.initial(defines or {}, target or DEFAULT_TARGET)
    folders = [Path(path).parent, *(Path(p).parent for p in pre_includes), *include_dirs, *(include_roots or ())]
    roots = None if include_roots is None else [Path(d).resolve() for d in folders]
    loader = Loader([Path(d) for d in include_dirs], macros, sources if sources is not None else SourceCache(), roots)
    command_line = [
        A.MacroConstant(name, literal, location)
        for name, literal, location in macros.exported_constants()
    ]
    first: list[A.Item] = []
    for extra in pre_includes:
        location = A.Location("<command line>", 0, 0)
        first.append(A.Include(str(extra), loader.load(Path(extra), str(extra)), location))
    spec = loader.load(Path(path), str(path))
    return A.Specification(spec.file, tuple(command_line) + tuple(first) + spec.items, spec.comments, spec.doc)
