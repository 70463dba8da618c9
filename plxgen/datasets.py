"""`plxgen data KIND`: convert a data set into TF-slim style TFRecord files.

Every kind writes `KIND_train.tfrecord`, `KIND_eval.tfrecord` and
`meta_data.json` into the output folder; the output is byte-for-byte
deterministic for the same seed and eval fraction.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from plxgen.errors import UserError
from plxgen.tfrecord import TFRecordWriter, encode_png, example_bytes, write_file_atomic

META_FILE = "meta_data.json"
SPLITS = ("train", "eval")


@dataclass(frozen=True)
class Converted:
    """A converted data set in memory: serialised examples per split plus metadata."""

    records: dict[str, list[bytes]]
    meta: dict[str, Any]


Converter = Callable[[str | None, float, int], Converted]


def output_names(kind: str) -> list[str]:
    """The file names `plxgen data KIND` writes, in the order it writes them."""
    # meta_data.json goes last: a folder without it is recognisably incomplete.
    return [f"{kind}_{split}.tfrecord" for split in SPLITS] + [META_FILE]


def split_indices(
    labels: np.ndarray, eval_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split example indices into shuffled (train, eval), stratified by label."""
    total = len(labels)
    if total < 2:
        raise UserError(f"cannot split {total} example(s) into train and eval")
    # Round half up, but keep at least one example on each side.
    n_eval = min(max(math.floor(total * eval_fraction + 0.5), 1), total - 1)
    classes, counts = np.unique(labels, return_counts=True)
    # Largest-remainder quotas: each class gets its share of n_eval and the
    # quotas add up to exactly n_eval (ties go to the smaller class value).
    shares = counts * n_eval / total
    quotas = np.floor(shares).astype(np.int64)
    leftover = n_eval - int(quotas.sum())
    order = np.lexsort((classes, -(shares - quotas)))
    quotas[order[:leftover]] += 1
    rng = np.random.default_rng(seed)
    train_parts, eval_parts = [], []
    for value, quota in zip(classes, quotas):
        members = rng.permutation(np.flatnonzero(labels == value))
        eval_parts.append(members[:quota])
        train_parts.append(members[quota:])
    # Shuffle across classes so neither split is sorted by label.
    train = rng.permutation(np.concatenate(train_parts))
    evaluation = rng.permutation(np.concatenate(eval_parts))
    return train, evaluation


def _bilinear_weights(size_in: int, size_out: int) -> tuple[np.ndarray, int]:
    """Integer bilinear weights (size_out x size_in) with half-pixel centres, and their row sum."""
    # Source coordinate (d + 0.5) * in / out - 0.5, kept as the exact fraction
    # num / denom so the resize is integer arithmetic and bit-reproducible.
    denom = 2 * size_out
    weights = np.zeros((size_out, size_in), np.int64)
    for d in range(size_out):
        num = min(max((2 * d + 1) * size_in - size_out, 0), (size_in - 1) * denom)
        low, frac = divmod(num, denom)
        weights[d, low] += denom - frac
        weights[d, min(low + 1, size_in - 1)] += frac
    return weights, denom


