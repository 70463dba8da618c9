"""`plxgen data mnist` (the IDX files) and `plxgen data cifar10` (the pickle batches).

Both keep the 2017 split unless --eval-fraction or --seed is given: MNIST's
eval is the first sixth of its training file, CIFAR-10's the fifth batch.
"""

from __future__ import annotations

import functools
import io
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from plxgen.data.convert_shared import Batches, fixed_split, source_path
from plxgen.data.datasets import (
    Options,
    Plan,
    eval_count,
    image_meta,
    make_split,
    png_batches,
)
from plxgen.errors import UserError
from plxgen.data.sources import (
    load_pickle,
    parse_cifar_batch,
    parse_cifar_meta,
    read_idx,
)

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
    folder = source_path(source, "mnist", "the folder with the four IDX files")
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
    if fixed_split(options):
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
    path = source_path(
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
    if fixed_split(options):
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
