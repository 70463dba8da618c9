"""The Python API, called as a notebook or a sweep driver calls it: `import plxgen`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

import plxgen
from tests.conftest import ROOT, plxgen as run_plxgen

EXAMPLES = ROOT / "generated_examples"
BAD = """\
version: 1
project:
  name: bad
model:
  classifier:
    loss:
      MeanSquaredErorr:
    graph:
      input_layers: image
      layers:
        - Dense: {units: -3}
      output_layers: dense_1
train:
  train_steps: 10
"""


def test_compile_file_is_the_bytes_the_command_writes(tmp_path: Path) -> None:
    out = tmp_path / "lenet.py"
    run_plxgen("compile", EXAMPLES / "lenet.yaml", "-o", out, check=True)
    script = plxgen.compile_file(EXAMPLES / "lenet.yaml", output=out)
    assert script == out.read_text(encoding="utf-8")
    # ... and the committed golden, written beside its config.
    golden = EXAMPLES / "lenet.py"
    assert plxgen.compile_file(
        str(EXAMPLES / "lenet.yaml"), output=golden
    ) == golden.read_text(encoding="utf-8")


def test_a_dict_and_a_string_compile_like_the_file() -> None:
    text = (EXAMPLES / "lenet.yaml").read_text(encoding="utf-8")
    golden = (EXAMPLES / "lenet.py").read_text(encoding="utf-8")
    where = {"filename": "lenet.yaml", "base_dir": EXAMPLES, "output": EXAMPLES / "lenet.py"}
    assert plxgen.compile_string(text, **where) == golden  # type: ignore[arg-type]
    assert plxgen.compile_string(yaml.safe_load(text), **where) == golden  # type: ignore[arg-type]


def test_overrides_are_those_of_set(tmp_path: Path) -> None:
    out = tmp_path / "lenet.py"
    run_plxgen(
        "compile", EXAMPLES / "lenet.yaml", "-o", out,
        "--set", "train.train_steps=7", check=True,
    )  # fmt: skip
    expected = out.read_text(encoding="utf-8")
    assert "TRAIN_STEPS = 7" in expected
    config = EXAMPLES / "lenet.yaml"
    assert plxgen.compile_file(config, output=out, overrides=["train.train_steps=7"]) == expected
    assert plxgen.compile_file(config, output=out, overrides={"train.train_steps": 7}) == expected
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    from_dict = plxgen.compile_string(
        data, filename="lenet.yaml", base_dir=EXAMPLES, output=out,
        overrides={"train.train_steps": 7},
    )  # fmt: skip
    assert from_dict == expected


def test_a_bad_config_raises_its_located_diagnostics() -> None:
    with pytest.raises(plxgen.CompileError) as raised:
        plxgen.compile_string(BAD, filename="bad.yaml")
    found = [(d.file, d.line, d.column, d.code) for d in raised.value.diagnostics]
    assert found == [
        ("bad.yaml", 7, 7, "unknown-name"),
        ("bad.yaml", 11, 26, "minimum"),
        ("bad.yaml", 13, 1, "missing-key"),  # train: has no data_pipeline
    ], raised.value.diagnostics
    first = raised.value.diagnostics[0]
    assert isinstance(first, plxgen.Diagnostic)
    assert first.path == "model.classifier.loss.MeanSquaredErorr"
    assert first.hint == "did you mean 'MeanSquaredError'?"
    # str() is what `plxgen validate` prints for the same file.
    assert str(raised.value).splitlines()[0] == (
        "bad.yaml:7:7: error: model.classifier.loss.MeanSquaredErorr: "
        "unknown name 'MeanSquaredErorr' [unknown-name]"
    )
    assert plxgen.validate_string(BAD, filename="bad.yaml") == raised.value.diagnostics


def test_validate_returns_warnings_and_strict_makes_them_errors() -> None:
    config = ROOT / "tests" / "warnings" / "unused_branch.yaml"
    (warning,) = plxgen.validate_file(config)
    assert (warning.severity, warning.line, warning.column, warning.code) == (
        "warning", 56, 13, "unused-layer",
    )  # fmt: skip
    plxgen.compile_file(config)  # a warning does not stop a compile
    with pytest.raises(plxgen.CompileError) as raised:
        plxgen.compile_file(config, strict=True)
    (error,) = raised.value.diagnostics
    assert (error.severity, error.code) == ("error", "unused-layer")
    assert plxgen.validate_file(EXAMPLES / "lenet.yaml") == []


def test_a_dict_diagnostic_names_its_json_path() -> None:
    data = yaml.safe_load(BAD)
    found = plxgen.validate_string(data, filename="mine")
    assert {(d.file, d.line, d.column) for d in found} == {("mine", 1, 1)}
    assert [d.path for d in found] == [
        "model.classifier.graph.layers[0].Dense.units",
        "model.classifier.loss.MeanSquaredErorr",
        "train",
    ]
    with pytest.raises(TypeError, match=r"project: a config holds only YAML values .* not set"):
        plxgen.compile_string({"version": 1, "project": {1, 2}})


def test_unreadable_files_and_matrices_are_diagnostics(tmp_path: Path) -> None:
    (missing,) = plxgen.validate_file(tmp_path / "nope.yaml")
    assert (missing.line, missing.column, missing.code) == (1, 1, "unusable-config")
    assert "no such file" in missing.message.lower()
    sweep = EXAMPLES / "sweeps" / "lenet_sweep.yaml"
    with pytest.raises(plxgen.CompileError) as raised:
        plxgen.compile_file(sweep)
    (error,) = raised.value.diagnostics
    assert (error.path, error.code, error.line) == ("matrix", "matrix-folder", 9)
    assert plxgen.validate_file(sweep) == []  # every combination validates


def test_nothing_is_written_printed_or_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("PLXGEN_NO_CACHE", raising=False)
    monkeypatch.chdir(work)
    for _ in range(2):  # a second call would be a cache hit, were there a cache
        plxgen.compile_file(EXAMPLES / "lenet.yaml", output=work / "lenet.py")
    plxgen.validate_string(BAD)
    with pytest.raises(plxgen.CompileError):
        plxgen.compile_string(BAD)
    assert not cache.exists()
    assert os.listdir(work) == []
    assert capfd.readouterr() == ("", "")


def test_the_readme_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = [
        part.split("```", 1)[0]
        for part in readme.split("```python\n")[1:]
        if "import plxgen" in part.split("```", 1)[0]
    ]
    (tmp_path / "lenet.yaml").write_bytes((EXAMPLES / "lenet.yaml").read_bytes())
    monkeypatch.chdir(tmp_path)
    names = {"yaml_text_or_dict": BAD}
    exec(compile(block, "README.md", "exec"), names)
    assert "TRAIN_STEPS = 500" in names["script"]
    assert names["problems"] == []
    assert capsys.readouterr().out.splitlines()[0] == (
        "7 7 unknown-name unknown name 'MeanSquaredErorr'"
    )
