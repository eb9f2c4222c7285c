"""The view model of the typed classes of a protocol that follows libvirt's convention
(``xdrgen.conventions``): what templates/python/libvirt/ are given, every name chosen here.

Generated into ``<module>_rpc.py`` beside the module (so importing the module imports neither
asyncio nor socket; the module re-exports the classes lazily):

- ``<PREFIX>_Client`` (``PREFIX`` is the program constant without ``_PROGRAM``: ``REMOTE``,
  ``VIR_LXC_MONITOR``): one ``async`` method per call procedure, named as the procedure
  without the enum's prefix, lower-cased (``REMOTE_PROC_CONNECT_OPEN`` -> ``connect_open``);
  the fields of its argument struct are the method's parameters (several argument types: one
  parameter each, ``arg1``, ``arg2``...); it returns the result struct (None for none). Per
  event, ``on_<event>(callback)`` registers a callback taking the event's message. A procedure
  annotated ``@readstream`` returns ``(result, stream)`` (an ``xdr_rpc.Stream`` to read with
  ``async for``); one annotated ``@writestream`` takes the data as its last parameter, ``data``.
- ``<PREFIX>_Server``: one method per call procedure to override, taking the connection and
  the same parameters, returning the result (a ``@readstream`` one: ``(result, chunks)``; a
  ``@writestream`` one gets the incoming data, an ``xdr_rpc.IncomingStream``, last).
- ``<PREFIX>_Connection``: the server's side of a client, with ``send_<event>(message)``.

A method name that is a Python keyword, a name the runtime class already uses, or the name of
another method of the class gets trailing underscores; so does a parameter named like the
method's own locals (``self``, ``connection``, ``callback``...).
"""

from __future__ import annotations

import keyword
import textwrap
from dataclasses import dataclass

from .. import model as M
from ..diagnostics import Diagnostic
from ..layout import LINE_LENGTH
from .. import naming
from ..conventions import ProcedureBinding, Protocol
from ..shapes import link_field
from .text import annotation, pystr

MODULE_ALIAS = "_m"  # how <module>_rpc.py refers to its module
RPC_ALIAS = "_rpc"  # and to the runtime
CLASS_SUFFIXES = ("_Client", "_Server", "_Connection")
# Attributes of the runtime classes the generated ones subclass: a method must not replace one.
# tests/test_rpc_libvirt_typed.py checks these against the runtime.
CLIENT_ATTRIBUTES = frozenset({"client", "timeout", "client_options", "connect_unix", "connect_tcp", "closed", "close", "start_keepalive"})
SERVER_ATTRIBUTES = frozenset(
    {
        "program", "version", "handlers", "max_size", "on_connect", "limits", "stats", "errors", "buffered",
        "max_connections", "connections", "connection_count", "serve_unix", "serve_tcp", "accept", "stop",
        "keepalive_interval", "keepalive_count", "stream_procedures",
    }
)  # fmt: skip
CONNECTION_ATTRIBUTES = frozenset(
    {
        "server", "reader", "writer", "peer", "last_active", "started", "in_message", "reserved", "calls", "slots",
        "send_event", "close", "idle", "abort", "keepalive", "start_keepalive", "pings_received", "incoming",
    }
)
# the parameters and locals the generated method bodies use besides the procedure's own
BODY_NAMES = frozenset({"self", "connection", "callback", "result", "message", MODULE_ALIAS, RPC_ALIAS})


@dataclass
class ParameterView:
    name: str  # in the generated method
    annotation: str


@dataclass
class CallView:
    number: int
    member: str  # the enum member, as in the .x file
    client_method: str
    server_method: str
    parameters: list[ParameterView]
    argument: str | None  # the expression the client passes to _call: None for no argument
    result: str  # annotation of the result ("None" for none)
    result_local: str
    spec: str  # the CallSpec expression
    summary: str  # the docstring: member, number and types
    stream: str | None = None  # "read" / "write": the procedure's @readstream / @writestream
    data: str = "data"  # the parameter of a stream's data (a write stream's client and server)


@dataclass
class EventView:
    number: int
    member: str
    on_method: str
    send_method: str
    message: str | None  # annotation of the message, None for an event without payload
    codec: str  # expression, "None" for no payload
    spec: str
    on_summary: str  # the docstrings of the on_ and send_ methods
    send_summary: str


