"""One line with the file and the reason, for the pipeline kinds that read other files.

test_promises holds the fault matrix of the TFRecord image pipeline. Here the
same promise for CsvPipeline, NumpyPipeline, ParallelTextPipeline,
TFRecordSourceSequencePipeline and ImageCaptioningPipeline: each damage class, made to a
copy of the data, gives exactly one line naming the file and the reason that
Python, numpy or TensorFlow gave (computed here from the damaged file where
it can be). The runs are the scripts' own `main`, called in this process.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from plxgen.compiler import compile_config
from tests.conftest import ROOT, import_script
from tests.pipeline_data import (
    record_offsets,
    write_captions,
    write_csv,
    write_npz,
    write_parallel_text,
    write_source_sequences,
)

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faults_by_kind")
    write_csv(root / "diabetes")
    write_npz(root / "npz")
    write_parallel_text(root / "text")
    write_source_sequences(root / "pairs")
    write_captions(root / "captions")
    return root


def csv_rows(path: Path) -> list[str]:
    return path.read_text().splitlines()


def csv_truncated(data: Path) -> str:
    """Cut inside row 100, after its fourth field."""
    path = data / "diabetes" / "diabetes_train.csv"
    lines = csv_rows(path)
    path.write_text("\n".join(lines[:101]) + "\n" + ",".join(lines[101].split(",")[:4]))
    return rf"train\.data_pipeline: {re.escape(str(path))}: Expect 11 fields but have 4 in record \d+"


def csv_short_row(data: Path) -> str:
    path = data / "diabetes" / "diabetes_train.csv"
    lines = csv_rows(path)
    lines[5] = ",".join(lines[5].split(",")[:9])
    path.write_text("\n".join(lines) + "\n")
    return rf"train\.data_pipeline: {re.escape(str(path))}: Expect 11 fields but have 9 in record \d+"


def csv_text_value(data: Path) -> str:
    path = data / "diabetes" / "diabetes_train.csv"
    lines = csv_rows(path)
    fields = lines[5].split(",")
    fields[2] = "abc"
    lines[5] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    return rf"train\.data_pipeline: {re.escape(str(path))}: Field 2 in record \d+ is not a valid float: abc"


def csv_not_utf8(data: Path) -> str:
    path = data / "diabetes" / "diabetes_train.csv"
    damaged = bytearray(path.read_bytes())
    damaged[500] = 0xFF
    path.write_bytes(bytes(damaged))
    try:
        bytes(damaged).decode("utf-8")
    except UnicodeDecodeError as error:
        return re.escape(f"cannot read {path}: {error}")
    raise AssertionError("still UTF-8")


def csv_empty_eval(data: Path) -> str:
    path = data / "diabetes" / "diabetes_eval.csv"
    path.write_text(csv_rows(path)[0] + "\n")  # the header alone
    return re.escape(f"eval.data_pipeline: no examples in {path}")


def missing(name: str, config_path: str) -> Callable[[Path], str]:
    def damage(data: Path) -> str:
        path = data / name
        path.unlink()
        scripts = data.parent / "generated_examples"
        return re.escape(
            f"data file not found: {path} ({config_path} from the config, "
            f"relative to this script's folder {scripts})"
        )

    return damage


def npz_reason(path: Path) -> str:
    """What numpy (or zipfile) says reading every array of the damaged file."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            for name in arrays.files:
                arrays[name]
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        return str(error)
    raise AssertionError(f"{path} still reads")


def npz_truncated(data: Path) -> str:
    path = data / "npz" / "digits_train.npz"
    path.write_bytes(path.read_bytes()[:-100])
    return re.escape(f"cannot read {path}: {npz_reason(path)}")


def npz_flipped_byte(data: Path) -> str:
    path = data / "npz" / "digits_train.npz"
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    path.write_bytes(bytes(damaged))
    return re.escape(f"cannot read {path}: {npz_reason(path)}")


def npz_labels(value: int) -> Callable[[Path], str]:
    def damage(data: Path) -> str:
        path = data / "npz" / "digits_train.npz"
        with np.load(path) as arrays:
            x, y = arrays["x"], arrays["y"]
        np.savez(path, x=x, y=np.full_like(y, value))
        return re.escape(
            f"train.data_pipeline: {path}: labels outside 0..9: {value} {value} {value}..."
        )

    return damage


