"""The generated typed RPC classes: ``<V>_Client``, ``<V>_AsyncClient`` and ``<V>_Server`` of
tests/xdr/typed.x talking to each other over TCP and UDP, what a server answers for
procedures it does not serve, composing versions on one set of ports, the caller's context,
the names of the methods, lazy import of the RPC sibling, mypy, and rpcinfo against a
registered server."""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import program, requires
from peers import rpcbind  # noqa: F401  (a fixture: the rpcbind on port 111, reused or started)
from typed_peer import PROGRAM, TYPED_X, V1, V2, call_every_procedure, load_typed, servers, serving

from xdrgen import naming
from xdrgen.compiler import compile_file

RPCINFO = program("rpcinfo")


@pytest.fixture(scope="module")
def typed(generated_package: Any) -> ModuleType:
    return load_typed(generated_package)


@pytest.fixture(scope="module")
def rpc(typed: ModuleType, generated_package: Any) -> ModuleType:
    """The xdr_rpc runtime written beside the generated modules (the one they use)."""
    __import__(f"{generated_package.name}.xdr_rpc")
    return sys.modules[f"{generated_package.name}.xdr_rpc"]


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_blocking_client_calls_every_procedure_of_the_typed_server(typed: ModuleType, rpc: ModuleType, udp: bool) -> None:
    v1, _ = servers(typed)
    with serving(v1) as server:
        assert set(server.ports) == {"tcp", "udp"}
        with typed.TYPED_V1_Client("127.0.0.1", server.ports["udp" if udp else "tcp"], udp=udp, timeout=10) as client:
            call_every_procedure(client, typed)
            with pytest.raises(rpc.AcceptError) as raised:
                client.typed_missing(1)
            assert raised.value.state == rpc.PROC_UNAVAIL


def test_async_client_has_many_calls_in_flight(typed: ModuleType) -> None:
    v1, _ = servers(typed)

    class Slow(v1):  # type: ignore[misc,valid-type]
        async def typed_echo(self, text: str) -> str:
            await asyncio.sleep(0.5)
            return text.upper()

    async def scenario() -> None:
        server = Slow()
        await server.start(udp=False)
        try:
            async with await typed.TYPED_V1_AsyncClient.connect("127.0.0.1", server.ports["tcp"], timeout=10) as client:
                started = time.monotonic()
                echoed = await asyncio.gather(*(client.typed_echo(f"call{i}") for i in range(20)))
                elapsed = time.monotonic() - started
                assert echoed == [f"CALL{i}" for i in range(20)]
                assert elapsed < 5.0, f"20 calls of 0.5 s each took {elapsed:.1f} s: not in flight together"
                assert await client.typed_add(20, 22) == 42
                assert await client.typed_move(typed.typed_point(0, 0), 1, 1) == typed.typed_point(1, 1)
                assert await client.typed_null() is None
        finally:
            await server.stop()
        assert server.ports == {}

    asyncio.run(scenario())


def test_not_overridden_procedures_answer_proc_unavail_and_null_succeeds(typed: ModuleType, rpc: ModuleType) -> None:
    with serving(typed.TYPED_V1_Server) as server:  # nothing overridden
        with typed.TYPED_V1_Client("127.0.0.1", server.ports["tcp"], timeout=10) as client:
            assert client.typed_null() is None  # procedure 0: an empty success, as rpcgen's dispatcher
            for call in (lambda: client.typed_add(1, 2), lambda: client.typed_echo("x"), client.typed_stat_):
                with pytest.raises(rpc.AcceptError) as raised:
                    call()
                assert raised.value.state == rpc.PROC_UNAVAIL
    # calling a default method directly says which procedure it stands for
    with pytest.raises(NotImplementedError, match="TYPED_ADD"):
        typed.TYPED_V1_Server().typed_add(1, 2)


