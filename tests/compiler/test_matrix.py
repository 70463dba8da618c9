"""Matrix sweeps and several configs per invocation: axes, names, index, cap, compile and check."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from plxgen.errors import ConfigError
from plxgen.compiler.load import load_text
from plxgen.compiler.matrix import Axis, axes, combinations
from plxgen.compiler.write import state
from tests.conftest import ROOT, plxgen, train

SWEEP = ROOT / "generated_examples" / "sweeps" / "lenet_sweep.yaml"
SEED = ROOT / "generated_examples" / "lenet.yaml"
USE = "\nx: '{{ a }}{{ b }}'\n"


def plxgen_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m plxgen ARGS` in `cwd`."""
    return plxgen(*args, cwd=cwd)


def axis_values(spec: str) -> list[Any]:
    doc = load_text(f"matrix:\n  a: {spec}\nx: '{{{{ a }}}}'\n", "m.yaml")
    found = axes(doc)
    assert found is not None
    return list(found[0].values)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("{values: [1, two, [3, 3]]}", [1, "two", [3, 3]]),
        ("{range: '0:10:3'}", [0, 3, 6, 9]),
        ("{range: [0, 10, 3]}", [0, 3, 6, 9]),
        ("{range: {start: 0.1, stop: 0.5, step: 0.1}}", [0.1, 0.2, 0.3, 0.4]),
        ("{linspace: '0:1:3'}", [0.0, 0.5, 1.0]),
        ("{linspace: '1:5:5'}", [1, 2, 3, 4, 5]),
        ("{linspace: {start: 0.1, stop: 0.5, num: 5}}", [0.1, 0.2, 0.3, 0.4, 0.5]),
        ("{logspace: '-3:-1:3'}", [0.001, 0.01, 0.1]),
        ("{logspace: '0:3:4:2'}", [1, 2, 4, 8]),
        ("{logspace: {start: 1, stop: 2, num: 2, base: 10}}", [10, 100]),
        ("{geomspace: '1:1000:4'}", [1, 10, 100, 1000]),
        ("{geomspace: '-1000:-1:4'}", [-1000, -100, -10, -1]),
        ("{geomspace: '0.001:0.1:3'}", [0.001, 0.01, 0.1]),
        ("{linspace: '2:3:1'}", [2]),
    ],
)
def test_axis_forms(spec: str, expected: list[Any]) -> None:
    found = axis_values(spec)
    assert found == expected
    assert [type(v) for v in found] == [type(v) for v in expected]


def test_axes_agree_with_numpy() -> None:
    np = pytest.importorskip("numpy")
    cases = {
        "range: '0.5:3:0.25'": np.arange(0.5, 3, 0.25),
        "linspace: '0.001:0.7:9'": np.linspace(0.001, 0.7, 9),
        "logspace: '-4.5:-0.5:7'": np.logspace(-4.5, -0.5, 7),
        "geomspace: '0.0003:0.9:6'": np.geomspace(0.0003, 0.9, 6),
    }
    for spec, expected in cases.items():
        found = axis_values("{" + spec + "}")
        assert found == pytest.approx(expected.tolist(), rel=1e-11), spec


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ("{values: []}", "type"),
        ("{values: [1, 1]}", "duplicate-value"),
        ("{range: '5:1:1'}", "bad-range"),
        ("{range: '0:5:0'}", "bad-range"),
        ("{range: '0:5'}", "bad-range"),
        ("{linspace: '0:1:x'}", "type"),
        ("{linspace: '0:1:2.5'}", "bad-range"),
        ("{geomspace: '0:1:3'}", "bad-range"),
        ("{linspace: {start: 0, stop: 1, n: 3}}", "unknown-key"),
        ("{linspce: '0:1:3'}", "unknown-name"),
        ("{values: [1], range: '0:1:1'}", "one-name"),
        ("{range: '0:100000:1'}", "too-many-combinations"),
        ("{linspace: 1:5:5}", "type"),  # YAML 1.1 reads it as 3905 (base 60)
    ],
)
def test_bad_axes_are_located(spec: str, code: str) -> None:
    with pytest.raises(ConfigError) as info:
        axes(load_text(f"matrix:\n  a: {spec}\nx: '{{{{ a }}}}'\n", "m.yaml"))
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == code
    assert diagnostic.line in (2, 3)


