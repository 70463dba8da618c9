"""Indentation slips explained in words, with the line that opened the block."""

from __future__ import annotations

import pytest

from plxgen.compiler.load import load_text
from plxgen.errors import ConfigError, Diagnostic

DEDENTED_GRAPH = """\
version: 1
project: {name: p}
model:
  classifier:
    loss: MeanSquaredError
    optimizer: {Adam: {learning_rate: 0.1}}
  graph:
    input_layers: x
    layers: [{Dense: {units: 1}}]
"""


def diagnostics(text: str) -> list[Diagnostic]:
    with pytest.raises(ConfigError) as caught:
        load_text(text, "f.yaml")
    return caught.value.diagnostics


def test_a_dedented_graph_is_an_indentation_slip_not_a_second_model() -> None:
    [found] = diagnostics(DEDENTED_GRAPH)
    assert found.format().splitlines() == [
        "f.yaml:7:3: error: model: invalid indentation: `graph:` on line 7 is indented like "
        "`classifier:` (line 4), so it is read as a second name of `model` instead of a key "
        "of `classifier` [yaml-indentation]",
        "  hint: indent `graph:` and the lines under it to column 5, like the keys of `classifier`",
    ]


def test_a_dedented_pipeline_field() -> None:
    text = "train:\n  data_pipeline:\n    CsvPipeline:\n      label_column: y\n    data_files: [a.csv]\n"
    [found] = diagnostics(text)
    assert (found.line, found.col, found.code) == (5, 5, "yaml-indentation")
    assert "`data_files:` on line 5 is indented like `CsvPipeline:` (line 3)" in found.message
    assert found.hint == "indent `data_files:` and the lines under it to column 7, like the keys of `CsvPipeline`"


@pytest.mark.parametrize(
    "text",
    [
        # Two names are a mistake of another kind: validation reports it.
        "model:\n  classifier: {}\n  regressor: {}\n",
        "train:\n  data_pipeline:\n    CsvPipeline: {}\n    NumpyPipeline: {}\n",
        # The 2017 spelling names the kind with a field.
        "model:\n  model_type: classifier\n  graph: {}\n",
    ],
)
def test_two_names_or_the_2017_spelling_are_not_indentation(text: str) -> None:
    load_text(text, "f.yaml")


@pytest.mark.parametrize(
    "text, line, col, words",
    [
        (
            "model:\n  classifier:\n    graph:\n      layers:\n        - Dense: {units: 10}\n      - Flatten:\n",
            6, 7,
            "the list item on line 6 starts at column 7, inside the mapping that starts on "
            "line 4 (`layers:`), whose keys are at column 7",
        ),
        (
            "model:\n  classifier:\n    loss: MeanSquaredError\n   optimizer: Adam\n",
            4, 4,
            "line 4 starts at column 4, inside the mapping that starts on line 2 "
            "(`classifier:`), whose keys are at column 3",
        ),
        (
            "model:\n  classifier:\n    loss: MeanSquaredError\n      optimizer: Adam\n",
            4, 16,
            "line 4 is indented more than the key on line 3 (`loss: MeanSquaredError`), "
            "so YAML reads it as more of that key's value",
        ),
    ],
)
def test_yaml_indentation_errors_in_words(text: str, line: int, col: int, words: str) -> None:
    [found] = diagnostics(text)
    assert (found.line, found.col, found.code) == (line, col, "yaml-indentation")
    assert found.message == f"invalid indentation: {words}"
    assert "expected <block end>" not in found.format() and found.hint
