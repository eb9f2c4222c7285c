"""The typed classes of libvirt-framing protocols: the convention (presets, detection, explicit
table), the generated client, server and connection classes over real UNIX sockets, their
names, lazy import, and mypy --strict on what they give a user."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import GeneratedPackage, module_available, requires, requires_corpus
from corpus_options import CORPUS, options_for

from xdrgen import conventions as C
from xdrgen.compiler import Options, compile_file
from xdrgen.diagnostics import XdrgenError
from xdrgen.options import OptionError, read_config
from xdrgen.project import load_config, render
from xdrgen.python import libvirt as L
from xdrgen.python.render import companions, generate

ROOT = Path(__file__).resolve().parents[1]

# A protocol of our own in libvirt's style: calls with a struct of several fields, with no
# argument or result, a string, an explicit two-argument procedure, events with and without a
# payload, and procedures whose names clash with the runtime or with Python.
DEMO = """
const DEMO_PROGRAM = 0x20000099;
const DEMO_PROTOCOL_VERSION = 3;
typedef string demo_name<64>;
struct demo_add_args { int a; int b; int connection; };
struct demo_add_ret { hyper sum; };
struct demo_greet_args { demo_name name; };
struct demo_greet_ret { demo_name text; };
struct demo_point { int x; int y; };
struct demo_label { demo_name text; };
struct demo_place_ret { demo_name where; };
struct demo_divide_args { int n; int d; };
struct demo_divide_ret { int q; };
struct demo_find_args { demo_name name; };
struct demo_find_ret { demo_name found; };
struct demo_tick_msg { unsigned int count; demo_name note; };
struct demo_dump_args { demo_name name; unsigned hyper size; };
struct demo_dump_ret { unsigned hyper size; };
struct demo_load_args { demo_name name; };
enum demo_procedure {
    DEMO_PROC_ADD = 1,
    DEMO_PROC_RESET = 2,
    DEMO_PROC_GREET = 3,
    DEMO_PROC_PLACE = 4,
    DEMO_PROC_TICK = 5,
    DEMO_PROC_PING = 6,
    DEMO_PROC_DIVIDE = 7,
    DEMO_PROC_FIND = 8,
    DEMO_PROC_UNSERVED = 9,
    DEMO_PROC_CLOSE = 10,
    DEMO_PROC_ACCEPT = 11,
    DEMO_PROC_IMPORT = 12,
    /**
     * @readstream: 1
     */
    DEMO_PROC_DUMP = 13,
    /**
     * @writestream: 1
     */
    DEMO_PROC_LOAD = 14
};
"""
DEMO_CONVENTION = {
    "program": "DEMO_PROGRAM",
    "version": "DEMO_PROTOCOL_VERSION",
    "procedures": "demo_procedure",
    "table": {
        "DEMO_PROC_PLACE": {"arguments": ["demo_point", "demo_label"], "result": "demo_place_ret"},
        "PING": {"event": True},
    },
}


def load(package: GeneratedPackage, source: str, name: str, convention: C.Convention | None = None) -> ModuleType:
    """The module and its <module>_rpc.py, generated from ``source`` into ``package``."""
    path = package.dir / f"{name}.x"
    path.write_text(source)
    compiled = compile_file(path)
    (package.dir / f"{name}.py").write_text(generate(compiled.model, str(path), compiled.text, name, convention=convention))
    for companion, text in companions(compiled.model, str(path), compiled.text, name, convention=convention).items():
        (package.dir / f"{companion}.py").write_text(text)
    importlib.invalidate_caches()
    return importlib.import_module(f"{package.name}.{name}")


@pytest.fixture(scope="module")
def demo(generated_package: GeneratedPackage) -> ModuleType:
    return load(generated_package, DEMO, "typed_demo", C.read_convention(DEMO_CONVENTION))


@pytest.fixture(scope="module")
def rpc(demo: ModuleType) -> ModuleType:
    return importlib.import_module(demo.__name__.rsplit(".", 1)[0] + ".xdr_rpc")


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def corpus_module(name: str) -> Any:
    defines, pre = options_for(f"libvirt/{name}")
    return compile_file(CORPUS / "libvirt" / name, Options(defines=defines, pre_includes=pre))


# ---- the convention ------------------------------------------------------------------------


@requires_corpus
def test_remote_protocol_follows_the_remote_preset() -> None:
    model = corpus_module("remote_protocol.x").model
    assert C.detect(model) is C.PRESETS["remote"]
    protocol = C.describe(model, C.PRESETS["remote"])
    by_name = {p.name: p for p in protocol.procedures}
    assert (protocol.program, protocol.version, protocol.error) == (0x20008086, 1, "remote_error")
    assert by_name["connect_open"] == C.ProcedureBinding("REMOTE_PROC_CONNECT_OPEN", "connect_open", 1, False, ("remote_connect_open_args",), None)
    assert by_name["connect_get_version"].arguments == () and by_name["connect_get_version"].result == "remote_connect_get_version_ret"
    assert by_name["connect_close"] == C.ProcedureBinding("REMOTE_PROC_CONNECT_CLOSE", "connect_close", 2, False)
    lifecycle = by_name["domain_event_callback_lifecycle"]
    assert (lifecycle.event, lifecycle.number, lifecycle.message) == (True, 318, "remote_domain_event_callback_lifecycle_msg")
    # every procedure is one of the two, and every name it is given is a type of the file
    assert len(protocol.procedures) == len(model.type_named("remote_procedure").values)  # type: ignore[union-attr]
    names = {t.name for t in model.types}
    for p in protocol.procedures:
        assert set(p.arguments) | {p.result, p.message} - {None} <= names
        assert p.event == (p.message is not None)
    # every remote_*_msg type of the file is the message of one event; the other 337 are calls
    assert sorted(p.message or "" for p in protocol.events) == sorted(t.name for t in model.types if t.name.startswith("remote_") and t.name.endswith("_msg"))
    assert (len(protocol.calls), len(protocol.events)) == (337, 49)


def test_the_lxc_monitor_follows_its_preset_in_camel_case() -> None:
    model = compile_file(ROOT / "protocols" / "lxc_monitor_protocol.x").model
    assert C.detect(model) is C.PRESETS["lxc-monitor"]
    protocol = C.describe(model, C.PRESETS["lxc-monitor"])
    assert [(p.name, p.number, p.event, p.message) for p in protocol.procedures] == [
        ("exit_event", 1, True, "virLXCMonitorExitEventMsg"),
        ("init_event", 2, True, "virLXCMonitorInitEventMsg"),
    ]
    assert protocol.prefix == "VIR_LXC_MONITOR" and protocol.error is None


@requires_corpus
def test_other_libvirt_protocols_are_detected_by_the_pattern() -> None:
    """lxc_protocol.x pre-includes remote_protocol.x and follows its own program, the last."""
    lxc = C.detect(corpus_module("lxc_protocol.x").model)
    assert lxc is not None and (lxc.program, lxc.version, lxc.procedures, lxc.procedure_prefix) == ("LXC_PROGRAM", "LXC_PROTOCOL_VERSION", "lxc_procedure", "LXC_PROC_")
    assert C.describe(corpus_module("lxc_protocol.x").model, lxc).calls[0].arguments == ("lxc_domain_open_namespace_args",)
    keepalive = corpus_module("virkeepaliveprotocol.x").model
    found = C.detect(keepalive)
    assert found is not None and found.program == "KEEPALIVE_PROGRAM"
    assert [p.name for p in C.describe(keepalive, found).procedures] == ["ping", "pong"]


def test_a_file_without_the_parts_follows_no_convention(demo: ModuleType) -> None:
    model = compile_file(Path(demo.__file__).with_suffix(".x")).model
    assert C.detect(model) == C.Convention("DEMO_PROGRAM", "DEMO_PROTOCOL_VERSION", "demo_procedure", "DEMO_PROC_")
    model.constants = [c for c in model.constants if c.name != "DEMO_PROTOCOL_VERSION"]
    assert C.detect(model) is None and not C.follows_libvirt_convention(model)


def test_the_explicit_table_overrides_the_pattern(demo: ModuleType) -> None:
    model = compile_file(Path(demo.__file__).with_suffix(".x")).model
    protocol = C.describe(model, C.read_convention(DEMO_CONVENTION))
    by_name = {p.name: p for p in protocol.procedures}
    assert by_name["place"] == C.ProcedureBinding("DEMO_PROC_PLACE", "place", 4, False, ("demo_point", "demo_label"), "demo_place_ret")
    assert by_name["ping"] == C.ProcedureBinding("DEMO_PROC_PING", "ping", 6, True)
    assert by_name["tick"].event and by_name["reset"] == C.ProcedureBinding("DEMO_PROC_RESET", "reset", 2, False)


@pytest.mark.parametrize(
    "table, message",
    [
        ({"preset": "nope"}, "unknown preset 'nope'"),
        ({"program": "P"}, "'version' is needed"),
        ({"preset": "remote", "colour": 1}, "unknown key(s) colour"),
        ({"preset": "remote", "arguments": "{stem}_{nope}"}, "may use only"),
        ({"preset": "remote", "table": {"X": {"event": True, "arguments": ["a"]}}}, "an event has a message"),
        ({"preset": "remote", "table": {"X": {"result": 3}}}, "'table.X.result' must be a type name"),
    ],
)
def test_bad_convention_tables_are_refused(table: dict[str, Any], message: str) -> None:
    with pytest.raises(C.ConventionError) as error:
        C.read_convention(table)
    assert message in str(error.value)


def test_a_table_that_does_not_fit_the_file_is_an_error(demo: ModuleType) -> None:
    model = compile_file(Path(demo.__file__).with_suffix(".x")).model
    for table, message in [
        ({**DEMO_CONVENTION, "table": {"DEMO_PROC_NONE": {}}}, "names procedure NONE"),
        ({**DEMO_CONVENTION, "table": {"ADD": {"arguments": ["no_such_type"]}}}, "names type no_such_type"),
        ({**DEMO_CONVENTION, "program": "NOPE_PROGRAM"}, "needs the constant NOPE_PROGRAM"),
    ]:
        with pytest.raises(C.ConventionError, match=message):
            C.describe(model, C.read_convention(table))


def test_pyproject_names_a_convention_per_module(tmp_path: Path) -> None:
    (tmp_path / "demo.x").write_text(DEMO)
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.xdrgen]
            inputs = ["demo.x"]
            output = "out"
            [tool.xdrgen.libvirt.demo]
            program = "DEMO_PROGRAM"
            version = "DEMO_PROTOCOL_VERSION"
            procedures = "demo_procedure"
            [tool.xdrgen.libvirt.demo.table]
            DEMO_PROC_PING = { event = true }
            """
        )
    )
    from xdrgen.diagnostics import SourceCache

    outputs = render(load_config(tmp_path / "pyproject.toml"), SourceCache())
    companion = outputs[tmp_path / "out" / "demo_rpc.py"]
    assert "def on_ping(self, callback: Callable[[], Awaitable[None] | None]) -> None:" in companion
    assert (tmp_path / "out" / "xdr_rpc.py") in outputs
    with pytest.raises(OptionError, match="'libvirt': unknown preset"):
        read_config({"inputs": ["demo.x"], "libvirt": {"demo": {"preset": "x"}}}, tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.xdrgen]\ninputs = ["demo.x"]\n[tool.xdrgen.libvirt.demo]\npreset = "remote"\n')
    with pytest.raises(XdrgenError) as error:
        render(load_config(tmp_path / "pyproject.toml"), SourceCache())
    assert "[tool.xdrgen.libvirt.demo]: the libvirt convention needs the constant REMOTE_PROGRAM" in error.value.diagnostics[0].message


