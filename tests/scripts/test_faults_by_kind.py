"""One line with the file and the reason, for the pipeline kinds that read CSV and numpy files.

test_promises holds the fault matrix of the TFRecord image pipeline. Here the
same promise for CsvPipeline and NumpyPipeline: each damage class, made to a
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
from tests.pipeline_data import write_csv, write_npz

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faults_by_kind")
    write_csv(root / "diabetes")
    write_npz(root / "npz")
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


CASES = {
    "diabetes_csv": {
        "missing file": missing("diabetes/diabetes_train.csv", "../data/diabetes/diabetes_train.csv"),
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
}


@pytest.mark.parametrize(
    "example, case",
    [(example, case) for example, cases in CASES.items() for case in cases],
)
def test_bad_data_is_one_line_with_the_file_and_the_reason(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], example: str, case: str
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
    assert module.main(["--train-steps", "5", "--model-dir", str(tmp_path / "run")]) == 1
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, stderr
    assert re.fullmatch(f"{example}\\.py: error: {expected}", errors[0]), errors[0]
