"""Export and predict: plain TensorFlow serves the export, in the order predict wrote.

A script trains a few steps on the digits, writes its predictions and exports;
the SavedModel is then loaded with `tf.saved_model.load` (no Keras, no plxgen)
and its `serving_default` signature is called on the raw eval images, which
must give exactly what `predict` wrote, row for row.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, plxgen, train

tf = pytest.importorskip("tensorflow")
np = pytest.importorskip("numpy")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """generated_examples/ beside data/digits, as in the repository."""
    root = tmp_path_factory.mktemp("export")
    plxgen("data", "digits", "-o", root / "data" / "digits", check=True)
    shutil.copytree(ROOT / "generated_examples", root / "generated_examples")
    return root


def run(workspace: Path, name: str, model_dir: Path, *args: str) -> None:
    """Run generated_examples/NAME.py in the workspace; it must succeed."""
    script = workspace / "generated_examples" / f"{name}.py"
    result = train(script, "--model-dir", str(model_dir), *args, cwd=workspace)
    assert result.returncode == 0, result.stderr[-3000:]


def raw_eval_images(workspace: Path) -> Any:
    """The eval images as the records hold them: decoded uint8, in file order."""
    records = tf.data.TFRecordDataset(
        str(workspace / "data" / "digits" / "digits_eval.tfrecord")
    )
    encoded = [
        tf.io.parse_single_example(
            r, {"image/encoded": tf.io.FixedLenFeature([], tf.string)}
        )["image/encoded"]
        for r in records
    ]
    return tf.stack([tf.io.decode_png(e, channels=1) for e in encoded])


def trained(workspace: Path, name: str) -> Path:
    model_dir = workspace / "runs" / name
    run(workspace, name, model_dir, "--train-steps", "3", "--schedule", "train")
    run(workspace, name, model_dir, "--schedule", "predict")
    run(workspace, name, model_dir, "--schedule", "export")
    return model_dir


def test_classifier_export_serves_what_predict_wrote(workspace: Path) -> None:
    model_dir = trained(workspace, "lenet_digits")
    report = json.loads((model_dir / "metrics.json").read_text())
    assert report["export"] == os.path.join("export", "3")
    export = model_dir / "export" / "3"

    loaded = tf.saved_model.load(str(export))
    serving = loaded.signatures["serving_default"]
    _, inputs = serving.structured_input_signature
    assert list(inputs) == ["image"] and inputs["image"].dtype == tf.uint8
    images = raw_eval_images(workspace)
    outputs = serving(image=images)
    assert set(outputs) == {"classes", "scores"}

    scores = np.load(model_dir / "predictions" / "predictions.npy")
    lines = [json.loads(line) for line in (model_dir / "predictions" / "predictions.jsonl").open()]
    assert scores.shape == (len(lines), 10) == tuple(outputs["scores"].shape)
    np.testing.assert_allclose(outputs["scores"].numpy(), scores, atol=1e-5)
    np.testing.assert_allclose(scores, [line["scores"] for line in lines], rtol=1e-6)
    assert outputs["classes"].numpy().tolist() == [line["classes"] for line in lines]
    # The batch size is free: one example gives the first row.
    one = serving(image=images[:1])
    np.testing.assert_allclose(one["scores"].numpy(), scores[:1], atol=1e-5)

    # model.keras beside it holds the same network (its outputs are logits).
    import keras

    model = keras.models.load_model(export / "model.keras")
    standardized = tf.image.per_image_standardization(tf.cast(images[:8], "float32"))
    logits = model({"image": standardized}, training=False)
    np.testing.assert_allclose(tf.nn.softmax(logits).numpy(), scores[:8], atol=1e-5)


def test_export_replaces_an_earlier_export_of_the_same_step(workspace: Path) -> None:
    model_dir = workspace / "runs" / "lenet_digits"
    if not (model_dir / "export" / "3").is_dir():
        trained(workspace, "lenet_digits")
    stale = model_dir / "export" / "3" / "stale.txt"
    stale.write_text("left from an earlier export")
    run(workspace, "lenet_digits", model_dir, "--schedule", "export")
    assert not stale.exists()
    assert (model_dir / "export" / "3" / "saved_model.pb").is_file()
    assert [p.name for p in (model_dir / "export").iterdir()] == ["3"]


@pytest.mark.slow
def test_regressor_export_serves_what_predict_wrote(workspace: Path) -> None:
    model_dir = trained(workspace, "digits_regressor")
    serving = tf.saved_model.load(str(model_dir / "export" / "3")).signatures[
        "serving_default"
    ]
    outputs = serving(image=raw_eval_images(workspace))
    predictions = np.load(model_dir / "predictions" / "predictions.npy")
    assert predictions.shape[1] == 1
    np.testing.assert_allclose(outputs["predictions"].numpy(), predictions, atol=1e-5)
