"""What every family of names shares: the `Entry` of a name and the argument schemas.

`number`, `integer`, `boolean` and `enum` write the JSON Schema of one argument
(with its 2017 default); an `Entry` holds a name's description and arguments,
and, where lowering calls a Keras symbol for it, that symbol and how the 2017
arguments map onto the symbol's keyword arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# The supervised model kinds (`model: {classifier: ...}`); the RL kinds are in `rl`.
MODEL_KINDS = ("classifier", "regressor", "generator")

# A Python identifier (declarations, matrix axes, keyword arguments).
IDENTIFIER = "^[A-Za-z_][A-Za-z0-9_]*$"


def number(default: float | None, description: str, **bounds: float) -> JSON:
    """A float-valued argument."""
    return _with_default(
        {"type": "number", "description": description, **bounds}, default
    )


def integer(default: int | None, description: str, **bounds: int) -> JSON:
    """An int-valued argument."""
    return _with_default(
        {"type": "integer", "description": description, **bounds}, default
    )


def boolean(default: bool | None, description: str) -> JSON:
    """A bool-valued argument."""
    return _with_default({"type": "boolean", "description": description}, default)


def enum(values: list[Any], default: Any, description: str) -> JSON:
    """An argument with a fixed set of values."""
    return _with_default({"enum": values, "description": description}, default)


def _with_default(schema: JSON, default: Any) -> JSON:
    if default is not None:
        schema["default"] = default
    return schema


@dataclass(frozen=True)
class Entry:
    """One name of a family: what it means and which arguments it takes.

    `symbol` is the Keras/TF qualname lowering calls for it, `renames` maps each
    2017 argument passed through to the symbol's keyword argument (identity
    included: an argument not listed is not passed), and `fixed` holds keyword
    arguments the name always passes.
    """

    description: str
    params: dict[str, JSON] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    symbol: str | None = field(default=None, kw_only=True)
    renames: dict[str, str] = field(default_factory=dict, kw_only=True)
    fixed: dict[str, Any] = field(default_factory=dict, kw_only=True)