@dataclass
class LibvirtView:
    module_name: str
    companion: str  # the module name of <module>_rpc
    program_constant: str
    version_constant: str
    client: str
    server: str
    connection: str
    error: str  # codec expression or "None"
    calls: list[CallView]
    events: list[EventView]

    @property
    def exports(self) -> list[str]:
        return [self.client, self.server, self.connection]


def qualified_annotation(expr: M.TypeExpr, module: M.Module) -> str:
    """The annotation of a value of ``expr`` as written in ``<module>_rpc.py``: the module's
    types through its alias."""
    return annotation(expr, module, f"{MODULE_ALIAS}.")


def _summary(p: ProcedureBinding, stream: str | None = None) -> str:
    """A call method's docstring: its procedure and types (and its stream's direction)."""
    flow = {"read": ", and a stream of data from the server", "write": ", after a stream of data to the server"}.get(stream or "", "")
    return method_docstring(f"{p.member} ({p.number}): {', '.join(p.arguments) or 'no argument'} -> {p.result or 'no result'}{flow}.")


def method_docstring(text: str) -> str:
    """``text`` as a method's docstring (inside the quotes): one line if it fits, else lines
    broken at spaces that fit, with the closing quotes on a line of their own, as black keeps
    them. (So that layout has no long line to look at in the typed classes.)"""
    pad = " " * 8
    if len(pad) + 6 + len(text) <= LINE_LENGTH:
        return text
    lines = textwrap.wrap(text, LINE_LENGTH - len(pad) - 6, break_long_words=False, break_on_hyphens=False)
    return f"\n{pad}".join(lines) + f"\n{pad}"


def _free(name: str, taken: set[str] | frozenset[str]) -> str:
    """``name``, renamed by the naming rule where it is a keyword, has underscores Python gives
    a meaning, or is ``taken`` in its class or module."""
    return naming.python_name(name, naming.PARAMETER, taken)[0]


