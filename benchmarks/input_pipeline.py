"""The generated input pipeline against a plain per-example tf.data pipeline.

Both read the same TF-slim image records (28x28x1 digits, scikit-learn's
images tiled to N examples) and deliver the same batches to nobody: the
benchmark iterates the datasets only, so it measures the input pipeline alone.

- generated: the `train_dataset` of a script compiled from a lenet config
  (shuffle 5000 + 3 * 64 serialized records, batch 64, then `parse_example`
  on the batch, Cast to float32, one-hot labels, prefetch).
- plain: what a hand-written script does: `map(parse_single_example + decode,
  AUTOTUNE)` per example, shuffle, batch, prefetch.

Records are written once per image encoding (`raw` uint8 bytes, `png`); the
generated side is also measured with `cache: true`. Rounds alternate; the
medians of examples/s and their ratio are printed.

    python benchmarks/input_pipeline.py [--examples N] [--rounds R] [--batches B]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tensorflow as tf  # noqa: E402

from plxgen.compiler import compile_config  # noqa: E402

BATCH = 64
SHUFFLE = 5000 + 3 * BATCH


def write_records(folder: Path, n: int, encoding: str) -> None:
    """n digits as TF-slim records with raw or png images, and a meta_data.json."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.kron(digits.images / 16.0 * 255, np.ones((3, 3)))  # 24x24
    images = np.pad(images, ((0, 0), (2, 2), (2, 2))).astype(np.uint8)[..., None]
    folder.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(folder / "train.tfrecord")) as writer:
        for i in range(n):
            image = images[i % len(images)]
            data = (
                image.tobytes()
                if encoding == "raw"
                else tf.io.encode_png(image).numpy()
            )
            feature = {
                "image/encoded": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[data])
                ),
                "image/format": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[encoding.encode()])
                ),
                "image/class/label": tf.train.Feature(
                    int64_list=tf.train.Int64List(
                        value=[int(digits.target[i % len(images)])]
                    )
                ),
            }
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writer.write(example.SerializeToString())
    meta = {
        "height": 28,
        "width": 28,
        "channels": 1,
        "num_classes": 10,
        "image_format": encoding,
    }
    (folder / "meta_data.json").write_text(json.dumps(meta))


def generated(folder: Path, name: str, cache: bool) -> Any:
    """train_dataset of the script compiled from generated_examples/lenet.yaml, pointed at folder."""
    config = yaml.safe_load((ROOT / "generated_examples" / "lenet.yaml").read_text())
    ((_, spec),) = config["train"]["data_pipeline"].items()
    spec.update(
        data_files=["train.tfrecord"],
        meta_data_file="meta_data.json",
        num_epochs=1000,
        cache=cache,
    )
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    script = folder / f"{name}.py"
    script.write_text(compile_config(path, script, []))
    module_spec = importlib.util.spec_from_file_location(name, script)
    assert module_spec and module_spec.loader
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.train_dataset(seed=1)


def plain(folder: Path, encoding: str) -> Any:
    """The per-example pipeline of the tf.data guide, producing the same batches."""
    features = {
        "image/encoded": tf.io.FixedLenFeature([], tf.string),
        "image/class/label": tf.io.FixedLenFeature([], tf.int64),
    }

    def parse(record: Any) -> Any:
        example = tf.io.parse_single_example(record, features)
        if encoding == "raw":
            image = tf.reshape(
                tf.io.decode_raw(example["image/encoded"], tf.uint8), [28, 28, 1]
            )
        else:
            image = tf.reshape(
                tf.io.decode_png(example["image/encoded"], channels=1), [28, 28, 1]
            )
        label = tf.one_hot(example["image/class/label"], 10)
        return {"image": tf.cast(image, tf.float32)}, label

    return (
        tf.data.TFRecordDataset(str(folder / "train.tfrecord"))
        .map(parse, num_parallel_calls=tf.data.AUTOTUNE)
        .shuffle(SHUFFLE, seed=1)
        .repeat()
        .batch(BATCH)
        .prefetch(tf.data.AUTOTUNE)
    )


def rate(iterator: Any, batches: int) -> float:
    """Examples per second over `batches` batches of an open iterator."""
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * BATCH / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{args.examples} records, batch {BATCH}, {args.rounds} alternating rounds of "
              f"{args.batches} batches; examples/s (median)")  # fmt: skip
        print(
            f"{'records':8} {'pipeline':22} {'generated':>10} {'plain':>10} {'ratio':>6}"
        )
        for encoding in ("raw", "png"):
            folder = Path(tmp) / encoding
            write_records(folder, args.examples, encoding)
            sides = {
                "generated": iter(generated(folder, f"gen_{encoding}", cache=False)),
                "generated, cache": iter(
                    generated(folder, f"cache_{encoding}", cache=True)
                ),
                "plain": iter(plain(folder, encoding)),
            }
            # Warm up: trace, fill the shuffle buffers, fill the cache (one epoch).
            for iterator in sides.values():
                rate(iterator, args.examples // BATCH + SHUFFLE // BATCH)
            rates: dict[str, list[float]] = {name: [] for name in sides}
            for _ in range(args.rounds):
                for name, iterator in sides.items():
                    rates[name].append(rate(iterator, args.batches))
            base = statistics.median(rates["plain"])
            for name in ("generated", "generated, cache"):
                ours = statistics.median(rates[name])
                print(
                    f"{encoding:8} {name:22} {ours:10.0f} {base:10.0f} {ours / base:5.2f}x"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
