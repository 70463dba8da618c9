"""`plxgen data` speed per kind (examples/s) on synthetic sources of realistic size.

Sources are made in a temporary folder: MNIST-sized IDX files (70 000 images),
CIFAR-10-sized pickles (60 000), an image folder of JPEG and PNG files, an npz
of 28x28 images and a CSV table. Each kind is converted in-process; the time
covers reading, encoding, framing and writing. The baseline, measured in the
same run, frames the MNIST records with the per-record pure-Python CRC loop.
Reports wall-clock and process CPU time (other processes on a shared machine
inflate the first).

    python benchmarks/data_convert.py [SCALE]     # SCALE 1.0 = full size
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from plxgen.data.datasets import make_dataset
from plxgen.data.tfrecord import TFRecordWriter, read_records


def _idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        struct.pack(">I", d) for d in array.shape
    )
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes(), 1))


def _digits_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sparse strokes on a black background: compresses like MNIST."""
    images = np.zeros((n, 28, 28), np.uint8)
    strokes = rng.random((n, 20, 20)) < 0.2
    images[:, 4:24, 4:24] = rng.integers(128, 256, (n, 20, 20)) * strokes
    return images


def make_sources(root: Path, scale: float) -> dict[str, str]:
    rng = np.random.default_rng(0)
    n_train, n_test = int(60000 * scale), int(10000 * scale)
    mnist = root / "mnist"
    mnist.mkdir()
    _idx(mnist / "train-images-idx3-ubyte.gz", _digits_like(rng, n_train))
    _idx(mnist / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, n_train))
    _idx(mnist / "t10k-images-idx3-ubyte.gz", _digits_like(rng, n_test))
    _idx(mnist / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, n_test))

    cifar = root / "cifar"
    cifar.mkdir()
    per_batch = int(10000 * scale)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        # Smooth gradients plus noise: compresses roughly like photographs.
        base = np.linspace(0, 200, 3072, dtype=np.float32)
        data = (base + rng.normal(0, 20, (per_batch, 3072))).clip(0, 255)
        batch = {
            "data": data.astype(np.uint8),
            "labels": list(rng.integers(0, 10, per_batch).tolist()),
        }
        (cifar / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {"label_names": [f"class{i}" for i in range(10)]}
    (cifar / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))

    images = root / "images"
    import tensorflow as tf  # only to make JPEG files for the source folder

    n_files = int(4000 * scale)
    for i in range(n_files):
        folder = images / f"class{i % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = (
            (
                np.linspace(0, 255, 128 * 128 * 3).reshape(128, 128, 3)
                + rng.normal(0, 10, (128, 128, 3))
            )
            .clip(0, 255)
            .astype(np.uint8)
        )
        if i % 2:
            (folder / f"{i}.jpg").write_bytes(
                tf.io.encode_jpeg(pixels, quality=90).numpy()
            )
        else:
            (folder / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())

    np.savez(
        root / "d.npz", x=_digits_like(rng, n_train), y=rng.integers(0, 10, n_train)
    )

    rows = int(100000 * scale)
    table = rng.normal(size=(rows, 10))
    text = io.StringIO()
    text.write(",".join(f"f{i}" for i in range(10)) + ",label\n")
    for row, label in zip(table, rng.integers(0, 3, rows)):
        text.write(",".join(f"{v:.6f}" for v in row) + f",{label}\n")
    (root / "d.csv").write_text(text.getvalue())
    return {
        "mnist": str(mnist),
        "cifar10": str(cifar),
        "images": str(images),
        "npz": str(root / "d.npz"),
        "csv": str(root / "d.csv"),
    }


def timed(kind: str, source: str, out: Path) -> tuple[int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    make_dataset(kind, source, out, force=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    count = sum(1 for f in out.glob("*.tfrecord") for _ in read_records(f))
    return count, wall, cpu


def main() -> None:
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sources = make_sources(root, scale)
        results = {}
        for kind, source in sources.items():
            count, wall, cpu = timed(kind, source, root / "out" / kind)
            results[kind] = (count, wall, cpu)
            print(
                f"{kind:8} {count:7d} examples  {count / wall:9,.0f}/s wall  {count / cpu:9,.0f}/s cpu"
            )
        # Baseline: the same MNIST records framed one by one with the pure-Python CRC.
        records = [
            r
            for f in sorted((root / "out" / "mnist").glob("*.tfrecord"))
            for r in read_records(f)
        ]
        cpu = time.process_time()
        with TFRecordWriter(root / "baseline.tfrecord") as writer:
            for record in records:
                writer.write(record)
        slow = time.process_time() - cpu
        cpu = time.process_time()
        with TFRecordWriter(root / "batched.tfrecord") as writer:
            for start in range(0, len(records), 512):
                writer.write_many(records[start : start + 512])
        fast = time.process_time() - cpu
        assert (root / "baseline.tfrecord").read_bytes() == (
            root / "batched.tfrecord"
        ).read_bytes()
        print(
            f"framing {len(records)} MNIST records: per-record CRC {slow:.2f} s cpu, batched {fast:.2f} s cpu ({slow / fast:.1f}x)"
        )


if __name__ == "__main__":
    main()
