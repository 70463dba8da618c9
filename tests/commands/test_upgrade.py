"""`plxgen upgrade`: 2017 spellings become canonical; comments and layout stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from plxgen.cli import main
from plxgen.compiler import check
from plxgen.compiler.load import load_text
from plxgen.commands.upgrade import upgrade_text
from tests.conftest import ROOT, plxgen

OLD = """\
# LeNet, as written for polyaxon 0.0.x (2017)
version: 1

project:
  name: lenet_mnist

settings:
  logging:
    level: INFO
  # where it runs
  environment:
    run_config:
      tf_random_seed: 1  # repeatable
      save_checkpoints_steps: 100

model:
  model_type: classifier  # the kind, the 2017 way
  loss:
    SoftmaxCrossEntropy:
  # Adam, as in the paper
  optimizer:
    Adam: {learning_rate: 0.001}
  one_hot_encode: true
  n_classes: 10
  graph:
    input_layers: image
    layers:
      - Conv2D:
          filters: 32
          kernel_size: 5
          regularizer: {L2: {l: 0.001}}  # weight decay
      - Flatten:
      - Dense: {units: 10, regularizer: {L1: {l: 0.01}}}

train:
  steps: 300  # optimizer steps
  data_pipeline:
    TFRecordImagePipeline:
      data_files: [data/mnist_train.tfrecord]
      meta_data_file: data/meta_data.json
      feature_processors:  # uint8 images in, floats to the model
        image: {layers: [{Cast: {dtype: float32}}]}
"""

NEW = """\
# LeNet, as written for polyaxon 0.0.x (2017)
version: 1

project:
  name: lenet_mnist

settings:
  logging:
    level: INFO

# where it runs
environment:
  run_config:
    tf_random_seed: 1  # repeatable
    save_checkpoints_steps: 100

model:
  classifier:  # the kind, the 2017 way
    loss:
      SoftmaxCrossEntropy:
    # Adam, as in the paper
    optimizer:
      Adam: {learning_rate: 0.001}
    one_hot_encode: true
    n_classes: 10
    graph:
      input_layers: image
      layers:
        - Conv2D:
            filters: 32
            kernel_size: 5
            kernel_regularizer: {L2: {l: 0.001}}  # weight decay
        - Flatten:
        - Dense: {units: 10, kernel_regularizer: {L1: {l: 0.01}}}

train:
  train_steps: 300  # optimizer steps
  data_pipeline:
    TFRecordImagePipeline:
      data_files: [data/mnist_train.tfrecord]
      meta_data_file: data/meta_data.json
      feature_processors:  # uint8 images in, floats to the model
        image: {layers: [{Cast: {dtype: float32}}]}
