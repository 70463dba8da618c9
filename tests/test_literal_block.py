"""The resolved config is laid out as black would lay it out (a speed hint for black)."""

from __future__ import annotations

from typing import Any

import black
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plxgen.literals import py
from plxgen.render import _layout, _literal_block, _quotes


def black_of(value: Any) -> str:
    return black.format_str(f"RESOLVED_CONFIG = {py(value)}\n", mode=black.Mode())


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False),
    st.text(st.characters(codec="ascii"), max_size=30),
    st.text(max_size=12),
)
data = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=6)
    | st.dictionaries(
        st.text(st.characters(codec="ascii"), max_size=25), inner, max_size=6
    ),
    max_leaves=40,
)


@given(st.dictionaries(st.text(max_size=20), data, max_size=8))
@settings(max_examples=150, deadline=None)
def test_the_layout_is_what_black_writes(value: dict[str, Any]) -> None:
    laid_out = f"RESOLVED_CONFIG = {_literal_block(value)}\n"
    expected = black_of(value)
    # Never a different script: black ends where it ends from one long line.
    assert black.format_str(laid_out, mode=black.Mode()) == expected
    if laid_out.isascii():  # black measures other text by width: left to black
        assert laid_out == expected


@pytest.mark.parametrize("layers", [1, 10, 300])
def test_a_long_graph_is_laid_out_like_black(layers: int) -> None:
    value = {
        "model": {
            "graph": {
                "layers": [{"Dense": {"units": 16, "activation": "relu"}}] * layers
                + [
                    {
                        "Conv2D": {
                            "filters": 32,
                            "kernel_size": 5,
                            "padding": "same",
                            "activation": "relu",
                        }
                    }
                ]
            }
        }
    }
    assert f"RESOLVED_CONFIG = {_literal_block(value)}\n" == black_of(value)


# Text without quotes or backslashes, so that most cases are vouched for.
plain = st.characters(codec="ascii", exclude_characters="'\"\\", min_codepoint=32)
long_scalars = st.one_of(
    scalars,
    st.text(plain, min_size=40, max_size=120),
    st.integers(10**60, 10**90),
)
long_data = st.recursive(
    long_scalars,
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(plain, max_size=90), inner, max_size=5),
    max_leaves=40,
)


@given(st.dictionaries(st.text(plain, max_size=90), long_data, max_size=6))
@settings(max_examples=300, deadline=None)
def test_a_layout_without_doubts_is_black_output(value: dict[str, Any]) -> None:
    """What `render.laid_out` hands over as formatted is exactly black's output."""
    doubts: list[str] = []
    text = "\n".join(_layout(value, 0, "RESOLVED_CONFIG = ", "", doubts)) + "\n"
    if not doubts and text.isascii() and not _quotes(value):
        assert black.format_str(text, mode=black.Mode()) == text
