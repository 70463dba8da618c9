"""The 2017 vocabulary, before validation: the policy table of plxgen.schema.legacy applied.

Keys and names of 2017 that are written differently now are rewritten (their
positions follow them), the ones with no meaning any more are dropped with a
located warning, and an explicit null where the schema takes no null means
"the default": the key is dropped, as if it were not written.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from plxgen.compiler.load import Document, Path
from plxgen.errors import ConfigError, warn
from plxgen.schema.legacy import (
    GRAPHS,
    NAMES,
    REFERENCES,
    key_rule,
    name_rule,
    objects,
    value_rule,
)
from plxgen.schema.registry import INITIALIZERS


def normalise(doc: Document) -> Document:
    """The document as the current schema spells it; warns of what it ignores."""
    outcome = apply(doc.data)
    moved = replace(
        doc,
        data=outcome.data,
        values=moved_positions(doc.values, outcome.moved),
        keys=moved_positions(doc.keys, outcome.moved),
    )
    for path, message, code, hint in outcome.warnings:
        warn(doc.diagnostic(path, message, code, hint, key=True))
    if outcome.errors:
        raise ConfigError(
            [
                doc.diagnostic(path, message, code, hint, key=True)
                for path, message, code, hint in outcome.errors
            ]
        )
    return _drop_nulls(moved)


def _drop_nulls(doc: Document) -> Document:
    """Drop every optional key written as null where the schema takes no null."""
    from plxgen.compiler.validate import _validator

    if not _has_null_key(doc.data):  # most files: no second pass of the validator
        return doc
    nulls: list[Path] = []
    for error in _validator().iter_errors(doc.data):
        for leaf in _nulls(error):
            nulls.append(tuple(leaf))
    if not nulls:
        return doc
    data: Any = _copy(doc.data)
    for path in sorted(set(nulls), key=len, reverse=True):
        node = data
        for part in path[:-1]:
            node = node[part]
        if isinstance(node, dict) and node.get(path[-1], 0) is None:
            del node[path[-1]]
    return replace(doc, data=data)


def _has_null_key(value: Any) -> bool:
    """Whether a key (not a Name) anywhere in value is written as null."""
    if isinstance(value, dict):
        return any(
            (v is None and not str(k)[:1].isupper()) or _has_null_key(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_has_null_key(v) for v in value)
    return False


def _nulls(error: Any) -> list[Path]:
    """The paths of null values the schema refused, ending in a key."""
    path = tuple(error.absolute_path)
    # A Name (CamelCase) written with null is that name with its defaults, never dropped.
    if (
        error.instance is None
        and path
        and isinstance(path[-1], str)
        and not path[-1][:1].isupper()
    ):
        return [path]
    found: list[Path] = []
    for sub in error.context or []:
        found.extend(_nulls(sub))
    return found


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


@dataclass
class Outcome:
    """What `normalise` did: the data, the paths it moved (old -> new), its
    warnings as (path, message, code, hint, at the key), and its errors."""

    data: Any
    moved: dict[tuple[str | int, ...], tuple[str | int, ...]] = field(
        default_factory=dict
    )
    warnings: list[tuple[tuple[str | int, ...], str, str, str]] = field(
        default_factory=list
    )
    errors: list[tuple[tuple[str | int, ...], str, str, str]] = field(
        default_factory=list
    )


def apply(data: Any) -> Outcome:
    """Apply the table to plain data (a copy): renames, warnings, node references."""
    data = copy.deepcopy(data)
    outcome = Outcome(data)
    _expand_renamed(data)
    _expand_initializers(data)
    # Names first (their arguments are then the current name's), then keys.
    for scope, name, path, args in list(objects(data)):
        renamed = name_rule(scope, name) if name else None
        if renamed is None:
            continue
        parent = _parent(data, path)
        new_args = {renamed.keys.get(k, k): v for k, v in args.items()}
        for key, value in renamed.add.items():
            new_args.setdefault(key, value)
        _replace_key(parent, renamed.name, renamed.to, new_args)
        outcome.moved[path] = path[:-1] + (renamed.to,)
        for old, new in renamed.keys.items():
            if old in args:
                outcome.moved[path + (old,)] = path[:-1] + (renamed.to, new)
        if renamed.warn:
            outcome.warnings.append(
                (
                    path,
                    f"{renamed.name} is written as {renamed.to}",
                    "legacy-name",
                    renamed.reason,
                )
            )
    dropped: list[Path] = []  # what is inside an ignored key goes with it, unwarned
    for scope, name, path, args in list(objects(data)):
        if any(path[: len(d)] == d for d in dropped):
            continue
        for key in list(args):
            if scope in REFERENCES and key in REFERENCES[scope]:
                _references(args, key, path, outcome)
            form = value_rule(scope, name, key, args[key])
            if form is not None and form.action == "honour":
                args[key] = [args[key]]  # one box, as the list of boxes it is
            elif form is not None:
                outcome.errors.append(
                    (path + (key,), f"{key!r} as 2017 wrote it cannot be applied: {form.reason}", "legacy-value", form.hint)
                )  # fmt: skip
            rule = key_rule(scope, name, key)
            if rule is None or rule.action == "honour":
                continue
            value = args[key]
            if rule.action == "rename":
                if rule.to in args:
                    outcome.errors.append(
                        (path + (key,), f"{key!r} and {rule.to!r} both given", "duplicate-key", f"{key!r} is the 2017 spelling of {rule.to!r}: keep one")
                    )  # fmt: skip
                    continue
                _replace_key(args, key, rule.to, value)
                outcome.moved[path + (key,)] = path + (rule.to,)
                continue
            del args[key]
            dropped.append(path + (key,))
            if value is None or any(
                value == q and type(value) is type(q) for q in rule.quiet
            ):
                continue
            written = _written(outcome.moved, path + (key,))
            outcome.warnings.append(
                (written, f"{key!r} is ignored", "ignored-key", rule.reason)
            )
    return outcome


def _written(
    moved: dict[tuple[str | int, ...], tuple[str | int, ...]],
    path: tuple[str | int, ...],
) -> tuple[str | int, ...]:
    """The path as the file wrote it, before a name was renamed."""
    for old, new in moved.items():
        if path[: len(new)] == new and len(old) == len(new):
            return old + path[len(new) :]
    return path


def _expand_renamed(data: Any) -> None:
    """A renamed name written bare (`- MeanTensor`) as `{MeanTensor: {}}`, so that it is renamed."""
    models = data.get("model") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        return
    renamed = {rule.name for rule in NAMES}
    for model in models.values():
        if not isinstance(model, dict):
            continue
        lists = [model.get("metrics")] + [
            graph.get("layers")
            for graph in (model.get(k) for k in GRAPHS)
            if isinstance(graph, dict)
        ]
        for items in lists:
            if isinstance(items, list):
                for i, item in enumerate(items):
                    if isinstance(item, str) and item in renamed:
                        items[i] = {item: {}}
                    elif (
                        isinstance(item, dict)
                        and len(item) == 1
                        and next(iter(item.values())) is None
                    ):
                        ((name, _),) = item.items()
                        if name in renamed:
                            items[i] = {name: {}}


def _expand_initializers(data: Any) -> None:
    """A 2017 initializer named bare (`kernel_initializer: Ones`) as `{Ones: {}}`.

    2017 read a bare name as the class with its defaults; Keras' own lower-case
    strings (`ones`, `glorot_uniform`) keep Keras' meaning.
    """
    for scope, _, _, args in list(objects(data)):
        if scope != "layer":
            continue
        for key, value in args.items():
            if (
                key.endswith("_initializer")
                and isinstance(value, str)
                and value in INITIALIZERS
            ):
                args[key] = {value: {}}


def _parent(data: Any, path: tuple[str | int, ...]) -> Any:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node


def _replace_key(mapping: dict[str, Any], old: str, new: str, value: Any) -> None:
    """Rename a key in place, keeping the order of the mapping."""
    items = [
        (new if k == old else k, value if k == old else v) for k, v in mapping.items()
    ]
    mapping.clear()
    mapping.update(items)


def _references(
    args: dict[str, Any], key: str, path: tuple[str | int, ...], outcome: Outcome
) -> None:
    """`[name, node_index, tensor_index]` (Keras 2's node form) -> name."""
    value = args[key]

    def node(item: Any) -> bool:
        return (
            isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
            and all(isinstance(i, int) and not isinstance(i, bool) for i in item[1:])
        )  # fmt: skip

    def one(item: Any, where: tuple[str | int, ...]) -> Any:
        if not node(item):
            return item
        if item[1:] != [0, 0]:
            outcome.errors.append(
                (where, f"node {item[1]}, tensor {item[2]} of layer {item[0]!r} cannot be referenced", "node-reference",
                 "Keras 3 graphs call each layer once and use its first output: write the layer's name")
            )  # fmt: skip
        return item[0]

    if node(value):
        args[key] = one(value, path + (key,))
    elif isinstance(value, list) and any(node(item) for item in value):
        args[key] = [one(item, path + (key, i)) for i, item in enumerate(value)]


def moved_positions(
    positions: dict[tuple[str | int, ...], tuple[int, int]],
    moved: dict[tuple[str | int, ...], tuple[str | int, ...]],
) -> dict[tuple[str | int, ...], tuple[int, int]]:
    """The positions of a document after `apply` moved some of its paths."""
    result = dict(positions)
    for old, new in moved.items():
        for path, where in positions.items():
            if path[: len(old)] == old:
                result.setdefault(new + path[len(old) :], where)
    return result
