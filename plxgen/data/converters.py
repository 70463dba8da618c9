"""The source kinds of `plxgen data` beyond digits: mnist, cifar10, images, npz and csv."""

from __future__ import annotations

import functools
import io
import os
import tarfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from plxgen.data.datasets import (
    Labels,
    Options,
    Plan,
    batched,
    class_meta,
    eval_count,
    image_meta,
    image_record,
    make_split,
    png_batches,
    resolve_labels,
    tabular_record,
)
from plxgen.errors import UserError
from plxgen.data.imagefiles import ImageError, inspect_image
from plxgen.data.sources import (
    load_npz,
    load_pickle,
    parse_cifar_batch,
    parse_cifar_meta,
    read_csv,
    read_idx,
)

Batches = Iterator[tuple[str, list[bytes]]]


def _source_path(source: str | None, kind: str, what: str) -> Path:
    """The SOURCE argument as a path that exists."""
    if source is None:
        raise UserError(
            f"the {kind} dataset needs a SOURCE: {what}",
            hint=f"plxgen data {kind} SOURCE -o DIR",
        )
    path = Path(source)
    if not os.path.lexists(path):
        raise UserError(f"{path}: not found")
    return path


def _fixed_split(options: Options) -> bool:
    """True when the 2017 split applies: neither --eval-fraction nor --seed given."""
    return options.eval_fraction is None and options.seed is None


# ---------------------------------------------------------------------------
# mnist: the four IDX files
# ---------------------------------------------------------------------------

