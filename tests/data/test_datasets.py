"""Tests for the pure-Python TFRecord writers and `plxgen data digits` (other kinds: test_convert.py)."""

from __future__ import annotations

import json
import os
import struct
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")

from plxgen.data.datasets import make_dataset, output_names, resize_bilinear, split_indices
from plxgen.errors import UserError
from plxgen.data.tfrecord import (
    TFRecordWriter,
    crc32c,
    encode_png,
    example_bytes,
    masked_crc32c,
    read_records,
)

DIGITS_FILES = ["digits_train.tfrecord", "digits_eval.tfrecord", "meta_data.json"]


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Convert the digits once for every test that only reads the result."""
    out = tmp_path_factory.mktemp("digits") / "nested" / "out"
    make_dataset("digits", None, out)
    return out


@pytest.fixture(scope="module")
def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits images and labels."""
    datasets = pytest.importorskip("sklearn.datasets")
    bunch = datasets.load_digits()
    return bunch.images, bunch.target


def _parse(record: bytes) -> dict[str, object]:
    """Parse one serialised example into {key: python value(s)} with TensorFlow."""
    example = tf.train.Example.FromString(record)
    parsed: dict[str, object] = {}
    for key, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        parsed[key] = list(getattr(feature, kind).value)
    return parsed


# --- PNG ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape", [(28, 28), (28, 28, 1), (7, 13, 3), (5, 9, 4), (1, 1)]
)
def test_png_round_trip(shape: tuple[int, ...]) -> None:
    pixels = np.random.default_rng(len(shape)).integers(0, 256, shape, dtype=np.uint8)
    decoded = tf.io.decode_png(encode_png(pixels), channels=0).numpy()
    expected = pixels if pixels.ndim == 3 else pixels[:, :, np.newaxis]
    assert decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, expected)


def test_png_rejects_bad_input() -> None:
    with pytest.raises(TypeError):
        encode_png(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError):
        encode_png(np.zeros((4, 4, 5), np.uint8))


# --- tf.train.Example ----------------------------------------------------------

FEATURES = {
    "image/encoded": b"\x00\x01\xffbinary",
    "text": "héllo",
    "empty_bytes": b"",
    "label": 7,
    "negative": -5,
    "big": 2**63 - 1,
    "smallest": -(2**63),
    "ints": [1, 0, -1, 300, np.int64(2**40)],
    "ratio": 0.25,
    "floats": [1.5, -2.0, 2.0**40, float(np.float32(0.1))],
    "strings": [b"a", "b", b""],
}


def test_example_round_trip() -> None:
    parsed = _parse(example_bytes(FEATURES))
    assert parsed == {
        "image/encoded": [FEATURES["image/encoded"]],
        "text": ["héllo".encode()],
        "empty_bytes": [b""],
        "label": [7],
        "negative": [-5],
        "big": [2**63 - 1],
        "smallest": [-(2**63)],
        "ints": [1, 0, -1, 300, 2**40],
        "ratio": [0.25],
        "floats": [1.5, -2.0, 2.0**40, float(np.float32(0.1))],
        "strings": [b"a", b"b", b""],
    }


def test_example_matches_protobuf_and_parse_single_example() -> None:
    record = example_bytes(FEATURES)
    # Sorted map entries make our bytes equal protobuf's deterministic output.
    proto = tf.train.Example.FromString(record)
    assert proto.SerializeToString(deterministic=True) == record
    spec = {
        "label": tf.io.FixedLenFeature([], tf.int64),
        "image/encoded": tf.io.FixedLenFeature([], tf.string),
        "ints": tf.io.FixedLenFeature([5], tf.int64),
        "floats": tf.io.VarLenFeature(tf.float32),
        "ratio": tf.io.FixedLenFeature([], tf.float32),
        "strings": tf.io.VarLenFeature(tf.string),
    }
    parsed = tf.io.parse_single_example(record, spec)
    assert parsed["label"].numpy() == 7
    assert parsed["image/encoded"].numpy() == FEATURES["image/encoded"]
    assert parsed["ints"].numpy().tolist() == [1, 0, -1, 300, 2**40]
    np.testing.assert_array_equal(
        tf.sparse.to_dense(parsed["floats"]).numpy(),
        np.array(FEATURES["floats"], np.float32),
    )
    assert parsed["ratio"].numpy() == 0.25
    assert tf.sparse.to_dense(parsed["strings"]).numpy().tolist() == [b"a", b"b", b""]


def test_example_is_independent_of_dict_order() -> None:
    reordered = dict(reversed(list(FEATURES.items())))
    assert example_bytes(reordered) == example_bytes(FEATURES)


@pytest.mark.parametrize(
    "value, error",
    [
        ([], ValueError),
        ([1, b"x"], TypeError),
        (2**63, ValueError),
        (None, TypeError),
        (True, TypeError),
    ],
)
def test_example_rejects_bad_values(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        example_bytes({"bad": value})  # type: ignore[dict-item]


# --- TFRecord ----------------------------------------------------------------


def test_crc32c_known_values() -> None:
    assert crc32c(b"") == 0
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"56789", crc32c(b"1234")) == 0xE3069283
    assert masked_crc32c(b"") == 0xA282EAD8


