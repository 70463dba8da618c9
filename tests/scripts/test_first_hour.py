"""A new user's first run, as the docs tell it: make the data, paste the blocks, train.

`plxgen data` prints the data_pipeline blocks for an experiment file in
--config-dir; pasted as told, they compile and train. Its `num_epochs: 1` ends
the run before `train_steps`, and the run says so in a warning that names both
numbers and the key to change. `--schedule predict --data FILE` then predicts
the examples of that file alone, each line with the serving signature's keys
and the class's name.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import tensorflow as tf
import yaml

from tests.conftest import plxgen, train

MODEL = """\
version: 1
project: {name: first}
environment:
  run_config: {tf_random_seed: 3}
model:
  classifier:
    loss: SoftmaxCrossEntropy
    optimizer: {Adam: {learning_rate: 1e-3}}
    n_classes: 10
    graph:
      input_layers: image
      layers:
        - Flatten:
        - Dense: {units: 10}
"""


def _experiment(blocks: dict, train_steps: int) -> str:
    """MODEL with the printed blocks pasted where the message says, and a batch size."""
    (train_pipe,) = blocks["train"].values()
    (eval_pipe,) = blocks["eval"].values()
    for pipe in (train_pipe, eval_pipe):
        pipe["batch_size"] = 64
        pipe["feature_processors"] = {
            "image": {"input_layers": ["image"], "layers": [{"Cast": {"dtype": "float32"}}]}
        }
    sections = {
        "train": {"train_steps": train_steps, "data_pipeline": blocks["train"]},
        "eval": {"data_pipeline": blocks["eval"]},
    }
    return MODEL + yaml.safe_dump(sections, sort_keys=False)


def test_pasted_blocks_train_and_warn_where_num_epochs_ends_the_run(tmp_path: Path) -> None:
    (tmp_path / "exp").mkdir()
    made = plxgen(
        "data", "digits", "-o", "data/digits", "--config-dir", "exp", cwd=tmp_path, check=True
    )
    assert "num_epochs: 1 is one pass over the data" in made.stderr
    blocks = yaml.safe_load(made.stdout)
    assert blocks["train"]["TFRecordImagePipeline"]["num_epochs"] == 1
    (tmp_path / "exp" / "first.yaml").write_text(_experiment(blocks, 400))
    plxgen("compile", "exp/first.yaml", "-o", "exp/first.py", cwd=tmp_path, check=True)

    # Run from another folder: the config's paths are the script's folder's.
    ran = train(tmp_path / "exp" / "first.py", "--model-dir", "model", cwd=tmp_path, check=True)
    meta = json.loads((tmp_path / "data" / "digits" / "meta_data.json").read_text())
    steps = math.ceil(meta["num_samples"]["train"] / 64)  # one epoch, the last batch short
    warning = (
        f"the training data ran out at step {steps} of 400: train.data_pipeline.num_epochs "
        f"is 1 (about {math.ceil(400 / steps)} would reach step 400)"
    )
    # (each log line begins with its time)
    assert [line[24:] for line in ran.stderr.splitlines() if "ran out" in line] == [
        f"WARNING {warning}"
    ]
    report = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert report["global_step"] == steps

    # --data: predict the examples of this file, not the config's eval files.
    some = tmp_path / "some.tfrecord"
    with tf.io.TFRecordWriter(str(some)) as writer:
        for record in tf.data.TFRecordDataset(str(tmp_path / "data/digits/digits_eval.tfrecord")).take(50):
            writer.write(record.numpy())
    script = tmp_path / "exp" / "first.py"
    args = ("--model-dir", "model", "--schedule", "predict", "--data", some)
    train(script, *args, cwd=tmp_path, check=True)
    lines = [json.loads(line) for line in (tmp_path / "model/predictions/predictions.jsonl").open()]
    assert len(lines) == 50
    for line in lines:
        assert set(line) == {"classes", "class_name", "scores"}
        assert line["class_name"] == meta["classes"][line["classes"]]
        assert max(range(10), key=line["scores"].__getitem__) == line["classes"]

    wrong = train(script, "--model-dir", "model", "--data", some, cwd=tmp_path)
    assert wrong.returncode == 2
    assert wrong.stderr.splitlines()[-1].endswith(
        "error: --data goes with --schedule evaluate or predict"
    )
