"""`plxgen explain`: the layer table and the picture, built by Keras in a child process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from plxgen.cli import main
from tests.conftest import ROOT

pytest.importorskip("tensorflow")

BRANCHED = """\
version: 1
project: {name: branched}
model:
  regressor:
    graph:
      input_layers: image
      layers:
        - Flatten: {name: flat}
        - Dense: {units: 8, name: left, inbound_nodes: flat}
        - Dense: {units: 8, name: right, inbound_nodes: flat}
        - Add: {name: both, inbound_nodes: [left, right]}
        - Dense: {units: 1, name: out}
train:
  data_pipeline:
    TFRecordImagePipeline:
      data_files: [data/none.tfrecord]
      meta_data_file: data/meta_data.json
"""


def rows(out: str) -> dict[str, list[str]]:
    """The table's rows by layer name, cells split on runs of two spaces."""
    table = out.split("\n\n")[0].splitlines()[2:]
    return {line.split()[0]: re.split(r"\s{2,}", line) for line in table}


def test_the_table_has_each_layers_type_shape_and_parameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = ROOT / "generated_examples" / "lenet_digits.yaml"
    assert main(["explain", str(config), "--input-shape", "28,28,1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["layer", "type", "output", "shape", "params"]
    table = rows(out)
    # Conv2D 5x5, 1 -> 32 channels, bias; then 5x5, 32 -> 64; Dense 7*7*64 -> 1024 -> 10.
    conv1, conv2 = 5 * 5 * 1 * 32 + 32, 5 * 5 * 32 * 64 + 64
    dense1, dense2 = 7 * 7 * 64 * 1024 + 1024, 1024 * 10 + 10
    assert table["image"][1:] == ["InputLayer", "(None, 28, 28, 1)", "0"]
    assert table["conv2d"][1:] == ["Conv2D", "(None, 28, 28, 32)", f"{conv1:,}"]
    assert table["conv2d_1"][1:] == ["Conv2D", "(None, 14, 14, 64)", f"{conv2:,}"]
    assert table["flatten"][1:] == ["Flatten", "(None, 3136)", "0"]
    assert table["dense"][1:] == ["Dense", "(None, 1024)", f"{dense1:,}"]
    assert table["dense_1"][1:] == ["Dense", "(None, 10)", f"{dense2:,}"]
    total = conv1 + conv2 + dense1 + dense2
    assert f"model lenet_digits: 9 layers, {total:,} parameters ({total:,} trainable, 0 non-trainable)" in out  # fmt: skip


def test_a_branched_graph_shows_the_inputs_and_draws_a_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    config = tmp_path / "branched.yaml"
    config.write_text(BRANCHED)
    png = tmp_path / "model.png"
    code = main(["explain", str(config), "--input-shape", "4,4,1", "--png", str(png)])
    out, err = capsys.readouterr()
    assert code == 0, err
    table = rows(out)
    assert table["left"] == ["left", "Dense", "(None, 8)", "136", "flat"]
    assert table["both"] == ["both", "Add", "(None, 8)", "0", "left, right"]
    assert table["out"][-1] == "both"
    with Image.open(png) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert height > 6 * 40 and width > 100  # six boxes, one under the other
    assert f"wrote {png}" in err


def test_without_train_data_it_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "branched.yaml"
    config.write_text(BRANCHED)
    assert main(["explain", str(config)]) == 2
    err = capsys.readouterr().err
    assert "data file not found" in err and "--input-shape" in err
    assert "Traceback" not in err


def test_a_bad_input_shape_is_a_command_line_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = ROOT / "generated_examples" / "lenet_digits.yaml"
    assert main(["explain", str(config), "--input-shape", "28,x"]) == 2
    assert "expected positive integers" in capsys.readouterr().err


def test_the_compiler_does_not_import_tensorflow() -> None:
    code = (
        "import sys, plxgen.cli, plxgen.commands.explain, plxgen.commands.upgrade, plxgen.commands.hooks, plxgen.commands.init;"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
