"""`plxgen data images`: a folder with one sub-folder of png/jpeg files per class.

Files are stored as they are, neither decoded nor re-encoded, and read one
at a time while the records are written; every image must have the same size.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from plxgen.data.convert_shared import Batches, source_path
from plxgen.data.datasets import (
    Options,
    Plan,
    batched,
    image_meta,
    image_record,
    make_split,
)
from plxgen.errors import UserError
from plxgen.data.imagefiles import ImageError, inspect_image

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
    root = source_path(
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