# ---- the generated classes -----------------------------------------------------------------


def test_names_of_the_generated_classes_and_methods(demo: ModuleType) -> None:
    client, server, connection = demo.DEMO_Client, demo.DEMO_Server, demo.DEMO_Connection
    for method in ("add", "reset", "greet", "place", "divide", "find", "unserved", "close_", "accept", "import_", "on_tick", "on_ping"):
        assert callable(getattr(client, method)), method
    for method in ("add", "reset", "greet", "place", "divide", "find", "unserved", "close", "accept_", "import_"):
        assert callable(getattr(server, method)), method
    assert callable(connection.send_tick) and callable(connection.send_ping)
    assert list(inspect.signature(client.add).parameters) == ["self", "a", "b", "connection_"]  # a field named like a parameter
    assert list(inspect.signature(server.add).parameters) == ["self", "connection", "a", "b", "connection_"]
    assert list(inspect.signature(client.place).parameters) == ["self", "arg1", "arg2"]


def test_renamed_methods_and_parameters_are_warned_about_at_their_procedure(tmp_path: Path) -> None:
    from xdrgen.diagnostics import Reporter

    (tmp_path / "typed_demo.x").write_text(DEMO)
    compiled = compile_file(tmp_path / "typed_demo.x")
    warnings = Reporter()
    companions(compiled.model, str(compiled.path), compiled.text, "typed_demo", convention=C.read_convention(DEMO_CONVENTION), warnings=warnings)
    lines = DEMO.splitlines()
    found = [(lines[w.location.line - 1].split("=")[0].strip() if w.location else None, w.category, w.message) for w in warnings.diagnostics]
    assert found == [
        ("DEMO_PROC_ADD", "shadow", "procedure DEMO_PROC_ADD: parameter 'connection' is taken in its class; it is called 'connection_'"),
        ("DEMO_PROC_CLOSE", "shadow", "procedure DEMO_PROC_CLOSE: client method 'close' is taken in its class; it is called 'close_'"),
        ("DEMO_PROC_ACCEPT", "shadow", "procedure DEMO_PROC_ACCEPT: server method 'accept' is taken in its class; it is called 'accept_'"),
        ("DEMO_PROC_IMPORT", "keyword", "procedure DEMO_PROC_IMPORT: 'import' is a Python keyword; its methods are called 'import_'"),
    ]


