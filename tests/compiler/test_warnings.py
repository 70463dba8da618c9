"""Warnings: located like errors, counted in the summary line, exit 0; `--strict`
(or `-W error`) makes them errors (exit 2) and compile then writes nothing.

Each `tests/warnings/NAME.yaml` compiles with the warnings of `NAME.warn`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plxgen.errors import Diagnostic, summary
from tests.conftest import ROOT, compare_golden, plxgen

WARNED = sorted((ROOT / "tests" / "warnings").glob("*.yaml"))


@pytest.mark.parametrize("config", WARNED, ids=[p.stem for p in WARNED])
def test_warned_file_matches_golden(config: Path, update_goldens: bool) -> None:
    rel = config.relative_to(ROOT).as_posix()
    result = plxgen("validate", rel)
    assert result.returncode == 0, result.stderr
    assert ": warning: " in result.stderr and ": error: " not in result.stderr
    compare_golden(config.with_suffix(".warn"), result.stderr, update_goldens)


@pytest.mark.parametrize("flags", [["--strict"], ["-W", "error"]])
def test_strict_makes_warnings_errors(flags: list[str], tmp_path: Path) -> None:
    config = tmp_path / "unused.yaml"
    config.write_bytes(
        (ROOT / "tests" / "warnings" / "unused_branch.yaml").read_bytes()
    )
    result = plxgen("validate", *flags, "unused.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert ": error: " in result.stderr and "[unused-layer]" in result.stderr
    assert result.stderr.splitlines()[-1] == "1 error"
    result = plxgen("compile", *flags, "unused.yaml", "-o", "out.py", cwd=tmp_path)
    assert result.returncode == 2
    assert not (tmp_path / "out.py").exists()


def test_compile_reports_warnings_every_time(tmp_path: Path) -> None:
    """A script with warnings is not taken from the cache: they show on each compile."""
    config = tmp_path / "unused.yaml"
    config.write_bytes(
        (ROOT / "tests" / "warnings" / "unused_branch.yaml").read_bytes()
    )
    for _ in range(2):
        result = plxgen(
            "compile", "unused.yaml", "-o", "out.py", "--force", cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
        assert "warning: model.classifier.graph.layers[6].Dense" in result.stderr
        assert result.stderr.splitlines()[-1] == "1 warning"
    assert 'name="side"' not in (tmp_path / "out.py").read_text()


def test_summary_line_counts_errors_and_warnings() -> None:
    def diagnostics(errors: int, warnings: int) -> list[Diagnostic]:
        one = Diagnostic("f", 1, 1, "p", "m", "c")
        return [one] * errors + [
            Diagnostic("f", 1, 1, "p", "m", "c", None, "warning")
        ] * warnings

    assert summary(diagnostics(1, 0)) == "1 error"
    assert summary(diagnostics(2, 0)) == "2 errors"
    assert summary(diagnostics(0, 1)) == "1 warning"
    assert summary(diagnostics(1, 2)) == "1 error and 2 warnings"
