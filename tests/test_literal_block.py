"""The resolved config is laid out as black would lay it out (a speed hint for black)."""

from __future__ import annotations

from typing import Any

import black
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plxgen.literals import py
from plxgen.render import _literal_block


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