def test_one_oncserver_composes_versions_on_the_same_ports(typed: ModuleType, rpc: ModuleType) -> None:
    v1, v2 = servers(typed)
    with serving(lambda: rpc.OncServer(v1(), v2())) as server:
        tcp, udp = server.ports["tcp"], server.ports["udp"]
        with typed.TYPED_V1_Client("127.0.0.1", tcp) as one, typed.TYPED_V2_Client("127.0.0.1", tcp) as two:
            assert one.typed_add(6, 7) == 13
            assert two.typed_mul(6, 7) == 42
        with typed.TYPED_V2_Client("127.0.0.1", udp, udp=True) as two:
            assert two.typed_mul(-3, 5) == -15
        # a version it does not hold: PROG_MISMATCH with the low and high versions it has
        with rpc.BlockingOncClient("127.0.0.1", tcp, PROGRAM, 7, timeout=10) as other:
            with pytest.raises(rpc.AcceptError) as raised:
                other.call(0)
        assert (raised.value.state, raised.value.low, raised.value.high) == (rpc.PROG_MISMATCH, V1, V2)
    with pytest.raises(ValueError, match="served twice"):
        rpc.OncServer(v1(), v1())


def test_handlers_see_the_callers_credentials_and_address(typed: ModuleType, rpc: ModuleType) -> None:
    seen: list[Any] = []

    class Context(typed.TYPED_V1_Server):  # type: ignore[misc,name-defined]
        def typed_add(self, a: int, b: int) -> int:
            seen.append(self.call)
            assert rpc.current_call.get() is self.call
            return a + b

    with serving(Context) as server:
        credentials = rpc.Credentials.sys(machine="tester", uid=1234, gid=5678, gids=(1, 2))
        with typed.TYPED_V1_Client("127.0.0.1", server.ports["udp"], udp=True, credentials=credentials) as client:
            assert client.typed_add(1, 2) == 3
        with typed.TYPED_V1_Client("127.0.0.1", server.ports["tcp"]) as client:
            assert client.typed_add(3, 4) == 7
    first, second = seen
    assert (first.transport, first.auth_sys.machine, first.auth_sys.uid, first.auth_sys.gid, tuple(first.auth_sys.gids)) == ("udp", "tester", 1234, 5678, (1, 2))
    assert first.address[0] == "127.0.0.1" and first.procedure == 1 and first.version == V1
    assert (second.transport, second.auth_sys, second.credentials.flavor) == ("tcp", None, rpc.AUTH_NONE)


def test_method_names_clashing_with_a_type_an_attribute_or_a_keyword_get_an_underscore(tmp_path: Path, generated_package: Any) -> None:
    source = tmp_path / "clash.x"
    source.write_text(
        "struct sm_stat { int state; };\n"
        "program CLASH_PROG { version CLASH_V1 {\n"
        "  sm_stat SM_STAT(void) = 1; void START(void) = 2; void CLOSE(void) = 3; int IMPORT(int) = 4;\n"
        "  int CALL(int) = 5; void PLAIN(void) = 6; void _XDR_CALL(void) = 7;\n"
        "} = 1; } = 0x2f5a1c02;\n"
    )
    compiled = compile_file(source)
    warned = [d.message for d in compiled.reporter.warnings]
    for procedure, method in [("SM_STAT", "sm_stat_"), ("START", "start_"), ("CLOSE", "close_"), ("IMPORT", "import_"), ("CALL", "call_"), ("_XDR_CALL", "xdr_xdr_call")]:
        assert any(f"procedure '{procedure}'" in w and f"'{method}'" in w for w in warned), (procedure, warned)
    assert not any("'PLAIN'" in w for w in warned)
    m = generated_package.load(compiled, "clash")
    for cls in (m.CLASH_V1_Client, m.CLASH_V1_AsyncClient, m.CLASH_V1_Server):
        for method in ("sm_stat_", "start_", "close_", "import_", "call_", "plain", "xdr_xdr_call"):
            assert callable(getattr(cls, method)), (cls, method)
    assert m.CLASH_V1_Server.start is not m.CLASH_V1_Server.start_  # the runtime's start stays
    assert naming.rpc_method_name("TYPED_ECHO", set()) == ("typed_echo", None)
    assert naming.rpc_method_name("FOO", set(), {"foo"})[0] == "foo_"  # FOO after foo in one version


