"""Tabular data end to end: `plxgen data csv|npz` -> the printed blocks -> TFRecordTabularPipeline."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

from plxgen.data.datasets import resolve_labels
from tests.conftest import plxgen, train

pytest.importorskip("tensorflow")
datasets = pytest.importorskip("sklearn.datasets")


def _sections(printed: str) -> dict[str, str]:
    """The printed YAML split into its top-level keys' text blocks (as a user copies them)."""
    found: dict[str, list[str]] = {}
    key = ""
    for line in printed.splitlines():
        if not line.startswith(" "):
            key = line.rstrip(":")
            found[key] = []
        else:
            found[key].append(line)
    return {k: "\n".join(lines) for k, lines in found.items()}


def _paste(printed: str, model: str, train_steps: int) -> str:
    """An experiment file with the printed blocks pasted under train and eval."""
    blocks = _sections(printed)
    return (
        "version: 1\nproject: {name: tabular}\n"
        + textwrap.dedent(model)
        + f"train:\n  train_steps: {train_steps}\n  data_pipeline:\n"
        + textwrap.indent(blocks["train"], "  ")
        + "\neval:\n  data_pipeline:\n"
        + textwrap.indent(blocks["eval"], "  ")
        + "\n"
    )


REGRESSOR = """\
model:
  regressor:
    loss: MeanSquaredError
    optimizer: {Adam: {learning_rate: 0.05}}
    metrics: [MeanAbsoluteError]
    graph:
      input_layers: x
      layers:
        - Dense: {units: 16, activation: relu}
        - Dense: {units: 1}
"""


def test_csv_to_an_exported_model(tmp_path: Path) -> None:
    bunch = datasets.load_diabetes()
    rows = [",".join([*bunch.feature_names, "target"])]
    # Disease progression written as whole numbers: 214 distinct values in 442 rows.
    rows += [
        ",".join([*(repr(float(v)) for v in features), str(int(target))])
        for features, target in zip(bunch.data, bunch.target)
    ]
    (tmp_path / "diabetes.csv").write_text("\n".join(rows) + "\n")

    made = plxgen(
        "data", "csv", "diabetes.csv", "--label", "target", "-o", "data/diabetes",
        cwd=tmp_path, check=True,
    )  # fmt: skip
    assert "note: label 'target': float values (214 distinct whole numbers in 442 rows" in made.stderr
    assert "--label-type class makes them classes" in made.stderr
    blocks = yaml.safe_load(made.stdout)
    assert blocks == {
        "train": {
            "TFRecordTabularPipeline": {
                "data_files": ["data/diabetes/csv_train.tfrecord"],
                "meta_data_file": "data/diabetes/meta_data.json",
                "num_epochs": 1,
            }
        },
        "eval": {
            "TFRecordTabularPipeline": {
                "data_files": ["data/diabetes/csv_eval.tfrecord"],
                "meta_data_file": "data/diabetes/meta_data.json",
                "shuffle": False,
            }
        },
    }

    (tmp_path / "diabetes.yaml").write_text(_paste(made.stdout, REGRESSOR, 4))
    plxgen("compile", "diabetes.yaml", "-o", "diabetes.py", cwd=tmp_path, check=True)
    script = (tmp_path / "diabetes.py").read_text()
    assert "def tabular_dataset(" in script and '{"x": example["features"]}' in script
    train(tmp_path / "diabetes.py", check=True)
    metrics = json.loads((tmp_path / "tabular" / "metrics.json").read_text())
    assert metrics["global_step"] == 4
    assert set(metrics["eval"]) == {"loss", "mean_absolute_error"}
    train(tmp_path / "diabetes.py", "--schedule", "export", check=True)
    assert [p.name for p in (tmp_path / "tabular" / "export").iterdir()] == ["4"]


CLASSIFIER = """\
model:
  classifier:
    loss: SoftmaxCrossEntropy
    optimizer: {Adam: {learning_rate: 0.01}}
    metrics: [Accuracy]
    n_classes: 3
    graph:
      input_layers: x
      layers:
        - Dense: {units: 3}
"""


