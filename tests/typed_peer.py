"""The Python side of the typed RPC tests: tests/xdr/typed.x generated into a package, a
server for each version written with the generated ``_Server`` classes, and an asyncio loop in
a thread to run servers under while blocking clients call them.

What the procedures do (the C server of tests/test_interop_rpc_c.py does the same):
ADD a+b (and counts the call), RESET zeroes the count, ECHO the string reversed, MOVE the point
moved by (dx, dy), GROW the shape scaled by n (a label repeated n times), LIST n nodes
``<prefix>0`` .. ``<prefix>n-1``, COUNT the nodes of a list, STAT the ADDs since RESET;
MISSING is not served (PROC_UNAVAIL). Version 2: MUL a*b.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path
from types import ModuleType
from typing import Any, Awaitable, Callable, Iterator, TypeVar

from xdrgen.compiler import compile_file

TYPED_X = Path(__file__).parent / "xdr" / "typed.x"
PROGRAM, V1, V2 = 0x2F5A1C01, 1, 2
T = TypeVar("T")


def load_typed(generated_package: Any) -> ModuleType:
    """The module generated from typed.x (its RPC sibling written beside it)."""
    return generated_package.load(compile_file(TYPED_X), "typed")


def servers(m: ModuleType) -> tuple[type, type]:
    """The version 1 and version 2 server classes of the test program."""

    class TypedV1(m.TYPED_V1_Server):  # type: ignore[misc,name-defined]
        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            self.adds = 0

        def typed_add(self, a: int, b: int) -> int:
            self.adds += 1
            return a + b

        async def typed_reset(self) -> None:  # an async handler
            self.adds = 0

        def typed_echo(self, text: str) -> str:
            return text[::-1]

        def typed_move(self, point: Any, dx: int, dy: int) -> Any:
            return m.typed_point(point.x + dx, point.y + dy)

        def typed_grow(self, shape: Any, n: int) -> Any:
            if shape.kind == m.TYPED_CIRCLE:
                return m.typed_shape(m.TYPED_CIRCLE, radius=shape.radius * n)
            if shape.kind == m.TYPED_SQUARE:
                return m.typed_shape(m.TYPED_SQUARE, corner=m.typed_point(shape.corner.x * n, shape.corner.y * n))
            return m.typed_shape(m.TYPED_LABEL, label=(shape.label * n)[:64])

        async def typed_list(self, prefix: str, n: int) -> Any:
            head = None
            for i in reversed(range(max(n, 1))):
                head = m.typed_names(f"{prefix}{i}", head)
            return head

        def typed_count(self, names: Any) -> int:
            count = 0
            while names is not None:
                count, names = count + 1, names.next
            return count

        def typed_stat_(self) -> Any:
            return m.typed_stat(self.adds)

    class TypedV2(m.TYPED_V2_Server):  # type: ignore[misc,name-defined]
        def typed_mul(self, a: int, b: int) -> int:
            return a * b

    return TypedV1, TypedV2


def call_every_procedure(client: Any, m: ModuleType) -> None:
    """Every procedure of version 1 through a blocking typed client, each result checked."""
    assert client.typed_null() is None
    assert client.typed_reset() is None
    assert client.typed_add(2, 40) == 42
    assert client.typed_add(-7, 3) == -4
    assert client.typed_echo("hello, world") == "dlrow ,olleh"
    assert client.typed_move(m.typed_point(1, 2), 10, -20) == m.typed_point(11, -18)
    assert client.typed_grow(m.typed_shape(m.TYPED_CIRCLE, radius=3), 4) == m.typed_shape(m.TYPED_CIRCLE, radius=12)
    assert client.typed_grow(m.typed_shape(m.TYPED_SQUARE, corner=m.typed_point(2, 5)), 3).corner == m.typed_point(6, 15)
    assert client.typed_grow(m.typed_shape(m.TYPED_LABEL, label="ab"), 3).label == "ababab"
    names = client.typed_list("n", 5)
    items = []
    while names is not None:
        items.append(names.item)
        names = names.next
    assert items == ["n0", "n1", "n2", "n3", "n4"]
    assert client.typed_count(m.typed_names("a", m.typed_names("b", m.typed_names("c", None)))) == 3
    assert client.typed_stat_() == m.typed_stat(2)  # the two ADDs since RESET
    assert client.call("TYPED_ADD", 1, 1) == 2  # the untyped way, by .x name


class LoopThread:
    """An asyncio loop in a daemon thread: ``run(coroutine)`` waits for its result here."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Awaitable[T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@contextlib.contextmanager
def serving(make: Callable[[], Any], **start: Any) -> Iterator[Any]:
    """A server (a generated ``_Server`` subclass instance or an OncServer) started on
    loopback in a loop thread, stopped on exit."""
    loop = LoopThread()
    try:
        server = make()
        loop.run(server.start("127.0.0.1", 0, **start))
        try:
            yield server
        finally:
            loop.run(server.stop())
    finally:
        loop.close()