def test_the_cap_counts_combinations() -> None:
    text = "matrix:\n  a: {range: '0:20:1'}\n  b: {range: '0:20:1'}" + USE
    with pytest.raises(ConfigError) as info:
        axes(load_text(text, "m.yaml"))
    assert "400 combinations" in info.value.diagnostics[0].message
    found = axes(load_text(text, "m.yaml"), cap=400)
    assert found is not None and len(combinations("s", found)) == 400


def test_names_carry_the_values_in_a_stable_order() -> None:
    combos = combinations("lenet", [Axis("lr", (0.001, 1e-05)), Axis("bs", (32, 64))])
    assert [c.name for c in combos] == [
        "lenet-lr_0.001-bs_32", "lenet-lr_0.001-bs_64", "lenet-lr_1e-05-bs_32", "lenet-lr_1e-05-bs_64",
    ]  # fmt: skip
    assert combos[2].values == {"lr": 1e-05, "bs": 32}


@pytest.mark.parametrize(
    "values",
    [("a/b", "a b"), ("Relu", "relu"), ({"x": 1}, 2), ("x" * 200, "y")],
    ids=["clash", "case-clash", "mapping", "long"],
)
def test_names_fall_back_to_numbers(values: tuple[Any, ...]) -> None:
    combos = combinations("s", [Axis("a", values)])
    assert [c.name for c in combos] == ["s-0", "s-1"]


def test_readable_text_values() -> None:
    combos = combinations(
        "s", [Axis("act", ("relu", "leaky relu")), Axis("k", ([3, 3],))]
    )
    assert [c.name for c in combos] == ["s-act_relu-k_3x3", "s-act_leaky_relu-k_3x3"]


# ------------------------------------------------------------------ the command line
@pytest.fixture
def work(tmp_path: Path) -> Path:
    shutil.copy(SWEEP, tmp_path / "sweep.yaml")
    shutil.copy(SEED, tmp_path / "lenet.yaml")
    return tmp_path


def test_compile_writes_one_script_per_combination_and_an_index(work: Path) -> None:
    result = plxgen_in(work, "compile", "sweep.yaml", "-o", "out")
    assert result.returncode == 0, result.stderr
    index = json.loads((work / "out" / "matrix.json").read_text())
    assert index["config"] == "../sweep.yaml"
    assert index["axes"] == {"learning_rate": [0.001, 0.01], "dense_units": [256, 1024]}
    scripts = sorted(p.name for p in (work / "out").glob("*.py"))
    assert scripts == sorted(index["scripts"]) and len(scripts) == 4
    text = (work / "out" / "sweep-learning_rate_0.01-dense_units_256.py").read_text()
    assert state(text) == "generated"
    assert "learning_rate=0.01," in text and "units=256" in text
    assert 'PROJECT = "lenet_sweep-learning_rate_0.01-dense_units_256"' in text
    assert plxgen_in(work, "check", "sweep.yaml", "-o", "out").returncode == 0


def test_the_header_command_regenerates_the_folder(work: Path) -> None:
    assert plxgen_in(work, "compile", "sweep.yaml", "-o", "out").returncode == 0
    out = work / "out"
    before = {p.name: p.read_text() for p in out.iterdir()}
    script = next(out.glob("*.py"))
    command = script.read_text().splitlines()[1].split(": ", 1)[1]
    args = shlex.split(command)
    assert args[:2] == ["plxgen", "compile"]
    result = plxgen_in(out, *args[1:])
    assert result.returncode == 0, result.stderr
    assert {p.name: p.read_text() for p in out.iterdir()} == before