def _find_idx(folder: Path, stem: str, item: str, idx: str) -> Path | None:
    """train-images-idx3-ubyte, as published or with a dot, gzipped or not."""
    for name in (f"{stem}-{item}-{idx}-ubyte", f"{stem}-{item}.{idx}-ubyte"):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _read_mnist_pair(folder: Path, stem: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Images and labels of one MNIST split, or None when neither file is there."""
    images_path = _find_idx(folder, stem, "images", "idx3")
    labels_path = _find_idx(folder, stem, "labels", "idx1")
    if images_path is None and labels_path is None:
        return None
    if images_path is None or labels_path is None:
        missing = (
            f"{stem}-images-idx3-ubyte"
            if images_path is None
            else f"{stem}-labels-idx1-ubyte"
        )
        raise UserError(
            f"{folder / missing}[.gz]: file not found (its partner is there)"
        )
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise UserError(
            f"{images_path}: expected unsigned-byte images (N x rows x columns)"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise UserError(
            f"{labels_path}: expected unsigned-byte labels (a 1-D IDX file)"
        )
    if len(images) != len(labels):
        raise UserError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    if len(images) == 0:
        raise UserError(f"{images_path}: no images")
    return images[..., np.newaxis], labels.astype(np.int64)


def convert_mnist(source: str | None, options: Options) -> Plan:
    """MNIST IDX files; eval is the first sixth of the training file, as in 2017."""
    folder = _source_path(source, "mnist", "the folder with the four IDX files")
    if not folder.is_dir():
        raise UserError(
            f"{folder}: not a folder", hint="pass the folder that holds the IDX files"
        )
    train_pair = _read_mnist_pair(folder, "train")
    if train_pair is None:
        raise UserError(
            f"{folder}: no train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]",
            hint="the MNIST files: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
            "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz",
        )
    test_pair = _read_mnist_pair(folder, "t10k")
    images, labels = train_pair
    if test_pair is not None and test_pair[0].shape[1:] != images.shape[1:]:
        raise UserError(
            f"{folder}: the test images are not the size of the training images"
        )
    top = max(int(labels.max()), int(test_pair[1].max()) if test_pair else 0)
    classes = [str(i) for i in range(top + 1)]
    if _fixed_split(options):
        # 2017: eval = the first 10000 of the 60000 training images, in file order.
        n_eval = eval_count(len(labels), 1 / 6)
        order = np.arange(len(labels))
        train, evaluation = order[n_eval:], order[:n_eval]
    else:
        train, evaluation = make_split(labels, classes, options, default=1 / 6)
    counts = {"train": len(train), "eval": len(evaluation)}
    if test_pair is not None:
        counts["predict"] = len(test_pair[1])

    def batches() -> Batches:
        for split, indices in (("train", train), ("eval", evaluation)):
            yield from png_batches(
                split, images, labels, indices, lambda _, i: f"train_{i:05d}.png"
            )
        if test_pair is not None:
            test_images, test_labels = test_pair
            yield from png_batches(
                "predict",
                test_images,
                test_labels,
                np.arange(len(test_labels)),
                lambda _, i: f"t10k_{i:05d}.png",
            )

    height, width = images.shape[1:3]
    meta = image_meta(
        classes,
        height,
        width,
        1,
        "png",
        f"A {height}x{width}x1 grayscale image.",
        f"A single integer between 0 and {top}.",
        f"IDX files in {folder.name or folder}",
    )
    return Plan(counts, batches(), lambda: meta)


# ---------------------------------------------------------------------------
# cifar10: the python-pickle batches
# ---------------------------------------------------------------------------

_CIFAR_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
_CIFAR_FILES = _CIFAR_TRAIN + ["test_batch", "batches.meta"]


def _load_blob(blob: bytes, where: str) -> Any:
    """Unpickle one archive member."""
    return load_pickle(io.BytesIO(blob), where)


def _cifar_members(path: Path) -> tuple[dict[str, Callable[[], Any]], str]:
    """Loaders for the CIFAR-10 files of a folder or of the downloaded .tar.gz."""
    loaders: dict[str, Callable[[], Any]] = {}
    if path.is_dir():
        folder = (
            path / "cifar-10-batches-py"
            if (path / "cifar-10-batches-py").is_dir()
            else path
        )
        for name in _CIFAR_FILES:
            file = folder / name
            if file.is_file():

                def load(file: Path = file) -> Any:
                    try:
                        with open(file, "rb") as handle:
                            return load_pickle(handle, str(file))
                    except OSError as error:
                        raise UserError(
                            f"cannot read {file}: {error.strerror or error}"
                        ) from None

                loaders[name] = load
        return loaders, str(folder)
    try:
        archive = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as error:
        raise UserError(
            f"{path}: neither a folder nor a readable tar archive ({error})"
        ) from None
    # The archive is read whole into memory once (about 180 MB for CIFAR-10),
    # member by member; nothing is extracted to disk.
    with archive:
        try:
            for member in archive.getmembers():
                name = member.name.rsplit("/", 1)[-1]
                if member.isfile() and name in _CIFAR_FILES and name not in loaders:
                    handle = archive.extractfile(member)
                    assert handle is not None
                    blob = handle.read()
                    loaders[name] = functools.partial(
                        _load_blob, blob, f"{path}:{name}"
                    )
        except (tarfile.TarError, OSError, EOFError) as error:
            raise UserError(f"{path}: corrupt or truncated archive ({error})") from None
    return loaders, str(path)


def convert_cifar10(source: str | None, options: Options) -> Plan:
    """CIFAR-10: data_batch_1..4 train, data_batch_5 eval, test_batch predict (as in 2017)."""
    path = _source_path(
        source, "cifar10", "the cifar-10-batches-py folder or cifar-10-python.tar.gz"
    )
    loaders, where = _cifar_members(path)
    missing = [name for name in _CIFAR_FILES if name not in loaders]
    if missing:
        raise UserError(
            f"{where}: missing {', '.join(missing)}",
            hint="CIFAR-10's python version holds data_batch_1..5, test_batch and batches.meta",
        )
    classes = parse_cifar_meta(loaders["batches.meta"](), f"{where}/batches.meta")
    batches_ = {}
    for name in _CIFAR_TRAIN + ["test_batch"]:
        batch = parse_cifar_batch(loaders[name](), f"{where}/{name}")
        if len(batch.labels) and (
            batch.labels.min() < 0 or batch.labels.max() >= len(classes)
        ):
            raise UserError(f"{where}/{name}: a label outside 0..{len(classes) - 1}")
        batches_[name] = batch
    names = [
        filename
        for name in _CIFAR_TRAIN
        for filename in batches_[name].filenames
        or [f"{name}/{i:05d}" for i in range(len(batches_[name].labels))]
    ]
    images = np.concatenate([batches_[name].images for name in _CIFAR_TRAIN])
    labels = np.concatenate([batches_[name].labels for name in _CIFAR_TRAIN])
    if _fixed_split(options):
        cut = len(images) - len(batches_["data_batch_5"].labels)
        order = np.arange(len(images))
        train, evaluation = order[:cut], order[cut:]
    else:
        train, evaluation = make_split(labels, classes, options)
    test = batches_["test_batch"]
    test_names = test.filenames or [
        f"test_batch/{i:05d}" for i in range(len(test.labels))
    ]

    def batches() -> Batches:
        for split, indices in (("train", train), ("eval", evaluation)):
            yield from png_batches(
                split, images, labels, indices, lambda _, i: names[i]
            )
        yield from png_batches(
            "predict",
            test.images,
            test.labels,
            np.arange(len(test.labels)),
            lambda _, i: test_names[i],
        )

    counts = {"train": len(train), "eval": len(evaluation), "predict": len(test.labels)}
    meta = image_meta(
        classes,
        32,
        32,
        3,
        "png",
        "A 32x32x3 RGB colour image.",
        f"A single integer between 0 and {len(classes) - 1}.",
        "CIFAR-10 python batches",
    )
    return Plan(counts, batches(), lambda: meta)


# ---------------------------------------------------------------------------
# images: one sub-folder of png/jpeg files per class
# ---------------------------------------------------------------------------

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def _class_files(folder: Path) -> tuple[list[Path], int]:
    """Image files under a class folder, in sorted order, and how many others were skipped."""
    files: list[Path] = []
    skipped = 0
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() in _IMAGE_SUFFIXES:
                files.append(Path(root) / name)
            else:
                skipped += 1
    return files, skipped


def convert_images(source: str | None, options: Options) -> Plan:
    """A class-per-folder image tree; files are stored as they are and read one at a time."""
    root = _source_path(
        source, "images", "a folder with one sub-folder of images per class"
    )
    if not root.is_dir():
        raise UserError(f"{root}: not a folder")
    classes = sorted(
        entry.name
        for entry in os.scandir(root)
        if entry.is_dir() and not entry.name.startswith(".")
    )
    if not classes:
        raise UserError(
            f"{root}: no class sub-folders",
            hint="put the images of each class in a folder named after it: ROOT/cat/1.jpg, ROOT/dog/2.png, ...",
        )
    files: list[Path] = []
    label_list: list[int] = []
    skipped = 0
    for label, name in enumerate(classes):
        found, others = _class_files(root / name)
        if not found:
            raise UserError(
                f"{root / name}: no .png, .jpg or .jpeg files in this class folder"
            )
        files += found
        label_list += [label] * len(found)
        skipped += others
    labels = np.array(label_list, np.int64)
    train, evaluation = make_split(labels, classes, options)
    seen: dict[str, Any] = {
        "size": None,
        "first": None,
        "color": False,
        "formats": Counter(),
    }

    def record(index: int) -> bytes:
        path = files[index]
        try:
            data = path.read_bytes()
        except OSError as error:
            raise UserError(f"cannot read {path}: {error.strerror or error}") from None
        try:
            info = inspect_image(data)
        except ImageError as error:
            raise UserError(f"{path}: unreadable image: {error}") from None
        size = (info.height, info.width)
        if seen["size"] is None:
            seen["size"], seen["first"] = size, path
        elif size != seen["size"]:
            first_h, first_w = seen["size"]
            raise UserError(
                f"{path}: {info.width}x{info.height} pixels, but {seen['first']} is {first_w}x{first_h}",
                hint="every image must have the same size; resize them first",
            )
        seen["color"] |= info.color
        seen["formats"][info.format] += 1
        return image_record(
            data,
            info.format,
            int(labels[index]),
            info.height,
            info.width,
            3 if info.color else 1,
            path.relative_to(root).as_posix(),
        )

    def batches() -> Batches:
        for split, indices in (("train", train), ("eval", evaluation)):
            for batch in batched(record(int(i)) for i in indices):
                yield split, batch

    def meta() -> dict[str, Any]:
        height, width = seen["size"]
        channels = 3 if seen["color"] else 1
        formats: Counter[str] = seen["formats"]
        # Every TensorFlow image decoder reads both formats; a mixed folder
        # names its most common format and records each one per example.
        image_format = sorted(formats, key=lambda f: (-formats[f], f))[0]
        result = image_meta(
            classes,
            height,
            width,
            channels,
            image_format,
            f"A {height}x{width}x{channels} image.",
            f"The class, 0 to {len(classes) - 1} (the sorted folder names).",
            f"image folders in {root.name or root}",
        )
        if len(formats) > 1:
            result["image_formats"] = dict(sorted(formats.items()))
        return result

    notes = (
        [f"skipped {skipped} files that are not .png, .jpg or .jpeg"] if skipped else []
    )
    return Plan({"train": len(train), "eval": len(evaluation)}, batches(), meta, notes)


# ---------------------------------------------------------------------------
# npz and csv: images or tabular rows
# ---------------------------------------------------------------------------


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
    return Plan(counts, batches(), lambda: meta)


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
    path = _source_path(source, "npz", "an .npz file with arrays x and y")
    x, y, test = _npz_arrays(load_npz(path), path)
    if len(x) == 0:
        raise UserError(f"{path}: no examples")
    n = len(y)
    all_labels = resolve_labels(
        np.concatenate([y, test[1]]) if test is not None else y,
        options.label_type,
        str(path),
    )
    labels = Labels(all_labels.values[:n], all_labels.classes)
    test_labels = all_labels.values[n:]
    images = _as_images(x, str(path))
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
    path = _source_path(source, "csv", "a CSV file with a header row")
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
