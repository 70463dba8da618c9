"""One entry per name: no table of names is declared twice or mirrors another.

A name's schema fragment, Keras symbol, arguments and flags live in one entry
that every stage reads. A second table with the same names (a dict keyed like
another, a list of the same names, a constant bound in two modules) is the
bug this test catches: the next name gets added to one and not the other.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "plxgen"
# Smaller tables are too common to mean anything (("train", "eval"), ...).
MIN_NAMES = 3


def _tables() -> dict[tuple[str, str], frozenset[str]]:
    """(module, constant) -> the names of every module-level table of string names."""
    tables = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets, value = [node.target], node.value
            elif isinstance(node, ast.Assign):
                targets = [t for t in node.targets if isinstance(t, ast.Name)]
                value = node.value
            else:
                continue
            names = _names(value)
            for target in targets:
                if target.id.startswith("__"):  # __all__ lists what a module exports
                    continue
                if names is not None and len(names) >= MIN_NAMES:
                    tables[(module, target.id)] = names
    return tables


def _names(value: ast.expr | None) -> frozenset[str] | None:
    """The string keys of a dict literal, or the strings of a list/tuple/set literal."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        if value.func.id in ("frozenset", "set", "tuple", "list") and value.args:
            return _names(value.args[0])
    if isinstance(value, ast.Dict):
        items: list[ast.expr | None] = list(value.keys)
    elif isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        items = list(value.elts)
    else:
        return None
    if not items or not all(
        isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items
    ):
        return None
    return frozenset(i.value for i in items if isinstance(i, ast.Constant))


def test_no_table_of_names_is_declared_in_two_modules() -> None:
    where = defaultdict(list)
    for module, constant in _tables():
        where[constant.lstrip("_")].append(module)
    twice = {name: modules for name, modules in where.items() if len(modules) > 1}
    assert not twice, f"declared in several modules: {twice}"


def test_no_table_mirrors_another() -> None:
    tables = _tables()
    by_names = defaultdict(list)
    for place, names in tables.items():
        by_names[names].append(":".join(place))
    mirrors = [places for places in by_names.values() if len(places) > 1]
    assert not mirrors, f"tables with the same names: {mirrors}"


def test_the_check_finds_a_mirror(tmp_path: Path) -> None:
    """The checker itself: two dicts keyed alike are found."""
    source = 'A = {"x": 1, "y": 2, "z": 3}\nB = {"x": "a", "y": "b", "z": "c"}\n'
    values = [
        _names(node.value)
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
    ]
    assert values[0] == values[1] == frozenset("xyz")