class LibvirtViewBuilder:
    """The view of one protocol's typed classes."""

    def __init__(self, module: M.Module, module_name: str, protocol: Protocol) -> None:
        self.module = module
        self.module_name = module_name
        self.protocol = protocol
        self.warnings: list[Diagnostic] = []  # one per renamed method or parameter
        enum = module.type_named(protocol.convention.procedures)
        self.locations = {v.name: v.location for v in enum.values} if isinstance(enum, M.EnumDef) else {}
        # libvirt's annotations in the comment before each procedure (remote_protocol.x)
        self.streams = {
            v.name: kind for v in (enum.values if isinstance(enum, M.EnumDef) else ()) for kind in ("read", "write") if any(a.key == kind + "stream" for a in v.annotations)
        }

    def _named(self, p: ProcedureBinding, what: str, wanted: str, taken: set[str] | frozenset[str]) -> str:
        """``wanted``, or with trailing underscores when it is taken or a keyword (a warning)."""
        chosen = _free(wanted, taken)
        if chosen != wanted:
            if keyword.iskeyword(wanted):  # the same for every class: said once
                message, category = f"procedure {p.member}: {wanted!r} is a Python keyword; its methods are called {chosen!r}", "keyword"
            else:
                message, category = f"procedure {p.member}: {what} {wanted!r} is taken in its class; it is called {chosen!r}", "shadow"
            if all(w.message != message for w in self.warnings):
                self.warnings.append(Diagnostic("warning", message, self.locations.get(p.member), category=category))
        return chosen

    def _type(self, name: str) -> str:
        return f"{MODULE_ALIAS}.{self.module.type_named(name).py_name}"

    def _codec(self, name: str) -> str:
        return f"{MODULE_ALIAS}.CODECS[{pystr(name)}]"

    def _constant(self, name: str) -> str:
        return f"{MODULE_ALIAS}.{next(c.py_name for c in self.module.constants if c.name == name)}"

    def class_names(self) -> tuple[str, str, str]:
        """The client, server and connection classes' names (clear of the module's names)."""
        taken = {c.py_name for c in self.module.constants} | {t.py_name for t in self.module.types}
        client, server, connection = (_free(self.protocol.prefix + suffix, taken) for suffix in CLASS_SUFFIXES)
        return client, server, connection

    def build(self) -> LibvirtView:
        client, server, connection = self.class_names()
        client_names: set[str] = set(CLIENT_ATTRIBUTES)
        server_names: set[str] = set(SERVER_ATTRIBUTES)
        connection_names: set[str] = set(CONNECTION_ATTRIBUTES)
        calls = [self.call(p, client_names, server_names) for p in self.protocol.calls]
        events = [self.event(p, client_names, connection_names) for p in self.protocol.events]
        return LibvirtView(
            self.module_name,
            naming.rpc_module_for(self.module_name),
            self._constant(self.protocol.convention.program),
            self._constant(self.protocol.convention.version),
            client,
            server,
            connection,
            self._codec(self.protocol.error) if self.protocol.error else "None",
            calls,
            events,
        )

    def call(self, p: ProcedureBinding, client_names: set[str], server_names: set[str]) -> CallView:
        client_method = self._named(p, "client method", p.name, client_names | naming.BUILTINS_USED)
        server_method = self._named(p, "server method", p.name, server_names | naming.BUILTINS_USED)
        client_names.add(client_method)
        server_names.add(server_method)
        struct = self._single_struct(p)
        parameters: list[ParameterView] = []
        fields: tuple[str, ...] | None = None
        if struct is not None:
            fields = tuple(f.py_name for f in struct.fields)
            for f in struct.fields:
                name = self._named(p, "parameter", f.py_name, BODY_NAMES | {q.name for q in parameters})
                parameters.append(ParameterView(name, qualified_annotation(f.type, self.module)))
            argument: str | None = f"{self._type(struct.name)}({', '.join(q.name for q in parameters)})"
        else:
            for index, name in enumerate(p.arguments, 1):
                parameters.append(ParameterView(f"arg{index}", self._type(name)))
            if not parameters:
                argument = None
            elif len(parameters) == 1:
                argument = parameters[0].name
            else:
                argument = f"({', '.join(q.name for q in parameters)})"
        result = self._type(p.result) if p.result else "None"
        stream = self.streams.get(p.member)
        spec_parts = [str(p.number), pystr(server_method)]
        if p.arguments:
            codecs = [self._codec(a) for a in p.arguments]
            spec_parts.append(f"arguments=({', '.join(codecs)}{',' if len(codecs) == 1 else ''})")
        if p.result:
            spec_parts.append(f"result={self._codec(p.result)}")
        if fields is not None:
            spec_parts.append(f"fields=({', '.join(pystr(f) for f in fields)}{',' if len(fields) == 1 else ''})")
        if stream is not None:
            spec_parts.append(f"stream={pystr(stream)}")
        return CallView(
            p.number,
            p.member,
            client_method,
            server_method,
            parameters,
            argument,
            result,
            _free("result", {q.name for q in parameters}),
            f"_rpc.CallSpec({', '.join(spec_parts)})",
            _summary(p, stream),
            stream,
            _free("data", BODY_NAMES | {q.name for q in parameters}),
        )

    def event(self, p: ProcedureBinding, client_names: set[str], connection_names: set[str]) -> EventView:
        on_method = self._named(p, "client method", "on_" + p.name, client_names)
        send_method = self._named(p, "connection method", "send_" + p.name, connection_names)
        client_names.add(on_method)
        connection_names.add(send_method)
        codec = self._codec(p.message) if p.message else "None"
        return EventView(
            p.number,
            p.member,
            on_method,
            send_method,
            self._type(p.message) if p.message else None,
            codec,
            f"_rpc.EventSpec({p.number}, {pystr(p.name)}{', ' + codec if p.message else ''})",
            method_docstring(f"Call ``callback`` on each {p.member} ({p.number}){' with its message' if p.message else ''}."),
            method_docstring(f"Send a {p.member} ({p.number}) event; returns once it is written."),
        )

    def _single_struct(self, p: ProcedureBinding) -> M.StructDef | None:
        """The argument struct whose fields become the parameters: the one argument type, when
        it is a struct (not a linked list, whose nodes are the value)."""
        if len(p.arguments) != 1:
            return None
        definition = self.module.type_named(p.arguments[0])
        if not isinstance(definition, M.StructDef):
            return None
        return None if link_field(self.module, definition) is not None else definition