def test_tfrecord_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    records = [b"", b"x"] + [rng.bytes(int(n)) for n in rng.integers(0, 3000, 20)]
    path = tmp_path / "data.tfrecord"
    with TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)
    assert [p.name for p in tmp_path.iterdir()] == ["data.tfrecord"]
    assert [r.numpy() for r in tf.data.TFRecordDataset(str(path))] == records
    assert list(read_records(path)) == records


def test_tfrecord_writer_discards_on_error(tmp_path: Path) -> None:
    path = tmp_path / "data.tfrecord"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with TFRecordWriter(path) as writer:
            writer.write(b"new")
            raise RuntimeError("boom")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.tfrecord"]


@pytest.mark.parametrize("where", ["length", "data", "footer", "truncated"])
def test_read_records_detects_corruption(tmp_path: Path, where: str) -> None:
    path = tmp_path / "data.tfrecord"
    with TFRecordWriter(path) as writer:
        writer.write(b"first record")
        writer.write(b"second record")
    blob = bytearray(path.read_bytes())
    second = 16 + len(b"first record")
    if where == "truncated":
        del blob[-3:]
    else:
        flip = {"length": 2, "data": 12 + 4, "footer": 12 + len(b"second record")}[
            where
        ]
        blob[second + flip] ^= 0x40
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match=rf"data\.tfrecord.*byte {second}"):
        list(read_records(path))


# --- helpers of the digits converter -------------------------------------------


def test_resize_bilinear_matches_tensorflow() -> None:
    images = np.random.default_rng(2).integers(0, 17, (6, 8, 8))
    ours = resize_bilinear(images, 20, 16)
    scaled = tf.constant((images * 255 / 16)[..., np.newaxis], tf.float64)
    theirs = tf.image.resize(scaled, (20, 20), method="bilinear").numpy()[..., 0]
    assert ours.dtype == np.uint8 and ours.shape == (6, 20, 20)
    assert (
        np.abs(ours.astype(np.float64) - theirs).max() <= 0.5 + 1e-3
    )  # TF resizes in float32


def test_resize_bilinear_keeps_constant_images() -> None:
    images = np.full((2, 8, 8), 16)
    assert (resize_bilinear(images, 20, 16) == 255).all()


def test_split_is_stratified_and_complete() -> None:
    labels = np.repeat(np.arange(3), [50, 30, 20])
    train, evaluation = split_indices(labels, 0.25, seed=3)
    assert sorted(np.concatenate([train, evaluation]).tolist()) == list(range(100))
    assert len(evaluation) == 25
    # Quotas 12.5, 7.5 and 5: the tied half goes to the smaller class value.
    assert Counter(labels[evaluation].tolist()) == {0: 13, 1: 7, 2: 5}
    again = split_indices(labels, 0.25, seed=3)
    assert np.array_equal(again[0], train) and np.array_equal(again[1], evaluation)


# --- plxgen data digits ---------------------------------------------------------


def _read_split(path: Path) -> list[dict[str, object]]:
    """Parse every record of one split with TensorFlow's own reader."""
    return [_parse(r.numpy()) for r in tf.data.TFRecordDataset(str(path))]


def test_digits_files(digits_dir: Path) -> None:
    assert sorted(p.name for p in digits_dir.iterdir()) == sorted(DIGITS_FILES)
    assert output_names("digits") == DIGITS_FILES