def npz_no_labels(data: Path) -> str:
    path = data / "npz" / "digits_train.npz"
    with np.load(path) as arrays:
        x = arrays["x"]
    np.savez(path, x=x)
    return re.escape(f"{path}: no array 'y' (it has x)")


def npz_empty_eval(data: Path) -> str:
    path = data / "npz" / "digits_eval.npz"
    with np.load(path) as arrays:
        x, y = arrays["x"], arrays["y"]
    np.savez(path, x=x[:0], y=y[:0])
    return re.escape(f"eval.data_pipeline: no examples in {path}")


def text_lines(name: str, keep: int) -> Callable[[Path], str]:
    """Keep the first `keep` lines of a text file: its partner file has more."""

    def damage(data: Path) -> str:
        path = data / "text" / name
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(lines[:keep]))
        partner = path.with_name(name.replace("source", "target"))
        count = len(partner.read_text().splitlines())
        return re.escape(
            f"{path} has {keep} lines, its target file {partner} {count}: they must be line-aligned"
        )

    return damage


def text_not_utf8(data: Path) -> str:
    """A byte 0xFF for the second character of line 11, inside a token id."""
    path = data / "text" / "source_train.txt"
    lines = path.read_bytes().split(b"\n")
    lines[10] = lines[10][:1] + b"\xff" + lines[10][2:]
    path.write_bytes(b"\n".join(lines))
    try:
        lines[10].decode("utf-8")
    except UnicodeDecodeError as error:
        return re.escape(
            f"train.data_pipeline: {path} line 11: not UTF-8 text: {error}"
        )
    raise AssertionError("still UTF-8")


def records(path: Path) -> list[bytes]:
    import tensorflow as tf

    return [raw.numpy() for raw in tf.data.TFRecordDataset(str(path))]


def rewrite(path: Path, items: list[bytes]) -> None:
    import tensorflow as tf

    with tf.io.TFRecordWriter(str(path)) as writer:
        for item in items:
            writer.write(item)


def tfrecord_truncated(name: str) -> Callable[[Path], str]:
    def damage(data: Path) -> str:
        path = data / name
        path.write_bytes(path.read_bytes()[:-37])
        return re.escape(
            f"corrupt TFRecord file {path}: it ends inside a record (truncated?)"
        )

    return damage


def tfrecord_flipped_byte(name: str) -> Callable[[Path], str]:
    def damage(data: Path) -> str:
        path = data / name
        damaged = bytearray(path.read_bytes())
        flipped = len(damaged) // 2
        damaged[flipped] ^= 0xFF
        path.write_bytes(bytes(damaged))
        # The checksum of the record holding that byte fails; TensorFlow gives
        # where the record's data begins, after its 12-byte header.
        at = max(o for o in record_offsets(path) if o <= flipped) + 12
        return re.escape(
            f"train.data_pipeline: corrupt record in {path}: corrupted record at {at}"
        )

    return damage


def tfrecord_not_an_example(name: str, kind: str) -> Callable[[Path], str]:
    def damage(data: Path) -> str:
        import tensorflow as tf
        from google.protobuf.message import DecodeError

        path = data / name
        rewrite(path, [b"not an example"] * 3)
        try:
            getattr(tf.train, kind).FromString(b"not an example")
        except DecodeError as error:
            return re.escape(f"{path}: its first record is no tf.train.{kind}: {error}")
        raise AssertionError("still parses")

    return damage


def tfrecord_empty(name: str) -> Callable[[Path], str]:
    def damage(data: Path) -> str:
        path = data / name
        path.write_bytes(b"")
        return re.escape(f"no records in {path}")

    return damage


def source_token_out_of_range(data: Path) -> str:
    import tensorflow as tf

    path = data / "pairs" / "pairs_train.tfrecord"
    examples = [tf.train.Example.FromString(raw) for raw in records(path)]
    source = examples[3].features.feature["source"].int64_list
    del source.value[:]
    source.value.extend([1, 2, 99])
    rewrite(path, [e.SerializeToString() for e in examples])
    # The embedding's lookup; where the id sits in its batch depends on the shuffle
    # (30 steps pass over every example).
    return (
        re.escape(f"train.data_pipeline: {path}: indices[")
        + r"\d+,2\] = 99 is not in \[0, 10\)"
    )


