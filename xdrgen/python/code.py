"""Statements as data: emitters build them without indentation, templates place them.

A statement is a line of code (``str``) or a ``Block``: a header (``for x in y:``, or an ``If``
of conditions joined by ``or``) and the statements inside it. ``lines`` gives the text at an
indentation level, with black's split of an over-long ``if a or b:``; every other over-long
line is left to ``layout``, the owner of the line length.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Union

from ..layout import LINE_LENGTH


@dataclass
class If:
    """``if a or b:``; ``keyword`` may be ``elif``."""

    conditions: list[str]
    keyword: str = "if"


@dataclass
class Block:
    header: str | If
    body: list[Statement] = field(default_factory=list)


Statement = Union[str, Block]


def lines(statements: list[Statement], indent: int) -> Iterator[str]:
    """The text of ``statements``, indented ``indent`` levels of four spaces."""
    pad = "    " * indent
    for statement in statements:
        if isinstance(statement, str):
            yield pad + statement
            continue
        header = statement.header
        if isinstance(header, If):
            yield from _if_lines(header, pad)
        else:
            yield pad + header
        yield from lines(statement.body or ["pass"], indent + 1)


def _if_lines(header: If, pad: str) -> Iterator[str]:
    line = f"{header.keyword} {' or '.join(header.conditions)}:"
    if len(header.conditions) == 1 or len(pad) + len(line) <= LINE_LENGTH:
        yield pad + line
        return
    yield f"{pad}{header.keyword} ("
    for n, condition in enumerate(header.conditions):
        yield f"{pad}    {'or ' if n else ''}{condition}"
    yield f"{pad}):"


def text(statements: list[Statement], indent: int) -> str:
    return "\n".join(lines(statements, indent))


class Writer:
    """Collects statements; ``block`` opens a nested body that ``emit`` then writes into."""

    def __init__(self) -> None:
        self.statements: list[Statement] = []
        self._open = [self.statements]

    def emit(self, statement: Statement) -> None:
        self._open[-1].append(statement)

    @contextmanager
    def block(self, header: str | If) -> Iterator[Block]:
        opened = Block(header)
        self.emit(opened)
        self._open.append(opened.body)
        try:
            yield opened
        finally:
            self._open.pop()

    def take(self) -> list[Statement]:
        """The statements written so far, leaving the writer empty."""
        assert len(self._open) == 1, "a block is still open"
        taken, self.statements = self.statements, []
        self._open = [self.statements]
        return taken