def test_digits_keep_every_example(
    digits_dir: Path, sklearn_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    _, labels = sklearn_digits
    train = _read_split(digits_dir / "digits_train.tfrecord")
    evaluation = _read_split(digits_dir / "digits_eval.tfrecord")
    assert len(train) + len(evaluation) == len(labels) == 1797
    assert len(evaluation) == 359  # 1797 * 0.2 = 359.4
    counts = Counter(e["image/class/label"][0] for e in train + evaluation)
    assert counts == Counter(labels.tolist())
    # Every class appears on both sides of the split.
    assert {e["image/class/label"][0] for e in evaluation} == set(range(10))
    for split, examples in (("train", train), ("eval", evaluation)):
        names = [e["image/filename"][0] for e in examples]
        assert names == [
            f"digits_{split}_{i:05d}.png".encode() for i in range(len(names))
        ]


def test_digits_images(
    digits_dir: Path, sklearn_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = sklearn_digits
    # Our pipeline applied to sklearn's images, keyed by bytes, to match each record.
    expected = np.zeros((len(images), 28, 28), np.uint8)
    expected[:, 4:24, 4:24] = resize_bilinear(np.rint(images).astype(int), 20, 16)
    by_content: dict[bytes, list[int]] = {}
    for index, image in enumerate(expected):
        by_content.setdefault(image.tobytes(), []).append(int(labels[index]))
    seen: Counter[tuple[bytes, int]] = Counter()
    for name in DIGITS_FILES[:2]:
        for example in _read_split(digits_dir / name):
            assert example["image/format"] == [b"png"]
            assert example["image/colorspace"] == [b"grayscale"]
            assert example["image/height"] == example["image/width"] == [28]
            assert example["image/channels"] == [1]
            image = tf.io.decode_png(example["image/encoded"][0], channels=0).numpy()
            assert image.shape == (28, 28, 1) and image.dtype == np.uint8
            assert not image[:4].any() and not image[24:].any()
            assert not image[:, :4].any() and not image[:, 24:].any()
            assert image[4:24, 4:24].max() > 100
            label = example["image/class/label"][0]
            assert label in by_content.get(image[..., 0].tobytes(), [])
            seen[(image.tobytes(), label)] += 1
    assert sum(seen.values()) == 1797


def test_digits_meta(digits_dir: Path) -> None:
    text = (digits_dir / "meta_data.json").read_text()
    meta = json.loads(text)
    assert text == json.dumps(meta, sort_keys=True, indent=2) + "\n"
    classes = [str(d) for d in range(10)]
    assert meta == {
        "classes": classes,
        "num_classes": 10,
        "labels_to_classes": {c: c for c in classes},
        "colorspace": "grayscale",
        "image_format": "png",
        "channels": 1,
        "height": 28,
        "width": 28,
        "num_samples": meta["num_samples"],
        "items_to_descriptions": {
            "image": "A 28x28x1 grayscale image of a handwritten digit.",
            "label": "The digit, 0 to 9.",
        },
        "source": "scikit-learn load_digits (UCI ML hand-written digits), "
        "8x8 upsampled to 20x20 and padded to 28x28",
    }
    for split in ("train", "eval"):
        records = list(read_records(digits_dir / f"digits_{split}.tfrecord"))
        assert meta["num_samples"][split] == len(records)


def test_digits_are_deterministic(digits_dir: Path, tmp_path: Path) -> None:
    make_dataset("digits", None, tmp_path, seed=0, eval_fraction=0.2)
    for name in DIGITS_FILES:
        assert (tmp_path / name).read_bytes() == (digits_dir / name).read_bytes()


def test_digits_seed_changes_split(digits_dir: Path, tmp_path: Path) -> None:
    make_dataset("digits", None, tmp_path, seed=1, eval_fraction=0.5)
    meta = json.loads((tmp_path / "meta_data.json").read_text())
    # 1797 * 0.5 = 898.5 rounds half up.
    assert meta["num_samples"] == {"train": 898, "eval": 899}
    name = "digits_train.tfrecord"
    assert (tmp_path / name).read_bytes() != (digits_dir / name).read_bytes()


def test_digits_refuse_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "meta_data.json").write_text("mine\n")
    with pytest.raises(UserError) as caught:
        make_dataset("digits", None, tmp_path)
    assert (
        caught.value.message == f"{tmp_path} already holds a dataset (meta_data.json)"
    )
    assert caught.value.hint == "pass --force to overwrite it"
    assert [p.name for p in tmp_path.iterdir()] == ["meta_data.json"]
    assert (tmp_path / "meta_data.json").read_text() == "mine\n"


def test_digits_second_run_needs_force(digits_dir: Path, tmp_path: Path) -> None:
    make_dataset("digits", None, tmp_path)
    before = {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()
    }
    with pytest.raises(UserError, match="already holds a dataset") as caught:
        make_dataset("digits", None, tmp_path, seed=5)
    assert "digits_train.tfrecord" in caught.value.message
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert after == before
    paths = make_dataset("digits", None, tmp_path, seed=5, force=True)
    assert paths == [tmp_path / name for name in DIGITS_FILES]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(DIGITS_FILES)
    assert (tmp_path / "digits_train.tfrecord").read_bytes() != before[
        "digits_train.tfrecord"
    ][0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "cifar"}, "unknown dataset kind 'cifar'"),
        ({"source": "some/folder"}, "takes no source"),
        ({"eval_fraction": 0.0}, "eval fraction"),
        ({"eval_fraction": 1.0}, "eval fraction"),
        ({"eval_fraction": float("nan")}, "eval fraction"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"kind": "digits", "source": None, **kwargs}
    kind, source = args.pop("kind"), args.pop("source")
    with pytest.raises(UserError, match=message) as caught:
        make_dataset(kind, source, tmp_path / "out", **args)  # type: ignore[arg-type]
    if kind == "cifar":
        assert caught.value.hint == "did you mean 'cifar10'?"
    assert not (tmp_path / "out").exists()


def test_write_failure_is_a_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UserError, match="is not a folder"):
        make_dataset("digits", None, blocker)
    with pytest.raises(UserError, match=r"cannot write .*file"):
        make_dataset("digits", None, blocker / "inside")
