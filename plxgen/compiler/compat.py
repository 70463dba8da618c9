"""The 2017 vocabulary, before validation: the policy of plxgen.schema.legacy applied.

Keys and names of 2017 that are written differently now are rewritten (their
positions follow them), the ones with no meaning any more are dropped with a
located warning, and an explicit null where the schema takes no null means
"the default": the key is dropped, as if it were not written.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from plxgen.compiler.load import Document, Path, format_path
from plxgen.errors import ConfigError, Diagnostic, warn
from plxgen.schema import legacy


def normalise(doc: Document) -> Document:
    """The document as the current schema spells it; warns of what it ignores."""
    outcome = legacy.apply(doc.data)
    moved = replace(
        doc,
        data=outcome.data,
        values=legacy.moved_positions(doc.values, outcome.moved),
        keys=legacy.moved_positions(doc.keys, outcome.moved),
    )
    for path, message, code, hint in outcome.warnings:
        file, line, col = doc.where(path, key=True)
        warn(Diagnostic(file, line, col, format_path(path), message, code, hint))
    if outcome.errors:
        raise ConfigError(
            [
                Diagnostic(*doc.where(path, key=True), format_path(path), message, code, hint)
                for path, message, code, hint in outcome.errors
            ]
        )
    return _drop_nulls(moved)


def _drop_nulls(doc: Document) -> Document:
    """Drop every optional key written as null where the schema takes no null."""
    from plxgen.compiler.validate import _validator

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


def _nulls(error: Any) -> list[Path]:
    """The paths of null values the schema refused, ending in a key."""
    path = tuple(error.absolute_path)
    # A Name (CamelCase) written with null is that name with its defaults, never dropped.
    if error.instance is None and path and isinstance(path[-1], str) and not path[-1][:1].isupper():
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
