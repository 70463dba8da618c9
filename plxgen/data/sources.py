"""Readers for the source formats of `plxgen data`: IDX, CIFAR-10 pickles, npz and CSV.

Every reader raises UserError naming the file for anything it cannot use.
None of them runs code from the file: IDX and CSV are parsed by hand, npz is
loaded with allow_pickle=False, and the CIFAR-10 pickles go through an
unpickler that can build only plain containers and numpy arrays.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from plxgen.errors import UserError

# ---------------------------------------------------------------------------
# IDX (the MNIST file format)
# ---------------------------------------------------------------------------

# IDX type byte -> numpy dtype (big-endian, as the format stores numbers).
_IDX_TYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_bytes(path: Path) -> bytes:
    """The whole file, gunzipped when its name ends in .gz."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise UserError(f"{path}: corrupt or truncated gzip file ({error})") from None
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror or error}") from None


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally gzipped) as a numpy array in native byte order."""
    data = read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise UserError(
            f"{path}: not an IDX file (wrong magic number {data[:4].hex() or 'none'})",
            hint="MNIST files start with 00000801 (labels) or 00000803 (images)",
        )
    dtype, ndim = _IDX_TYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise UserError(f"{path}: truncated IDX header")
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - header != expected:
        raise UserError(
            f"{path}: the header announces {'x'.join(map(str, shape))} values "
            f"({expected} bytes) but the file holds {len(data) - header} bytes",
            hint="the file is truncated or not an IDX file",
        )
    array: np.ndarray = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


# ---------------------------------------------------------------------------
# CIFAR-10 python pickles
# ---------------------------------------------------------------------------

# Everything a CIFAR-10 batch pickle refers to: numpy's array reconstruction
# (under its NumPy 1 and 2 module names) and, for batches re-saved by Python 3
# with protocol 2, the codec call that protocol uses for bytes.
_PICKLE_GLOBALS = {
    ("_codecs", "encode"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds plain containers and numpy arrays only; any other global is refused."""

    def find_class(self, module: str, name: str) -> Any:
        """Resolve only the numpy names an array pickle needs."""
        if (module, name) in _PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def load_pickle(handle: IO[bytes], path: str) -> Any:
    """Unpickle a CIFAR batch without running code from it."""
    try:
        return _RestrictedUnpickler(handle, encoding="latin1").load()
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        ImportError,
        IndexError,
        KeyError,
        MemoryError,
    ) as error:
        raise UserError(f"{path}: not a CIFAR-10 python pickle ({error})") from None


@dataclass(frozen=True)
class CifarBatch:
    """One CIFAR-10 batch: NxHxWx3 uint8 images, labels and file names."""

    images: np.ndarray
    labels: np.ndarray
    filenames: list[str]


def parse_cifar_batch(obj: Any, path: str) -> CifarBatch:
    """Check a loaded batch dict and turn its rows into 32x32x3 images."""
    if not isinstance(obj, dict):
        raise UserError(f"{path}: not a CIFAR-10 batch (no dict inside)")
    data, labels = obj.get("data"), obj.get("labels")
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != 3072
    ):
        raise UserError(f"{path}: 'data' is not an Nx3072 uint8 array as in CIFAR-10")
    if not isinstance(labels, list) or not all(
        isinstance(x, int) and not isinstance(x, bool) for x in labels
    ):
        raise UserError(f"{path}: 'labels' is not a list of integers as in CIFAR-10")
    if len(labels) != len(data):
        raise UserError(f"{path}: {len(data)} images but {len(labels)} labels")
    names = obj.get("filenames")
    if (
        isinstance(names, list)
        and len(names) == len(data)
        and all(isinstance(n, str) for n in names)
    ):
        filenames = list(names)
    else:
        filenames = []
    # Each row is the red, then green, then blue plane of a 32x32 image.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return CifarBatch(images, np.asarray(labels, np.int64), filenames)


def parse_cifar_meta(obj: Any, path: str) -> list[str]:
    """The class names of batches.meta."""
    names = obj.get("label_names") if isinstance(obj, dict) else None
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(n, str) for n in names)
    ):
        raise UserError(f"{path}: no 'label_names' list as in CIFAR-10's batches.meta")
    return list(names)


# ---------------------------------------------------------------------------
# npz and CSV
# ---------------------------------------------------------------------------


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz file (object arrays are refused: they need pickle)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                raise UserError(f"{path}: a .npy file, not an .npz archive")
            return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: a folder, not an .npz file") from None
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        if "pickle" in str(error):
            raise UserError(
                f"{path}: holds Python objects, which plxgen does not unpickle",
                hint="save numeric (or string) arrays: np.savez(path, x=x, y=y)",
            ) from None
        raise UserError(f"{path}: not a valid .npz file ({error})") from None
    except Exception as error:  # zipfile.BadZipFile, EOFError, ...
        raise UserError(f"{path}: not a valid .npz file ({error})") from None


@dataclass(frozen=True)
class Table:
    """A CSV file: numeric feature columns and the raw text of the label column."""

    feature_names: list[str]
    features: np.ndarray  # N x D float64
    label_name: str
    labels: list[str]


def read_csv(path: Path, label: str | None, delimiter: str) -> Table:
    """Parse a CSV file with a header row; every column but the label must be numeric."""
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror or error}") from None
    with handle:
        try:
            return _parse_csv(handle, path, label, delimiter)
        except UnicodeDecodeError as error:
            raise UserError(f"{path}: not UTF-8 text ({error.reason})") from None
        except csv.Error as error:
            raise UserError(f"{path}: malformed CSV ({error})") from None


def _parse_csv(
    handle: io.TextIOBase | IO[str], path: Path, label: str | None, delimiter: str
) -> Table:
    reader = csv.reader(handle, delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise UserError(f"{path}: empty file (a header row of column names is needed)")
    header = [name.strip() for name in header]
    if len(set(header)) != len(header):
        raise UserError(f"{path}:1: repeated column names in the header")
    if label is None:
        label_index = len(header) - 1
    elif label in header:
        label_index = header.index(label)
    else:
        raise UserError(
            f"{path}: no column {label!r}",
            hint=f"the columns are: {', '.join(header)}",
        )
    if len(header) < 2:
        raise UserError(f"{path}: needs at least one feature column and a label column")
    feature_index = [i for i in range(len(header)) if i != label_index]
    rows: list[list[float]] = []
    labels: list[str] = []
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise UserError(
                f"{path}:{line}: {len(row)} columns, the header has {len(header)}"
            )
        values = []
        for i in feature_index:
            cell = row[i].strip()
            try:
                number = float(cell)
            except ValueError:
                what = "is empty" if not cell else f"holds {cell[:40]!r}, not a number"
                raise UserError(
                    f"{path}:{line}: column {header[i]!r} {what}",
                    hint="feature columns must be numeric; encode categories as numbers first",
                ) from None
            if not math.isfinite(number):
                raise UserError(f"{path}:{line}: column {header[i]!r} holds {cell!r}")
            values.append(number)
        cell = row[label_index].strip()
        if not cell:
            raise UserError(
                f"{path}:{line}: the label column {header[label_index]!r} is empty"
            )
        rows.append(values)
        labels.append(cell)
    if not rows:
        raise UserError(f"{path}: no data rows")
    features = np.array(rows, np.float64).reshape(len(rows), len(feature_index))
    return Table(
        [header[i] for i in feature_index], features, header[label_index], labels
    )