def test_check_reports_stale_missing_and_extra_scripts(work: Path) -> None:
    assert plxgen_in(work, "compile", "sweep.yaml", "-o", "out").returncode == 0
    out = work / "out"
    scripts = sorted(out.glob("*.py"))
    scripts[0].unlink()
    scripts[1].write_text(scripts[1].read_text().replace("units=", "units=1 + "))
    config = work / "sweep.yaml"
    config.write_text(
        config.read_text().replace("values: [256, 1024]", "values: [256, 1024, 64]")
    )
    result = plxgen_in(work, "check", "sweep.yaml", "-o", "out")
    assert result.returncode == 1
    assert f"{scripts[0].name}: missing" in result.stderr.replace("out/", "")
    assert f"{scripts[1].name}: edited by hand" in result.stderr.replace("out/", "")
    assert "checked 7 files: 2 up to date; 2 stale, 3 missing" in result.stderr
    # matrix.json changed with the axis: plxgen wrote it, and plain compile replaces it.
    assert "out/matrix.json: stale; run: plxgen compile sweep.yaml -o out" in result.stderr.splitlines()
    assert "not generated by plxgen" not in result.stderr
    assert result.stdout.count("(compiled)") == 2  # a diff per stale file, none for a missing one
    assert "+++ out/matrix.json (compiled)" in result.stdout

    config.write_text(
        config.read_text().replace("values: [256, 1024, 64]", "values: [256]")
    )
    result = plxgen_in(work, "check", "sweep.yaml", "-o", "out")
    assert "not part of the matrix any more" in result.stderr and result.returncode == 1
    # The hand-edited leftover is kept until --force.
    assert plxgen_in(work, "compile", "sweep.yaml", "-o", "out").returncode == 2
    result = plxgen_in(work, "compile", "sweep.yaml", "-o", "out", "--force")
    assert result.returncode == 0, result.stderr
    assert "removed" in result.stderr
    assert len(list(out.glob("*.py"))) == 2
    assert plxgen_in(work, "check", "sweep.yaml", "-o", "out").returncode == 0
    # A matrix.json plxgen did not write is the one that needs --force.
    (out / "matrix.json").write_text('{"mine": 1}\n')
    result = plxgen_in(work, "check", "sweep.yaml", "-o", "out")
    assert "out/matrix.json: not generated by plxgen; run: plxgen compile sweep.yaml -o out --force" in result.stderr


def test_two_sweeps_can_share_a_folder(work: Path) -> None:
    shutil.copy(work / "sweep.yaml", work / "other.yaml")
    assert plxgen_in(work, "compile", "sweep.yaml", "-o", "out").returncode == 0
    result = plxgen_in(work, "compile", "other.yaml", "-o", "out")
    assert result.returncode == 0 and "removed" not in result.stderr
    assert len(list((work / "out").glob("*.py"))) == 8
    # matrix.json is the last sweep's; the scripts of both stay.
    assert (
        json.loads((work / "out" / "matrix.json").read_text())["config"]
        == "../other.yaml"
    )


def test_a_matrix_needs_a_folder_and_respects_the_cap(work: Path) -> None:
    result = plxgen_in(work, "compile", "sweep.yaml")
    assert result.returncode == 2 and "-o DIR" in result.stderr
    result = plxgen_in(
        work,
        "compile",
        "sweep.yaml",
        "-o",
        "out",
        "--set",
        "matrix.dense_units={range: '1:300:1'}",
    )
    assert result.returncode == 2 and "[too-many-combinations]" in result.stderr
    assert "--set matrix.dense_units=" in result.stderr
    result = plxgen_in(
        work, "validate", "sweep.yaml", "--set", "matrix.dense_units.values=[8]"
    )
    assert result.returncode == 0, result.stderr


def test_set_overrides_a_matrix_axis(work: Path) -> None:
    result = plxgen_in(
        work,
        "compile",
        "sweep.yaml",
        "-o",
        "out",
        "--set",
        "matrix.learning_rate={values: [0.5]}",
    )
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (work / "out").glob("*.py"))
    assert names == [
        "sweep-learning_rate_0.5-dense_units_1024.py",
        "sweep-learning_rate_0.5-dense_units_256.py",
    ]
    text = (work / "out" / names[0]).read_text()
    assert "--set 'matrix.learning_rate={values: [0.5]}'" in text.splitlines()[1]


def test_a_value_one_combination_cannot_take_is_located(work: Path) -> None:
    result = plxgen_in(
        work, "validate", "sweep.yaml", "--set", "matrix.dense_units.values=[64, wide]"
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if ": error:" in line]
    assert len(lines) == 1 and 'got string "wide"' in lines[0]
    line = (
        SWEEP.read_text()
        .splitlines()
        .index('        - Dense: {units: "{{ dense_units }}", activation: relu}')
        + 1
    )
    assert lines[0].startswith(f"sweep.yaml:{line}:")


