"""Files in the spellings of 2017 upgrade, compile and train; what 2017 refused is refused.

Each config here is written anew (its own names and values, on the bundled
digits) and uses the constructs of public 2017 files that the 2017 tool
(polyaxon 91abaa00d5, polyaxon-schemas b525fb4) read, where plxgen once
refused them or their script failed:

- `dense_dropout.yaml`: polyaxon's examples/configs_examples/yaml_configs/vgg19.yml,
  `dropout` written on a Dense layer. 2017's Dense had no such key and dropped
  it unread: a warning, and no dropout in the script.
- `pooling_kernels.yaml`: polyaxon's tests/fixtures/simple_file.yml and the
  experiment specs of its tests (`kernels` on MaxPooling2D, dropped unread in
  2017; `kernel_initializer: Ones`, a bare 2017 name; `model_type`, which
  `plxgen upgrade` rewrites; list kernel sizes; `dynamic_pad`).
- `templated_graph.yaml`: tests/fixtures/advanced_file.yml of polyaxon and of
  polyaxon-schemas (`model_type` and `settings.environment`, rewritten by
  upgrade; declarations, `for` / `if` / `else_do` with tags, branches that feed
  no output, `inbound_nodes` from a tag; `settings.logging.run_config` and
  `eval.eval_every_n_steps`, dropped unread in 2017). 2017's own file also
  marked convolutions `is_output`, whose outputs cannot be compared with the
  labels: that script stops in one line (the last test).

The files 2017 refused are broken-file goldens: tests/broken/legacy_missing_version.yaml
(polyaxon's tests/fixtures/missing_version.yml) and tests/broken/legacy_old_format.yaml
(the format before the experiment file, as in examples/example_with_configs/yaml_configs/).

Each file is upgraded in place, compiled, and trained for two steps.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import import_script, plxgen, train

HERE = Path(__file__).parent

# Per file: what `plxgen upgrade` rewrites, and the warnings of compiling the result
# (line:column, code, JSON path), in file order.
CASES = {
    "dense_dropout": (
        [],
        [("45:13", "ignored-key", "model.classifier.graph.layers[3].Dense.dropout")],
    ),
    "pooling_kernels": (
        ["model.model_type: regressor -> model.regressor"],
        [("24:13", "ignored-key", "model.regressor.graph.layers[1].MaxPooling2D.kernels")],
    ),
    "templated_graph": (
        ["model.model_type: classifier -> model.classifier", "settings.environment -> environment"],
        [
            ("11:5", "ignored-key", "settings.logging.delay_workers_by_global_step"),
            ("12:5", "ignored-key", "settings.logging.run_config"),
            ("58:17", "unused-layer", "model.classifier.graph.layers[1].if.do.MaxPooling2D"),
            ("58:17", "ignored-key", "model.classifier.graph.layers[1].if.do.MaxPooling2D.kernels"),
            ("70:23", "unused-layer", "model.classifier.graph.layers[2].if.else_do.for.do[0].Conv2D"),
            ("98:3", "ignored-key", "eval.eval_every_n_steps"),
        ],
    ),
}  # fmt: skip
# Its session options set TensorFlow's threads, which a process can do once.
IN_A_CHILD = {"templated_graph"}
WARNING = re.compile(r"^[\w.]+\.yaml:(\d+:\d+): warning: (\S+): .* \[([\w-]+)\]$")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the digits as `data/`, where the configs are copied."""
    root = tmp_path_factory.mktemp("legacy_2017")
    plxgen("data", "digits", "-o", root / "data", check=True)
    return root