@pytest.fixture(scope="module")
def classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An npz of 3 classes (N x 4 features) converted, and a classifier compiled on it."""
    root = tmp_path_factory.mktemp("classes")
    rng = np.random.default_rng(3)
    y = np.arange(300) % 3
    x = rng.normal(size=(300, 4)) + y[:, np.newaxis]
    np.savez(root / "blobs.npz", x=x, y=y)
    made = plxgen("data", "npz", "blobs.npz", "-o", "blobs", cwd=root, check=True)
    assert "note: label 'y': 3 classes, ids 0 to 2 (3 distinct whole numbers in 300 rows" in made.stderr
    (root / "blobs.yaml").write_text(_paste(made.stdout, CLASSIFIER, 3))
    plxgen("compile", "blobs.yaml", "-o", "blobs.py", cwd=root, check=True)
    return root


def test_npz_classes_train(classes: Path) -> None:
    train(classes / "blobs.py", "--model-dir", classes / "run", check=True)
    metrics = json.loads((classes / "run" / "metrics.json").read_text())
    assert metrics["global_step"] == 3 and "accuracy" in metrics["eval"]


@pytest.mark.parametrize(
    "damage, message",
    [
        ("missing", "data file not found: "),
        ("truncated", "corrupt TFRecord file "),
        ("values", "the labels are float32 values, a classifier needs class ids"),
        ("images", "not tabular records"),
    ],
)
def test_bad_tabular_data_is_one_line(
    classes: Path, tmp_path: Path, damage: str, message: str
) -> None:
    data = tmp_path / "blobs"
    data.mkdir()
    for name in ("npz_train.tfrecord", "npz_eval.tfrecord", "meta_data.json"):
        (data / name).write_bytes((classes / "blobs" / name).read_bytes())
    records, meta_file = data / "npz_train.tfrecord", data / "meta_data.json"
    meta = json.loads(meta_file.read_text())
    if damage == "missing":
        records.unlink()
    elif damage == "truncated":
        records.write_bytes(records.read_bytes()[:-7])
    elif damage == "values":
        meta["label_dtype"] = "float32"
    else:
        del meta["record_format"]
    meta_file.write_text(json.dumps(meta))
    (tmp_path / "blobs.py").write_text((classes / "blobs.py").read_text())
    ran = train(tmp_path / "blobs.py")
    assert ran.returncode == 1
    last = ran.stderr.strip().splitlines()[-1]
    assert last.startswith("blobs.py: error: ") and message in last, ran.stderr[-2000:]


@pytest.mark.parametrize(
    "raw, label_type, classes, decision",
    [
        # Few whole numbers relative to the rows: classes.
        (np.arange(400) % 4, "auto", 4, "4 classes, ids 0 to 3 (4 distinct whole numbers in 400 rows"),
        # A binary label written as floats is still two classes.
        (np.array([0.0, 1.0, 1.0, 0.0]), "auto", 2, "2 classes"),
        # Many distinct whole numbers are values, and the output says why.
        (np.arange(100) % 30, "auto", None, "too many for classes"),
        # 10 distinct values in 100 rows: not under 5% of the rows.
        (np.arange(100) % 10, "auto", None, "10 distinct whole numbers in 100 rows: too many"),
        (np.arange(100) % 30, "class", 30, "(--label-type class)"),
        (np.arange(8) % 2, "float", None, "float values (--label-type float)"),
        (np.array([0.5, 1.5]), "auto", None, "float values (not all whole numbers)"),
    ],
)
def test_label_type_auto_decides_and_says_so(
    raw: np.ndarray, label_type: str, classes: int | None, decision: str
) -> None:
    labels = resolve_labels(raw, label_type, "d.csv")
    assert (None if labels.classes is None else len(labels.classes)) == classes
    assert decision in labels.decision


def test_image_data_prints_the_image_pipeline_blocks(tmp_path: Path) -> None:
    made = plxgen("data", "digits", "-o", tmp_path / "digits", "--name", "d", cwd=tmp_path, check=True)
    assert yaml.safe_load(made.stdout) == {
        "train": {
            "TFRecordImagePipeline": {
                "data_files": ["digits/d_train.tfrecord"],
                "meta_data_file": "digits/meta_data.json",
                "num_epochs": 1,
            }
        },
        "eval": {
            "TFRecordImagePipeline": {
                "data_files": ["digits/d_eval.tfrecord"],
                "meta_data_file": "digits/meta_data.json",
                "shuffle": False,
            }
        },
    }
    assert "wrote digits/meta_data.json" not in made.stdout
    assert f"wrote {tmp_path / 'digits' / 'meta_data.json'}" in made.stderr


def test_data_blocks_are_relative_to_the_config_dir(tmp_path: Path) -> None:
    """--config-dir: the blocks' paths are the ones a config in that folder needs."""
    (tmp_path / "exp").mkdir()
    made = plxgen(
        "data", "digits", "-o", "data/digits", "--config-dir", "exp", cwd=tmp_path, check=True
    )
    blocks = yaml.safe_load(made.stdout)
    train = blocks["train"]["TFRecordImagePipeline"]
    assert train["data_files"] == ["../data/digits/digits_train.tfrecord"]
    assert train["meta_data_file"] == "../data/digits/meta_data.json"
    for path in [*train["data_files"], train["meta_data_file"]]:
        assert (tmp_path / "exp" / path).is_file()


def test_an_image_pipeline_on_tabular_records_names_the_right_one(
    classes: Path,
) -> None:
    config = """\
version: 1
project: {name: wrong_pipeline}
model:
  classifier:
    loss: SoftmaxCrossEntropy
    optimizer: {Adam: {learning_rate: 0.01}}
    n_classes: 3
    graph:
      input_layers: image
      layers:
        - Flatten:
        - Dense: {units: 3}
train:
  data_pipeline:
    TFRecordImagePipeline:
      data_files: [blobs/npz_train.tfrecord]
      meta_data_file: blobs/meta_data.json
"""
    (classes / "wrong.yaml").write_text(config)
    plxgen("compile", "wrong.yaml", "-o", "wrong.py", cwd=classes, check=True)
    ran = train(classes / "wrong.py", "--model-dir", classes / "wrong")
    last = ran.stderr.strip().splitlines()[-1]
    assert ran.returncode == 1 and "Traceback" not in ran.stderr, ran.stderr[-2000:]
    assert "tabular records: read them with TFRecordTabularPipeline" in last
