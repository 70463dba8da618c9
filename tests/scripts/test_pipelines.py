"""The compiled input pipelines, run in-process on data made by the project.

Each test compiles a config next to a data folder, imports the script as a
module and reads batches from its `train_dataset` / `eval_dataset`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import yaml

from plxgen.compiler import compile_config
from plxgen.errors import ConfigError
from tests.conftest import ROOT, import_script, plxgen
from tests.pipeline_data import make_pipeline_data

tf = pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder: digits records (png), npz, CSV and sequence records."""
    root = tmp_path_factory.mktemp("pipelines")
    plxgen("data", "digits", "-o", root / "data" / "digits", check=True)
    make_pipeline_data(root / "data")
    return root / "data"


def example(name: str) -> dict[str, Any]:
    """A config of generated_examples/ as data."""
    config: dict[str, Any] = yaml.safe_load(
        (ROOT / "generated_examples" / f"{name}.yaml").read_text()
    )
    return config


def load(config: dict[str, Any], data: Path, name: str) -> ModuleType:
    """Compile `config` into data/../scripts/NAME.py and import it."""
    folder = data.parent / "scripts"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    script = folder / f"{name}.py"
    script.write_text(compile_config(path, script, []))
    return import_script(script)


def batches(dataset: Any, n: int) -> list[Any]:
    return [tf.nest.map_structure(lambda t: t.numpy(), b) for b in dataset.take(n)]


def pipe(config: dict[str, Any], section: str = "train") -> dict[str, Any]:
    ((_, spec),) = config[section]["data_pipeline"].items()
    return spec  # type: ignore[no-any-return]


EVERY_PROCESSOR = [
    {"ConvertColorSpace": {"from_space": "grayscale", "to_space": "rgb"}},
    {"AdjustHue": {"delta": 0.1}},
    {"AdjustSaturation": {"saturation_factor": 1.5}},
    {"AdjustContrast": {"contrast_factor": 1.2}},
    {"AdjustHue": {"delta": 0.1, "is_random": True}},
    {"AdjustSaturation": {"saturation_factor": 0.5, "saturation_factor_max": 1.5, "is_random": True}},
    {"AdjustContrast": {"contrast_factor": 0.8, "contrast_factor_max": 1.2, "is_random": True, "seed": 3}},
    {"AdjustGamma": {"gamma": 0.9, "gain": 1.0}},
    {"AdjustBrightness": {"delta": 0.05}},
    {"AdjustBrightness": {"delta": 0.1, "is_random": True}},
    {"Flip": {"axis": 1}},
    {"Flip": {"axis": 0, "is_random": True}},
    "Transpose",
    {"Rotate90": {"k": 1}},
    {"Rotate90": {"is_random": True}},
    {"RandomCrop": {"height": 24, "width": 24}},
    {"CentralCrop": {"central_fraction": 0.9}},
    {"ToBoundingBox": {"offset_height": 1, "offset_width": 1, "target_height": 20, "target_width": 20}},
    {"Resize": {"height": 16, "width": 16, "method": 1}},
    {"ConvertImagesDtype": {"dtype": "float32"}},
    {"ConvertColorSpace": {"from_space": "rgb", "to_space": "hsv"}},
    {"ConvertColorSpace": {"from_space": "hsv", "to_space": "yiq"}},
    {"ConvertColorSpace": {"from_space": "yiq", "to_space": "yuv"}},
    {"ConvertColorSpace": {"from_space": "yuv", "to_space": "rgb"}},
    {"ExtractGlimpse": {"size": [12, 12], "offsets": [0.0, 0.0]}},
    {"DrawBoundingBoxes": {"boxes": [[0.1, 0.1, 0.5, 0.5]]}},
    {"GaussianNoise": {"stddev": 0.1}},
    {"Rescaling": {"scale": 2.0, "offset": -1.0}},
    {"Normalization": {"mean": [0.1, 0.2, 0.3], "variance": [1.0, 2.0, 3.0]}},
    "Standardization",
    {"ConvertColorSpace": {"from_space": "rgb", "to_space": "grayscale"}},
    {"Cast": {"dtype": "float32"}},
    {"Reshape": {"target_shape": [144]}},
    {"Reshape": {"target_shape": [12, 12, 1]}},
    "TotalVariation",
]  # fmt: skip


def every_processor_config() -> dict[str, Any]:
    config = example("augmented_digits")
    pipe(config)["feature_processors"]["image"]["layers"] = EVERY_PROCESSOR
    pipe(config)["cache"] = False
    config["model"]["classifier"]["graph"]["layers"] = [{"Dense": {"units": 10}}]
    return config