def test_several_configs_compile_into_one_folder(work: Path) -> None:
    shutil.copy(ROOT / "generated_examples" / "lenet_digits.yaml", work / "digits.yaml")
    result = plxgen_in(
        work, "compile", "lenet.yaml", "digits.yaml", "sweep.yaml", "-o", "all"
    )
    assert result.returncode == 0, result.stderr
    out = work / "all"
    assert sorted(p.name for p in out.iterdir()) == ["digits.py", "lenet.py", "sweep"]
    assert len(list((out / "sweep").glob("*.py"))) == 4
    single = plxgen_in(out, "compile", "../lenet.yaml")
    assert (out / "lenet.py").read_text().split("\n", 3)[3] == single.stdout.split(
        "\n", 3
    )[3]
    header = (out / "lenet.py").read_text().splitlines()[1]
    assert header.endswith("plxgen compile ../lenet.yaml -o lenet.py")
    result = plxgen_in(work, "check", "*.yaml", "-o", "all")
    assert result.returncode == 0, result.stderr
    assert "checked 7 files: 7 up to date" in result.stderr
    (out / "digits.py").write_text((out / "digits.py").read_text() + "# edited\n")
    result = plxgen_in(
        work, "check", "lenet.yaml", "digits.yaml", "sweep.yaml", "-o", "all"
    )
    assert result.returncode == 1
    assert "all/digits.py: edited by hand since plxgen generated it; run: plxgen compile digits.yaml -o all/digits.py --force (the hand edits will be lost" in result.stderr
    assert "+# edited" not in result.stdout and "-# edited" in result.stdout


def test_several_configs_report_every_diagnostic(work: Path) -> None:
    (work / "bad.yaml").write_text(
        SEED.read_text().replace("filters: 32", "filter: 32")
    )
    (work / "worse.yaml").write_text(
        SEED.read_text().replace("units: 10", "units: ten")
    )
    result = plxgen_in(work, "compile", "bad.yaml", "worse.yaml", "-o", "all")
    assert result.returncode == 2
    assert "bad.yaml:" in result.stderr and "worse.yaml:" in result.stderr
    assert not (work / "all").exists()


def test_several_configs_need_a_folder_and_distinct_names(work: Path) -> None:
    result = plxgen_in(work, "compile", "lenet.yaml", "sweep.yaml")
    assert result.returncode == 2 and "-o DIR" in result.stderr
    (work / "sub").mkdir()
    shutil.copy(SEED, work / "sub" / "lenet.yaml")
    result = plxgen_in(work, "compile", "lenet.yaml", "sub/lenet.yaml", "-o", "all")
    assert result.returncode == 2 and "both compile to lenet.py" in result.stderr
    result = plxgen_in(work, "compile", "nothing*.yaml", "-o", "all")
    assert result.returncode == 2 and "no file matches" in result.stderr


def test_a_single_config_into_a_folder(work: Path) -> None:
    (work / "scripts").mkdir()
    assert plxgen_in(work, "compile", "lenet.yaml", "-o", "scripts").returncode == 0
    assert (work / "scripts" / "lenet.py").exists()
    assert plxgen_in(work, "check", "lenet.yaml", "-o", "scripts/").returncode == 0


def test_a_matrix_script_trains_in_its_own_model_folder(tmp_path: Path) -> None:
    """Combinations never share checkpoints: each default model folder is its own."""
    plxgen("data", "digits", "-o", tmp_path / "data" / "digits", check=True)
    folder = tmp_path / "generated_examples" / "sweeps"
    shutil.copytree(SWEEP.with_suffix(""), folder / "lenet_sweep")
    index = json.loads((folder / "lenet_sweep" / "matrix.json").read_text())
    name = next(iter(index["scripts"]))
    result = train(
        folder / "lenet_sweep" / name, "--train-steps", "3", "--eval-steps", "1", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    model_dir = folder / "lenet_sweep" / name[: -len(".py")]
    assert json.loads((model_dir / "metrics.json").read_text())["global_step"] == 3