def test_importing_the_module_leaves_asyncio_and_socket_unimported(typed: ModuleType, generated_package: Any) -> None:
    package = generated_package.name
    script = textwrap.dedent(
        f"""
        import sys
        import {package}.typed as typed
        assert "asyncio" not in sys.modules and "socket" not in sys.modules, "imported too early"
        assert "{package}.typed_rpc" not in sys.modules
        assert "TYPED_V1_Client" in typed.__all__
        client_class = typed.TYPED_V1_Client
        assert "asyncio" in sys.modules and "socket" in sys.modules
        assert client_class.__module__ == "{package}.typed_rpc"
        from {package}.typed import TYPED_V2_Server
        try:
            typed.NO_SUCH_NAME
        except AttributeError as error:
            assert "NO_SUCH_NAME" in str(error)
        else:
            raise AssertionError("no AttributeError")
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=generated_package.dir.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_rpc_sibling_is_laid_out_as_black_lays_it_out() -> None:
    from xdrgen.generator import companions
    from xdrgen.layout import black_format

    compiled = compile_file(TYPED_X)
    (code,) = companions(compiled.model, "typed.x", compiled.text, "typed").values()
    assert black_format(code) == code


def test_cli_writes_the_rpc_sibling_beside_the_module(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "xdrgen", str(TYPED_X), "-o", str(out), "-q"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.glob("*.py")) == ["__init__.py", "rpcsec_gss.py", "typed.py", "typed_rpc.py", "xdr_rpc.py", "xdr_runtime.py"]
    assert "class TYPED_V1_Server(_rpc.ProgramServer):" in (out / "typed_rpc.py").read_text()
    # a second input that would write the same sibling is refused, not overwritten
    (tmp_path / "typed_rpc.x").write_text("const X = 1;\n")
    clash = subprocess.run([sys.executable, "-m", "xdrgen", str(TYPED_X), str(tmp_path / "typed_rpc.x"), "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert clash.returncode != 0 and "typed_rpc.py is written for another input too" in clash.stderr


USER_CODE = '''
from __future__ import annotations

import asyncio

from out.typed import TYPED_V1_AsyncClient, TYPED_V1_Client, TYPED_V1_Server, typed_point
from out.xdr_rpc import OncServer


class Mine(TYPED_V1_Server):
    def typed_add(self, a: int, b: int, /) -> int:
        return a + b

    async def typed_move(self, p: typed_point, dx: int, dy: int, /) -> typed_point:
        return typed_point(p.x + dx, self.call.procedure)


def blocking(client: TYPED_V1_Client) -> int:
    moved: typed_point = client.typed_move(typed_point(1, 2), 3, 4)
    return client.typed_add(1, 2) + moved.x + len(client.typed_echo("x"))


async def asynchronous() -> str:
    async with await TYPED_V1_AsyncClient.connect("127.0.0.1") as client:
        await client.typed_reset()
        return await client.typed_echo("x")


def compose() -> OncServer:
    return OncServer(Mine())
'''

WRONG_CODE = '''
from __future__ import annotations

from out.typed import TYPED_V1_Client, TYPED_V1_Server


class Wrong(TYPED_V1_Server):
    def typed_add(self, a: int, b: int, /) -> str:  # wrong result type
        return "x"


def misuse(client: TYPED_V1_Client) -> str:
    return client.typed_add("1", 2)  # wrong argument and result types
'''


def test_generated_rpc_classes_are_mypy_strict_clean_and_typed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "xdrgen", str(TYPED_X), "-o", str(out), "-q"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    (tmp_path / "user.py").write_text(USER_CODE)
    (tmp_path / "wrong.py").write_text(WRONG_CODE)
    env = dict(os.environ, MYPY_CACHE_DIR=str(tmp_path / "cache"))
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "out", "user.py", "wrong.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
    )
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert all(line.startswith("wrong.py:") for line in errors), checked.stdout
    wrong_lines = {int(line.split(":")[1]) for line in errors}
    assert wrong_lines == {8, 13}, checked.stdout  # the override, and the call (mypy sees real types, not Any)


@requires(RPCINFO, "needs rpcinfo (apt-get install rpcbind)")
def test_rpcinfo_lists_pings_and_forgets_a_registered_server(typed: ModuleType, rpcbind: Any) -> None:
    def listed() -> set[tuple[int, str]]:
        table = subprocess.run([RPCINFO, "-p", "127.0.0.1"], capture_output=True, text=True, timeout=30).stdout
        return {(int(f[1]), f[2]) for f in (line.split() for line in table.splitlines()[1:]) if len(f) >= 4 and f[0] == str(PROGRAM)}

    v1, v2 = servers(typed)
    rpc = importlib.import_module(typed.__name__.rsplit(".", 1)[0] + ".xdr_rpc")
    with serving(lambda: rpc.OncServer(v1(), v2()), register=True) as server:
        assert listed() == {(V1, "tcp"), (V1, "udp"), (V2, "tcp"), (V2, "udp")}
        table = subprocess.run([RPCINFO, "-p", "127.0.0.1"], capture_output=True, text=True, timeout=30).stdout
        assert f"{PROGRAM}    1   tcp  {server.ports['tcp']:5d}" in table or str(server.ports["tcp"]) in table
        for flag in ("-t", "-u"):
            for version in (V1, V2):
                ping = subprocess.run([RPCINFO, flag, "127.0.0.1", str(PROGRAM), str(version)], capture_output=True, text=True, timeout=30)
                assert ping.returncode == 0 and "ready and waiting" in ping.stdout, (flag, version, ping.stdout, ping.stderr)
        # found through rpcbind: a client with no port asks GETPORT
        with typed.TYPED_V1_Client("127.0.0.1", udp=True) as client:
            assert client.typed_add(1, 1) == 2

        async def via_rpcbind() -> int:
            async with await typed.TYPED_V2_AsyncClient.connect("127.0.0.1") as client:
                return int(await client.typed_mul(3, 4))

        assert asyncio.run(via_rpcbind()) == 12
    assert listed() == set()
    gone = subprocess.run([RPCINFO, "-t", "127.0.0.1", str(PROGRAM), str(V1)], capture_output=True, text=True, timeout=30)
    assert gone.returncode != 0


def test_a_definition_named_like_an_rpc_class_is_an_error(tmp_path: Path) -> None:
    source = tmp_path / "taken.x"
    source.write_text("struct V1_Client { int x; };\nprogram P { version V1 { void N(void) = 0; } = 1; } = 0x2f5a1c03;\n")
    done = subprocess.run([sys.executable, "-m", "xdrgen", str(source), "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "taken.x:1:1: error: 'V1_Client' is the name of an RPC class of version 'V1'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_method_that_raises_or_returns_a_wrong_value_answers_system_err(typed: ModuleType, rpc: ModuleType) -> None:
    class Broken(typed.TYPED_V1_Server):  # type: ignore[misc,name-defined]
        def typed_add(self, a: int, b: int) -> int:
            raise ValueError("no adding today")

        def typed_echo(self, text: str) -> Any:
            return 42  # not a string: the result codec refuses it

        def typed_move(self, point: Any, dx: int, dy: int) -> Any:
            return typed.typed_point(point.x + dx, point.y + dy)

    with serving(Broken) as server, typed.TYPED_V1_Client("127.0.0.1", server.ports["tcp"]) as client:
        for call in (lambda: client.typed_add(1, 2), lambda: client.typed_echo("x")):
            with pytest.raises(rpc.AcceptError) as raised:
                call()
            assert raised.value.state == rpc.SYSTEM_ERR
        assert client.typed_move(typed.typed_point(0, 0), 2, 3) == typed.typed_point(2, 3)  # the connection serves on
