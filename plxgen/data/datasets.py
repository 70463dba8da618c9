"""`plxgen data KIND`: convert a data set into TF-slim style TFRecord files.

Every kind writes `NAME_train.tfrecord`, `NAME_eval.tfrecord` (and
`NAME_predict.tfrecord` when the source has a test split) and then
`meta_data.json` into the output folder. Records are streamed to temporary
files and renamed into place only when the whole source converted cleanly, so
a bad source writes nothing. The output is byte-for-byte deterministic for the
same source, seed and eval fraction.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

try:
    import numpy as np
except ModuleNotFoundError as _missing:  # only the compiler is installed
    from plxgen.errors import UserError as _UserError

    raise _UserError(
        "`plxgen data` needs numpy, which is not installed",
        'install the training extra: pip install "plxgen[train]"',
    ) from _missing

from plxgen.errors import UserError, did_you_mean
from plxgen.data.progress import Progress
from plxgen.data.tfrecord import (
    TFRecordWriter,
    encode_png,
    example_bytes,
    example_from_entries,
    feature_entry,
    write_file_atomic,
)

META_FILE = "meta_data.json"
SPLITS = ("train", "eval", "predict")
BATCH = 512  # records framed and checksummed together
BATCH_BYTES = 16 << 20  # and at most about this many bytes of them (large photos)
LABEL_TYPES = ("auto", "class", "float")


@dataclass(frozen=True)
class Options:
    """The command-line choices a converter may use (None: the kind's default)."""

    eval_fraction: float | None = None
    seed: int | None = None
    label: str | None = None
    label_type: str = "auto"
    delimiter: str = ","


@dataclass
class Plan:
    """A conversion ready to run: example counts per split, then records in batches."""

    counts: dict[str, int]
    batches: Iterable[tuple[str, list[bytes]]]
    meta: Callable[[], dict[str, Any]]
    notes: list[str] = field(default_factory=list)


Converter = Callable[[str | None, Options], Plan]


def output_names(name: str, splits: Sequence[str] = SPLITS[:2]) -> list[str]:
    """The file names `plxgen data` writes for splits, in the order it writes them."""
    # meta_data.json goes last: a folder without it is recognisably incomplete.
    return [f"{name}_{split}.tfrecord" for split in splits] + [META_FILE]


# ---------------------------------------------------------------------------
# Splits and labels
# ---------------------------------------------------------------------------


def eval_count(total: int, eval_fraction: float) -> int:
    """Examples for eval: rounded half up, at least one on each side."""
    if total < 2:
        raise UserError(f"cannot split {total} example(s) into train and eval")
    return min(max(math.floor(total * eval_fraction + 0.5), 1), total - 1)


def split_indices(
    labels: np.ndarray, eval_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split example indices into shuffled (train, eval), stratified by label."""
    total = len(labels)
    n_eval = eval_count(total, eval_fraction)
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


def random_split(
    total: int, eval_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split example indices into shuffled (train, eval), for labels that are values."""
    n_eval = eval_count(total, eval_fraction)
    order = np.random.default_rng(seed).permutation(total)
    return order[n_eval:], order[:n_eval]


def make_split(
    labels: np.ndarray,
    classes: list[str] | None,
    options: Options,
    default: float = 0.2,
) -> tuple[np.ndarray, np.ndarray]:
    """The seeded split for options: stratified for class labels, plain for values."""
    fraction = default if options.eval_fraction is None else options.eval_fraction
    seed = 0 if options.seed is None else options.seed
    if classes is None:
        return random_split(len(labels), fraction, seed)
    return split_indices(labels, fraction, seed)


@dataclass(frozen=True)
class Labels:
    """Labels as class ids (with class names) or as float values (classes is None).

    `decision` says in words which of the two they became, and why.
    """

    values: np.ndarray
    classes: list[str] | None
    decision: str = ""


# `--label-type auto` takes whole numbers for class ids only when they are few:
# at most two distinct values (a binary label), or at most AUTO_MAX_CLASSES
# distinct values that are under AUTO_MAX_SHARE of the rows. Anything else
# (disease progression in whole days, a count, a price in cents) is a value.
AUTO_MAX_CLASSES = 20
AUTO_MAX_SHARE = 0.05


def _integral(values: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))


def resolve_labels(
    raw: np.ndarray, label_type: str, where: str, tabular: bool = True
) -> Labels:
    """Turn raw labels into class ids or values, as --label-type (auto|class|float) says.

    auto: text is class names (sorted to give the ids); numbers that are not
    all whole are values (a regression); whole numbers are class ids for
    image records, and for tabular records only when they are few (see
    AUTO_MAX_CLASSES), else values. Class ids that include negative numbers
    (-1 / 1) are named by their values, whose sorted order gives the ids.
    """
    if raw.dtype.kind in "US" or raw.dtype == object:
        text = [
            str(x.decode("utf-8", "replace") if isinstance(x, bytes) else x).strip()
            for x in raw.tolist()
        ]
        numbers = _as_numbers(text)
        if numbers is None:
            if label_type == "float":
                bad = next(t for t in text if _as_numbers([t]) is None)
                raise UserError(
                    f"{where}: label {bad[:40]!r} is not a number",
                    hint="drop --label-type float",
                )
            names = sorted(set(text))
            lookup = {name: i for i, name in enumerate(names)}
            return Labels(
                np.array([lookup[t] for t in text], np.int64),
                names,
                f"{len(names)} classes named by the text of the labels",
            )
        raw = numbers
    if raw.dtype.kind == "b":
        raw = raw.astype(np.int64)
    if raw.dtype.kind not in "iuf":
        raise UserError(
            f"{where}: labels of type {raw.dtype} are neither numbers nor names"
        )
    if not np.all(np.isfinite(raw)):
        raise UserError(f"{where}: labels include NaN or infinity")
    integral = _integral(raw.astype(np.float64))
    why = f"--label-type {label_type}"
    if label_type == "auto":
        label_type, why = _auto_label_type(raw, integral, tabular)
    if label_type == "float":
        return Labels(raw.astype(np.float64), None, f"float values ({why})")
    if not integral:
        raise UserError(
            f"{where}: class labels must be whole numbers",
            hint="pass --label-type float for a regression target",
        )
    ids = raw.astype(np.int64)
    if len(ids) and ids.min() < 0:
        # Labels such as -1 / 1 name classes; their sorted values give the ids.
        values = sorted(set(ids.tolist()))
        lookup = {value: i for i, value in enumerate(values)}
        mapped = np.array([lookup[v] for v in ids.tolist()], np.int64)
        return Labels(mapped, [str(v) for v in values], f"{len(values)} classes ({why})")
    top = int(ids.max()) + 1 if len(ids) else 0
    return Labels(ids, [str(i) for i in range(top)], f"{top} classes, ids 0 to {top - 1} ({why})")


def _auto_label_type(raw: np.ndarray, integral: bool, tabular: bool) -> tuple[str, str]:
    """What --label-type auto makes of numeric labels: ("class" or "float", why)."""
    if not integral:
        return "float", "not all whole numbers"
    if not tabular:
        return "class", "whole numbers"
    distinct = len(np.unique(raw))
    counted = f"{distinct} distinct whole numbers in {len(raw)} rows"
    if distinct <= 2 or (
        distinct <= AUTO_MAX_CLASSES and distinct < AUTO_MAX_SHARE * len(raw)
    ):
        return "class", f"{counted}; --label-type float makes them values"
    return "float", (
        f"{counted}: too many for classes, which auto takes only up to "
        f"{AUTO_MAX_CLASSES} distinct values under {AUTO_MAX_SHARE:.0%} of the rows; "
        "--label-type class makes them classes"
    )


def _as_numbers(text: list[str]) -> np.ndarray | None:
    """Text labels as numbers (int64 when every one is an integer), or None."""
    if all(re.fullmatch(r"[+-]?\d+", t) for t in text):
        return np.array([int(t) for t in text], np.int64)
    try:
        numbers = np.array([float(t) for t in text], np.float64)
    except ValueError:
        return None
    return numbers


def class_meta(classes: list[str]) -> dict[str, Any]:
    """The meta data keys that describe the classes."""
    return {
        "classes": classes,
        "num_classes": len(classes),
        "labels_to_classes": {str(label): name for label, name in enumerate(classes)},
    }


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------

COLORSPACES = {1: "grayscale", 2: "grayscale_alpha", 3: "RGB", 4: "RGBA"}


def image_record(
    encoded: bytes,
    image_format: str,
    label: int,
    height: int,
    width: int,
    channels: int,
    filename: str,
) -> bytes:
    """One TF-slim image example (the same bytes as example_bytes of its features)."""
    # Entries in key order; those shared by many records are serialised once.
    return example_from_entries(
        [
            _shared_entry("image/channels", channels),
            _shared_entry("image/class/label", int(label)),
            _shared_entry("image/colorspace", COLORSPACES[channels]),
            feature_entry("image/encoded", encoded),
            feature_entry("image/filename", filename.encode("utf-8")),
            _shared_entry("image/format", image_format),
            _shared_entry("image/height", height),
            _shared_entry("image/width", width),
        ]
    )


@functools.lru_cache(maxsize=1024)
def _shared_entry(key: str, value: int | str) -> bytes:
    """feature_entry for a value that many records share."""
    return feature_entry(key, value.encode() if isinstance(value, str) else value)


def tabular_record(features: np.ndarray, label: float | int, is_class: bool) -> bytes:
    """One tabular example: a float32 `features` vector and a `label`."""
    return example_bytes(
        {
            "features": np.asarray(features, np.float32).tolist(),
            "label": int(label) if is_class else float(label),
        }
    )


def batched(
    items: Iterable[bytes], size: int = BATCH, max_bytes: int = BATCH_BYTES
) -> Iterator[list[bytes]]:
    """Group records into lists of at most size records and (about) max_bytes."""
    batch: list[bytes] = []
    total = 0
    for item in items:
        batch.append(item)
        total += len(item)
        if len(batch) == size or total >= max_bytes:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


def png_batches(
    split: str,
    images: np.ndarray,
    labels: np.ndarray,
    indices: Sequence[int] | np.ndarray,
    filename: Callable[[int, int], str],
) -> Iterator[tuple[str, list[bytes]]]:
    """PNG-encoded image records of images[indices], in that order, in batches.

    filename(position, index) names the record at position in the split that
    holds images[index].
    """
    height, width, channels = images.shape[1:]
    records = (
        image_record(
            encode_png(images[i]),
            "png",
            int(labels[i]),
            height,
            width,
            channels,
            filename(position, int(i)),
        )
        for position, i in enumerate(indices)
    )
    for batch in batched(records):
        yield split, batch


def image_meta(
    classes: list[str],
    height: int,
    width: int,
    channels: int,
    image_format: str,
    image: str,
    label: str,
    source: str,
) -> dict[str, Any]:
    """meta_data.json of an image dataset, as the TF-slim readers expect it."""
    return {
        **class_meta(classes),
        "colorspace": COLORSPACES[channels],
        "image_format": image_format,
        "channels": channels,
        "height": height,
        "width": width,
        "items_to_descriptions": {"image": image, "label": label},
        "source": source,
    }


# ---------------------------------------------------------------------------
# digits
# ---------------------------------------------------------------------------


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


def _digits_name(split: str, position: int, index: int) -> str:
    """The file name of the digits record at position in split."""
    return f"digits_{split}_{position:05d}.png"


def _convert_digits(source: str | None, options: Options) -> Plan:
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
    classes = [str(digit) for digit in range(10)]
    train, evaluation = make_split(labels, classes, options)

    def batches() -> Iterator[tuple[str, list[bytes]]]:
        for split, indices in (("train", train), ("eval", evaluation)):
            yield from png_batches(
                split,
                canvas,
                labels,
                indices,
                functools.partial(_digits_name, split),
            )

    meta = image_meta(
        classes,
        28,
        28,
        1,
        "png",
        "A 28x28x1 grayscale image of a handwritten digit.",
        "The digit, 0 to 9.",
        "scikit-learn load_digits (UCI ML hand-written digits), "
        "8x8 upsampled to 20x20 and padded to 28x28",
    )
    return Plan({"train": len(train), "eval": len(evaluation)}, batches(), lambda: meta)


def dataset_kinds() -> dict[str, Converter]:
    """Every KIND of `plxgen data`, by name (one module per group of source kinds)."""
    from plxgen.data.convert_arrays import convert_csv, convert_npz
    from plxgen.data.convert_images import convert_images
    from plxgen.data.convert_mnist_cifar import convert_cifar10, convert_mnist

    return {
        "cifar10": convert_cifar10,
        "csv": convert_csv,
        "digits": _convert_digits,
        "images": convert_images,
        "mnist": convert_mnist,
        "npz": convert_npz,
    }


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn an OSError raised while writing path into a UserError that names it."""
    try:
        yield
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror or error}") from None


def make_dataset(
    kind: str,
    source: str | None,
    out_dir: Path,
    *,
    eval_fraction: float | None = None,
    seed: int | None = None,
    force: bool = False,
    name: str | None = None,
    label: str | None = None,
    label_type: str = "auto",
    delimiter: str = ",",
    progress: TextIO | None = None,
) -> list[Path]:
    """Convert data set KIND into NAME_train/eval[/predict] TFRecords plus meta_data.json.

    NAME defaults to KIND (`--name mnist` writes the file names the 2017 MNIST
    converter wrote). Progress and a summary go to the progress stream when
    one is given. Returns the paths written.
    """
    kinds = dataset_kinds()
    converter = kinds.get(kind)
    if converter is None:
        raise UserError(
            f"unknown dataset kind {kind!r}",
            hint=did_you_mean(kind, kinds) or f"known kinds: {', '.join(sorted(kinds))}",
        )
    if eval_fraction is not None and not 0 < eval_fraction < 1:  # also rejects NaN
        raise UserError(
            f"eval fraction must be between 0 and 1 (exclusive), got {eval_fraction}"
        )
    if label_type not in LABEL_TYPES:
        raise UserError(
            f"label type must be one of {', '.join(LABEL_TYPES)}, got {label_type!r}"
        )
    if label is not None and kind != "csv":
        raise UserError("--label names a column of a csv source only")
    if len(delimiter) != 1:
        raise UserError(f"the delimiter must be one character, got {delimiter!r}")
    name = name or kind
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise UserError(
            f"dataset name {name!r} may hold only letters, digits, '_', '.' and '-'"
        )
    out_dir = Path(out_dir)
    every = [out_dir / file for file in output_names(name, SPLITS)]
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} is not a folder")
    existing = [path for path in every if os.path.lexists(path)]
    if existing and not force:
        raise UserError(
            f"{out_dir} already holds a dataset ({', '.join(p.name for p in existing)})",
            hint="pass --force to overwrite it",
        )
    options = Options(eval_fraction, seed, label, label_type, delimiter)
    plan = converter(source, options)
    splits = [split for split in SPLITS if split in plan.counts]
    paths = [out_dir / file for file in output_names(name, splits)]
    with _writing(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
    meter = Progress(name, sum(plan.counts.values()), progress)
    writers: dict[str, TFRecordWriter] = {}
    written = dict.fromkeys(splits, 0)
    try:
        for split, path in zip(splits, paths):
            with _writing(path):
                writers[split] = TFRecordWriter(path)
        # Records go to temporary files; nothing is renamed into place until
        # the whole source has converted, so a bad source writes nothing.
        for split, batch in plan.batches:
            with _writing(writers[split].path):
                writers[split].write_many(batch)
            written[split] += len(batch)
            meter.advance(len(batch))
        if written != plan.counts:
            raise AssertionError(f"planned {plan.counts} examples, wrote {written}")
        meta = dict(plan.meta())
        meta["num_samples"] = written
        for split in splits:
            with _writing(writers[split].path):
                writers[split].close()
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    # A predict split left over from an earlier conversion is not part of this one.
    for stale in set(every) - set(paths) - {out_dir / META_FILE}:
        with _writing(stale):
            if os.path.lexists(stale):
                stale.unlink()
    text = json.dumps(meta, sort_keys=True, indent=2) + "\n"
    with _writing(paths[-1]):
        write_file_atomic(paths[-1], text.encode("utf-8"))
    meter.finish()
    if progress is not None:
        for note in plan.notes:
            progress.write(f"note: {note}\n")
    return paths