def test_every_processor_runs_on_batches_and_resumes_bit_identically(
    data: Path,
) -> None:
    """The whole chain runs; a resumed pipeline (skip_batches) draws the same random numbers."""
    module = load(every_processor_config(), data, "every_processor")
    fresh = batches(module.train_dataset(seed=9), 3)
    features, labels = fresh[0]
    assert features["image"].shape == (64, 1) and features["image"].dtype == np.float32
    assert labels.shape == (64,) and np.isfinite(features["image"]).all()
    resumed = batches(module.train_dataset(seed=9, skip_batches=2), 1)
    np.testing.assert_array_equal(resumed[0][0]["image"], fresh[2][0]["image"])
    again = batches(module.train_dataset(seed=9), 3)
    for a, b in zip(fresh, again):
        np.testing.assert_array_equal(a[0]["image"], b[0]["image"])
    other = batches(module.train_dataset(seed=10), 1)
    assert not np.array_equal(other[0][0]["image"], fresh[0][0]["image"])


def test_processors_do_what_tf_image_does(data: Path) -> None:
    config = example("augmented_digits")
    # A Cast last in every pipeline: the model's convolutions take floats.
    cast = {"Cast": {"dtype": "float32"}}
    for section in ("train", "eval"):
        pipe(config, section)["feature_processors"] = {"image": {"layers": [cast]}}
    plain = load(config, data, "plain_digits")
    pipe(config, "eval")["feature_processors"] = {
        "image": {
            "layers": [
                {"Flip": {"axis": 1}},
                {"Rotate90": {"k": 3}},
                {"ToBoundingBox": {"offset_height": 2, "offset_width": 3, "target_height": 20, "target_width": 10}},
                cast,
            ]
        }
    }  # fmt: skip
    module = load(config, data, "flip_rotate_box")
    ((got, _),) = batches(module.eval_dataset(), 1)
    images = np.concatenate([b[0]["image"] for b in batches(plain.eval_dataset(), 100)])
    images = images[: len(got["image"])]
    expected = np.rot90(images[:, :, ::-1], k=3, axes=(1, 2))[:, 2:22, 3:13]
    np.testing.assert_array_equal(got["image"], expected)


def test_random_crop_flip_and_brightness_vary_per_image(data: Path) -> None:
    config = example("augmented_digits")
    pipe(config)["feature_processors"]["image"]["layers"] = [
        {"RandomCrop": {"height": 20, "width": 20}},
        {"Flip": {"axis": 1, "is_random": True}},
        {"Cast": {"dtype": "float32"}},  # the model's convolutions take floats
    ]
    pipe(config)["shuffle"] = False
    pipe(config)["cache"] = False
    module = load(config, data, "random_crop")
    ((got, _),) = batches(module.train_dataset(seed=4), 1)
    reader = tf.data.TFRecordDataset(str(data / "digits" / "digits_train.tfrecord"))
    first = []
    for record in reader.take(64):
        example_ = tf.train.Example.FromString(record.numpy())
        png = example_.features.feature["image/encoded"].bytes_list.value[0]
        first.append(tf.io.decode_png(png).numpy())
    flipped = 0
    offsets = set()
    for image, crop in zip(first, got["image"]):
        found = None
        for flip in (False, True):
            src = image[:, ::-1] if flip else image
            for y in range(9):
                for x in range(9):
                    if np.array_equal(src[y : y + 20, x : x + 20], crop):
                        found = (flip, y, x)
        assert found is not None, "a crop is not a window of its image"
        flipped += found[0]
        offsets.add(found[1:])
    assert 0 < flipped < 64 and len(offsets) > 5


def test_cache_gives_the_same_batches(data: Path) -> None:
    config = example("augmented_digits")
    cached = load(config, data, "cached")
    uncached_config = copy.deepcopy(config)
    pipe(uncached_config)["cache"] = False
    uncached = load(uncached_config, data, "uncached")
    for a, b in zip(
        batches(cached.train_dataset(seed=3), 4),
        batches(uncached.train_dataset(seed=3), 4),
    ):
        np.testing.assert_array_equal(a[0]["image"], b[0]["image"])
        np.testing.assert_array_equal(a[1], b[1])


