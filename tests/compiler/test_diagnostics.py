"""Broken experiment files give exactly the diagnostics in their `.err` goldens.

Each `tests/broken/NAME.yaml` is the seed (`generated_examples/lenet.yaml`) with
one or a few realistic mistakes; `NAME.err` is what `plxgen validate` prints on
stderr. Review a changed golden by eye, then `pytest --update-goldens`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plxgen.errors import ConfigError
from plxgen.compiler.load import load_bytes
from tests.conftest import ROOT, compare_golden, plxgen

BROKEN = sorted((ROOT / "tests" / "broken").glob("*.yaml"))
SEED = ROOT / "generated_examples" / "lenet.yaml"


def test_there_are_enough_broken_files() -> None:
    assert len(BROKEN) >= 30


@pytest.mark.parametrize("config", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_file_matches_golden(config: Path, update_goldens: bool) -> None:
    rel = config.relative_to(ROOT).as_posix()
    result = plxgen("validate", rel)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for line in result.stderr.splitlines()[:-1]:
        assert line.startswith((f"{rel}:", "  hint: ")), line
    compare_golden(config.with_suffix(".err"), result.stderr, update_goldens)


def test_every_golden_has_a_config() -> None:
    configs = {p.stem for p in BROKEN}
    goldens = {p.stem for p in (ROOT / "tests" / "broken").glob("*.err")}
    assert goldens == configs


def test_alias_bomb_is_refused_quickly() -> None:
    raw = (ROOT / "tests" / "broken" / "billion_laughs.yaml").read_bytes()
    with pytest.raises(ConfigError) as info:
        load_bytes(raw, "bomb.yaml")
    assert [d.code for d in info.value.diagnostics] == ["too-large"]


def test_two_errors_are_both_reported_in_line_order() -> None:
    result = plxgen("validate", "tests/broken/two_errors.yaml")
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 2
    lines = [int(line.split(":")[1]) for line in errors]
    assert lines == sorted(lines)
    assert result.stderr.endswith("2 errors\n")


def test_failed_compile_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_bytes(
        (ROOT / "tests" / "broken" / "misspelt_layer_conv2d.yaml").read_bytes()
    )
    result = plxgen("compile", "broken.yaml", "-o", "out.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.py").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.yaml"]


def test_failed_compile_keeps_existing_output(tmp_path: Path) -> None:
    config = tmp_path / "lenet.yaml"
    config.write_bytes(SEED.read_bytes())
    assert plxgen("compile", "lenet.yaml", "-o", "out.py", cwd=tmp_path).returncode == 0
    before = (tmp_path / "out.py").read_bytes()
    config.write_bytes(
        (ROOT / "tests" / "broken" / "wrong_type_batch_size.yaml").read_bytes()
    )
    result = plxgen("compile", "lenet.yaml", "-o", "out.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out.py").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lenet.yaml", "out.py"]


def _seed_with(old: str, new: str) -> str:
    text = SEED.read_text()
    assert text.count(old) == 1
    return text.replace(old, new)


def test_duplicate_metric_points_at_the_repeated_item(tmp_path: Path) -> None:
    text = _seed_with(
        "      - TruePositives\n",
        "      - PrecisionAtThresholds: {thresholds: [0.3, 0.7]}\n      - Accuracy\n      - Accuracy\n",
    )
    text = text.replace("      - Accuracy\n      - Precision\n", "      - Precision\n")
    (tmp_path / "c.yaml").write_text(text)
    result = plxgen("validate", "c.yaml", cwd=tmp_path)
    assert result.returncode == 2
    line = (
        next(n for n, t in enumerate(text.splitlines(), 1) if t == "      - Accuracy")
        + 1
    )
    assert (
        f"c.yaml:{line}:9: error: model.classifier.metrics[2]: metric 'accuracy' is listed twice"
        in result.stderr
    )


def test_missing_n_classes_gives_no_none_hint() -> None:
    result = plxgen("validate", "tests/broken/one_hot_without_n_classes.yaml")
    assert result.returncode == 2
    assert "None" not in result.stderr