def upgrade_and_compile(
    folder: Path, name: str
) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Copy NAME.yaml, upgrade it in place, compile it: (upgrade's rewrites, compile's warnings)."""
    shutil.copy(HERE / f"{name}.yaml", folder / f"{name}.yaml")
    upgraded = plxgen("upgrade", "--write", f"{name}.yaml", cwd=folder)
    assert upgraded.returncode == 0, upgraded.stderr
    rewrites = [
        line.split(": ", 1)[1]
        for line in upgraded.stderr.splitlines()
        if line.startswith(f"{name}.yaml: ") and "->" in line and "note:" not in line
    ]
    compiled = plxgen(
        "compile", f"{name}.yaml", "-o", f"{name}.py", "--force", cwd=folder
    )
    assert compiled.returncode == 0, compiled.stderr
    lines = compiled.stderr.splitlines()
    warnings = [m.groups() for m in map(WARNING.match, lines) if m]
    assert all(line.startswith("  hint: ") for line in lines if ": warning: " not in line and not line.startswith(("wrote", f"{len(warnings)} warning"))), compiled.stderr  # fmt: skip
    return rewrites, [(where, code, path) for where, path, code in warnings]


@pytest.mark.parametrize("name", sorted(CASES))
def test_upgrades_compiles_and_trains(folder: Path, name: str) -> None:
    rewrites, warnings = upgrade_and_compile(folder, name)
    expected_rewrites, expected_warnings = CASES[name]
    assert rewrites == expected_rewrites
    assert warnings == expected_warnings
    model_dir = folder / "runs" / name
    args = ["--train-steps", "2", "--model-dir", str(model_dir)]
    if name in IN_A_CHILD:
        result = train(folder / f"{name}.py", *args)
        assert result.returncode == 0, result.stderr[-3000:]
    else:  # in this process: one TensorFlow import for these
        assert import_script(folder / f"{name}.py").main(args) == 0
    report = json.loads((model_dir / "metrics.json").read_text())
    assert report["global_step"] == 2
    for section in ("train", "eval"):
        assert all(math.isfinite(v) for v in report.get(section, {}).values()), report


def test_what_2017_dropped_is_not_in_the_script(folder: Path) -> None:
    """The ignored keys change nothing; the bare initializer name is the 2017 class."""
    for name in ("dense_dropout", "pooling_kernels"):
        if not (folder / f"{name}.py").exists():
            upgrade_and_compile(folder, name)
    dense = (folder / "dense_dropout.py").read_text()
    assert "keras.layers.Dropout" not in dense
    pooling = (folder / "pooling_kernels.py").read_text()
    assert 'keras.layers.MaxPooling2D(name="MaxPooling2D_1")' in " ".join(pooling.split()).replace("( ", "(")
    assert "kernel_initializer=keras.initializers.Ones()" in pooling


def test_strict_turns_a_dropped_key_into_an_error() -> None:
    result = plxgen("validate", "--strict", "tests/legacy_2017/dense_dropout.yaml")
    assert result.returncode == 2
    assert (
        "dense_dropout.yaml:45:13: error: model.classifier.graph.layers[3].Dense.dropout: "
        "'dropout' is ignored [ignored-key]" in result.stderr
    )
    assert "  hint: 2017's Dense had no dropout" in result.stderr


def test_outputs_that_do_not_fit_the_labels_stop_in_one_line(folder: Path) -> None:
    """As 2017's advanced file did: convolutions marked is_output are compared with the labels."""
    if not (folder / "templated_graph.py").exists():
        upgrade_and_compile(folder, "templated_graph")
    text = (folder / "templated_graph.yaml").read_text()  # as upgraded
    marked = re.sub(r"( *)tags: first\n", r"\g<0>\1is_output: true\n", text)
    assert marked != text
    (folder / "marked_outputs.yaml").write_text(marked)
    compiled = plxgen("compile", "marked_outputs.yaml", "-o", "marked_outputs.py", "--force", cwd=folder)  # fmt: skip
    assert compiled.returncode == 0, compiled.stderr
    result = train(folder / "marked_outputs.py", "--train-steps", "2", "--model-dir", folder / "runs" / "marked")  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[
        -3000:
    ]
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    assert "train.data_pipeline: the data does not fit the model" in errors[0]
    assert "each of the model's 3 outputs is compared with the labels" in errors[0]


def test_spellings_only_upgrade_rewrites_say_so(folder: Path) -> None:
    """`regularizer` on a layer (conv_mnist.yml) and `settings.environment`: compile points to upgrade."""
    text = (HERE / "dense_dropout.yaml").read_text()
    spelt = text.replace("            dropout: 0.3\n", "            regularizer:\n              L2: {l: 0.01}\n")  # fmt: skip
    assert spelt != text
    (folder / "spelt.yaml").write_text(spelt)
    refused = plxgen("validate", "spelt.yaml", cwd=folder)
    assert refused.returncode == 2
    assert "spelt.yaml:45:13: error: model.classifier.graph.layers[3].Dense.regularizer:" in refused.stderr  # fmt: skip
    assert "`plxgen upgrade FILE` renames it" in refused.stderr
    upgraded = plxgen("upgrade", "--write", "spelt.yaml", cwd=folder)
    assert "layers[3].Dense.regularizer -> kernel_regularizer" in upgraded.stderr
    assert plxgen("validate", "spelt.yaml", cwd=folder).returncode == 0
    moved = plxgen("validate", "tests/legacy_2017/templated_graph.yaml")
    assert moved.returncode == 2
    assert "templated_graph.yaml:15:3: error: settings.environment: unknown key 'environment'" in moved.stderr  # fmt: skip
    assert "`plxgen upgrade FILE` moves it there" in moved.stderr