"""


def test_a_2017_file_becomes_canonical_with_its_comments() -> None:
    text, notes = upgrade_text(OLD, "old.yaml")
    assert text == NEW
    assert notes == [
        "model.model_type: classifier -> model.classifier",
        "settings.environment -> environment",
        "train.steps -> train.train_steps",
        "layers[0].Conv2D.regularizer -> kernel_regularizer",
        "layers[2].Dense.regularizer -> kernel_regularizer",
    ]
    check(load_text(text, "new.yaml"))  # it now validates and lowers
    assert upgrade_text(NEW, "new.yaml") == (NEW, [])


def test_a_2017_file_with_a_float_written_1e_3_upgrades_to_a_valid_file() -> None:
    old = OLD.replace("learning_rate: 0.001", "learning_rate: 1e-3")
    text, _ = upgrade_text(old, "old.yaml")
    assert text == NEW.replace("learning_rate: 0.001", "learning_rate: 1e-3")
    assert check(load_text(text, "new.yaml")) == check(load_text(NEW, "new.yaml"))


def test_the_command_shows_a_diff_and_writes_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "old.yaml"
    config.write_text(OLD)
    assert main(["upgrade", str(config)]) == 1
    out, err = capsys.readouterr()
    assert "-  model_type: classifier  # the kind, the 2017 way" in out
    assert "+  classifier:  # the kind, the 2017 way" in out
    assert "+  train_steps: 300  # optimizer steps" in out
    assert "settings.environment -> environment" in err
    assert config.read_text() == OLD
    assert main(["upgrade", "-i", str(config)]) == 0
    assert config.read_text() == NEW
    assert [p.name for p in tmp_path.iterdir()] == ["old.yaml"]  # no temporary left
    assert main(["upgrade", str(config)]) == 0
    assert "already canonical" in capsys.readouterr().err


def test_settings_holding_only_the_environment_become_it() -> None:
    old = (
        "version: 1\n"
        "settings:  # run settings\n"
        "  # cadence\n"
        "  environment:\n"
        "    run_config: {save_summary_steps: 10}\n"
        "project: {name: p}\n"
    )
    text, _ = upgrade_text(old, "f.yaml")
    assert text == (
        "version: 1\n"
        "# run settings\n"
        "# cadence\n"
        "environment:\n"
        "  run_config: {save_summary_steps: 10}\n"
        "project: {name: p}\n"
    )


def test_a_regressor_whose_model_type_comes_last() -> None:
    old = "model:\n  graph: {input_layers: x, layers: [Flatten]}\n  model_type: regressor\ntrain: {}\n"  # fmt: skip
    text, _ = upgrade_text(old, "f.yaml")
    assert text == "model:\n  regressor:\n    graph: {input_layers: x, layers: [Flatten]}\ntrain: {}\n"  # fmt: skip


def test_embedding_regularizer_means_its_embeddings() -> None:
    old = "model:\n  regressor:\n    graph:\n      layers:\n        - Embedding: {input_dim: 5, output_dim: 2, regularizer: l2}\n"  # fmt: skip
    text, notes = upgrade_text(old, "f.yaml")
    assert "embeddings_regularizer: l2" in text
    assert notes == ["layers[0].Embedding.regularizer -> embeddings_regularizer"]


def test_every_key_the_policy_table_renames_is_upgraded() -> None:
    """The renames are the policy table's (plxgen.schema.legacy), not rules of upgrade's own."""
    from plxgen.schema import legacy

    renames = {(r.scope, r.key): r.to for r in legacy.KEYS if r.action == "rename"}
    assert renames == {("train", "steps"): "train_steps", ("layer", "alpha"): "negative_slope"}
    old = (
        "model:\n  classifier:\n    graph:\n      layers:\n"
        "        - Dense: {units: 4, name: alpha}\n"
        "        - LeakyReLU: {alpha: 0.2}  # Keras 2\n"
        "        - ELU: {alpha: 0.5}\n"
        "train:\n  steps: 3\n"
    )
    text, notes = upgrade_text(old, "f.yaml")
    assert text == old.replace("LeakyReLU: {alpha", "LeakyReLU: {negative_slope").replace(
        "  steps: 3", "  train_steps: 3"
    )  # ELU's alpha is ELU's own, a layer's name stays
    assert notes == [
        "train.steps -> train.train_steps",
        "model.classifier.graph.layers[1].LeakyReLU.alpha -> model.classifier.graph.layers[1].LeakyReLU.negative_slope",
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("model: {model_type: classifier, graph: {}}\n", "flow style"),
        ("model:\n  model_type: classifier\n  classifier: {}\n", "both model_type and a kind"),  # fmt: skip
        ("model:\n  model_type: estimator\n", "must be one of classifier, regressor, generator"),  # fmt: skip
        ("train:\n  steps: 1\n  train_steps: 2\n", "both steps and train_steps"),
        ("environment: {}\nsettings:\n  environment: {}\n", "merge them by hand"),
        ("model:\n  regressor:\n    graph:\n      layers:\n        - Dropout: {rate: 0.1, regularizer: l2}\n", "cannot tell which weights"),  # fmt: skip
    ],
)
def test_what_cannot_be_upgraded_safely_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    config = tmp_path / "f.yaml"
    config.write_text(text)
    assert main(["upgrade", "--write", str(config)]) == 2
    err = capsys.readouterr().err
    assert "cannot upgrade" in err and message in err
    assert config.read_text() == text


def test_a_file_yaml_cannot_read_is_a_located_diagnostic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "f.yaml"
    config.write_text("model:\n  model_type: classifier\n  model_type: regressor\n")
    assert main(["upgrade", str(config)]) == 2
    assert "f.yaml:3:3: error:" in capsys.readouterr().err


def test_each_difference_from_2017_is_noted_and_documented(tmp_path: Path) -> None:
    """`plxgen upgrade` notes the deliberate differences a file meets; each is a
    row of docs/compatibility.md."""
    from plxgen.commands.upgrade import DIFFERENCES, differences

    table = (ROOT / "docs" / "compatibility.md").read_text()
    for difference in DIFFERENCES:
        assert f"| `{difference.key}` |" in table, difference.key
    text = (ROOT / "generated_examples" / "dqn_cartpole.yaml").read_text()
    assert [note.split("]")[0] for note in differences(text)] == [
        "[huber-clip",
        "[dqn-target",
    ]
    config = tmp_path / "c.yaml"
    config.write_text(text)
    result = plxgen("upgrade", "c.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "c.yaml: note: [huber-clip] " in result.stderr


def test_binary_metrics_are_noted_only_for_the_classifiers_threshold_metrics() -> None:
    """A loss named like a metric, or Accuracy, is not a threshold metric of 2017's."""
    from plxgen.commands.upgrade import differences

    def keys(model: str) -> list[str]:
        text = f"version: 1\nmodel:\n{model}"
        return [note.split("]")[0][1:] for note in differences(text)]

    plain = "  classifier:\n    loss: {MeanSquaredError: }\n    metrics: [Accuracy]\n"
    assert keys(plain) == []
    thresholded = "  classifier:\n    metrics: [Accuracy, {Precision: {}}]\n"
    assert keys(thresholded) == ["binary-metrics"]
    regressor = "  regressor:\n    metrics: [Precision]\n"
    assert keys(regressor) == []


def test_a_truncated_normal_string_is_noted() -> None:
    from plxgen.commands.upgrade import differences

    text = (
        "version: 1\nmodel:\n  regressor:\n    graph:\n      layers:\n"
        "        - Dense: {units: 1, kernel_initializer: truncated_normal}\n"
    )
    assert [n.split("]")[0] for n in differences(text)] == ["[initializer-strings"]
    assert differences(text.replace("truncated_normal", "TruncatedNormal")) == []
