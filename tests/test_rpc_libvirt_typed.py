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
    DEMO_PROC_IMPORT = 12
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

    return DemoServer


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
    assert remote_classes.count("self._call(") == 337 and remote_classes.count("self._on_event(") == 49  # calls, events
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


@requires_corpus
@requires(module_available("black"), "needs black (pip install -e '.[test]')")
def test_black_leaves_the_generated_classes_unchanged(tmp_path: Path) -> None:
    from xdrgen.layout import black_format

    (tmp_path / "typed_demo.x").write_text(DEMO)
    for compiled, convention in [
        (corpus_module("remote_protocol.x"), None),
        (corpus_module("virkeepaliveprotocol.x"), None),
        (compile_file(ROOT / "protocols" / "lxc_monitor_protocol.x"), None),
        (compile_file(tmp_path / "typed_demo.x"), C.read_convention(DEMO_CONVENTION)),
    ]:
        texts = list(companions(compiled.model, str(compiled.path), compiled.text, "m", convention=convention).values())
        if convention is not None:  # the modules of the corpus and the LXC monitor: tests/test_layout.py
            texts.append(generate(compiled.model, str(compiled.path), compiled.text, "m", convention=convention))
        for text in texts:
            assert black_format(text) == text, compiled.path
