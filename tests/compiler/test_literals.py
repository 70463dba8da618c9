"""plxgen.compiler.literals: config values reach a script only as literals that evaluate back to themselves."""

from __future__ import annotations

import ast
import io
import math
import tokenize
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plxgen.compiler.ir import Call, Symbol
from plxgen.compiler.literals import comment, docstring, ident, py

HOSTILE = [
    "",
    "'",
    '"',
    "'''",
    '"""',
    'a"""b',
    "\\",
    "\\\\",
    "ends with a backslash\\",
    'ends with a quote"',
    "line\nbreak",
    "\r\n",
    "\u2028\u2029\x85\x0b\x0c",
    "\x00NUL",
    "\t",
    "{{ x }}",
    "{% if %}",
    "\\N{BULLET}",
    "\\x41\\u0041",
    "\ud800",
    "é ü 漢字 🐍",
    '"); import os; os.system("echo hi"); ("',
    "'''; import os #",
]


def same(a: Any, b: Any) -> bool:
    """Equal values of exactly equal types, recursively (1 != 1.0 != True, 0.0 != -0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def string_tokens(source: str) -> list[tokenize.TokenInfo]:
    """The tokens of `source`, without the bookkeeping ones."""
    skip = {tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER}
    return [
        t
        for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type not in skip
    ]


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.parametrize("text", HOSTILE)
def test_py_round_trips_hostile_strings(text: str) -> None:
    assert ast.literal_eval(py(text)) == text


@given(st.text())
def test_py_round_trips_any_text(text: str) -> None:
    assert ast.literal_eval(py(text)) == text


@given(JSONISH)
def test_py_round_trips_nested_data(value: Any) -> None:
    assert same(ast.literal_eval(py(value)), value)


@pytest.mark.parametrize(
    "value", [1e-12, 1e10, 1e300, 5e-324, -0.0, 0.1, 1 / 3, 2.0**53 + 2, -7.5]
)
def test_py_round_trips_floats(value: float) -> None:
    assert same(ast.literal_eval(py(value)), value)


def test_py_keeps_floats_and_ints_apart() -> None:
    assert py(1.0) == "1.0"
    assert py(1) == "1"
    assert py(True) == "True"
    assert py(None) == "None"


@pytest.mark.parametrize("value", [float("inf"), float("-inf")])
def test_py_writes_infinity_as_a_float_call(value: float) -> None:
    # Not a literal: ast.literal_eval cannot read it, but it evaluates with only `float` in scope.
    assert eval(py(value), {"__builtins__": {}, "float": float}) == value  # noqa: S307


def test_py_refuses_nan() -> None:
    with pytest.raises(ValueError):
        py(float("nan"))


@pytest.mark.parametrize("value", [10**40, -(10**40), 0, -1])
def test_py_round_trips_ints(value: int) -> None:
    assert same(ast.literal_eval(py(value)), value)


def test_py_tuples() -> None:
    for value in [(), (1,), (1, "a"), ((1,), [2])]:
        assert same(ast.literal_eval(py(value)), value)


def test_py_nested_hostile_structure() -> None:
    value = {'"""': ["\n", {"\\": "{{ }}"}], "k'": [1e-12, None, True, [[]]]}
    assert same(ast.literal_eval(py(value)), value)


def test_py_refuses_non_string_dict_keys() -> None:
    with pytest.raises(TypeError):
        py({1: "a"})


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes", 1j])
def test_py_refuses_other_types(value: Any) -> None:
    with pytest.raises(TypeError):
        py(value)


def test_py_symbols_and_calls() -> None:
    call = Call(Symbol("keras.layers.Dense"), (("units", 10), ("name", "a'b")))
    assert py(call) == 'keras.layers.Dense(units=10, name="a\'b")'


@pytest.mark.parametrize(
    "name", ["os.system(1)", "a b", "1a", "a-b", "", "a;b", "__import__('os')", "a\nb"]
)
def test_py_refuses_unsafe_symbols(name: str) -> None:
    with pytest.raises(ValueError):
        py(Symbol(name))


def test_py_refuses_unsafe_keyword_arguments() -> None:
    with pytest.raises(ValueError):
        py(Call(Symbol("f"), (("a=1, b", 2),)))


@pytest.mark.parametrize("name", ["units", "_x", "Conv2D", "a1_b2"])
def test_ident_accepts_names(name: str) -> None:
    assert ident(name) == name


@pytest.mark.parametrize("name", ["keras.layers.Dense", "tf.nn.relu", "a"])
def test_ident_accepts_dotted_names_when_asked(name: str) -> None:
    assert ident(name, dotted=True) == name


@pytest.mark.parametrize(
    "name",
    [
        "os.system(1)",
        "a b",
        "",
        "1abc",
        "a-b",
        "a.b",
        "__import__('os').system",
        "os.system",
        "é",
        "a\u200bb",
        "a;b",
        "a=1",
        " a",
    ],
)
def test_ident_refuses_unsafe_names(name: str) -> None:
    with pytest.raises(ValueError):
        ident(name)


@pytest.mark.parametrize(
    "name", ["a..b", ".a", "a.", "a.1b", "os.system(1)", "a .b", "a.b c"]
)
def test_ident_refuses_unsafe_dotted_names(name: str) -> None:
    with pytest.raises(ValueError):
        ident(name, dotted=True)


@pytest.mark.parametrize("value", [None, 1, b"a", ["a"]])
def test_ident_refuses_non_strings(value: Any) -> None:
    with pytest.raises(ValueError):
        ident(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name, dotted", [("os\n", False), ("keras.layers.Dense\n", True)]
)
def test_ident_refuses_a_trailing_newline(name: str, dotted: bool) -> None:
    with pytest.raises(ValueError):
        ident(name, dotted=dotted)


@pytest.mark.parametrize("name", ["lambda", "class", "None"])
def test_ident_refuses_keywords(name: str) -> None:
    with pytest.raises(ValueError):
        ident(name)


@pytest.mark.parametrize("text", HOSTILE)
def test_docstring_round_trips_hostile_strings(text: str) -> None:
    source = docstring(text)
    assert ast.literal_eval(source) == text
    tokens = string_tokens(source)
    assert [t.type for t in tokens] == [tokenize.STRING]
    assert tokens[0].string == source


@given(st.text())
def test_docstring_round_trips_any_text(text: str) -> None:
    source = docstring(text)
    assert ast.literal_eval(source) == text
    assert [t.type for t in string_tokens(source)] == [tokenize.STRING]


@given(st.text())
def test_docstring_is_the_docstring_of_a_module(text: str) -> None:
    module = ast.parse(docstring(text) + "\nx = 1\n")
    assert ast.get_docstring(module, clean=False) == text
    assert len(module.body) == 2


def test_docstring_keeps_newlines_readable() -> None:
    assert docstring("one\ntwo") == '"""one\ntwo"""'


@pytest.mark.parametrize("text", HOSTILE)
def test_comment_is_one_line(text: str) -> None:
    line = comment(text)
    assert "\n" not in line and "\r" not in line
    assert len(("# " + line).splitlines()) == 1


@given(st.text())
def test_comment_never_breaks_the_line(text: str) -> None:
    line = comment(text)
    assert len(("# " + line + " x").splitlines()) == 1
    assert all(c.isprintable() for c in line)
    source = f"# {line}\nx = 1\n"
    assert [t.type for t in string_tokens(source)][0] == tokenize.COMMENT
    assert ast.parse(source).body[0].lineno == 2


def test_comment_keeps_printable_text() -> None:
    assert comment("from lenet.yaml --set a=b 'c'") == "from lenet.yaml --set a=b 'c'"
