"""Every example config compiles to its committed script, black-stable and valid."""

from __future__ import annotations

import ast
from pathlib import Path

import black
import pytest

from plxgen.compiler import compile_config
from plxgen.compiler.write import state
from tests.conftest import ROOT, compare_golden, configs_in, plxgen

EXAMPLES = configs_in(ROOT / "generated_examples")


@pytest.mark.parametrize("config", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_matches_golden(config: Path, update_goldens: bool) -> None:
    script = config.with_suffix(".py")
    text = compile_config(config, script, [])
    compare_golden(script, text, update_goldens)


@pytest.mark.parametrize("config", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_is_black_stable_and_standalone(config: Path) -> None:
    text = config.with_suffix(".py").read_text()
    assert black.format_str(text, mode=black.Mode()) == text
    compile(text, str(config), "exec")
    imported = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert "plxgen" not in imported
    import sys

    allowed = {"keras", "numpy", "tensorflow"}
    if "import gymnasium" in text:  # RL scripts act in Gymnasium environments
        allowed.add("gymnasium")
    assert imported - set(sys.stdlib_module_names) <= allowed
    assert state(text) == "generated"


def test_output_is_deterministic_across_cwd_and_hash_seed(tmp_path: Path) -> None:
    config = ROOT / "generated_examples" / "lenet.yaml"
    outputs = []
    for seed, cwd in (("1", ROOT), ("2", tmp_path)):
        out = tmp_path / f"out{seed}"
        out.mkdir()
        plxgen(
            "compile", config, "-o", out / "lenet.py",
            cwd=cwd, env={"PYTHONHASHSEED": seed}, check=True,
        )  # fmt: skip
        outputs.append((out / "lenet.py").read_text())
    assert outputs[0] == outputs[1]


SWEEPS = sorted((ROOT / "generated_examples" / "sweeps").glob("*.yaml"))


@pytest.mark.parametrize("config", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_matrix_example_matches_its_golden_folder(
    config: Path, update_goldens: bool
) -> None:
    from plxgen.compiler import Target, compile_target

    folder = config.with_suffix("")
    # The sweep's launchers are goldens too: the scripts are the same with each target.
    outputs = compile_target(Target(config, folder, folder), [])
    scripts = list(outputs)
    for target in ("slurm", "kubernetes"):
        launched = compile_target(Target(config, folder, folder, launcher=target), [])
        assert launched[:-1] == scripts
        outputs.append(launched[-1])
    expected = set()
    for output in outputs:
        assert output.path is not None
        expected.add(output.path.name)
        compare_golden(output.path, output.text, update_goldens)
        if output.path.suffix == ".py":
            assert black.format_str(output.text, mode=black.Mode()) == output.text
            assert state(output.text) == "generated"
    if update_goldens:
        for stale in folder.iterdir():
            if stale.name not in expected:
                stale.unlink()
    assert {p.name for p in folder.iterdir()} == expected


# Each kind of launcher has a golden: a sweep's (above), a cluster's and one script's.
LAUNCHED = ["lenet_cluster", "lenet"]


@pytest.mark.parametrize("name", LAUNCHED)
@pytest.mark.parametrize("target", ["slurm", "kubernetes"])
def test_launcher_matches_golden(name: str, target: str, update_goldens: bool) -> None:
    from plxgen.compiler import Target, compile_target
    from plxgen.compiler.launch import TARGETS

    config = ROOT / "generated_examples" / f"{name}.yaml"
    script = config.with_suffix(".py")
    outputs = compile_target(Target(config, script, script, launcher=target), [])
    assert [o.path for o in outputs] == [script, config.with_suffix(TARGETS[target])]
    assert outputs[0].text == script.read_text()  # the script is as without --target
    assert state(outputs[1].text) == "generated"
    compare_golden(config.with_suffix(TARGETS[target]), outputs[1].text, update_goldens)
