"""`plxgen data npz` and `plxgen data csv`: arrays that become image or tabular records.

An npz whose x is N x H x W (x C) integers 0..255 becomes PNG image records;
an N x features x, and every CSV, becomes tabular records (float32 features
with a class id or a float32 label).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from plxgen.data.convert_shared import Batches, source_path
from plxgen.data.datasets import (
    Labels,
    Options,
    Plan,
    batched,
    class_meta,
    image_meta,
    make_split,
    png_batches,
    resolve_labels,
    tabular_record,
)
from plxgen.errors import UserError
from plxgen.data.sources import load_npz, read_csv


def _as_images(x: np.ndarray, where: str) -> np.ndarray | None:
    """x as NxHxWxC uint8 images when it looks like images, else None."""
    if x.ndim not in (3, 4):
        return None
    if x.ndim == 4 and x.shape[3] not in (1, 2, 3, 4):
        raise UserError(
            f"{where}: images with {x.shape[3]} channels (1 to 4 are possible)"
        )
    if x.dtype.kind not in "ui":
        raise UserError(
            f"{where}: {x.ndim}-D x of type {x.dtype}; images must be integers 0..255",
            hint="scale and convert: x = np.clip(np.rint(x * 255), 0, 255).astype('uint8'), "
            "or reshape to (N, features) for tabular data",
        )
    if x.size and (x.min() < 0 or x.max() > 255):
        raise UserError(f"{where}: image values outside 0..255")
    images = x.astype(np.uint8)
    return images if images.ndim == 4 else images[..., np.newaxis]


def _as_table(x: np.ndarray, where: str) -> np.ndarray:
    """x as an N x D float array."""
    if x.ndim not in (1, 2) or x.dtype.kind not in "biuf":
        raise UserError(
            f"{where}: x must be N x features numbers or N x H x W (x C) images, got {x.dtype} {x.shape}"
        )
    table = x.astype(np.float64).reshape(len(x), -1)
    if not np.all(np.isfinite(table)):
        raise UserError(f"{where}: x holds NaN or infinity")
    return table


def _tabular_plan(
    features: np.ndarray,
    labels: Labels,
    test: tuple[np.ndarray, np.ndarray] | None,
    feature_names: list[str],
    label_name: str,
    source: str,
    options: Options,
) -> Plan:
    """Records of `features` float vectors with class-id or float labels."""
    train, evaluation = make_split(labels.values, labels.classes, options)
    is_class = labels.classes is not None
    counts = {"train": len(train), "eval": len(evaluation)}
    if test is not None:
        counts["predict"] = len(test[1])

    def batches() -> Batches:
        for split, indices in (("train", train), ("eval", evaluation)):
            rows = (
                tabular_record(features[i], labels.values[i], is_class) for i in indices
            )
            for batch in batched(rows):
                yield split, batch
        if test is not None:
            rows = (tabular_record(f, v, is_class) for f, v in zip(*test))
            for batch in batched(rows):
                yield "predict", batch

    meta: dict[str, Any] = {
        "record_format": "tabular",
        "num_features": features.shape[1],
        "feature_names": feature_names,
        "label_name": label_name,
        "label_dtype": "int64" if is_class else "float32",
        "items_to_descriptions": {
            "features": f"{features.shape[1]} float32 values: {', '.join(feature_names)}"[
                :500
            ],
            "label": "The class id." if is_class else "A float32 value.",
        },
        "source": source,
    }
    if labels.classes is not None:
        meta.update(class_meta(labels.classes))
    return Plan(
        counts, batches(), lambda: meta, [f"label {label_name!r}: {labels.decision}"]
    )


def _npz_arrays(
    arrays: dict[str, np.ndarray], path: Path
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """(x, y, test pair or None) from x/y or x_train/y_train (+ x_test/y_test)."""
    names = ", ".join(sorted(arrays)) or "nothing"
    if "x" in arrays or "y" in arrays:
        keys = ("x", "y")
    elif "x_train" in arrays or "y_train" in arrays:
        keys = ("x_train", "y_train")
    else:
        raise UserError(
            f"{path}: no arrays 'x' and 'y' (it holds {names})",
            hint="np.savez(path, x=features_or_images, y=labels); x_train/y_train/x_test/y_test also work",
        )
    for key in keys:
        if key not in arrays:
            raise UserError(f"{path}: no array {key!r} (it holds {names})")
    test = None
    if keys[0] == "x_train" and ("x_test" in arrays or "y_test" in arrays):
        if "x_test" not in arrays or "y_test" not in arrays:
            raise UserError(f"{path}: x_test and y_test go together (it holds {names})")
        test = (arrays["x_test"], arrays["y_test"])
    x, y = arrays[keys[0]], arrays[keys[1]]
    for xs, ys, (kx, ky) in [(x, y, keys)] + (
        [(test[0], test[1], ("x_test", "y_test"))] if test else []
    ):
        if ys.ndim == 2 and ys.shape[1] == 1:
            ys = ys[:, 0]
        if ys.ndim != 1:
            raise UserError(
                f"{path}: {ky} must hold one label per example, its shape is {ys.shape}"
            )
        if xs.ndim == 0 or len(xs) != len(ys):
            raise UserError(
                f"{path}: {kx} holds {len(xs) if xs.ndim else 0} examples but {ky} holds {len(ys)} labels"
            )
    if test is not None and x.shape[1:] != test[0].shape[1:]:
        raise UserError(
            f"{path}: x_test's examples are {test[0].shape[1:]}, x_train's {x.shape[1:]}"
        )
    return (
        x,
        y.reshape(len(y)),
        (test[0], test[1].reshape(len(test[1]))) if test else None,
    )


def convert_npz(source: str | None, options: Options) -> Plan:
    """An .npz file: uint8 images become PNG image records, other arrays tabular records."""
    path = source_path(source, "npz", "an .npz file with arrays x and y")
    x, y, test = _npz_arrays(load_npz(path), path)
    if len(x) == 0:
        raise UserError(f"{path}: no examples")
    n = len(y)
    images = _as_images(x, str(path))
    all_labels = resolve_labels(
        np.concatenate([y, test[1]]) if test is not None else y,
        options.label_type,
        str(path),
        tabular=images is None,
    )
    labels = Labels(all_labels.values[:n], all_labels.classes, all_labels.decision)
    test_labels = all_labels.values[n:]
    if images is None:
        table = _as_table(x, str(path))
        test_pair = (
            (_as_table(test[0], str(path)), test_labels) if test is not None else None
        )
        names = [f"x{i}" for i in range(table.shape[1])]
        return _tabular_plan(table, labels, test_pair, names, "y", path.name, options)
    if labels.classes is None:
        raise UserError(
            f"{path}: image records need class labels, y holds {y.dtype} values",
            hint="pass --label-type class if y holds whole numbers",
        )
    test_images = _as_images(test[0], str(path)) if test is not None else None
    train, evaluation = make_split(labels.values, labels.classes, options)
    counts = {"train": len(train), "eval": len(evaluation)}
    if test_images is not None:
        counts["predict"] = len(test_images)

    def batches() -> Batches:
        for split, indices in (("train", train), ("eval", evaluation)):
            yield from png_batches(
                split, images, labels.values, indices, lambda _, i: f"x_{i:05d}.png"
            )
        if test_images is not None:
            yield from png_batches(
                "predict",
                test_images,
                test_labels,
                np.arange(len(test_images)),
                lambda _, i: f"x_test_{i:05d}.png",
            )

    height, width, channels = images.shape[1:]
    meta = image_meta(
        labels.classes,
        height,
        width,
        channels,
        "png",
        f"A {height}x{width}x{channels} image.",
        f"The class, 0 to {len(labels.classes) - 1}.",
        path.name,
    )
    return Plan(counts, batches(), lambda: meta)


def convert_csv(source: str | None, options: Options) -> Plan:
    """A CSV file with a header: numeric feature columns and a label column."""
    path = source_path(source, "csv", "a CSV file with a header row")
    table = read_csv(path, options.label, options.delimiter)
    labels = resolve_labels(np.array(table.labels), options.label_type, str(path))
    return _tabular_plan(
        table.features,
        labels,
        None,
        table.feature_names,
        table.label_name,
        path.name,
        options,
    )