def test_raw_records_read_like_png_records(data: Path, tmp_path: Path) -> None:
    """image_format raw: uint8 pixels decoded for a whole batch at once."""
    raw = data / "raw"
    raw.mkdir(exist_ok=True)
    for split in ("train", "eval"):
        with tf.io.TFRecordWriter(str(raw / f"digits_{split}.tfrecord")) as writer:
            source = data / "digits" / f"digits_{split}.tfrecord"
            for record in tf.data.TFRecordDataset(str(source)):
                ex = tf.train.Example.FromString(record.numpy())
                feature = ex.features.feature
                png = feature["image/encoded"].bytes_list.value[0]
                feature["image/encoded"].bytes_list.value[0] = (
                    tf.io.decode_png(png).numpy().tobytes()
                )
                feature["image/format"].bytes_list.value[0] = b"raw"
                writer.write(ex.SerializeToString())
    meta = json.loads((data / "digits" / "meta_data.json").read_text())
    (raw / "meta_data.json").write_text(json.dumps({**meta, "image_format": "raw"}))
    config = example("lenet_digits")
    for section in ("train", "eval"):
        spec = pipe(config, section)
        spec["data_files"] = [
            f.replace("/digits/", "/raw/") for f in spec["data_files"]
        ]
        spec["meta_data_file"] = spec["meta_data_file"].replace("/digits/", "/raw/")
    from_raw = load(config, data, "raw_digits")
    from_png = load(example("lenet_digits"), data, "png_digits")
    for a, b in zip(
        batches(from_raw.train_dataset(seed=1), 3),
        batches(from_png.train_dataset(seed=1), 3),
    ):
        np.testing.assert_array_equal(a[0]["image"], b[0]["image"])
        np.testing.assert_array_equal(a[1], b[1])


def test_csv_feature_columns_in_the_order_given(data: Path) -> None:
    config = example("diabetes_csv")
    for section in ("train", "eval"):
        pipe(config, section)["feature_columns"] = ["bmi", "age"]
        pipe(config, section).pop("feature_processors")
    module = load(config, data, "csv_columns")
    ((features, labels),) = batches(module.eval_dataset(), 1)
    table = np.genfromtxt(
        data / "diabetes" / "diabetes_eval.csv", delimiter=",", names=True
    )
    np.testing.assert_allclose(
        features["x"], np.stack([table["bmi"], table["age"]], 1), rtol=1e-6
    )
    np.testing.assert_allclose(labels[:, 0], table["target"], rtol=1e-6)
    assert len(labels) == 92


def test_csv_reads_every_row_once_per_epoch(data: Path) -> None:
    config = example("diabetes_csv")
    pipe(config)["num_epochs"] = 2
    module = load(config, data, "csv_epochs")
    labels = np.concatenate(
        [b[1][:, 0] for b in batches(module.train_dataset(seed=1), 100)]
    )
    table = np.genfromtxt(
        data / "diabetes" / "diabetes_train.csv", delimiter=",", names=True
    )
    np.testing.assert_allclose(
        np.sort(labels), np.sort(np.tile(table["target"], 2)), rtol=1e-6
    )


def test_numpy_pipeline_keeps_every_example(data: Path) -> None:
    module = load(example("npz_digits"), data, "npz")
    got = batches(module.eval_dataset(), 10)
    arrays = np.load(data / "npz" / "digits_eval.npz")
    x = np.concatenate([b[0]["x"] for b in got])
    y = np.concatenate([b[1].argmax(1) for b in got])
    np.testing.assert_array_equal(x, arrays["x"])
    np.testing.assert_array_equal(y, arrays["y"])


def test_numpy_pipeline_names_a_missing_array(data: Path) -> None:
    config = example("npz_digits")
    pipe(config)["label"] = "labels"
    module = load(config, data, "npz_missing")
    with pytest.raises(
        module.RunError, match=r"digits_train.npz: no array 'labels' \(it has x, y\)"
    ):
        module.train_dataset()


def test_sequences_bucket_by_length(data: Path) -> None:
    module = load(example("sequence_classifier"), data, "sequences")
    lengths = []
    for features, labels in batches(module.train_dataset(seed=2), 30):
        per_example = (features["tokens"] > 0).sum(1)
        assert features["tokens"].shape[1] == per_example.max()  # padded to its longest
        buckets = np.digitize(per_example, [8, 14], right=False)
        assert len(set(buckets)) == 1, per_example
        lengths.append(per_example)
        assert set(labels) <= {0, 1}
    assert len({np.digitize(x[0], [8, 14]) for x in lengths}) == 3