def resize_bilinear(images: np.ndarray, size: int, max_value: int) -> np.ndarray:
    """Resize NxHxW integer images in 0..max_value to NxSIZExSIZE uint8 in 0..255."""
    rows, row_sum = _bilinear_weights(images.shape[1], size)
    cols, col_sum = _bilinear_weights(images.shape[2], size)
    acc = np.einsum("ij,njk,lk->nil", rows, images.astype(np.int64), cols)
    # Scale to 0..255 and round half up in one exact integer step.
    scale = max_value * row_sum * col_sum
    resized: np.ndarray = ((acc * 255 * 2 + scale) // (2 * scale)).astype(np.uint8)
    return resized


def _convert_digits(source: str | None, eval_fraction: float, seed: int) -> Converted:
    """scikit-learn's 8x8 digits, upsampled to 20x20 and centred in 28x28 like MNIST."""
    if source is not None:
        raise UserError(
            "the digits dataset takes no source",
            hint="it ships with scikit-learn; drop the SOURCE argument",
        )
    try:
        # Imported here: scikit-learn takes a second or more to import.
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise UserError(
            f"the digits dataset needs scikit-learn ({error})",
            hint="pip install 'plxgen[train]'",
        ) from None
    bunch = load_digits()
    images = np.rint(bunch.images).astype(np.int64)
    labels = np.asarray(bunch.target, np.int64)
    if images.min() < 0 or images.max() > 16:
        raise UserError("scikit-learn's digits are not in 0..16 as expected")
    digits = resize_bilinear(images, 20, 16)
    canvas = np.zeros((len(digits), 28, 28, 1), np.uint8)
    canvas[:, 4:24, 4:24, 0] = digits
    train, evaluation = split_indices(labels, eval_fraction, seed)
    records: dict[str, list[bytes]] = {}
    for split, indices in zip(SPLITS, (train, evaluation)):
        records[split] = [
            example_bytes(
                {
                    "image/encoded": encode_png(canvas[index]),
                    "image/format": b"png",
                    "image/class/label": int(labels[index]),
                    "image/height": 28,
                    "image/width": 28,
                    "image/channels": 1,
                    "image/colorspace": b"grayscale",
                    "image/filename": f"digits_{split}_{position:05d}.png".encode(),
                }
            )
            for position, index in enumerate(indices)
        ]
    classes = [str(digit) for digit in range(10)]
    meta = {
        "classes": classes,
        "num_classes": len(classes),
        "labels_to_classes": {str(label): name for label, name in enumerate(classes)},
        "colorspace": "grayscale",
        "image_format": "png",
        "channels": 1,
        "height": 28,
        "width": 28,
        "items_to_descriptions": {
            "image": "A 28x28x1 grayscale image of a handwritten digit.",
            "label": "The digit, 0 to 9.",
        },
        "source": "scikit-learn load_digits (UCI ML hand-written digits), "
        "8x8 upsampled to 20x20 and padded to 28x28",
    }
    return Converted(records, meta)


DATASET_KINDS: dict[str, Converter] = {"digits": _convert_digits}


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn an OSError raised while writing path into a UserError that names it."""
    try:
        yield
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror or error}") from None


def _write_records(path: Path, records: list[bytes]) -> None:
    """Write records to a TFRecord file atomically."""
    with TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)


def make_dataset(
    kind: str,
    source: str | None,
    out_dir: Path,
    *,
    eval_fraction: float = 0.2,
    seed: int = 0,
    force: bool = False,
    name: str | None = None,
) -> list[Path]:
    """Convert data set KIND into NAME_train/eval TFRecords plus meta_data.json in out_dir.

    NAME defaults to KIND (`--name mnist` writes the file names the 2017 MNIST
    converter wrote). Returns the paths written.
    """
    converter = DATASET_KINDS.get(kind)
    if converter is None:
        raise UserError(
            f"unknown dataset kind {kind!r}",
            hint=f"known kinds: {', '.join(sorted(DATASET_KINDS))}",
        )
    if not 0 < eval_fraction < 1:  # also rejects NaN
        raise UserError(
            f"eval fraction must be between 0 and 1 (exclusive), got {eval_fraction}"
        )
    name = name or kind
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise UserError(
            f"dataset name {name!r} may hold only letters, digits, '_', '.' and '-'"
        )
    out_dir = Path(out_dir)
    paths = [out_dir / file for file in output_names(name)]
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} is not a folder")
    existing = [path.name for path in paths if os.path.lexists(path)]
    if existing and not force:
        raise UserError(
            f"{out_dir} already holds a dataset ({', '.join(existing)})",
            hint="pass --force to overwrite it",
        )
    # Convert everything before touching the disk, so a bad input writes nothing.
    converted = converter(source, eval_fraction, seed)
    meta = dict(converted.meta)
    meta["num_samples"] = {split: len(converted.records[split]) for split in SPLITS}
    with _writing(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
    for split, path in zip(SPLITS, paths):
        with _writing(path):
            _write_records(path, converted.records[split])
    text = json.dumps(meta, sort_keys=True, indent=2) + "\n"
    with _writing(paths[-1]):
        write_file_atomic(paths[-1], text.encode("utf-8"))
    return paths
