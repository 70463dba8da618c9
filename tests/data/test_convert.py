"""`plxgen data mnist|cifar10|images|npz|csv`: every example and label survives the trip.

Sources are made here (tiny IDX files, CIFAR pickles, image folders, npz and
CSV files); the output is read back with TensorFlow's own TFRecord reader and
protobuf parser, never with plxgen's code.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import struct
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")

from plxgen.cli import main
from plxgen.data.datasets import make_dataset
from plxgen.errors import UserError
from plxgen.data.progress import Progress
from plxgen.data.tfrecord import crc32c, crc32c_many, encode_png, frame_records
from tests.conftest import ROOT, plxgen, train

# --- an independent reader -----------------------------------------------------


def read_split(path: Path) -> list[dict[str, list[Any]]]:
    """Every record of a TFRecord file, parsed by TensorFlow into {key: values}."""
    examples = []
    for record in tf.data.TFRecordDataset(str(path)):
        example = tf.train.Example.FromString(record.numpy())
        examples.append(
            {
                key: list(getattr(feature, feature.WhichOneof("kind")).value)
                for key, feature in example.features.feature.items()
            }
        )
    return examples


def decode(example: dict[str, list[Any]], channels: int = 0) -> np.ndarray:
    """The image of a record, decoded by TensorFlow."""
    image = tf.io.decode_image(
        example["image/encoded"][0], channels=channels, expand_animations=False
    )
    return image.numpy()


def meta_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "meta_data.json").read_text())


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- batched checksums -----------------------------------------------------------


def test_crc32c_many_equals_crc32c() -> None:
    rng = np.random.default_rng(0)
    sizes = [0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 64, 100, 1000, 4099, 70001]
    messages = [rng.bytes(n) for n in sizes] + [bytes(40), b"\xff" * 9]
    assert crc32c_many(messages) == [crc32c(m) for m in messages]
    assert crc32c_many([]) == []
    # Alone or in a batch with very different lengths: the same answer.
    assert crc32c_many([messages[-3]]) == [crc32c(messages[-3])]


def test_framed_records_read_by_tensorflow(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    records = [b"", b"x", b"abcd"] + [
        rng.bytes(int(n)) for n in rng.integers(0, 5000, 40)
    ]
    path = tmp_path / "r.tfrecord"
    path.write_bytes(frame_records(records))
    assert [r.numpy() for r in tf.data.TFRecordDataset(str(path))] == records


# --- mnist ---------------------------------------------------------------------


def write_idx(path: Path, array: np.ndarray, type_byte: int = 0x08) -> None:
    """An IDX file (gzipped when the name ends in .gz)."""
    header = bytes([0, 0, type_byte, array.ndim]) + b"".join(
        struct.pack(">I", d) for d in array.shape
    )
    data = header + array.astype(">u1" if type_byte == 0x08 else ">f4").tobytes()
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)


def make_mnist(
    folder: Path, gz: bool, n_train: int = 60, n_test: int = 12
) -> dict[str, np.ndarray]:
    """Tiny MNIST-format files with every digit present."""
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(n_train) * 7 % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) * 3 % 10,
    }
    for name, array in arrays.items():
        write_idx(folder / (name + (".gz" if gz else "")), array)
    return arrays


def check_mnist_record(
    example: dict[str, list[Any]], arrays: dict[str, np.ndarray]
) -> int:
    """Check one record against the source image its file name points at."""
    name = example["image/filename"][0].decode()
    stem, index = name[: -len(".png")].split("_")
    images = arrays[f"{stem}-images-idx3-ubyte"]
    labels = arrays[f"{stem}-labels-idx1-ubyte"]
    image = decode(example)
    assert image.shape == (28, 28, 1)
    np.testing.assert_array_equal(image[..., 0], images[int(index)])
    assert example["image/class/label"] == [labels[int(index)]]
    assert example["image/format"] == [b"png"]
    assert example["image/colorspace"] == [b"grayscale"]
    assert example["image/height"] == example["image/width"] == [28]
    return int(index)


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "plain"])
def test_mnist_round_trip_with_the_2017_split(tmp_path: Path, gz: bool) -> None:
    arrays = make_mnist(tmp_path / "src", gz)
    out = tmp_path / "out"
    make_dataset("mnist", str(tmp_path / "src"), out)
    assert files_in(out) == [
        "meta_data.json",
        "mnist_eval.tfrecord",
        "mnist_predict.tfrecord",
        "mnist_train.tfrecord",
    ]
    splits = {
        s: read_split(out / f"mnist_{s}.tfrecord") for s in ("train", "eval", "predict")
    }
    indices = {
        s: [check_mnist_record(e, arrays) for e in examples]
        for s, examples in splits.items()
    }
    # As the 2017 converter: eval is the first sixth of the training file,
    # train the rest, predict the whole test file, all in file order.
    assert indices == {
        "eval": list(range(10)),
        "train": list(range(10, 60)),
        "predict": list(range(12)),
    }
    meta = meta_of(out)
    assert meta["num_samples"] == {"train": 50, "eval": 10, "predict": 12}
    assert meta["num_classes"] == 10 and meta["classes"] == [str(d) for d in range(10)]
    assert (meta["height"], meta["width"], meta["channels"]) == (28, 28, 1)
    assert meta["image_format"] == "png" and meta["colorspace"] == "grayscale"


def test_mnist_seeded_split_keeps_everything(tmp_path: Path) -> None:
    arrays = make_mnist(tmp_path / "src", gz=True)
    out = tmp_path / "out"
    make_dataset("mnist", str(tmp_path / "src"), out, eval_fraction=0.25, seed=3)
    train = [
        check_mnist_record(e, arrays) for e in read_split(out / "mnist_train.tfrecord")
    ]
    evaluation = [
        check_mnist_record(e, arrays) for e in read_split(out / "mnist_eval.tfrecord")
    ]
    assert sorted(train + evaluation) == list(range(60))
    assert len(evaluation) == 15
    labels = arrays["train-labels-idx1-ubyte"]
    assert set(labels[evaluation].tolist()) == set(range(10))  # stratified
    assert train != sorted(train)  # shuffled


def test_mnist_without_test_files_has_no_predict_split(tmp_path: Path) -> None:
    make_mnist(tmp_path / "src", gz=False)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / "src" / name).unlink()
    make_dataset("mnist", str(tmp_path / "src"), tmp_path / "out")
    assert files_in(tmp_path / "out") == [
        "meta_data.json",
        "mnist_eval.tfrecord",
        "mnist_train.tfrecord",
    ]
    assert meta_of(tmp_path / "out")["num_samples"] == {"train": 50, "eval": 10}


def _corrupt(src: Path, case: str) -> tuple[str, str]:
    """Break one MNIST file; return (file named in the error, message pattern)."""
    images = src / "train-images-idx3-ubyte.gz"
    labels = src / "train-labels-idx1-ubyte.gz"
    if case == "magic":
        data = bytearray(gzip.decompress(images.read_bytes()))
        data[0:4] = b"\x50\x4b\x03\x04"
        images.write_bytes(gzip.compress(bytes(data)))
        return images.name, "wrong magic number 504b0304"
    if case == "truncated":
        data = gzip.decompress(images.read_bytes())
        images.write_bytes(gzip.compress(data[:-100]))
        return images.name, "the header announces 60x28x28 values"
    if case == "lengths":
        write_idx(labels, np.zeros(59, np.uint8))
        return labels.name, "holds 60 images but .* holds 59 labels"
    if case == "bad-gzip":
        labels.write_bytes(labels.read_bytes()[:20])
        return labels.name, "corrupt or truncated gzip"
    if case == "missing-partner":
        (src / "t10k-labels-idx1-ubyte.gz").unlink()
        return "t10k-labels-idx1-ubyte", "file not found"
    if case == "floats":
        write_idx(images, np.zeros((60, 28, 28), np.float32), type_byte=0x0D)
        return images.name, "expected unsigned-byte images"
    assert case == "no-train"
    images.unlink()
    labels.unlink()
    return "src", "no train-images-idx3-ubyte"


@pytest.mark.parametrize(
    "case",
    [
        "magic",
        "truncated",
        "lengths",
        "bad-gzip",
        "missing-partner",
        "floats",
        "no-train",
    ],
)
def test_mnist_bad_source_is_one_error_naming_the_file(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_mnist(tmp_path / "src", gz=True)
    name, pattern = _corrupt(tmp_path / "src", case)
    code = main(["data", "mnist", str(tmp_path / "src"), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.splitlines()
    assert lines[0].startswith("plxgen: error: ") and name in lines[0]
    assert __import__("re").search(pattern, lines[0]), lines[0]
    assert "Traceback" not in err
    assert files_in(tmp_path / "out") == []


# --- cifar10 -----------------------------------------------------------------


CIFAR_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def make_cifar(folder: Path, per_batch: int = 6) -> dict[str, dict[str, Any]]:
    """Tiny CIFAR-10 python batches (pickle protocol 2, str keys as CIFAR's latin-1 load gives)."""
    rng = np.random.default_rng(5)
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for b, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        batch = {
            "batch_label": f"batch {b}",
            "labels": [int(x) for x in (np.arange(per_batch) + b) % 10],
            "data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            "filenames": [f"{name}_img_{i}.png" for i in range(per_batch)],
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        batches[name] = batch
    meta = {
        "num_cases_per_batch": per_batch,
        "label_names": CIFAR_CLASSES,
        "num_vis": 3072,
    }
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return batches


def check_cifar(out: Path, batches: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Every record equals its source row (planes -> HxWx3); returns file names per split."""
    rows = {
        fn: (batch["data"][i], batch["labels"][i])
        for batch in batches.values()
        for i, fn in enumerate(batch["filenames"])
    }
    names: dict[str, list[str]] = {}
    for split in ("train", "eval", "predict"):
        names[split] = []
        for example in read_split(out / f"cifar10_{split}.tfrecord"):
            name = example["image/filename"][0].decode()
            data, label = rows[name]
            image = decode(example)
            np.testing.assert_array_equal(
                image, data.reshape(3, 32, 32).transpose(1, 2, 0)
            )
            assert example["image/class/label"] == [label]
            assert example["image/colorspace"] == [b"RGB"]
            names[split].append(name)
    return names


def test_cifar10_round_trip(tmp_path: Path) -> None:
    batches = make_cifar(tmp_path / "cifar-10-batches-py")
    # The folder the archive unpacks to, or the folder above it: both work.
    make_dataset("cifar10", str(tmp_path), tmp_path / "out")
    names = check_cifar(tmp_path / "out", batches)
    # As in 2017: batches 1-4 train, batch 5 eval, the test batch for predict.
    assert names["train"] == [
        fn for b in range(1, 5) for fn in batches[f"data_batch_{b}"]["filenames"]
    ]
    assert names["eval"] == batches["data_batch_5"]["filenames"]
    assert names["predict"] == batches["test_batch"]["filenames"]
    meta = meta_of(tmp_path / "out")
    assert meta["classes"] == CIFAR_CLASSES
    assert meta["labels_to_classes"]["9"] == "truck"
    assert (meta["height"], meta["width"], meta["channels"], meta["colorspace"]) == (
        32,
        32,
        3,
        "RGB",
    )
    assert meta["num_samples"] == {"train": 24, "eval": 6, "predict": 6}


def test_cifar10_from_the_archive_with_a_seeded_split(tmp_path: Path) -> None:
    batches = make_cifar(tmp_path / "src" / "cifar-10-batches-py")
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    make_dataset("cifar10", str(archive), tmp_path / "out", eval_fraction=0.5, seed=1)
    names = check_cifar(tmp_path / "out", batches)
    train_files = [
        fn for b in range(1, 6) for fn in batches[f"data_batch_{b}"]["filenames"]
    ]
    assert sorted(names["train"] + names["eval"]) == sorted(train_files)
    assert len(names["eval"]) == 15


class _Py2Pickler(pickle._Pickler):  # type: ignore[name-defined,misc]
    """Writes bytes as Python 2 `str` opcodes, as cPickle wrote CIFAR-10's batches."""

    dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]

    def save_bytes(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def test_cifar10_python2_pickles(tmp_path: Path) -> None:
    batches = make_cifar(tmp_path / "src")
    for name in list(batches) + ["batches.meta"]:
        obj = pickle.loads((tmp_path / "src" / name).read_bytes())
        as_py2 = {
            k.encode(): (
                [v.encode() for v in value]
                if isinstance(value, list) and value and isinstance(value[0], str)
                else value.encode() if isinstance(value, str) else value
            )
            for k, value in obj.items()
        }
        buffer = io.BytesIO()
        _Py2Pickler(buffer, protocol=2).dump(as_py2)
        # NumPy 1 (and Python 2) name the array module numpy.core.multiarray.
        blob = buffer.getvalue().replace(
            b"numpy._core.multiarray", b"numpy.core.multiarray"
        )
        assert b"_codecs" not in blob
        (tmp_path / "src" / name).write_bytes(blob)
    make_dataset("cifar10", str(tmp_path / "src"), tmp_path / "out")
    names = check_cifar(tmp_path / "out", batches)
    assert (
        len(names["train"]) == 24
        and meta_of(tmp_path / "out")["classes"] == CIFAR_CLASSES
    )


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize(
    "case", ["exploit", "missing", "not-pickle", "wrong-shape", "label-range"]
)
def test_cifar10_bad_source(tmp_path: Path, case: str) -> None:
    src = tmp_path / "src"
    make_cifar(src)
    marker = tmp_path / "pwned"
    if case == "exploit":
        (src / "data_batch_3").write_bytes(
            pickle.dumps({"data": _Exploit(marker)}, protocol=2)
        )
        pattern = r"data_batch_3: not a CIFAR-10 python pickle \(refusing to load (posix|nt)\.system\)"
    elif case == "missing":
        (src / "batches.meta").unlink()
        pattern = "missing batches.meta"
    elif case == "not-pickle":
        (src / "test_batch").write_bytes(b"hello")
        pattern = "test_batch: not a CIFAR-10 python pickle"
    elif case == "wrong-shape":
        batch = {"data": np.zeros((4, 100), np.uint8), "labels": [0, 1, 2, 3]}
        (src / "data_batch_2").write_bytes(pickle.dumps(batch, protocol=2))
        pattern = "data_batch_2: 'data' is not an Nx3072 uint8 array"
    else:
        batch = {"data": np.zeros((2, 3072), np.uint8), "labels": [0, 10]}
        (src / "data_batch_2").write_bytes(pickle.dumps(batch, protocol=2))
        pattern = r"data_batch_2: a label outside 0\.\.9"
    with pytest.raises(UserError, match=pattern):
        make_dataset("cifar10", str(src), tmp_path / "out")
    assert not marker.exists()
    assert files_in(tmp_path / "out") == []


# --- images ----------------------------------------------------------------------


def make_image_tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Class folders of PNG (grey, RGB, RGBA, palette) and JPEG files; returns {relpath: (bytes, label)}."""
    rng = np.random.default_rng(11)
    files: dict[str, tuple[bytes, int]] = {}

    def put(rel: str, data: bytes, label: int) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[rel] = (data, label)

    for i in range(5):
        put(
            f"cat/grey_{i}.png",
            tf.io.encode_png(rng.integers(0, 256, (12, 10, 1), dtype=np.uint8)).numpy(),
            0,
        )
        put(
            f"cat/rgba_{i}.PNG",
            tf.io.encode_png(rng.integers(0, 256, (12, 10, 4), dtype=np.uint8)).numpy(),
            0,
        )
    for i in range(4):
        put(
            f"dog/photo_{i}.jpg",
            tf.io.encode_jpeg(
                rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
            ).numpy(),
            1,
        )
        put(
            f"dog/sub/progressive_{i}.jpeg",
            tf.io.encode_jpeg(
                rng.integers(0, 256, (12, 10, 1), dtype=np.uint8), progressive=True
            ).numpy(),
            1,
        )
    for i in range(3):
        put(
            f"zebra/ours_{i}.png",
            encode_png(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)),
            2,
        )
    put("zebra/interlaced.png", _interlaced_png(), 2)
    # Skipped: hidden files and folders, other suffixes.
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x.png").write_bytes(b"junk")
    (root / "cat" / ".DS_Store").write_bytes(b"junk")
    (root / "dog" / "notes.txt").write_text("not an image")
    return files


def _interlaced_png() -> bytes:
    """A 10x12 interlaced (Adam7) grayscale PNG, built by hand."""
    import zlib

    pixels = (np.arange(120).reshape(12, 10) * 2).astype(np.uint8)
    raw = b""
    for x0, y0, dx, dy in (
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ):
        sub = pixels[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\x00" + row.tobytes() for row in sub)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 10, 12, 8, 0, 0, 0, 1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_images_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = make_image_tree(tmp_path / "src")
    out = tmp_path / "out"
    code = main(
        [
            "data",
            "images",
            str(tmp_path / "src"),
            "-o",
            str(out),
            "--eval-fraction",
            "0.25",
        ]
    )
    assert code == 0
    assert (
        "note: skipped 1 files that are not .png, .jpg or .jpeg"
        in capsys.readouterr().err
    )
    meta = meta_of(out)
    assert meta["classes"] == ["cat", "dog", "zebra"]
    assert (meta["height"], meta["width"], meta["channels"]) == (12, 10, 3)
    assert meta["image_format"] == "png"
    assert meta["image_formats"] == {"jpeg": 8, "png": 14}
    seen = []
    for split in ("train", "eval"):
        for example in read_split(out / f"images_{split}.tfrecord"):
            rel = example["image/filename"][0].decode()
            data, label = files[rel]
            # The file's bytes are stored as they are.
            assert example["image/encoded"] == [data]
            assert example["image/class/label"] == [label]
            assert example["image/format"] == [
                b"jpeg" if rel.endswith(("jpg", "jpeg")) else b"png"
            ]
            # Every record decodes to the meta data's shape, whatever decoder is used.
            for decoder in (tf.io.decode_png, tf.io.decode_jpeg, tf.io.decode_image):
                image = decoder(data, channels=meta["channels"])
                assert tuple(image.shape) == (12, 10, 3)
            seen.append((split, rel))
    assert sorted(rel for _, rel in seen) == sorted(files)
    assert meta["num_samples"] == {"train": 16, "eval": 6}
    # Stratified: every class on both sides.
    evaluated = {files[rel][1] for split, rel in seen if split == "eval"}
    assert evaluated == {0, 1, 2}


def test_images_grey_only_folder_has_one_channel(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for label in ("a", "b"):
        (tmp_path / "src" / label).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "src" / label / f"{i}.png").write_bytes(
                encode_png(rng.integers(0, 256, (4, 4), dtype=np.uint8))
            )
    make_dataset("images", str(tmp_path / "src"), tmp_path / "out")
    meta = meta_of(tmp_path / "out")
    assert (meta["channels"], meta["colorspace"], meta["image_format"]) == (
        1,
        "grayscale",
        "png",
    )
    assert "image_formats" not in meta


def _palette_png(indices: np.ndarray, palette: list[tuple[int, int, int]]) -> bytes:
    """An 8-bit palette PNG, built by hand."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body))
        )

    height, width = indices.shape
    raw = b"".join(b"\x00" + row.astype(np.uint8).tobytes() for row in indices)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
        + chunk(b"PLTE", bytes(v for colour in palette for v in colour))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_images_sixteen_bit_and_palette_pngs_decode_as_meta_says(
    tmp_path: Path,
) -> None:
    deep = (np.arange(30).reshape(5, 6, 1) * 2000).astype(np.uint16)
    indices = np.arange(30).reshape(5, 6) % 2
    palette = [(255, 0, 0), (0, 0, 255)]
    (tmp_path / "src" / "deep").mkdir(parents=True)
    (tmp_path / "src" / "palette").mkdir()
    for i in range(2):
        (tmp_path / "src" / "deep" / f"{i}.png").write_bytes(
            tf.io.encode_png(deep).numpy()
        )
        (tmp_path / "src" / "palette" / f"{i}.png").write_bytes(
            _palette_png(indices, palette)
        )
    make_dataset("images", str(tmp_path / "src"), tmp_path / "out", eval_fraction=0.5)
    meta = meta_of(tmp_path / "out")
    assert (meta["height"], meta["width"], meta["channels"]) == (5, 6, 3)
    for split in ("train", "eval"):
        for example in read_split(tmp_path / "out" / f"images_{split}.tfrecord"):
            image = decode(example, channels=meta["channels"])
            assert image.shape == (5, 6, 3) and image.dtype == np.uint8
            if example["image/class/label"] == [1]:
                np.testing.assert_array_equal(
                    image, np.array(palette, np.uint8)[indices]
                )
            else:
                # TensorFlow scales 16 bits down to 8 (its rounding is its own).
                assert np.abs(image[..., 0] - deep[..., 0] / 257).max() <= 1


def test_image_record_is_the_example_of_its_features() -> None:
    from plxgen.data.datasets import image_record
    from plxgen.data.tfrecord import example_bytes

    record = image_record(b"\x89PNG...", "png", 7, 28, 27, 3, "a/b.png")
    assert record == example_bytes(
        {
            "image/encoded": b"\x89PNG...",
            "image/format": b"png",
            "image/class/label": 7,
            "image/height": 28,
            "image/width": 27,
            "image/channels": 3,
            "image/colorspace": b"RGB",
            "image/filename": b"a/b.png",
        }
    )


def _break_image_tree(src: Path, case: str) -> tuple[str, str]:
    if case == "truncated-png":
        path = src / "cat" / "grey_2.png"
        path.write_bytes(path.read_bytes()[:-30])
        return "grey_2.png", "unreadable image: truncated"
    if case == "bad-crc":
        path = src / "zebra" / "ours_1.png"
        data = bytearray(path.read_bytes())
        data[40] ^= 0xFF
        path.write_bytes(bytes(data))
        return "ours_1.png", "unreadable image: corrupt PNG"
    if case == "truncated-jpeg":
        path = src / "dog" / "photo_1.jpg"
        path.write_bytes(path.read_bytes()[:-40])
        return "photo_1.jpg", "unreadable image: truncated JPEG"
    if case == "not-an-image":
        (src / "dog" / "fake.jpg").write_text("<html>")
        return "fake.jpg", "unreadable image: not a PNG or JPEG"
    if case == "size":
        (src / "zebra" / "big.png").write_bytes(
            encode_png(np.zeros((20, 20, 3), np.uint8))
        )
        return "big.png", "20x20 pixels, but .* is 10x12"
    if case == "empty-class":
        (src / "empty").mkdir()
        return "empty", "no .png, .jpg or .jpeg files"
    assert case == "no-classes"
    for path in sorted(src.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    return "src", "no class sub-folders"


@pytest.mark.parametrize(
    "case",
    [
        "truncated-png",
        "bad-crc",
        "truncated-jpeg",
        "not-an-image",
        "size",
        "empty-class",
        "no-classes",
    ],
)
def test_images_bad_source(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_image_tree(tmp_path / "src")
    name, pattern = _break_image_tree(tmp_path / "src", case)
    out = tmp_path / "out"
    out.mkdir()
    code = main(["data", "images", str(tmp_path / "src"), "-o", str(out)])
    lines = capsys.readouterr().err.splitlines()
    assert code == 2
    error = [line for line in lines if line.startswith("plxgen: error:")]
    assert len(error) == 1 and name in error[0], lines
    assert __import__("re").search(pattern, error[0]), error[0]
    assert files_in(out) == []  # nothing written, no temporary files left


# --- npz ---------------------------------------------------------------------


def test_npz_images_with_a_test_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    x_train = rng.integers(0, 256, (30, 8, 6), dtype=np.uint8)
    y_train = np.arange(30) % 4
    x_test = rng.integers(0, 256, (7, 8, 6), dtype=np.uint8)
    y_test = np.arange(7) % 4
    np.savez(
        tmp_path / "d.npz",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
    )
    make_dataset("npz", str(tmp_path / "d.npz"), tmp_path / "out")
    seen = []
    for split in ("train", "eval", "predict"):
        for example in read_split(tmp_path / "out" / f"npz_{split}.tfrecord"):
            name = example["image/filename"][0].decode()
            index = int(name.rsplit("_", 1)[1][: -len(".png")])
            x, y = (x_test, y_test) if split == "predict" else (x_train, y_train)
            np.testing.assert_array_equal(decode(example)[..., 0], x[index])
            assert example["image/class/label"] == [y[index]]
            seen.append((split == "predict", index))
    assert sorted(seen) == [(False, i) for i in range(30)] + [
        (True, i) for i in range(7)
    ]
    meta = meta_of(tmp_path / "out")
    assert meta["num_samples"] == {"train": 24, "eval": 6, "predict": 7}
    assert (meta["height"], meta["width"], meta["channels"], meta["num_classes"]) == (
        8,
        6,
        1,
        4,
    )


def test_npz_many_batches_keep_order_and_count(tmp_path: Path) -> None:
    # More records than one framing batch (512), so several batches per split.
    x = np.arange(1500 * 4, dtype=np.int64).reshape(1500, 2, 2) % 256
    y = np.arange(1500) % 3
    np.savez(tmp_path / "d.npz", x=x.astype(np.uint8), y=y)
    make_dataset("npz", str(tmp_path / "d.npz"), tmp_path / "out")
    seen = []
    for split in ("train", "eval"):
        for example in read_split(tmp_path / "out" / f"npz_{split}.tfrecord"):
            index = int(example["image/filename"][0].decode()[2:-4])
            np.testing.assert_array_equal(decode(example)[..., 0], x[index])
            assert example["image/class/label"] == [y[index]]
            seen.append(index)
    assert sorted(seen) == list(range(1500))
    assert meta_of(tmp_path / "out")["num_samples"] == {"train": 1200, "eval": 300}


def test_npz_rgb_images_with_named_classes(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(0, 256, (10, 5, 5, 3)).astype(
        np.int64
    )  # integers in 0..255 are fine
    y = np.array(["sun", "rain"] * 5)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    make_dataset("npz", str(tmp_path / "d.npz"), tmp_path / "out", eval_fraction=0.4)
    meta = meta_of(tmp_path / "out")
    assert meta["classes"] == ["rain", "sun"] and meta["colorspace"] == "RGB"
    total = 0
    for split in ("train", "eval"):
        for example in read_split(tmp_path / "out" / f"npz_{split}.tfrecord"):
            index = int(example["image/filename"][0].decode()[2:-4])
            np.testing.assert_array_equal(decode(example), x[index])
            assert meta["classes"][example["image/class/label"][0]] == y[index]
            total += 1
    assert total == 10


def read_tabular(path: Path, meta: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of a tabular split, batch-parsed by TensorFlow."""
    spec = {
        "features": tf.io.FixedLenFeature([meta["num_features"]], tf.float32),
        "label": tf.io.FixedLenFeature(
            [], tf.int64 if meta["label_dtype"] == "int64" else tf.float32
        ),
    }
    batches = [
        tf.io.parse_example(b, spec)
        for b in tf.data.TFRecordDataset(str(path)).batch(1000)
    ]
    features = np.concatenate([b["features"].numpy() for b in batches])
    labels = np.concatenate([b["label"].numpy() for b in batches])
    return features, labels


def test_npz_tabular_regression(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(size=(50, 4))
    y = rng.normal(size=50) * 100
    np.savez(tmp_path / "d.npz", x=x, y=y)
    make_dataset("npz", str(tmp_path / "d.npz"), tmp_path / "out")
    meta = meta_of(tmp_path / "out")
    assert meta["record_format"] == "tabular" and meta["label_dtype"] == "float32"
    assert meta["num_features"] == 4 and "classes" not in meta
    parts = [
        read_tabular(tmp_path / "out" / f"npz_{s}.tfrecord", meta)
        for s in ("train", "eval")
    ]
    features = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    assert len(parts[1][0]) == 10
    order = np.lexsort(features.T[::-1])
    expected = np.lexsort(x.astype(np.float32).T[::-1])
    np.testing.assert_array_equal(features[order], x.astype(np.float32)[expected])
    np.testing.assert_array_equal(labels[order], y.astype(np.float32)[expected])


@pytest.mark.parametrize(
    "arrays, pattern",
    [
        (
            {"x": np.zeros((5, 3)), "y": np.zeros(4)},
            "x holds 5 examples but y holds 4 labels",
        ),
        ({"x": np.zeros((5, 3))}, r"no array 'y' \(it holds x\)"),
        ({"a": np.zeros(3)}, r"no arrays 'x' and 'y' \(it holds a\)"),
        (
            {"x": np.zeros((5, 4, 4), np.float32), "y": np.zeros(5, int)},
            "images must be integers 0..255",
        ),
        (
            {"x": np.full((5, 4, 4), 300), "y": np.zeros(5, int)},
            "image values outside 0..255",
        ),
        (
            {"x": np.zeros((5, 4, 4), np.uint8), "y": np.full(5, 0.5)},
            "image records need class labels",
        ),
        (
            {"x": np.zeros((5, 2)), "y": np.zeros(5, complex)},
            "labels of type complex128 are neither numbers nor names",
        ),
        (
            {"x": np.zeros((5, 2)), "y": np.zeros((5, 2))},
            "y must hold one label per example",
        ),
    ],
)
def test_npz_bad_source(
    tmp_path: Path, arrays: dict[str, np.ndarray], pattern: str
) -> None:
    np.savez(tmp_path / "d.npz", **arrays)  # type: ignore[arg-type]
    with pytest.raises(UserError, match=pattern) as caught:
        make_dataset("npz", str(tmp_path / "d.npz"), tmp_path / "out")
    assert "d.npz" in caught.value.message
    assert not (tmp_path / "out").exists()


def test_npz_negative_labels_name_classes(tmp_path: Path) -> None:
    x = np.arange(10, dtype=np.float64).reshape(5, 2)
    np.savez(tmp_path / "d.npz", x=x, y=np.array([1, -1, 1, -1, 1]))
    make_dataset("npz", str(tmp_path / "d.npz"), tmp_path / "out", eval_fraction=0.4)
    meta = meta_of(tmp_path / "out")
    assert meta["classes"] == ["-1", "1"] and meta["label_dtype"] == "int64"
    pairs = []
    for split in ("train", "eval"):
        features, labels = read_tabular(
            tmp_path / "out" / f"npz_{split}.tfrecord", meta
        )
        pairs += [(f[0], meta["classes"][label]) for f, label in zip(features, labels)]
    assert sorted(pairs) == [(0, "1"), (2, "-1"), (4, "1"), (6, "-1"), (8, "1")]


def test_npz_with_python_objects_is_refused(tmp_path: Path) -> None:
    np.savez(
        tmp_path / "d.npz", x=np.array([{"a": 1}] * 3, dtype=object), y=np.zeros(3)
    )
    with pytest.raises(UserError, match="holds Python objects"):
        make_dataset("npz", str(tmp_path / "d.npz"), tmp_path / "out")
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(UserError, match="broken.npz: not a valid .npz file"):
        make_dataset("npz", str(tmp_path / "broken.npz"), tmp_path / "out")


# --- csv -----------------------------------------------------------------------


def test_csv_classes_from_a_named_column(tmp_path: Path) -> None:
    rows = [
        (i * 0.5, f"{['setosa', 'virginica', 'versicolor'][i % 3]}", -i, i % 2)
        for i in range(30)
    ]
    text = (
        "width,species,depth,flag\n"
        + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in rows)
        + "\n"
    )
    (tmp_path / "d.csv").write_text(text)
    make_dataset(
        "csv", str(tmp_path / "d.csv"), tmp_path / "out", label="species", seed=2
    )
    meta = meta_of(tmp_path / "out")
    assert meta["feature_names"] == ["width", "depth", "flag"]
    assert meta["label_name"] == "species" and meta["label_dtype"] == "int64"
    assert meta["classes"] == ["setosa", "versicolor", "virginica"]
    got = []
    for split in ("train", "eval"):
        features, labels = read_tabular(
            tmp_path / "out" / f"csv_{split}.tfrecord", meta
        )
        got += [
            (tuple(f), meta["classes"][label])
            for f, label in zip(features.tolist(), labels)
        ]
    expected = [((float(a), float(c), float(d)), b) for a, b, c, d in rows]
    assert sorted(got) == sorted(expected)
    assert meta["num_samples"] == {"train": 24, "eval": 6}


def test_csv_regression_on_the_last_column(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("a;b;target\n1;2;151\n3;4;75\n5;6;141.5\n7;8;206\n")
    make_dataset(
        "csv",
        str(tmp_path / "d.csv"),
        tmp_path / "out",
        delimiter=";",
        eval_fraction=0.5,
    )
    meta = meta_of(tmp_path / "out")
    assert meta["label_dtype"] == "float32" and meta["label_name"] == "target"
    pairs = []
    for split in ("train", "eval"):
        features, labels = read_tabular(
            tmp_path / "out" / f"csv_{split}.tfrecord", meta
        )
        pairs += [(tuple(f), float(v)) for f, v in zip(features.tolist(), labels)]
    assert sorted(pairs) == [
        ((1.0, 2.0), 151.0),
        ((3.0, 4.0), 75.0),
        ((5.0, 6.0), 141.5),
        ((7.0, 8.0), 206.0),
    ]
    # Whole numbers are classes unless --label-type float says otherwise.
    (tmp_path / "i.csv").write_text("a,y\n1,151\n2,75\n3,75\n4,151\n")
    make_dataset("csv", str(tmp_path / "i.csv"), tmp_path / "o2", label_type="float")
    assert meta_of(tmp_path / "o2")["label_dtype"] == "float32"


@pytest.mark.parametrize(
    "text, kwargs, pattern",
    [
        ("a,b\n1,x\ny,0\n", {}, r"d.csv:3: column 'a' holds 'y', not a number"),
        ("a,b\n1,0\n2\n", {}, r"d.csv:3: 1 columns, the header has 2"),
        ("a,b\n1,0\n,1\n", {}, r"d.csv:3: column 'a' is empty"),
        ("a,b\n1,0\n", {"label": "c"}, r"d.csv: no column 'c'"),
        ("", {}, r"d.csv: empty file"),
        ("a,b\n", {}, r"d.csv: no data rows"),
        (
            "a,b\n1,x\n2,y\n",
            {"label_type": "float"},
            r"d.csv: label 'x' is not a number",
        ),
        ("a,b\n1,nan\ninf,1\n", {}, r"d.csv:3: column 'a' holds 'inf'"),
    ],
)
def test_csv_bad_source(
    tmp_path: Path, text: str, kwargs: dict[str, Any], pattern: str
) -> None:
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(UserError, match=pattern):
        make_dataset("csv", str(tmp_path / "d.csv"), tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


# --- common behaviour ----------------------------------------------------------


def test_force_replaces_a_dataset_and_drops_a_stale_predict_split(
    tmp_path: Path,
) -> None:
    make_mnist(tmp_path / "src", gz=False)
    out = tmp_path / "out"
    make_dataset("mnist", str(tmp_path / "src"), out)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / "src" / name).unlink()
    with pytest.raises(UserError, match="already holds a dataset"):
        make_dataset("mnist", str(tmp_path / "src"), out)
    make_dataset("mnist", str(tmp_path / "src"), out, force=True)
    assert files_in(out) == [
        "meta_data.json",
        "mnist_eval.tfrecord",
        "mnist_train.tfrecord",
    ]


def test_a_predict_file_alone_blocks_without_force(tmp_path: Path) -> None:
    make_mnist(tmp_path / "src", gz=False)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mnist_predict.tfrecord").write_bytes(b"mine")
    with pytest.raises(
        UserError, match=r"already holds a dataset \(mnist_predict.tfrecord\)"
    ):
        make_dataset("mnist", str(tmp_path / "src"), tmp_path / "out")
    assert (tmp_path / "out" / "mnist_predict.tfrecord").read_bytes() == b"mine"


@pytest.mark.parametrize(
    "argv, pattern",
    [
        (["mnist"], "the mnist dataset needs a SOURCE"),
        (["mnist", "no/such/dir"], "no/such/dir: not found"),
        (["digits", "--label", "y"], "--label names a column of a csv source only"),
        (["csv", "x.csv", "--delimiter", ";;"], "the delimiter must be one character"),
        (["tiff", "x"], "unknown dataset kind 'tiff'"),
    ],
)
def test_bad_command_lines(
    tmp_path: Path, argv: list[str], pattern: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", *argv, "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert pattern in err and "Traceback" not in err


def test_a_kind_spelt_nearly_right_is_offered_the_right_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_image_tree(tmp_path / "src")
    out = str(tmp_path / "out")
    assert main(["data", "image", str(tmp_path / "src"), "-o", out]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "  hint: did you mean 'images'?"
    assert main(["data", "images", str(tmp_path / "src"), "-o", out]) == 0  # as told
    assert (tmp_path / "out" / "images_train.tfrecord").is_file()


def test_the_printed_blocks_validate_where_the_message_says_to_put_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from plxgen.compiler import check
    from plxgen.compiler.load import load_text
    from plxgen.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    assert main(["data", "digits", "-o", "data"]) == 0
    out, err = capsys.readouterr()
    places = {"train": "`train: data_pipeline:`", "eval": "`eval: data_pipeline:`"}
    assert all(f"the {s} block under {p}" in err for s, p in places.items()), err
    blocks = yaml.safe_load(out)
    example = (ROOT / "generated_examples" / "lenet_digits.yaml").read_text()
    text = example.split("\ntrain:\n")[0] + "\n"  # the model, without its data
    for section in places:  # as the message says
        text += yaml.safe_dump({section: {"data_pipeline": blocks[section]}})
    try:
        check(load_text(text, "c.yaml"))
        found = []
    except ConfigError as exc:
        found = exc.diagnostics
    # The blocks read where they stand (the model itself may ask for more: a Cast).
    assert not [d for d in found if d.path.startswith(("train", "eval"))], found


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [True, False])
def test_progress_is_throttled(tty: bool) -> None:
    now = [0.0]
    stream = _Stream(tty)
    progress = Progress("mnist", 1000, stream, clock=lambda: now[0])
    for _ in range(100):  # 10 examples every 0.05 s for 5 s
        now[0] += 0.05
        progress.advance(10)
    progress.finish()
    text = stream.getvalue()
    if tty:
        # At most one redraw per 0.1 s (50 of 100 updates), plus the final clear.
        assert 35 <= text.count("\r") <= 51
        assert "mnist [###" in text and "990/1000 examples, 200/s" in text
    else:
        assert "\r" not in text
        assert text.splitlines() == ["mnist: 1000 examples in 5.0 s, 200 examples/s"]
    assert text.endswith("mnist: 1000 examples in 5.0 s, 200 examples/s\n")


def test_no_progress_without_a_stream() -> None:
    progress = Progress("x", 10, None)
    progress.advance(10)
    progress.finish()
    assert progress.done == 10


# --- end to end ----------------------------------------------------------------


LENET = """\
version: 1
project:
  name: lenet_mnist
model:
  classifier:
    loss:
      SoftmaxCrossEntropy:
    optimizer:
      Adam:
        learning_rate: 0.001
    metrics: [Accuracy]
    one_hot_encode: true
    n_classes: 10
    graph:
      input_layers: image
      layers:
        - Conv2D: {filters: 8, kernel_size: 5, activation: relu}
        - MaxPooling2D: {pool_size: 2}
        - Flatten:
        - Dense: {units: 10}
train:
  train_steps: 6
  data_pipeline:
    TFRecordImagePipeline:
      batch_size: 16
      num_epochs: 2
      shuffle: true
      data_files: ["data/mnist/mnist_train.tfrecord"]
      meta_data_file: "data/mnist/meta_data.json"
      feature_processors:
        image:
          input_layers: [image]
          layers:
            - Cast: {dtype: float32}
eval:
  data_pipeline:
    TFRecordImagePipeline:
      batch_size: 16
      num_epochs: 1
      shuffle: false
      data_files: ["data/mnist/mnist_eval.tfrecord"]
      meta_data_file: "data/mnist/meta_data.json"
      feature_processors:
        image:
          input_layers: [image]
          layers:
            - Cast: {dtype: float32}
"""


def test_mnist_idx_to_a_trained_lenet(tmp_path: Path) -> None:
    make_mnist(tmp_path / "idx", gz=True, n_train=120, n_test=20)
    plxgen("data", "mnist", tmp_path / "idx", "-o", tmp_path / "data" / "mnist", check=True)
    (tmp_path / "lenet.yaml").write_text(LENET)
    plxgen("compile", tmp_path / "lenet.yaml", "-o", tmp_path / "train.py", check=True)
    result = train(tmp_path / "train.py", "--model-dir", tmp_path / "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["global_step"] == 6
    assert np.isfinite(metrics["train"]["loss"]) and "accuracy" in metrics["eval"]
