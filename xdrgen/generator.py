"""The back end's entry points: the Python source of a checked module (``xdrgen.python``) and
the runtime modules written beside it."""

from __future__ import annotations

from importlib import resources

from .naming import RPC_MODULE, RUNTIME_MODULE, module_name_for, rpc_module_for
from .python.describe import GenerationError
from .python.render import generate, generate_rpc


def runtime_source(name: str = RUNTIME_MODULE) -> str:
    """The text of a runtime module written next to generated modules: ``xdr_runtime`` (the
    codecs' helpers) or ``xdr_rpc`` (RPC framing, clients and servers)."""
    return resources.files("xdrgen").joinpath("runtime", f"{name}.py").read_text(encoding="utf-8")


__all__ = ["generate", "generate_rpc", "module_name_for", "rpc_module_for", "runtime_source", "GenerationError", "RUNTIME_MODULE", "RPC_MODULE"]
