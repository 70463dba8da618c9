"""Hints that lead to the fix: each test applies a hint as it reads and checks
that the file then gets further (that diagnostic gone, no new error there)."""

from __future__ import annotations

import re

import pytest

from plxgen.compiler import check
from plxgen.compiler.load import load_text
from plxgen.errors import ConfigError, Diagnostic
from tests.conftest import ROOT

LENET = (ROOT / "generated_examples" / "lenet.yaml").read_text()
REGRESSOR = (ROOT / "generated_examples" / "digits_regressor.yaml").read_text()


def diagnostics(text: str) -> list[Diagnostic]:
    """The errors `plxgen validate` reports for a file's text (none: [])."""
    try:
        check(load_text(text, "c.yaml"))
    except ConfigError as exc:
        return exc.diagnostics
    return []


def replaced(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def rename_key(text: str, found: Diagnostic, name: str) -> str:
    """The text with the key that `found` points at renamed to `name`."""
    lines = text.splitlines(keepends=True)
    line = lines[found.line - 1]
    key = found.path.rpartition(".")[2]
    start = found.col - 1
    assert line[start : start + len(key)] == key, (line, key)
    lines[found.line - 1] = line[:start] + name + line[start + len(key) :]
    return "".join(lines)


def suggested(found: Diagnostic) -> str:
    """The one name a `did you mean 'X'?` hint offers."""
    match = re.fullmatch(r"did you mean '(\w+)'\?", found.hint or "")
    assert match, found.hint
    return match.group(1)


@pytest.mark.parametrize(
    "old, new",
    [
        ("learning_rate: 0.007\n", "lr: 0.007\n"),
        ("learning_rate: 0.007\n", "LR: 0.007\n"),
        (
            "      num_epochs: 1\n      shuffle: true\n",
            "      epochs: 1\n      shuffle: true\n",
        ),
    ],
)
def test_a_common_alias_is_offered_the_name_it_stands_for(old: str, new: str) -> None:
    text = replaced(LENET, old, new)
    (found,) = diagnostics(text)
    assert found.code == "unknown-key" and found.message.startswith("unknown key")
    fixed = rename_key(text, found, suggested(found))
    assert diagnostics(fixed) == []


def test_epochs_under_train_names_the_pipelines_num_epochs() -> None:
    text = replaced(LENET, "  train_steps: 100\n", "  epochs: 3\n")
    (found,) = diagnostics(text)
    assert (found.path, found.code) == ("train.epochs", "unknown-key")
    assert "`data_pipeline: {KIND: {num_epochs: N}}`" in (found.hint or "")
    # As the hint says: the pipeline's num_epochs (lenet's train pipeline has one).
    fixed = replaced(text, "  epochs: 3\n", "")
    fixed = replaced(fixed, "      num_epochs: 1\n      shuffle: true\n", "      num_epochs: 3\n      shuffle: true\n")  # fmt: skip
    assert diagnostics(fixed) == []


def test_a_regressor_with_a_loss_of_classes_is_offered_the_losses_of_values() -> None:
    text = replaced(
        REGRESSOR,
        "      HuberLoss:\n        clip: 1.0\n",
        "      SoftmaxCrossEntropy:\n",
    )
    (found,) = diagnostics(text)
    assert (found.path, found.code) == (
        "model.regressor.loss.SoftmaxCrossEntropy",
        "needs-classifier",
    )
    assert "n_classes" not in (found.hint or "")  # a regressor has none to set
    prefix = "use it under model.classifier, or a loss of values: "
    assert found.hint and found.hint.startswith(prefix)
    offered = found.hint.removeprefix(prefix).split(", ")
    assert "MeanSquaredError" in offered and "SoftmaxCrossEntropy" not in offered
    for name in offered:  # each one offered, put in its place, validates
        assert (
            diagnostics(replaced(text, "SoftmaxCrossEntropy:", f"{name}:")) == []
        ), name


@pytest.mark.parametrize(
    "old, new",
    [
        (
            "\n    optimizer:\n",
            "\n   optimizer:\n",
        ),  # a key of a block, one column short
        ("\n    one_hot_encode: true\n", "\n   one_hot_encode: true\n"),
        ("\n    n_classes: 10\n", "\n     n_classes: 10\n"),  # one column too many
        ("\nsettings:\n", "\n settings:\n"),  # a section, one column too many
    ],
)
def test_an_indentation_hint_names_the_column_that_fixes_the_line(
    old: str, new: str
) -> None:
    text = replaced(LENET, old, new)
    with pytest.raises(ConfigError) as caught:
        load_text(text, "c.yaml")
    (found,) = caught.value.diagnostics
    assert found.code == "yaml-indentation"
    lines = text.splitlines(keepends=True)
    match = re.match(r"indent it to column (\d+) ", found.hint or "")
    if (found.hint or "").startswith("indent it like the key above"):
        above = lines[found.line - 2]
        column = len(above) - len(above.lstrip(" ")) + 1
    else:
        assert match, found.hint
        column = int(match.group(1))
    lines[found.line - 1] = " " * (column - 1) + lines[found.line - 1].lstrip(" ")
    assert "".join(lines) == LENET  # as the hint says, and the file is as it was