def test_reserved_names_cover_the_runtime_classes(demo: ModuleType, rpc: ModuleType, tmp_path: Path) -> None:
    """Every public attribute of the runtime classes is among the names a method may not take."""

    async def scenario() -> None:
        server = demo.DEMO_Server()
        await server.serve_unix(str(tmp_path / "names.sock"))
        client = await demo.DEMO_Client.connect_unix(str(tmp_path / "names.sock"))
        connection = await server.accept()
        public = {n for n in dir(server) if not n.startswith("_") and not n.isupper()}
        assert public - set(L.SERVER_ATTRIBUTES) - {c.method for c in demo.DEMO_Server.CALLS} == set()
        public = {n for n in dir(connection) if not n.startswith("_")}
        assert public - set(L.CONNECTION_ATTRIBUTES) - {"send_tick", "send_ping"} == set()
        runtime_client = {n for n in dir(rpc.TypedClient) if not n.startswith("_") and not n.isupper()} | set(vars(client))
        assert runtime_client - set(L.CLIENT_ATTRIBUTES) == set()
        await client.close()
        await server.stop()

    run(scenario())


def demo_server(demo: ModuleType, rpc: ModuleType) -> Any:
    class DemoServer(demo.DEMO_Server):  # type: ignore[name-defined,misc]
        resets = 0

        def add(self, connection: Any, a: int, b: int, connection_: int) -> Any:
            return demo.demo_add_ret(a + b + connection_)

        async def reset(self, connection: Any) -> None:
            type(self).resets += 1

        async def greet(self, connection: Any, name: str) -> Any:
            await connection.send_tick(demo.demo_tick_msg(1, f"greeted {name}"))
            await connection.send_ping()
            return demo.demo_greet_ret(f"hello, {name}")

        def place(self, connection: Any, point: Any, label: Any) -> Any:
            return demo.demo_place_ret(f"{label.text} at {point.x},{point.y}")

        def divide(self, connection: Any, n: int, d: int) -> Any:
            return demo.demo_divide_ret(n // d)  # d = 0: a bug, answered "internal error"

        def find(self, connection: Any, name: str) -> Any:
            raise rpc.RemoteError(rpc.MessageError(42, 10, "Domain not found", str1=name))  # VIR_ERR_NO_DOMAIN

        def close(self, connection: Any) -> None:
            return None

        def dump(self, connection: Any, name: str, size: int) -> Any:
            """``size`` bytes of PATTERN; "hole": data, a hole, data; "fail": an error half way."""

            async def chunks() -> Any:
                if name == "hole":
                    yield b"ab"
                    yield rpc.StreamHole(1000)
                    yield b"cd"
                    return
                sent = 0
                while sent < size:
                    if name == "fail" and sent >= size // 2:
                        raise rpc.RemoteError(rpc.MessageError(38, 10, "disk exploded", str1="disk"))  # VIR_ERR_SYSTEM_ERROR
                    block = pattern(sent, min(size - sent, 1 << 20))
                    sent += len(block)
                    yield block

            return demo.demo_dump_ret(size), chunks()

        async def load(self, connection: Any, name: str, data: Any) -> None:
            received = self.loaded[name] = []
            async for chunk in data:
                received.append(chunk)
                if name == "fail":
                    raise rpc.RemoteError(rpc.MessageError(38, 10, "no space left", str1="space"))
                if name == "slow":
                    await asyncio.sleep(0.05)

    DemoServer.loaded = {}
    return DemoServer


def pattern(offset: int, size: int) -> bytes:
    """Bytes that differ from one position to the next, so a chunk out of place shows."""
    return bytes((offset + i) * 7 % 251 for i in range(size))


def test_typed_calls_results_events_and_errors(demo: ModuleType, rpc: ModuleType, tmp_path: Path) -> None:
    path = str(tmp_path / "demo.sock")

    async def scenario() -> None:
        server = demo_server(demo, rpc)()
        await server.serve_unix(path)
        async with await demo.DEMO_Client.connect_unix(path) as client:
            ticks: asyncio.Queue[Any] = asyncio.Queue()
            pings: list[str] = []
            client.on_tick(ticks.put_nowait)
            client.on_ping(lambda: pings.append("ping"))
            assert await client.add(2, 3, 4) == demo.demo_add_ret(9)
            assert await client.reset() is None and type(server).resets == 1
            assert (await client.greet("world")).text == "hello, world"
            assert await asyncio.wait_for(ticks.get(), 5) == demo.demo_tick_msg(1, "greeted world")
            assert pings == ["ping"]  # sent before the reply, so dispatched before it
            assert (await client.place(demo.demo_point(1, 2), demo.demo_label("home"))).where == "home at 1,2"
            assert await client.close_() is None
            results = await asyncio.gather(*(client.add(n, n, 0) for n in range(40)))  # in flight together
            assert [r.sum for r in results] == [2 * n for n in range(40)]

            with pytest.raises(rpc.RemoteError) as raised:
                await client.find("nobody")
            assert (raised.value.error.code, raised.value.error.domain, raised.value.error.message, raised.value.error.str1) == (42, 10, "Domain not found", "nobody")
            with pytest.raises(rpc.RemoteError, match="internal error in procedure 7") as raised:
                await client.divide(1, 0)
            assert raised.value.error.code == 1  # VIR_ERR_INTERNAL_ERROR
            with pytest.raises(rpc.RemoteError, match="not supported by the server: unserved") as raised:
                await client.unserved()
            assert raised.value.error.code == 3  # VIR_ERR_NO_SUPPORT
            with pytest.raises(rpc.RemoteError, match="not supported by the server: import_"):
                await client.import_()
        await server.stop()

    run(scenario())


def test_two_argument_types_are_concatenated_on_the_wire(demo: ModuleType, rpc: ModuleType, tmp_path: Path) -> None:
    """The explicit table's two argument types: the payload is one encoding after the other, and
    bytes left over after both are refused as bad arguments."""
    path = str(tmp_path / "place.sock")
    point, label = demo.demo_point(5, 6), demo.demo_label("x")

    async def scenario() -> None:
        server = demo_server(demo, rpc)()
        await server.serve_unix(path)
        reader, writer = await asyncio.open_unix_connection(path)
        replies = []
        for serial, payload in enumerate([point.to_xdr() + label.to_xdr(), point.to_xdr() + label.to_xdr() + b"\0" * 4], 1):
            writer.write(rpc.frame(rpc.Header(0x20000099, 3, 4, rpc.MessageType.CALL, serial, rpc.Status.OK), payload))
            replies.append(await rpc.read_frame(reader))
        (ok_header, ok_body), (bad_header, bad_body) = replies
        assert ok_header.status == rpc.Status.OK and demo.decode("demo_place_ret", ok_body).where == "x at 5,6"
        assert bad_header.status == rpc.Status.ERROR
        assert "bad arguments for procedure 4" in (rpc.MessageError.decode(bad_body).message or "")
        writer.close()
        await server.stop()

    run(scenario())


@requires_corpus
def test_a_failed_typed_call_is_a_real_virnetmessageerror(demo: ModuleType, rpc: ModuleType, generated_package: GeneratedPackage, tmp_path: Path) -> None:
    """The error reply decodes with libvirt's own virNetMessageError (virnetprotocol.x), here
    as the client class's ERROR codec."""
    virnet = generated_package.load(corpus_module("virnetprotocol.x"), "typed_virnet")
    path = str(tmp_path / "virnet.sock")

    class LibvirtErrors(demo.DEMO_Client):  # type: ignore[name-defined,misc]
        ERROR = virnet.codec("virNetMessageError")

    async def scenario() -> None:
        server = demo_server(demo, rpc)()
        await server.serve_unix(path)
        client = await LibvirtErrors.connect_unix(path)
        with pytest.raises(rpc.RemoteError) as raised:
            await client.find("d1")
        error = raised.value.error
        assert isinstance(error, virnet.virNetMessageError)
        assert (error.code, error.domain, error.message, error.level, error.str1, error.dom) == (42, 10, "Domain not found", 2, "d1", None)
        await client.close()
        await server.stop()

    run(scenario())


def test_the_lxc_monitor_typed_classes_in_one_process(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from generated import lxc_monitor_protocol as lxc

    path = str(tmp_path / "lxc.sock")

    async def scenario() -> None:
        server = lxc.VIR_LXC_MONITOR_Server()
        await server.serve_unix(path)
        monitor = await lxc.VIR_LXC_MONITOR_Client.connect_unix(path)
        seen: asyncio.Queue[Any] = asyncio.Queue()

        async def on_exit(message: lxc.virLXCMonitorExitEventMsg) -> None:
            await seen.put(message)

        monitor.on_exit_event(on_exit)
        monitor.on_init_event(seen.put_nowait)
        connection = await server.accept()
        assert isinstance(connection, lxc.VIR_LXC_MONITOR_Connection)
        await connection.send_init_event(lxc.virLXCMonitorInitEventMsg(initpid=77))
        await connection.send_exit_event(lxc.virLXCMonitorExitEventMsg(lxc.VIR_LXC_MONITOR_EXIT_STATUS_REBOOT))
        await connection.close()
        assert await monitor.closed is None
        assert [await seen.get(), await seen.get()] == [
            lxc.virLXCMonitorInitEventMsg(77),
            lxc.virLXCMonitorExitEventMsg(lxc.VIR_LXC_MONITOR_EXIT_STATUS_REBOOT),
        ]
        await monitor.close()
        await server.stop()

    run(scenario())


def test_importing_a_module_does_not_import_asyncio_or_socket() -> None:
    code = (
        "import sys; from generated import lxc_monitor_protocol as m\n"
        "assert not {'asyncio', 'socket'} & set(sys.modules), 'imported too early'\n"
        "m.VIR_LXC_MONITOR_Client\n"
        "assert {'asyncio', 'socket'} <= set(sys.modules)\n"
        "try:\n    m.NoSuchName\nexcept AttributeError as e:\n    print(e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "module 'generated.lxc_monitor_protocol' has no attribute 'NoSuchName'"
    # the output folder on sys.path rather than a package
    code = "import lxc_monitor_protocol as m, sys; print(m.VIR_LXC_MONITOR_Server.__module__)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "generated", capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "lxc_monitor_protocol_rpc", result.stderr


USER_CODE = '''
"""What a user writes against the generated classes: mypy --strict must accept it, with the
overrides plain or async, and must refuse the wrongly typed lines below the marker."""
from __future__ import annotations

from . import typed_demo as demo


class Server(demo.DEMO_Server):
    def add(self, connection: demo.DEMO_Connection, a: int, b: int, connection_: int) -> demo.demo_add_ret:
        return demo.demo_add_ret(a + b)

    async def greet(self, connection: demo.DEMO_Connection, name: str) -> demo.demo_greet_ret:
        await connection.send_tick(demo.demo_tick_msg(1, name))
        await connection.send_ping()
        return demo.demo_greet_ret(name)


async def use(client: demo.DEMO_Client) -> int:
    total: int = (await client.add(1, 2, 3)).sum
    text: str = (await client.place(demo.demo_point(1, 2), demo.demo_label("a"))).where
    client.on_tick(lambda message: print(message.count))
    client.on_ping(lambda: None)
    return total + len(text)
'''
WRONG_CODE = '''

async def wrong(client: demo.DEMO_Client) -> None:
    await client.add("1", 2, 3)
    name: int = (await client.greet("x")).text
    client.on_ping(lambda message: None)
'''


@requires_corpus
def test_mypy_strict_on_the_generated_modules_and_their_use(tmp_path: Path) -> None:
    """remote_protocol.x (386 procedures), the LXC monitor, and the demo: the modules, their
    <module>_rpc.py and a user's code are clean; mistyped calls are errors."""
    package = tmp_path / "typedpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    from xdrgen.generator import runtime_source

    for runtime in ("xdr_runtime", "xdr_rpc", "rpcsec_gss"):
        (package / f"{runtime}.py").write_text(runtime_source(runtime))
    sources = [
        (corpus_module("remote_protocol.x"), "remote_protocol", None),
        (compile_file(ROOT / "protocols" / "lxc_monitor_protocol.x"), "lxc_monitor_protocol", None),
    ]
    (tmp_path / "typed_demo.x").write_text(DEMO)
    sources.append((compile_file(tmp_path / "typed_demo.x"), "typed_demo", C.read_convention(DEMO_CONVENTION)))
    for compiled, name, convention in sources:
        (package / f"{name}.py").write_text(generate(compiled.model, str(compiled.path), compiled.text, name, convention=convention))
        for companion, text in companions(compiled.model, str(compiled.path), compiled.text, name, convention=convention).items():
            (package / f"{companion}.py").write_text(text)
    remote_classes = (package / "remote_protocol_rpc.py").read_text()
    assert remote_classes.count("self._call(") == 330 and remote_classes.count("self._on_event(") == 49  # calls, events
    # the 7 procedures with a stream (@readstream: 4, @writestream: 3)
    assert remote_classes.count("self._call_reading(") == 4 and remote_classes.count("self._call_writing(") == 3
    assert remote_classes.count("self._unsupported(") == 337 and remote_classes.count("await self.send_event(") == 49
    (package / "user.py").write_text(USER_CODE)
    mypy = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), "typedpkg"]
    result = subprocess.run(mypy, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout
    (package / "user.py").write_text(USER_CODE + WRONG_CODE)
    result = subprocess.run(mypy, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    flagged = {int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line and line.startswith("typedpkg/user.py:")}
    wrong_lines = {n for n, line in enumerate((USER_CODE + WRONG_CODE).splitlines(), 1) if n > len(USER_CODE.splitlines()) + 3 and line.strip()}
    assert result.returncode == 1 and flagged == wrong_lines, result.stdout
    assert 'Argument 1 to "add" of "DEMO_Client" has incompatible type "str"; expected "int"' in result.stdout


# black runs in a child process of its own: CPython 3.11 before 3.11.5 (Debian 12 has 3.11.2)
# keeps the AST constructor's recursion depth in one place for every thread, so black's ast.parse
# in this process, beside the loop threads other tests leave, can fail with "AST constructor
# recursion depth mismatch" (python/cpython#106905)
BLACK_CHILD = """
import sys
from pathlib import Path
from xdrgen.layout import black_format
for path in sys.argv[1:]:
    text = Path(path).read_text()
    if black_format(text) != text:
        print(path)
"""


@requires_corpus
@requires(module_available("black"), "needs black (pip install -e '.[test]')")
def test_black_leaves_the_generated_classes_unchanged(tmp_path: Path) -> None:
    (tmp_path / "typed_demo.x").write_text(DEMO)
    written: dict[str, Path] = {}
    for compiled, convention in [
        (corpus_module("remote_protocol.x"), None),
        (corpus_module("virkeepaliveprotocol.x"), None),
        (compile_file(ROOT / "protocols" / "lxc_monitor_protocol.x"), None),
        (compile_file(tmp_path / "typed_demo.x"), C.read_convention(DEMO_CONVENTION)),
    ]:
        texts = list(companions(compiled.model, str(compiled.path), compiled.text, "m", convention=convention).values())
        if convention is not None:  # the modules of the corpus and the LXC monitor: tests/test_layout.py
            texts.append(generate(compiled.model, str(compiled.path), compiled.text, "m", convention=convention))
        for index, text in enumerate(texts):
            written[f"{compiled.path}#{index}"] = tmp_path / f"module{len(written)}.py"
            written[f"{compiled.path}#{index}"].write_text(text)
    child = subprocess.run([sys.executable, "-c", BLACK_CHILD, *map(str, written.values())], capture_output=True, text=True, cwd=ROOT)
    assert child.returncode == 0, child.stderr[-3000:]
    changed = set(child.stdout.split())
    assert [source for source, path in written.items() if str(path) in changed] == []


# ---- streams (libvirt's @readstream / @writestream) ---------------------------------------------


def test_streams_both_ways_with_holes(demo: ModuleType, rpc: ModuleType, tmp_path: Path) -> None:
    """DUMP (@readstream): (result, stream), read with async for; LOAD (@writestream): the data
    as bytes, a file, an iterable or an async iterable, returning once the server confirmed;
    holes pass both ways as StreamHole."""
    path = str(tmp_path / "streams.sock")
    size = 3 * 1024 * 1024 + 5  # several STREAM_CHUNK frames and a short one
    (tmp_path / "data.bin").write_bytes(pattern(0, size))

    async def scenario() -> None:
        server = demo_server(demo, rpc)()
        await server.serve_unix(path)
        async with await demo.DEMO_Client.connect_unix(path) as client:
            result, stream = await client.dump("x", size)
            assert result == demo.demo_dump_ret(size) and isinstance(stream, rpc.Stream)
            chunks = [chunk async for chunk in stream]
            assert b"".join(chunks) == pattern(0, size) and max(map(len, chunks)) <= rpc.STREAM_CHUNK
            _, stream = await client.dump("hole", 0)
            assert [chunk async for chunk in stream] == [b"ab", rpc.StreamHole(1000), b"cd"]

            async def async_chunks() -> Any:
                yield pattern(0, 10)
                yield pattern(10, size - 10)

            with open(tmp_path / "data.bin", "rb") as file:
                sources = {"bytes": pattern(0, size), "file": file, "list": [pattern(0, 100), pattern(100, size - 100)], "async": async_chunks()}
                for name, data in sources.items():
                    assert await client.load(name, data) is None
                    assert b"".join(server.loaded[name]) == pattern(0, size), name
            await client.load("sparse", [b"x", rpc.StreamHole(4096, 0), b"y"])
            assert server.loaded["sparse"] == [b"x", rpc.StreamHole(4096, 0), b"y"]
            assert client.client.streams == {} and all(not c._streams for c in server.connections)
        await server.stop()

    run(scenario())


def test_stream_errors_and_aborts_leave_the_connection_usable(demo: ModuleType, rpc: ModuleType, tmp_path: Path) -> None:
    path = str(tmp_path / "aborts.sock")

    async def scenario() -> None:
        server = demo_server(demo, rpc)()
        await server.serve_unix(path)
        async with await demo.DEMO_Client.connect_unix(path) as client:
            # the server fails its stream half way: the reader gets the error as sent
            _, stream = await client.dump("fail", 4 * 1024 * 1024)
            with pytest.raises(rpc.RemoteError, match="disk exploded") as raised:
                async for _ in stream:
                    pass
            assert (raised.value.error.code, raised.value.error.str1) == (38, "disk")
            assert (await client.add(1, 2, 3)).sum == 6
            # the handler of a write stream fails: the writer gets its error
            with pytest.raises(rpc.RemoteError, match="no space left"):
                await client.load("fail", pattern(0, 2 * 1024 * 1024))
            assert (await client.add(1, 2, 3)).sum == 6
            # the client aborts a read stream after one chunk
            _, stream = await client.dump("x", 64 * 1024 * 1024)
            assert len(await stream.__anext__()) > 0
            await stream.abort()
            # the client's data source fails: the stream is aborted, the handler told so
            def broken() -> Any:
                yield b"some"
                raise OSError("the source file went away")

            with pytest.raises(OSError, match="went away"):
                await client.load("broken", broken())
            assert (await client.add(2, 2, 2)).sum == 6 and client.client.streams == {}
            for _ in range(50):
                if all(not c._streams for c in server.connections):
                    break
                await asyncio.sleep(0.02)
            assert all(not c._streams for c in server.connections)
            assert "handler error" not in server.errors.counts  # an abort is not a bug
        await server.stop()

    run(scenario())


def test_a_slow_reader_does_not_grow_the_senders_memory(demo: ModuleType, rpc: ModuleType, tmp_path: Path) -> None:
    """64 MiB offered each way to a peer that reads slowly: what waits in memory is the
    stream's inbox (at most STREAM_BUFFER) and the socket buffers, not the whole stream."""
    path = str(tmp_path / "slow.sock")
    total = 64 * 1024 * 1024

    async def scenario() -> None:
        server = demo_server(demo, rpc)()
        await server.serve_unix(path)
        async with await demo.DEMO_Client.connect_unix(path) as client:
            _, stream = await client.dump("x", total)
            await stream.__anext__()
            await asyncio.sleep(0.5)  # the server would have sent it all by now
            (connection,) = server.connections
            assert stream.inbox.held <= rpc.STREAM_BUFFER + rpc.STREAM_CHUNK  # what crossed the limit
            assert connection.writer.transport.get_write_buffer_size() <= 2 * 1024 * 1024
            await stream.abort()

            async def endless() -> Any:
                while True:
                    yield bytes(rpc.STREAM_CHUNK)

            upload = asyncio.ensure_future(client.load("slow", endless()))
            await asyncio.sleep(0.5)
            (incoming,) = connection._streams.values()
            assert incoming.inbox.held <= rpc.STREAM_BUFFER + rpc.STREAM_CHUNK
            assert client.client.writer.transport.get_write_buffer_size() <= 2 * 1024 * 1024
            upload.cancel()
            with pytest.raises(asyncio.CancelledError):
                await upload
        await server.stop()

    run(scenario())


def test_hostile_stream_frames_cost_bounded_memory(demo: ModuleType, rpc: ModuleType, tmp_path: Path) -> None:
    """Stream data for a serial with no stream is dropped and counted; a read stream the
    client never finishes is given up after the idle timeout; a hole of negative length is
    a bad message."""
    path = str(tmp_path / "hostile.sock")

    async def scenario() -> None:
        server = demo_server(demo, rpc)(limits=rpc.ServerLimits(idle_timeout=0.5))
        await server.serve_unix(path)
        reader, writer = await asyncio.open_unix_connection(path)
        writer.write(rpc.stream_frame(0x20000099, 3, 13, 77, b"x" * 100000))
        writer.write(rpc.frame(rpc.Header(0x20000099, 3, 13, rpc.MessageType.CALL, 5, rpc.Status.OK), demo.demo_dump_args("hole", 0).to_xdr()))
        frames = [await rpc.read_frame(reader) for _ in range(5)]  # REPLY, 3 chunks, the end
        assert [(h.type, h.status, len(b)) for h, b in frames] == [
            (rpc.MessageType.REPLY, rpc.Status.OK, 8),
            (rpc.MessageType.STREAM, rpc.Status.CONTINUE, 2),
            (rpc.MessageType.STREAM_HOLE, rpc.Status.CONTINUE, 12),
            (rpc.MessageType.STREAM, rpc.Status.CONTINUE, 2),
            (rpc.MessageType.STREAM, rpc.Status.CONTINUE, 0),
        ]
        # never finished by us: given up, and nothing more comes for it
        for _ in range(100):
            if server.errors.counts.get("stream"):
                break
            await asyncio.sleep(0.05)
        assert server.errors.counts["stream"] == 1 and server.errors.counts["ignored frame"] == 1
        (connection,) = server.connections
        assert connection._streams == {}
        writer.close()
        await server.stop()

    run(scenario())


def test_an_abort_is_confirmed_with_stream_ok_as_libvirtd_does(demo: ModuleType, rpc: ModuleType, tmp_path: Path) -> None:
    """On the wire: a client aborting a write stream (an empty STREAM ERROR) gets an empty
    STREAM OK back (libvirtd's daemonStreamHandleAbort), and the connection goes on."""
    path = str(tmp_path / "abort.sock")

    async def scenario() -> None:
        server = demo_server(demo, rpc)()
        await server.serve_unix(path)
        reader, writer = await asyncio.open_unix_connection(path)
        writer.write(rpc.frame(rpc.Header(0x20000099, 3, 14, rpc.MessageType.CALL, 9, rpc.Status.OK), demo.demo_load_args("x").to_xdr()))
        reply, _ = await rpc.read_frame(reader)  # sent once the handler reads: go ahead
        assert (reply.type, reply.serial, reply.status) == (rpc.MessageType.REPLY, 9, rpc.Status.OK)
        writer.write(rpc.stream_frame(0x20000099, 3, 14, 9, b"half of it"))
        writer.write(rpc.stream_frame(0x20000099, 3, 14, 9, None, rpc.Status.ERROR))
        confirm, body = await rpc.read_frame(reader)
        assert (confirm.type, confirm.serial, confirm.status, body) == (rpc.MessageType.STREAM, 9, rpc.Status.OK, b"")
        assert "handler error" not in server.errors.counts  # the handler saw StreamAborted: not a bug
        writer.write(rpc.frame(rpc.Header(0x20000099, 3, 1, rpc.MessageType.CALL, 10, rpc.Status.OK), demo.demo_add_args(1, 1, 1).to_xdr()))
        answer, body = await rpc.read_frame(reader)
        assert (answer.serial, answer.status, demo.decode("demo_add_ret", body).sum) == (10, rpc.Status.OK, 3)
        writer.close()
        await server.stop()

    run(scenario())
