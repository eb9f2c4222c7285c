"""Syntax trees and models as JSON, for debugging (``xdrgen --dump-ast`` / ``--dump-model``)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .xdr_ast import Location


def to_data(node: Any) -> Any:
    if isinstance(node, Location):
        return f"{node.file}:{node.line}:{node.column}"
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        data: dict[str, Any] = {"node": type(node).__name__}
        for f in dataclasses.fields(node):
            if not f.repr:
                continue
            value = getattr(node, f.name)
            if value is None or value == ():
                continue
            data[f.name] = to_data(value)
        return data
    if isinstance(node, (list, tuple)):
        return [to_data(n) for n in node]
    if isinstance(node, (set, frozenset)):
        return sorted(to_data(n) for n in node)
    return node


def dump(node: Any) -> str:
    return json.dumps(to_data(node), indent=2)