def caption_label_out_of_range(data: Path) -> str:
    import tensorflow as tf

    path = data / "captions" / "captions_train.tfrecord"
    examples = [tf.train.SequenceExample.FromString(raw) for raw in records(path)]
    ids = examples[3].feature_lists.feature_list["image/caption_ids"]
    ids.feature[0].int64_list.value[0] = 57
    rewrite(path, [e.SerializeToString() for e in examples])
    return re.escape(f"train.data_pipeline: {path}: labels outside 0..2: 57")


def caption_image_not_png(data: Path) -> str:
    import tensorflow as tf

    path = data / "captions" / "captions_train.tfrecord"
    examples = [tf.train.SequenceExample.FromString(raw) for raw in records(path)]
    examples[3].context.feature["image/data"].bytes_list.value[0] = b"not a png"
    rewrite(path, [e.SerializeToString() for e in examples])
    try:
        tf.io.decode_image(b"not a png")
    except tf.errors.InvalidArgumentError as error:
        # TensorFlow's reason without the framing an eager call adds (the function, the op).
        reason = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", error.message).split(
            " [Op:"
        )[0]
        return re.escape(f"train.data_pipeline: {path}: {reason}")
    raise AssertionError("still decodes")


PAIRS, CAPTIONS = "pairs/pairs_train.tfrecord", "captions/captions_train.tfrecord"
CASES = {
    "diabetes_csv": {
        "missing file": missing(
            "diabetes/diabetes_train.csv", "../data/diabetes/diabetes_train.csv"
        ),
        "truncated file": csv_truncated,
        "a short row": csv_short_row,
        "a value that is not a number": csv_text_value,
        "bytes that are not UTF-8": csv_not_utf8,
        "empty eval file": csv_empty_eval,
    },
    "npz_digits": {
        "missing file": missing("npz/digits_train.npz", "../data/npz/digits_train.npz"),
        "truncated file": npz_truncated,
        "flipped byte": npz_flipped_byte,
        "label 12": npz_labels(12),
        "label -1": npz_labels(-1),
        "no label array": npz_no_labels,
        "empty eval file": npz_empty_eval,
    },
    "parallel_text": {
        "missing file": missing(
            "text/source_train.txt", "../data/text/source_train.txt"
        ),
        "truncated file": text_lines("source_train.txt", 582),
        "bytes that are not UTF-8": text_not_utf8,
        "empty eval file": text_lines("source_eval.txt", 0),
    },
    "source_sequences": {
        "missing file": missing(PAIRS, f"../data/{PAIRS}"),
        "truncated file": tfrecord_truncated(PAIRS),
        "flipped byte": tfrecord_flipped_byte(PAIRS),
        "not an example": tfrecord_not_an_example(PAIRS, "Example"),
        "a token id out of range": source_token_out_of_range,
        "empty eval file": tfrecord_empty("pairs/pairs_eval.tfrecord"),
    },
    "captioned_colours": {
        "missing file": missing(CAPTIONS, f"../data/{CAPTIONS}"),
        "truncated file": tfrecord_truncated(CAPTIONS),
        "flipped byte": tfrecord_flipped_byte(CAPTIONS),
        "not an example": tfrecord_not_an_example(CAPTIONS, "SequenceExample"),
        "a caption id out of range": caption_label_out_of_range,
        "an image that is not a PNG": caption_image_not_png,
        "empty eval file": tfrecord_empty("captions/captions_eval.tfrecord"),
    },
}


@pytest.mark.parametrize(
    "example, case",
    [(example, case) for example, cases in CASES.items() for case in cases],
)
def test_bad_data_is_one_line_with_the_file_and_the_reason(
    source: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    example: str,
    case: str,
) -> None:
    data = tmp_path / "data"
    shutil.copytree(source, data)
    scripts = tmp_path / "generated_examples"
    scripts.mkdir()
    config = scripts / f"{example}.yaml"
    config.write_text((ROOT / "generated_examples" / f"{example}.yaml").read_text())
    script = scripts / f"{example}.py"
    script.write_text(compile_config(config, script, []))
    expected = CASES[example][case](data)

    module = import_script(script)
    capsys.readouterr()
    assert (
        module.main(["--train-steps", "30", "--model-dir", str(tmp_path / "run")]) == 1
    )
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, stderr
    assert re.fullmatch(f"{example}\\.py: error: {expected}", errors[0]), errors[0]