@pytest.mark.parametrize("name", ["parallel_text", "source_sequences"])
def test_text_pipelines_bucket_by_source_length(data: Path, name: str) -> None:
    config = example(name)
    pipe(config)["bucket_boundaries"] = [8, 14]
    module = load(config, data, f"{name}_buckets")
    firsts = []
    for features, labels in batches(module.train_dataset(seed=2), 30):
        per_example = (features["source"] > 0).sum(1)  # ids start at 1; 0 pads
        assert features["source"].shape[1] == per_example.max()  # padded to its longest
        assert len(set(np.digitize(per_example, [8, 14]))) == 1, per_example
        firsts.append(per_example[0])
        assert set(labels.argmax(1) if labels.ndim > 1 else labels) <= {0, 1}
    assert len(set(np.digitize(firsts, [8, 14]))) == 3


def test_sequences_without_dynamic_pad_must_have_one_length(data: Path) -> None:
    config = example("sequence_classifier")
    pipe(config)["dynamic_pad"] = False
    pipe(config).pop("bucket_boundaries")
    module = load(config, data, "fixed_length")
    with pytest.raises(tf.errors.InvalidArgumentError, match="set dynamic_pad: true"):
        batches(module.train_dataset(seed=1), 1)


def test_sequence_meta_data_must_list_the_model_inputs(data: Path) -> None:
    config = example("sequence_classifier")
    config["model"]["classifier"]["graph"]["input_layers"] = "words"
    module = load(config, data, "no_words")
    with pytest.raises(
        module.RunError, match="feature 'words' that the records do not have"
    ):
        module.train_dataset()


def test_integer_arguments_work_where_floats_are_expected(data: Path) -> None:
    config = example("npz_digits")
    pipe(config)["shuffle"] = False
    pipe(config)["feature_processors"]["x"]["layers"] = [
        {"Normalization": {"mean": 1, "variance": 4}}
    ]
    module = load(config, data, "integer_args")
    ((features, _),) = batches(module.train_dataset(seed=1), 1)
    x = np.load(data / "npz" / "digits_train.npz")["x"][:32]
    np.testing.assert_allclose(features["x"], (x - 1) / 2, rtol=1e-6)
    config = example("augmented_digits")
    pipe(config)["feature_processors"]["image"]["layers"] = [
        {
            "ExtractGlimpse": {
                "size": [10, 10],
                "offsets": [0, 0],
                "uniform_noise": False,
            }
        },
        {"DrawBoundingBoxes": {"boxes": [[0, 0, 1, 1]], "colors": [[1, 1, 1, 1]]}},
    ]
    module = load(config, data, "integer_boxes")
    ((features, _),) = batches(module.train_dataset(seed=1), 1)
    assert features["image"].shape == (64, 10, 10, 1)
    assert (features["image"][:, 0, :, 0] == 1).all()  # the box's top edge, in white


def test_parallel_text_keeps_every_line_pair(data: Path) -> None:
    module = load(example("parallel_text"), data, "parallel_text")
    got = batches(module.eval_dataset(), 10)
    sources = (data / "text" / "source_eval.txt").read_text().splitlines()
    targets = (data / "text" / "target_eval.txt").read_text().splitlines()
    rows = [list(row[row > 0]) for b in got for row in b[0]["source"]]
    assert rows == [[int(t) for t in line.split()] for line in sources]
    for features, _ in got:
        assert features["source"].shape[1] == (features["source"] > 0).sum(1).max()
    labels = np.concatenate([b[1] for b in got])
    np.testing.assert_array_equal(labels, [int(t) for t in targets])


