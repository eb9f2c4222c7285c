"""Conventions a .x file can follow instead of declaring an ONC RPC ``program`` block."""

from __future__ import annotations

from . import model as M


def follows_libvirt_convention(module: M.Module) -> bool:
    """Whether ``module`` describes an RPC protocol the way libvirt's files do: a ``P_PROGRAM``
    constant, a ``P_PROGRAM_VERSION`` or ``P_PROTOCOL_VERSION`` constant of the same prefix,
    and an enum of procedures (its name ends in "procedure", in any case), like
    remote_protocol.x's REMOTE_PROGRAM / REMOTE_PROTOCOL_VERSION / enum remote_procedure."""
    names = {c.name for c in module.constants}
    prefixes = [name.removesuffix("_PROGRAM") for name in names if name.endswith("_PROGRAM")]
    versioned = any(f"{p}_PROGRAM_VERSION" in names or f"{p}_PROTOCOL_VERSION" in names for p in prefixes)
    return versioned and any(isinstance(t, M.EnumDef) and t.name.lower().endswith("procedure") for t in module.types)
