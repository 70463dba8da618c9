"""The generated lenet_digits script against a hand-written Keras script doing the same job.

Both train the same LeNet on the same digits records for the same number of
steps (300, batch 64, checkpoints and summaries every 100 steps) and then
evaluate on the whole eval split. The hand-written side is what the keras.io
examples do: per-example parsing, shuffle, batch, prefetch, `model.fit` with
ModelCheckpoint and TensorBoard callbacks. The two sides alternate, each run
in a fresh process; medians are compared.

Printed per side: whole-process wall time and CPU time (user + system; on a
shared machine CPU time is the steadier figure), steady training throughput
(examples/s between step 100 and step 300, from each script's own log),
time to first step (whole-process wall time of a run that trains one step),
peak memory (the child's ru_maxrss), and eval accuracy. Then the input
pipeline alone: batches of 64 from each side's training pipeline, examples/s.

    python benchmarks/train_vs_keras.py [N]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS, BATCH = 300, 64

HAND_WRITTEN = """
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
import keras
import tensorflow as tf

data, out, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
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
if out == "--pipeline":
    iterator = iter(train)
    next(iterator)
    start = time.perf_counter()
    for _ in range(steps):
        next(iterator)
    print(json.dumps({"examples_per_s": steps * 64 / (time.perf_counter() - start)}))
    sys.exit(0)
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


class Clock(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        print(f"CLOCK {(epoch + 1) * 100} {time.time():.3f}", file=sys.stderr, flush=True)


model.fit(
    train,
    epochs=max(1, steps // 100),
    steps_per_epoch=min(steps, 100),
    verbose=2,
    callbacks=[
        keras.callbacks.ModelCheckpoint(os.path.join(out, "ckpt.weights.h5"), save_weights_only=True, save_freq=100),
        keras.callbacks.TensorBoard(os.path.join(out, "logs"), update_freq=100),
        Clock(),
    ],
)
if steps > 1:
    results = model.evaluate(evaluation, return_dict=True, verbose=0)
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(results, f)
"""

GENERATED_PIPELINE = """
import importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("generated", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
steps = int(sys.argv[2])
iterator = iter(module.train_dataset(seed=1))
next(iterator)
start = time.perf_counter()
for _ in range(steps):
    next(iterator)
print(json.dumps({"examples_per_s": steps * 64 / (time.perf_counter() - start)}))
"""


def timed(command: list[str]) -> dict[str, float | str]:
    """Run a child with os.wait4 so its own rusage (CPU, ru_maxrss) is known."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode:
        sys.exit(f"{' '.join(command)} failed ({child.returncode}):\n{stderr[-3000:]}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "stdout": stdout,
        "stderr": stderr,
    }


def generated_throughput(stderr: str, batch: int = BATCH) -> float:
    """Examples/s between the step-100 and step-300 log lines of a generated script."""
    times = {}
    for line in stderr.splitlines():
        found = re.match(r"(\S+ \S+) INFO step (\d+)/", line)
        if found:
            stamp = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f")
            times[int(found.group(2))] = stamp.timestamp()
    return 200 * batch / (times[300] - times[100])


def hand_throughput(stderr: str) -> float:
    times = {int(s): float(t) for s, t in re.findall(r"CLOCK (\d+) (\S+)", stderr)}
    return 200 * BATCH / (times[300] - times[100])


def show(name: str, values: list[float], unit: str, fmt: str = ".1f") -> str:
    return f"{name}: median {statistics.median(values):{fmt}} {unit} (runs: {', '.join(f'{v:{fmt}}' for v in values)})"


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "data" / "digits"
        subprocess.run(
            [python, "-m", "plxgen", "data", "digits", "-o", str(data)],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        (work / "generated_examples").mkdir()
        script = work / "generated_examples" / "lenet_digits.py"
        shutil.copy(ROOT / "generated_examples" / "lenet_digits.py", script)
        hand = work / "hand_written.py"
        hand.write_text(HAND_WRITTEN)
        pipeline = work / "generated_pipeline.py"
        pipeline.write_text(GENERATED_PIPELINE)

        sides = ("generated", "hand-written")
        full: dict[str, list[dict[str, float | str]]] = {s: [] for s in sides}
        first: dict[str, list[float]] = {s: [] for s in sides}
        feed: dict[str, list[float]] = {s: [] for s in sides}
        accuracy: dict[str, list[float]] = {s: [] for s in sides}
        throughput: dict[str, list[float]] = {s: [] for s in sides}
        for i in range(runs):
            order = sides if i % 2 == 0 else sides[::-1]
            for side in order:
                out = work / f"{side}{i}"
                out.mkdir()
                if side == "generated":
                    result = timed([python, str(script), "--model-dir", str(out)])
                    metrics = json.loads((out / "metrics.json").read_text())["eval"]
                    throughput[side].append(generated_throughput(str(result["stderr"])))
                    one = timed(
                        [python, str(script), "--model-dir", str(out / "one"),
                         "--train-steps", "1", "--schedule", "train"]
                    )  # fmt: skip
                    rate = timed([python, str(pipeline), str(script), "200"])
                else:
                    result = timed([python, str(hand), str(data), str(out), str(STEPS)])
                    metrics = json.loads((out / "metrics.json").read_text())
                    throughput[side].append(hand_throughput(str(result["stderr"])))
                    (out / "one").mkdir()
                    one = timed([python, str(hand), str(data), str(out / "one"), "1"])
                    rate = timed([python, str(hand), str(data), "--pipeline", "200"])
                full[side].append(result)
                accuracy[side].append(float(metrics["accuracy"]))
                first[side].append(float(one["wall"]))
                feed[side].append(json.loads(str(rate["stdout"]))["examples_per_s"])
                print(
                    f"run {i} {side:12}: {result['wall']:.1f} s wall, {result['cpu']:.1f} s CPU, "
                    f"{throughput[side][-1]:.0f} ex/s, first step {first[side][-1]:.1f} s, "
                    f"{result['rss_mb']:.0f} MB, eval accuracy {accuracy[side][-1]:.4f}, "
                    f"pipeline {feed[side][-1]:.0f} ex/s",
                    flush=True,
                )

        def median(side: str, key: str) -> float:
            return statistics.median(float(r[key]) for r in full[side])

        print(
            f"\n{runs} runs per side, alternating; medians ({STEPS} steps of {BATCH} + eval):"
        )
        for side in sides:
            print(
                f"{side:12}: wall {median(side, 'wall'):.1f} s, CPU {median(side, 'cpu'):.1f} s, "
                f"training {statistics.median(throughput[side]):.0f} ex/s, "
                f"first step {statistics.median(first[side]):.1f} s, "
                f"peak RSS {median(side, 'rss_mb'):.0f} MB, "
                f"eval accuracy {statistics.median(accuracy[side]):.4f}, "
                f"input pipeline alone {statistics.median(feed[side]):.0f} ex/s"
            )
        g, h = "generated", "hand-written"
        print(f"ratio generated/hand-written: wall {median(g, 'wall') / median(h, 'wall'):.2f}x, "
              f"CPU {median(g, 'cpu') / median(h, 'cpu'):.2f}x, "
              f"time to first step {statistics.median(first[g]) / statistics.median(first[h]):.2f}x, "
              f"throughput {statistics.median(throughput[g]) / statistics.median(throughput[h]):.2f}x, "
              f"peak memory {median(g, 'rss_mb') / median(h, 'rss_mb'):.2f}x, "
              f"pipeline {statistics.median(feed[g]) / statistics.median(feed[h]):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