def test_parallel_text_delimiters_and_a_regressor(data: Path, tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_text("1,2,,3\n4\n5,6\r\n")
    (tmp_path / "t.txt").write_text("0.5;2\n1\n-1;3")  # no last newline
    config = example("parallel_text")
    config["model"] = {"regressor": {
        "loss": "MeanSquaredError", "optimizer": "Adam",
        "graph": {"input_layers": "source", "layers": [{"Flatten": None}, {"Dense": {"units": 1}}]},
    }}  # fmt: skip
    pipe(config).update(
        source_files=str(tmp_path / "s.txt"), target_files=str(tmp_path / "t.txt"),
        source_delimiter=",", target_delimiter=";", shuffle=False, num_epochs=1,
    )  # fmt: skip
    config.pop("eval")
    module = load(config, data, "parallel_regressor")
    ((features, labels),) = batches(module.train_dataset(), 1)
    np.testing.assert_array_equal(features["source"], [[1, 2, 3], [4, 0, 0], [5, 6, 0]])
    np.testing.assert_allclose(labels, [[0.5], [1], [-1]])  # the first value of each


def test_parallel_text_files_must_be_line_aligned(data: Path, tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_text("1 2\n3\n")
    (tmp_path / "t.txt").write_text("1\n")
    config = example("parallel_text")
    pipe(config).update(source_files=str(tmp_path / "s.txt"), target_files=str(tmp_path / "t.txt"))
    module = load(config, data, "parallel_misaligned")
    with pytest.raises(module.RunError, match=r"s.txt has 2 lines, its target file .*t.txt 1"):
        module.train_dataset()
    pipe(config)["target_files"] = [str(tmp_path / "t.txt")] * 2
    with pytest.raises(ConfigError) as error:
        load(config, data, "parallel_two_targets")
    assert error.value.diagnostics[0].message == "source_files lists 1, target_files 2"


def test_source_sequences_keep_every_record(data: Path) -> None:
    module = load(example("source_sequences"), data, "source_sequences")
    got = batches(module.eval_dataset(), 10)
    records = [
        tf.train.Example.FromString(r.numpy())
        for r in tf.data.TFRecordDataset(str(data / "pairs" / "pairs_eval.tfrecord"))
    ]
    rows = [list(row[row > 0]) for b in got for row in b[0]["source"]]
    assert rows == [list(r.features.feature["source"].int64_list.value) for r in records]
    labels = np.concatenate([b[1] for b in got])
    want = [int(r.features.feature["target"].bytes_list.value[0]) for r in records]
    np.testing.assert_array_equal(labels, want)


def test_source_sequences_read_text_fields_and_name_a_missing_one(data: Path, tmp_path: Path) -> None:
    with tf.io.TFRecordWriter(str(tmp_path / "t.tfrecord")) as w:
        for source, target in ((b"4,5,,6", [1, 0]), (b"7", [0])):
            record = tf.train.Example()
            record.features.feature["words"].bytes_list.value.append(source)
            record.features.feature["class"].int64_list.value.extend(target)
            w.write(record.SerializeToString())
    config = example("source_sequences")
    pipe(config).update(
        files=str(tmp_path / "t.tfrecord"), source_field="words", target_field="class",
        source_delimiter=",", shuffle=False, num_epochs=1,
    )  # fmt: skip
    module = load(config, data, "source_text")
    ((features, labels),) = batches(module.train_dataset(), 1)
    np.testing.assert_array_equal(features["source"], [[4, 5, 6], [7, 0, 0]])
    np.testing.assert_array_equal(labels, [1, 0])
    pipe(config)["target_field"] = "label"
    module = load(config, data, "source_no_label")
    with pytest.raises(module.RunError, match="no feature 'label' \\(they have class, words\\)"):
        module.train_dataset()


def test_captions_give_images_and_first_ids(data: Path) -> None:
    module = load(example("captioned_colours"), data, "captions")
    got = batches(module.eval_dataset(), 10)
    records = [
        tf.train.SequenceExample.FromString(r.numpy())
        for r in tf.data.TFRecordDataset(str(data / "captions" / "captions_eval.tfrecord"))
    ]
    images = np.concatenate([b[0]["image"] for b in got])
    assert images.shape == (len(records), 16, 16, 3)
    first = records[0].context.feature["image/data"].bytes_list.value[0]
    np.testing.assert_allclose(images[0], tf.io.decode_png(first).numpy() / 255, rtol=1e-6)
    ids = [r.feature_lists.feature_list["image/caption_ids"].feature for r in records]
    labels = np.concatenate([b[1] for b in got])
    np.testing.assert_array_equal(labels, [f[0].int64_list.value[0] for f in ids])


def test_captions_name_a_missing_field(data: Path) -> None:
    config = example("captioned_colours")
    pipe(config)["caption_ids_field"] = "image/ids"
    module = load(config, data, "captions_no_ids")
    with pytest.raises(module.RunError, match="no caption id list 'image/ids'"):
        module.train_dataset()


def test_parallel_text_without_dynamic_pad_must_have_one_length(data: Path) -> None:
    config = example("parallel_text")
    pipe(config)["dynamic_pad"] = False
    module = load(config, data, "parallel_fixed")
    with pytest.raises(tf.errors.InvalidArgumentError, match="source sequences differ in length"):
        batches(module.train_dataset(seed=1), 1)
