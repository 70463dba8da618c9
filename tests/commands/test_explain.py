"""`plxgen explain`: the layer table and the picture, built by Keras in a child process."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from plxgen.cli import main
from tests.conftest import ROOT, configs_in

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
    assert table["Conv2D_1"][1:] == ["Conv2D", "(None, 28, 28, 32)", f"{conv1:,}"]
    assert table["Conv2D_2"][1:] == ["Conv2D", "(None, 14, 14, 64)", f"{conv2:,}"]
    assert table["Flatten_1"][1:] == ["Flatten", "(None, 3136)", "0"]
    assert table["Dense_1"][1:] == ["Dense", "(None, 1024)", f"{dense1:,}"]
    assert table["Dense_2"][1:] == ["Dense", "(None, 10)", f"{dense2:,}"]
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


def test_every_bundled_example_explains_in_one_run(tmp_path: Path) -> None:
    """Each generated example (the sweep's combinations too) explains from its own
    train data, or its environment for an agent, in one `plxgen explain` run."""
    from plxgen.data.datasets import make_dataset
    from tests.conftest import plxgen
    from tests.pipeline_data import make_pipeline_data

    shutil.copytree(ROOT / "generated_examples", tmp_path / "examples")
    data = tmp_path / "data"
    make_pipeline_data(data)
    make_dataset("digits", None, data / "digits", seed=0)
    make_dataset("digits", None, data / "mnist", seed=0, name="mnist")  # the same layout
    configs = [str(p.relative_to(tmp_path)) for p in configs_in(tmp_path / "examples", "**/*.yaml")]
    assert len(configs) == len(configs_in(ROOT / "generated_examples", "**/*.yaml"))
    result = plxgen("explain", *configs, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    tables = result.stdout.split("\n\n")
    titles = [t.splitlines()[0] for t in tables if t.startswith("examples/")]
    sweep = [t for t in titles if t.startswith("examples/sweeps/lenet_sweep.yaml (")]
    assert len(titles) == len(configs) - 1 + len(sweep) and len(sweep) == 4, titles
    out = result.stdout
    # An agent shows its network, named as in a script of its own.
    dqn = out.split("examples/dqn_cartpole.yaml:\n")[1].split("\n\n")[0]
    assert rows(dqn)["q_values"][1:] == ["Dense", "(None, 2)", "514"]
    trpo = out.split("examples/trpo_cartpole.yaml:\n")[1].split("\n\n")[0]
    assert list(rows(trpo)) == ["state", "Dense_1", "Dense_2", "logits"]
    assert "model naf_pendulum: 6 layers" in out


def test_input_shape_feeds_a_csv_models_input(capsys: pytest.CaptureFixture[str]) -> None:
    config = ROOT / "generated_examples" / "diabetes_csv.yaml"
    assert main(["explain", str(config), "--input-shape", "4"]) == 0
    table = rows(capsys.readouterr().out)
    assert table["x"][1:] == ["InputLayer", "(None, 4)", "0"]
    assert table["Dense_1"][1:] == ["Dense", "(None, 32)", f"{4 * 32 + 32:,}"]


def test_a_failure_of_the_builder_is_a_bug_not_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from plxgen.commands import explain

    config = ROOT / "generated_examples" / "lenet_digits.yaml"
    broken = explain._DRIVER.replace("mod.build_model(features)", "mod.no_such_function(features)")  # fmt: skip
    assert broken != explain._DRIVER
    monkeypatch.setattr(explain, "_DRIVER", broken)
    assert main(["explain", str(config), "--input-shape", "28,28,1"]) == 123
    err = capsys.readouterr().err
    assert "internal error (a bug in plxgen" in err and "--debug" in err
    assert main(["--debug", "explain", str(config), "--input-shape", "28,28,1"]) == 123
    err = capsys.readouterr().err
    assert "Traceback" in err and "AttributeError" in err and "no_such_function" in err
