"""The generated lenet_digits script against a hand-written Keras script doing the same job.

Both train the same LeNet on the same digits records for the same number of
steps (300, batch 64, checkpoints and summaries every 100 steps) and then
evaluate on the whole eval split. The hand-written side is what the keras.io
examples do: per-example parsing, shuffle, batch, prefetch, `model.fit` with
ModelCheckpoint and TensorBoard callbacks. Runs alternate; medians compared.

    python benchmarks/train_vs_keras.py [N]
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HAND_WRITTEN = """
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
import keras
import tensorflow as tf

data, out = sys.argv[1], sys.argv[2]
keras.utils.set_random_seed(1)
features = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/class/label": tf.io.FixedLenFeature([], tf.int64),
}


def parse(record):
    example = tf.io.parse_single_example(record, features)
    image = tf.cast(tf.io.decode_png(example["image/encoded"], channels=1), tf.float32)
    image = tf.image.per_image_standardization(tf.reshape(image, [28, 28, 1]))
    return image, tf.one_hot(example["image/class/label"], 10)


train = (
    tf.data.TFRecordDataset(os.path.join(data, "digits_train.tfrecord"))
    .map(parse, num_parallel_calls=tf.data.AUTOTUNE)
    .shuffle(5000, seed=1)
    .repeat()
    .batch(64)
    .prefetch(tf.data.AUTOTUNE)
)
evaluation = (
    tf.data.TFRecordDataset(os.path.join(data, "digits_eval.tfrecord"))
    .map(parse, num_parallel_calls=tf.data.AUTOTUNE)
    .batch(128)
    .prefetch(tf.data.AUTOTUNE)
)
model = keras.Sequential(
    [
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dropout(0.4),
        keras.layers.Dense(10),
    ]
)
model.compile(
    # The config's optimizer: Adam with the 2017 epsilon and clip_gradients' default.
    optimizer=keras.optimizers.Adam(0.001, epsilon=1e-8, global_clipnorm=0.5),
    loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    metrics=["accuracy", keras.metrics.Precision(), keras.metrics.Recall(), keras.metrics.AUC()],
)
model.fit(
    train,
    epochs=3,
    steps_per_epoch=100,
    verbose=2,
    callbacks=[
        keras.callbacks.ModelCheckpoint(os.path.join(out, "ckpt.weights.h5"), save_weights_only=True, save_freq=100),
        keras.callbacks.TensorBoard(os.path.join(out, "logs"), update_freq=100),
    ],
)
results = model.evaluate(evaluation, return_dict=True, verbose=0)
with open(os.path.join(out, "metrics.json"), "w") as f:
    json.dump(results, f)
"""


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "plxgen",
                "data",
                "digits",
                "-o",
                str(work / "data" / "digits"),
            ],
            check=True,
        )
        (work / "generated_examples").mkdir()
        shutil.copy(
            ROOT / "generated_examples" / "lenet_digits.py", work / "generated_examples"
        )
        (work / "hand_written.py").write_text(HAND_WRITTEN)
        generated, hand = [], []
        for i in range(runs):
            out = work / f"generated{i}"
            generated.append(
                timed(
                    [
                        sys.executable,
                        str(work / "generated_examples" / "lenet_digits.py"),
                        "--model-dir",
                        str(out),
                    ]
                )
            )
            accuracy_g = json.loads((out / "metrics.json").read_text())["eval"][
                "accuracy"
            ]
            out = work / f"hand{i}"
            out.mkdir()
            hand.append(
                timed(
                    [
                        sys.executable,
                        str(work / "hand_written.py"),
                        str(work / "data" / "digits"),
                        str(out),
                    ]
                )
            )
            accuracy_h = json.loads((out / "metrics.json").read_text())["accuracy"]
            print(
                f"run {i}: generated {generated[-1]:.1f} s (acc {accuracy_g:.4f}), hand-written {hand[-1]:.1f} s (acc {accuracy_h:.4f})"
            )
        g, h = statistics.median(generated), statistics.median(hand)
        print(
            f"generated lenet_digits.py: median {g:.1f} s wall, {300 * 64 / g:.0f} examples/s whole-process"
        )
        print(
            f"hand-written Keras:        median {h:.1f} s wall, {300 * 64 / h:.0f} examples/s whole-process"
        )
        print(f"ratio: {g / h:.2f}x the hand-written wall time")


if __name__ == "__main__":
    main()
