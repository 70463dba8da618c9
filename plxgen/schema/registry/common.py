"""What every family of names shares: the `Entry` of a name and the argument schemas.

`number`, `integer`, `boolean` and `enum` write the JSON Schema of one argument
(with its 2017 default); an `Entry` holds a name's description and arguments,
and, where lowering calls a Keras symbol for it, that symbol and how the 2017
arguments map onto the symbol's keyword arguments. `schema_default` reads a default
back from a schema: lowering takes every default from there, never restates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# The supervised model kinds (`model: {classifier: ...}`); the RL kinds are in `rl`.
MODEL_KINDS = ("classifier", "regressor", "generator")

# The sections whose lists take the `for` / `if` operators of the front end.
OPERATOR_SECTIONS = ("model", "train", "eval")

# The end of a pattern: `$` alone also matches before a trailing newline in
# Python's re (what jsonschema uses), so "name\n" would pass; `\Z` is not
# ECMA-262 (editors' validators read it as a literal Z). `$(?!\n)` is the end
# of the string in both dialects (fastjsonschema turns `$` into `\Z` itself).
END = "$(?!\\n)"

# A Python identifier (declarations, matrix axes, keyword arguments).
IDENTIFIER = "^[A-Za-z_][A-Za-z0-9_]*" + END

# How a model's labels are shaped: one-hot vectors, class indices (n_classes
# without one_hot_encode), one 0/1 value (a classifier without n_classes), or
# values (a regressor or a generator).
LABELS = ("one_hot", "sparse", "binary", "float")


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


def schema_default(params: dict[str, JSON], name: str) -> Any:
    """The schema default of the argument `name` of `params` (None where it has none)."""
    return params[name].get("default")


def _kwargs(
    renames: dict[str, str], fixed: dict[str, Any], values: dict[str, Any]
) -> list[tuple[str, Any]]:
    return [(kw, values[arg]) for arg, kw in renames.items()] + list(fixed.items())


@dataclass(frozen=True)
class Entry:
    """One name of a family: what it means and which arguments it takes.

    `symbol` is the Keras/TF qualname lowering calls for it, `renames` maps each
    2017 argument passed through to the symbol's keyword argument (identity
    included: an argument not listed is not passed), and `fixed` holds keyword
    arguments the name always passes. A family whose names carry more (a
    loss's label kinds, a metric's key, ...) subclasses it in its module.
    """

    description: str
    params: dict[str, JSON] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    symbol: str | None = field(default=None, kw_only=True)
    renames: dict[str, str] = field(default_factory=dict, kw_only=True)
    fixed: dict[str, Any] = field(default_factory=dict, kw_only=True)

    def default(self, name: str) -> Any:
        """The schema default of one argument (None where it has none)."""
        return schema_default(self.params, name)

    def complete(self, args: dict[str, Any]) -> dict[str, Any]:
        """Every argument: the config's, else its schema default."""
        return {name: args.get(name, self.default(name)) for name in self.params}

    def call_kwargs(self, values: dict[str, Any]) -> list[tuple[str, Any]]:
        """The symbol's keyword arguments: the renamed 2017 arguments, then `fixed`."""
        return _kwargs(self.renames, self.fixed, values)


@dataclass(frozen=True)
class Variant:
    """What a loss or a metric calls for one kind of labels, instead of its own symbol."""

    symbol: str
    renames: dict[str, str] = field(default_factory=dict)
    fixed: dict[str, Any] = field(default_factory=dict)

    def call_kwargs(self, values: dict[str, Any]) -> list[tuple[str, Any]]:
        """The symbol's keyword arguments: the renamed 2017 arguments, then `fixed`."""
        return _kwargs(self.renames, self.fixed, values)


@dataclass(frozen=True, kw_only=True)
class Scored(Entry):
    """A loss or a metric: it compares a model's outputs with its labels.

    `labels` are the kinds of labels (LABELS) it accepts; `by_labels` what it
    calls for some of them instead of `symbol`. `function` names a function
    of the script (defined in templates/model.py.j2) computing it per example,
    for a name no Keras symbol computes.
    """

    labels: tuple[str, ...] = LABELS
    by_labels: dict[str, Variant] = field(default_factory=dict)
    function: str | None = None

    def variant(self, labels: str) -> Variant | None:
        """What it calls for these labels (None: a function of the script, or nothing)."""
        if labels in self.by_labels:
            return self.by_labels[labels]
        if self.symbol is None:
            return None
        return Variant(self.symbol, self.renames, self.fixed)
