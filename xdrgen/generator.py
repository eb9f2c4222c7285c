"""The back end's entry points: the Python source of a checked module (``xdrgen.python``), the
modules written beside it (``companions``: its typed RPC classes) and the runtime modules."""

from __future__ import annotations

from importlib import resources

from .naming import GSS_MODULE, RPC_MODULE, RUNTIME_MODULE, module_name_for, rpc_module_for

RPC_RUNTIME_MODULES = (RUNTIME_MODULE, RPC_MODULE, GSS_MODULE)  # what generated RPC classes need beside them
from .python.render import companions, generate


def runtime_source(name: str = RUNTIME_MODULE) -> str:
    """The text of a runtime module written next to generated modules: ``xdr_runtime`` (the
    codecs' helpers), ``xdr_rpc`` (RPC framing, clients and servers) or ``rpcsec_gss`` (its
    RPCSEC_GSS)."""
    return resources.files("xdrgen").joinpath("runtime", f"{name}.py").read_text(encoding="utf-8")


__all__ = ["generate", "companions", "module_name_for", "rpc_module_for", "runtime_source", "RUNTIME_MODULE", "RPC_MODULE", "GSS_MODULE", "RPC_RUNTIME_MODULES"]
